"""Domain 1, the game (the book's evaluation domain): guilds, players, equipments, quests."""

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.values import after, compound, integer, moment, pick

_ADJ = ("푸른", "붉은", "검은", "하얀", "용감한", "고요한", "빛나는", "날쌘", "잠든", "불타는", "얼어붙은", "떠도는",
        "작은", "거대한", "은빛", "황금", "그림자", "새벽의", "달빛", "폭풍의")
_NOUN = ("늑대", "사자", "기사", "여우", "매", "용", "검객", "마법사", "궁수", "방랑자", "호랑이", "까마귀", "곰",
         "전사", "독수리", "유령", "사냥꾼", "고양이", "수호자", "현자")
_GUILD_HEAD = ("용의", "별빛", "붉은 달", "은하", "천둥", "서리", "태양의", "어둠의", "바람의", "강철", "푸른 불꽃",
               "새벽", "검은 숲", "황혼의")
_GUILD_TAIL = ("심장", "기사단", "연합", "수호대", "원정대", "형제단", "결사대", "여명", "군단", "방패")
_GEAR_HEAD = ("전설의", "고대", "신성한", "저주받은", "강화된", "낡은", "수호자의", "폭풍", "용암", "서리", "그림자",
              "영웅의", "왕의", "사냥꾼의")
_GEAR_TAIL = ("대검", "단검", "장궁", "지팡이", "방패", "갑옷", "투구", "장화", "반지", "목걸이", "망토", "도끼",
              "창", "장갑", "허리띠")
_QUEST_PLACE = ("어둠의 숲", "잊힌 신전", "북쪽 설원", "용암 동굴", "고대 유적", "해적 섬", "수정 광산", "망자의 늪",
                "하늘 성채", "모래 사막", "버려진 마을", "거인의 계곡")
_QUEST_GOAL = ("탐사", "정화", "토벌", "구출 작전", "보물 찾기", "호위", "봉인", "수색", "방어전", "조사")

GAME = Domain(
    db_id="1",
    name="game",
    title="게임",
    questions=360,
    tables=(
        Table("guilds", "길드", "개", 60, (
            Column("guild_id", "INT", "길드 번호", "key"),
            Column("guild_name", "VARCHAR(50)", "이름", "name", compound(_GUILD_HEAD, _GUILD_TAIL, sep=" ")),
            Column("server", "VARCHAR(20)", "서버", "category", pick(("카인", "루나", "엘리시움", "아르카", "테라"))),
            Column("guild_level", "INT", "길드 레벨", "number", integer(1, 30, skew=1.6)),
            Column("founded_at", "DATE", "창설일", "date", moment("2019-03-01", "2024-06-30")),
        )),
        Table("players", "플레이어", "명", 1500, (
            Column("player_id", "INT", "플레이어 번호", "key"),
            Column("username", "VARCHAR(50)", "닉네임", "name", compound(_ADJ, _NOUN, tuple("0123456789"))),
            Column("class", "VARCHAR(20)", "직업", "category",
                   pick(("전사", "마법사", "궁수", "도적", "성직자", "소환사"), (25, 22, 18, 14, 12, 9))),
            Column("level", "INT", "레벨", "number", integer(1, 99, skew=1.5)),
            Column("gold", "INT", "보유 골드", "number", integer(0, 500000, 10, skew=2.5), unit="골드",
                   summable=True, more="많은", less="적은"),
            Column("guild_id", "INT", "길드", "ref", ref="guilds.guild_id", null_rate=0.15),
            Column("date_joined", "DATETIME", "가입일", "date", moment("2020-01-01", "2024-12-31")),
            Column("last_login", "DATETIME", "마지막 접속일", "date", after("date_joined", 0, 400), null_rate=0.1),
        )),
        Table("equipments", "장비", "개", 180, (
            Column("equipment_id", "INT", "장비 번호", "key"),
            Column("equipment_name", "VARCHAR(100)", "이름", "name", compound(_GEAR_HEAD, _GEAR_TAIL, sep=" ")),
            Column("equipment_type", "VARCHAR(20)", "종류", "category",
                   pick(("무기", "방어구", "장신구", "투구", "신발"), (35, 25, 15, 15, 10))),
            Column("rarity", "VARCHAR(20)", "등급", "category",
                   pick(("일반", "고급", "희귀", "영웅", "전설"), (35, 28, 20, 12, 5))),
            Column("required_level", "INT", "착용 레벨", "number", integer(1, 90, skew=1.3)),
            Column("price", "INT", "가격", "number", integer(100, 200000, 100, skew=2.2), unit="골드",
                   more="비싼", less="저렴한"),
        )),
        Table("player_equipments", "장비 보유 기록", "건", 2000, (
            Column("player_equipment_id", "INT", "보유 번호", "key"),
            Column("player_id", "INT", "플레이어", "ref", ref="players.player_id"),
            Column("equipment_id", "INT", "장비", "ref", ref="equipments.equipment_id"),
            Column("enhancement", "INT", "강화 수치", "number", integer(0, 15, skew=2.0)),
            Column("acquired_at", "DATETIME", "획득일", "date", moment("2020-01-01", "2024-12-31")),
        ), link=Link("player_id", "equipment_id", "을(를) 보유한", "보유한"),
            unique_together=("player_id", "equipment_id")),
        Table("quests", "퀘스트", "개", 80, (
            Column("quest_id", "INT", "퀘스트 번호", "key"),
            Column("quest_name", "VARCHAR(100)", "이름", "name", compound(_QUEST_PLACE, _QUEST_GOAL, sep=" ")),
            Column("difficulty", "VARCHAR(20)", "난이도", "category",
                   pick(("쉬움", "보통", "어려움", "매우 어려움"), (30, 35, 25, 10))),
            Column("min_level", "INT", "최소 레벨", "number", integer(1, 80, skew=1.2)),
            Column("reward_gold", "INT", "보상 골드", "number", integer(100, 50000, 50, skew=1.8), unit="골드",
                   summable=True, more="많은", less="적은"),
        )),
        Table("quest_completions", "퀘스트 완료 기록", "건", 2000, (
            Column("completion_id", "INT", "완료 번호", "key"),
            Column("player_id", "INT", "플레이어", "ref", ref="players.player_id"),
            Column("quest_id", "INT", "퀘스트", "ref", ref="quests.quest_id"),
            Column("completed_at", "DATETIME", "완료일", "date", moment("2020-02-01", "2024-12-31")),
            Column("clear_time", "INT", "클리어 시간", "number", integer(3, 180, skew=1.4), unit="분",
                   more="긴", less="짧은"),
        ), link=Link("player_id", "quest_id", "을(를) 완료한", "완료한"),
            unique_together=("player_id", "quest_id")),
    ),
)

"""The Playground's prefilled example: the book's game domain (players, quests, equipments)."""

GAME_DDL = """CREATE TABLE players (
  player_id INT PRIMARY KEY AUTO_INCREMENT,
  username VARCHAR(255) UNIQUE NOT NULL,
  email VARCHAR(255) UNIQUE NOT NULL,
  level INT DEFAULT 1,
  last_login DATETIME,
  created_at DATETIME
);

CREATE TABLE quests (
  quest_id INT PRIMARY KEY AUTO_INCREMENT,
  title VARCHAR(255) NOT NULL,
  reward_gold INT DEFAULT 0,
  min_level INT DEFAULT 1
);

CREATE TABLE player_quests (
  player_id INT,
  quest_id INT,
  completed_at DATETIME,
  PRIMARY KEY (player_id, quest_id),
  FOREIGN KEY (player_id) REFERENCES players(player_id),
  FOREIGN KEY (quest_id) REFERENCES quests(quest_id)
);"""

QUESTIONS = [
    "레벨이 10 이상인 플레이어의 이름과 레벨을 레벨이 높은 순으로 보여주세요.",
    "보상 골드가 가장 많은 퀘스트 3개의 제목은?",
    "퀘스트를 한 번도 완료하지 않은 플레이어는 몇 명인가요?",
    "플레이어별로 완료한 퀘스트 수를 알려줘.",
]

"""Domain 6, movies: directors, movies, actors, castings, reviews."""

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.values import COUNTRIES, compound, day, integer, moment, person, pick

_TITLE_HEAD = ("밤의", "마지막", "그해", "붉은", "침묵의", "기억의", "우리들의", "푸른", "서울의", "먼", "낯선", "빛나는",
               "잃어버린", "조용한", "뜨거운", "비밀의", "하얀", "작은")
_TITLE_TAIL = ("추격자", "여름", "항구", "약속", "비행", "소년", "도시", "연인", "정원", "복수", "가족", "전쟁", "노래",
               "기차", "바다", "편지", "섬", "계절", "그림자", "이방인")
_REVIEWER = ("영화광", "팝콘", "시네필", "관람객", "주말관객", "별점요정", "무비러버", "심야상영", "극장지기", "평론가")

MOVIES = Domain(
    db_id="6",
    name="movies",
    title="영화",
    questions=950,
    tables=(
        Table("directors", "감독", "명", 100, (
            Column("director_id", "INT", "감독 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("nationality", "VARCHAR(20)", "국적", "category", pick(COUNTRIES, (55, 15, 8, 5, 5, 4, 3, 2, 2, 1))),
            Column("birth_date", "DATE", "생년월일", "date", day("1940-01-01", "1990-12-31")),
        )),
        Table("movies", "영화", "편", 260, (
            Column("movie_id", "INT", "영화 번호", "key"),
            Column("title", "VARCHAR(100)", "제목", "name", compound(_TITLE_HEAD, _TITLE_TAIL, sep=" ")),
            Column("director_id", "INT", "감독", "ref", ref="directors.director_id"),
            Column("genre", "VARCHAR(20)", "장르", "category",
                   pick(("드라마", "액션", "코미디", "스릴러", "로맨스", "공포", "애니메이션", "SF"), (25, 18, 15, 12, 10, 7, 7, 6))),
            Column("release_date", "DATE", "개봉일", "date", day("2000-01-01", "2024-12-31")),
            Column("running_time", "INT", "상영 시간", "number", integer(80, 180), unit="분", more="긴", less="짧은"),
            Column("audience", "INT", "관객 수", "number", integer(1000, 15_000_000, 1, skew=4.0), unit="명",
                   summable=True, more="많은", less="적은"),
        )),
        Table("actors", "배우", "명", 300, (
            Column("actor_id", "INT", "배우 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("gender", "VARCHAR(10)", "성별", "category", pick(("남", "여"))),
            Column("agency", "VARCHAR(50)", "소속사", "category",
                   pick(("하늘엔터", "별빛컴퍼니", "큐브필름", "나무액터스", "빅스타", "소속사 없음"), (20, 18, 17, 15, 15, 15))),
            Column("debut_date", "DATE", "데뷔일", "date", day("1985-01-01", "2022-12-31")),
        )),
        Table("castings", "출연 기록", "건", 1500, (
            Column("casting_id", "INT", "출연 번호", "key"),
            Column("movie_id", "INT", "영화", "ref", ref="movies.movie_id"),
            Column("actor_id", "INT", "배우", "ref", ref="actors.actor_id"),
            Column("role_type", "VARCHAR(20)", "배역 유형", "category", pick(("주연", "조연", "단역"), (30, 45, 25))),
        ), link=Link("actor_id", "movie_id", "에 출연한", "출연한"), unique_together=("movie_id", "actor_id")),
        Table("reviews", "리뷰", "개", 2000, (
            Column("review_id", "INT", "리뷰 번호", "key"),
            Column("movie_id", "INT", "영화", "ref", ref="movies.movie_id"),
            Column("reviewer", "VARCHAR(50)", "작성자", "text", compound(_REVIEWER, tuple(str(n) for n in range(1, 100)))),
            Column("rating", "INT", "평점", "number", lambda rng, row, i: rng.choices(range(1, 11), (1, 1, 2, 3, 5, 8, 12, 14, 10, 6))[0],
                   unit="점"),
            Column("written_at", "DATETIME", "작성일", "date", moment("2020-01-01", "2024-12-31")),
        )),
    ),
)

"""Domain 4, a public library: authors, books, members, loans."""

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.values import (
    COUNTRIES,
    SEOUL_DISTRICTS,
    after,
    compound,
    day,
    integer,
    person,
    pick,
)

_TITLE_HEAD = ("바람의", "달빛", "잃어버린", "마지막", "작은", "푸른", "겨울", "여름밤의", "비밀의", "오래된", "새벽의",
               "보이지 않는", "끝없는", "조용한", "눈부신")
_TITLE_TAIL = ("정원", "편지", "도시", "시간", "노래", "기억", "항해", "섬", "여행자", "숲", "약속", "서점", "계절",
               "바다", "역사")

LIBRARY = Domain(
    db_id="4",
    name="library",
    title="도서관",
    questions=950,
    tables=(
        Table("authors", "저자", "명", 150, (
            Column("author_id", "INT", "저자 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("nationality", "VARCHAR(20)", "국적", "category",
                   pick(COUNTRIES, (45, 12, 12, 8, 6, 5, 4, 3, 3, 2))),
            Column("birth_date", "DATE", "생년월일", "date", day("1930-01-01", "1995-12-31")),
        )),
        Table("books", "도서", "권", 160, (
            Column("book_id", "INT", "도서 번호", "key"),
            Column("title", "VARCHAR(100)", "제목", "name", compound(_TITLE_HEAD, _TITLE_TAIL, sep=" ")),
            Column("author_id", "INT", "저자", "ref", ref="authors.author_id"),
            Column("genre", "VARCHAR(20)", "장르", "category",
                   pick(("소설", "시", "에세이", "역사", "과학", "자기계발", "경제", "어린이"), (25, 8, 15, 10, 10, 12, 10, 10))),
            Column("pages", "INT", "쪽수", "number", integer(80, 900, skew=1.6), unit="쪽", more="많은", less="적은"),
            Column("price", "INT", "정가", "number", integer(8000, 45000, 500), unit="원", more="비싼", less="저렴한"),
            Column("published_at", "DATE", "출판일", "date", day("1990-01-01", "2024-10-31")),
        )),
        Table("members", "회원", "명", 700, (
            Column("member_id", "INT", "회원 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("district", "VARCHAR(20)", "거주 지역", "category", pick(SEOUL_DISTRICTS)),
            Column("member_type", "VARCHAR(20)", "회원 유형", "category", pick(("일반", "학생", "어린이", "평생"), (55, 25, 12, 8))),
            Column("joined_at", "DATE", "가입일", "date", day("2015-01-01", "2024-12-31")),
        )),
        Table("loans", "대출 기록", "건", 2000, (
            Column("loan_id", "INT", "대출 번호", "key"),
            Column("book_id", "INT", "도서", "ref", ref="books.book_id"),
            Column("member_id", "INT", "회원", "ref", ref="members.member_id"),
            Column("loaned_at", "DATE", "대출일", "date", day("2023-01-01", "2024-12-31")),
            Column("returned_at", "DATE", "반납일", "date", after("loaned_at", 1, 30), null_rate=0.18),
            Column("renewals", "INT", "연장 횟수", "number", integer(0, 2, skew=3.0), unit="회", summable=True,
                   more="많은", less="적은"),
        ), link=Link("member_id", "book_id", "을(를) 대출한", "대출한")),
    ),
)

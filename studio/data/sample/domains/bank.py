"""Domain 8, a bank: branches, customers, accounts, transactions, loans."""

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.values import (
    CITIES,
    CITY_WEIGHTS,
    SEOUL_DISTRICTS,
    after,
    day,
    decimal,
    integer,
    listed,
    moment,
    person,
    pick,
)

_BRANCHES = tuple(f"{d[:-1]}지점" for d in SEOUL_DISTRICTS) + (
    "해운대지점", "서면지점", "동래지점", "부평지점", "송도지점", "수성지점", "동성로지점", "둔산지점", "유성지점",
    "상무지점", "충장로지점", "삼산지점", "영통지점", "인계지점", "노형지점", "상남지점", "성산지점", "가경지점",
    "효자지점", "양덕지점", "석사지점", "세종정부청사지점", "분당지점", "일산지점", "평촌지점")
_BRANCH_CITY = ("서울",) * len(SEOUL_DISTRICTS) + (
    "부산", "부산", "부산", "인천", "인천", "대구", "대구", "대전", "대전", "광주", "광주", "울산", "수원", "수원", "제주",
    "창원", "창원", "청주", "전주", "포항", "춘천", "세종", "성남", "고양", "안양")

BANK = Domain(
    db_id="8",
    name="bank",
    title="은행",
    questions=950,
    tables=(
        Table("branches", "지점", "곳", len(_BRANCHES), (
            Column("branch_id", "INT", "지점 번호", "key"),
            Column("branch_name", "VARCHAR(50)", "이름", "name", listed(_BRANCHES)),
            Column("city", "VARCHAR(20)", "지역", "category", lambda rng, row, i: _BRANCH_CITY[i]),
            Column("opened_at", "DATE", "개점일", "date", day("1985-01-01", "2022-12-31")),
        )),
        Table("customers", "고객", "명", 1000, (
            Column("customer_id", "INT", "고객 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("birth_date", "DATE", "생년월일", "date", day("1945-01-01", "2005-12-31")),
            Column("city", "VARCHAR(20)", "거주 도시", "category", pick(CITIES, CITY_WEIGHTS)),
            Column("credit_score", "INT", "신용 점수", "number", integer(300, 1000, skew=0.6), unit="점"),
        )),
        Table("accounts", "계좌", "개", 1600, (
            Column("account_id", "INT", "계좌 번호", "key"),
            Column("customer_id", "INT", "고객", "ref", ref="customers.customer_id"),
            Column("branch_id", "INT", "개설 지점", "ref", ref="branches.branch_id"),
            Column("account_type", "VARCHAR(20)", "계좌 종류", "category",
                   pick(("보통예금", "정기예금", "적금", "외화예금"), (55, 20, 18, 7))),
            Column("balance", "BIGINT", "잔액", "number", integer(0, 200_000_000, 1000, skew=3.0), unit="원",
                   summable=True, more="많은", less="적은"),
            Column("opened_at", "DATE", "개설일", "date", day("2010-01-01", "2024-12-31")),
            Column("closed_at", "DATE", "해지일", "date", after("opened_at", 30, 2000), null_rate=0.85),
        ), link=Link("customer_id", "branch_id", "에서 계좌를 개설한", "계좌를 개설한")),
        Table("transactions", "거래", "건", 2000, (
            Column("transaction_id", "INT", "거래 번호", "key"),
            Column("account_id", "INT", "계좌", "ref", ref="accounts.account_id"),
            Column("transaction_type", "VARCHAR(20)", "거래 유형", "category",
                   pick(("입금", "출금", "이체", "자동이체"), (35, 30, 25, 10))),
            Column("amount", "BIGINT", "거래 금액", "number", integer(1000, 20_000_000, 100, skew=3.0), unit="원",
                   summable=True, more="큰", less="작은"),
            Column("transacted_at", "DATETIME", "거래 일시", "date", moment("2024-01-01", "2024-12-31 23:59")),
            Column("memo", "VARCHAR(100)", "메모", "text",
                   pick(("월급", "용돈", "관리비", "카드대금", "적금 이체", "생활비", "회비")), null_rate=0.4),
        )),
        Table("loans", "대출", "건", 400, (
            Column("loan_id", "INT", "대출 번호", "key"),
            Column("customer_id", "INT", "고객", "ref", ref="customers.customer_id"),
            Column("branch_id", "INT", "취급 지점", "ref", ref="branches.branch_id"),
            Column("loan_type", "VARCHAR(20)", "대출 종류", "category",
                   pick(("신용대출", "주택담보대출", "전세자금대출", "사업자대출"), (40, 25, 25, 10))),
            Column("amount", "BIGINT", "대출 금액", "number", integer(5_000_000, 500_000_000, 1_000_000, skew=2.0),
                   unit="원", summable=True, more="큰", less="작은"),
            Column("interest_rate", "DECIMAL(4,2)", "금리", "number", decimal(2.5, 9.9, 2), unit="%"),
            Column("started_at", "DATE", "실행일", "date", day("2015-01-01", "2024-12-31")),
            Column("status", "VARCHAR(20)", "상환 상태", "category", pick(("상환중", "완납", "연체"), (60, 32, 8))),
        )),
    ),
)

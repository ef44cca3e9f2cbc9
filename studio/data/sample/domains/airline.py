"""Domain 7, an airline: airports, passengers, flights, bookings."""

from studio.data.sample.model import Column, Domain, Link, Table
from studio.data.sample.values import after, code, day, integer, listed, moment, person, pick

_AIRPORTS = (
    ("인천국제공항", "인천", "한국"), ("김포국제공항", "서울", "한국"), ("김해국제공항", "부산", "한국"),
    ("제주국제공항", "제주", "한국"), ("대구국제공항", "대구", "한국"), ("청주국제공항", "청주", "한국"),
    ("광주공항", "광주", "한국"), ("무안국제공항", "무안", "한국"), ("양양국제공항", "양양", "한국"),
    ("여수공항", "여수", "한국"), ("울산공항", "울산", "한국"), ("포항경주공항", "포항", "한국"),
    ("나리타국제공항", "도쿄", "일본"), ("하네다공항", "도쿄", "일본"), ("간사이국제공항", "오사카", "일본"),
    ("후쿠오카공항", "후쿠오카", "일본"), ("신치토세공항", "삿포로", "일본"), ("나하공항", "오키나와", "일본"),
    ("주부국제공항", "나고야", "일본"), ("베이징서우두국제공항", "베이징", "중국"), ("상하이푸둥국제공항", "상하이", "중국"),
    ("광저우바이윈국제공항", "광저우", "중국"), ("칭다오자오둥국제공항", "칭다오", "중국"), ("홍콩국제공항", "홍콩", "중국"),
    ("타오위안국제공항", "타이베이", "대만"), ("수완나품국제공항", "방콕", "태국"), ("푸껫국제공항", "푸껫", "태국"),
    ("창이국제공항", "싱가포르", "싱가포르"), ("노이바이국제공항", "하노이", "베트남"), ("다낭국제공항", "다낭", "베트남"),
    ("떤선녓국제공항", "호찌민", "베트남"), ("니노이아키노국제공항", "마닐라", "필리핀"), ("막탄세부국제공항", "세부", "필리핀"),
    ("쿠알라룸푸르국제공항", "쿠알라룸푸르", "말레이시아"), ("응우라라이국제공항", "발리", "인도네시아"),
    ("괌국제공항", "괌", "미국"), ("사이판국제공항", "사이판", "미국"), ("로스앤젤레스국제공항", "로스앤젤레스", "미국"),
    ("존F케네디국제공항", "뉴욕", "미국"), ("샌프란시스코국제공항", "샌프란시스코", "미국"), ("시애틀타코마국제공항", "시애틀", "미국"),
    ("호놀룰루국제공항", "호놀룰루", "미국"), ("밴쿠버국제공항", "밴쿠버", "캐나다"), ("히스로공항", "런던", "영국"),
    ("샤를드골공항", "파리", "프랑스"), ("프랑크푸르트공항", "프랑크푸르트", "독일"), ("피우미치노공항", "로마", "이탈리아"),
    ("스히폴공항", "암스테르담", "네덜란드"), ("이스탄불공항", "이스탄불", "튀르키예"), ("두바이국제공항", "두바이", "아랍에미리트"),
    ("시드니공항", "시드니", "호주"), ("오클랜드공항", "오클랜드", "뉴질랜드"),
)

AIRLINE = Domain(
    db_id="7",
    name="airline",
    title="항공",
    questions=950,
    tables=(
        Table("airports", "공항", "곳", len(_AIRPORTS), (
            Column("airport_id", "INT", "공항 번호", "key"),
            Column("airport_name", "VARCHAR(50)", "이름", "name", listed(tuple(a for a, _, _ in _AIRPORTS))),
            Column("city", "VARCHAR(50)", "도시", "text", lambda rng, row, i: _AIRPORTS[i][1]),
            Column("country", "VARCHAR(50)", "국가", "category", lambda rng, row, i: _AIRPORTS[i][2]),
        )),
        Table("passengers", "승객", "명", 1500, (
            Column("passenger_id", "INT", "승객 번호", "key"),
            Column("name", "VARCHAR(50)", "이름", "name", person()),
            Column("birth_date", "DATE", "생년월일", "date", day("1950-01-01", "2015-12-31")),
            Column("membership", "VARCHAR(20)", "회원 등급", "category",
                   pick(("일반", "실버", "골드", "플래티넘"), (55, 25, 14, 6))),
            Column("mileage", "INT", "마일리지", "number", integer(0, 300000, 10, skew=2.5), summable=True,
                   more="많은", less="적은"),
        )),
        Table("flights", "항공편", "편", 600, (
            Column("flight_id", "INT", "항공편 번호", "key"),
            Column("flight_no", "VARCHAR(10)", "편명", "name", code("KE{:04d}", 1, 9999)),
            Column("departure_airport_id", "INT", "출발 공항", "ref", ref="airports.airport_id"),
            Column("arrival_airport_id", "INT", "도착 공항", "ref", ref="airports.airport_id"),
            Column("departure_time", "DATETIME", "출발 시각", "date", moment("2024-01-01", "2024-12-31 23:59")),
            Column("arrival_time", "DATETIME", "도착 시각", "date", after("departure_time", 0, 0)),
            Column("seats", "INT", "좌석 수", "number", pick((180, 220, 280, 300, 400)), summable=True,
                   more="많은", less="적은"),
            Column("status", "VARCHAR(20)", "운항 상태", "category", pick(("정상", "지연", "결항"), (82, 14, 4))),
        )),
        Table("bookings", "예약", "건", 2000, (
            Column("booking_id", "INT", "예약 번호", "key"),
            Column("flight_id", "INT", "항공편", "ref", ref="flights.flight_id"),
            Column("passenger_id", "INT", "승객", "ref", ref="passengers.passenger_id"),
            Column("seat_class", "VARCHAR(20)", "좌석 등급", "category",
                   pick(("이코노미", "프리미엄 이코노미", "비즈니스", "퍼스트"), (70, 12, 14, 4))),
            Column("fare", "INT", "운임", "number", integer(50000, 3000000, 1000, skew=2.0), unit="원", summable=True,
                   more="비싼", less="저렴한"),
            Column("booked_at", "DATETIME", "예약일", "date", moment("2023-06-01", "2024-12-31")),
            Column("cancelled_at", "DATETIME", "취소일", "date", after("booked_at", 0, 30), null_rate=0.9),
        ), link=Link("passenger_id", "flight_id", "을(를) 예약한", "예약한"),
            unique_together=("flight_id", "passenger_id")),
    ),
)

"""Concepts many themes share (people, money, dates, places) and the small word lists names are made of."""

from __future__ import annotations

from studio.data.sample.synth.concepts import MORE, PRICEY, cat, name_col, named_by, note, num, when
from studio.data.sample.values import (
    CITIES,
    CITY_WEIGHTS,
    COUNTRIES,
    SEOUL_DISTRICTS,
    day,
    decimal,
    integer,
    moment,
    person,
)

# fmt: off
PLACES = ("서울", "부산", "인천", "대구", "대전", "광주", "울산", "수원", "춘천", "강릉", "전주", "여수", "경주", "제주", "청주",
          "포항", "창원", "천안")
DONGS = ("역삼동", "대치동", "삼성동", "논현동", "청담동", "신사동", "합정동", "망원동", "연남동", "성수동", "방배동", "잠실동",
         "목동", "상도동", "신림동", "공덕동", "이태원동", "혜화동")
PROVINCES = ("경기", "강원", "충북", "충남", "전북", "전남", "경북", "경남", "제주")
WARM = ("한빛", "새봄", "초록", "푸른", "별빛", "온누리", "다온", "하람", "누리", "가온", "햇살", "미소", "으뜸", "한결", "다솜",
        "샛별")
COMPANY = ("상사", "유통", "물산", "산업", "무역", "식품", "테크", "솔루션")
JOBS = ("회사원", "자영업", "공무원", "학생", "주부", "프리랜서", "교사", "전문직")
# fmt: on


def _phone(rng, row, i):
    return f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"


def _plate(rng, row, i):
    return f"{rng.randint(10, 399)}{rng.choice('가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주')} {rng.randint(1000, 9999)}"


PERSON = named_by("이름", "name full_name {s}_name", person(), 1000)
PLATE = named_by("차량 번호", "plate_number license_plate plate_no car_number", _plate, 3000, "VARCHAR(20)")
COMPANY_NAME = name_col("회사명", "name company_name {s}_name", WARM, COMPANY)

AGE = num("나이", "age {s}_age", integer(19, 78, skew=1.3), unit="세", more="많은", less="적은")
GENDER = cat("성별", "gender sex", ("남", "여"))
CITY = cat("거주 도시", "city home_city region residence", CITIES, CITY_WEIGHTS)
LOCATION = cat("소재지", "city location region area", CITIES, CITY_WEIGHTS)
DISTRICT = cat("자치구", "district gu borough", SEOUL_DISTRICTS)
PROVINCE = cat("지역", "province region area", PROVINCES, (30, 8, 7, 9, 8, 9, 11, 12, 6))
NATIONALITY = cat("국적", "nationality country country_code", COUNTRIES, (40, 12, 12, 7, 6, 8, 5, 4, 3, 3))
COUNTRY = cat("국가", "country origin_country made_in", COUNTRIES)
JOB = cat("직업", "job occupation profession", JOBS)
PHONE = note("전화번호", "phone phone_number contact tel", tuple(f"010-{a}-{b}" for a in (2345, 5678, 8812, 3021)
                                                              for b in (1004, 7788, 4321, 9090, 2024)))
MEMO = note("메모", "memo note remarks comment_text", ("확인 필요", "재연락 요망", "VIP 고객", "우수", "특이사항 없음",
                                                    "주말만 가능", "사진 첨부", "담당자 변경"))
GRADE = cat("회원 등급", "grade tier member_grade membership_level", ("브론즈", "실버", "골드", "플래티넘"),
            (45, 30, 18, 7))
POINTS = num("적립 포인트", "points reward_points point_balance mileage", integer(0, 60000, 10, skew=2.2),
             unit="점", summable=True, **MORE)
JOINED = when("가입일", "joined_at join_date signup_date registered_at created_at",
              moment("2018-01-01", "2024-12-31"), sql_type="DATETIME")
HIRED = when("입사일", "hired_at hire_date joined_on start_date employed_since", day("2005-01-01", "2024-10-31"))
EXPERIENCE = num("경력", "years_experience experience_years career_years career", integer(1, 30, skew=1.4),
                 unit="년", **MORE)
RATING = num("평점", "rating avg_rating score stars", decimal(1.0, 5.0, 1), sql_type="DECIMAL(2,1)", unit="점")
PRICE = num("가격", "price unit_price list_price cost", integer(1000, 300000, 100, skew=2.0), unit="원", **PRICEY)
AMOUNT = num("결제 금액", "amount total_amount paid_amount payment_amount total_price",
             integer(5000, 900000, 10, skew=2.0), unit="원", summable=True, more="큰", less="작은")
QUANTITY = num("수량", "quantity qty units ordered_qty", integer(1, 12, skew=2.5), unit="개", summable=True, **MORE)
FOUNDED_YEAR = num("설립 연도", "founded_year established_year year_founded since_year", integer(1960, 2022),
                   unit="년", more="늦은", less="이른")
OPENED = when("개업일", "opened_at open_date opening_date established_on", day("2000-01-01", "2024-06-30"))
STAFF_COUNT = num("직원 수", "staff_count employees headcount num_staff", integer(3, 400, skew=2.0), unit="명",
                  summable=True, **MORE)
SEATS = num("좌석 수", "seats seat_count capacity num_seats", integer(20, 2000, 10, skew=1.8), unit="석",
            summable=True, **MORE)
FLOOR = num("층", "floor floor_no level_no", integer(1, 20, skew=1.5), unit="층")
PAY_METHOD = cat("결제 수단", "payment_method pay_method payment_type", ("카드", "계좌이체", "간편결제", "현금"),
                 (50, 15, 30, 5))

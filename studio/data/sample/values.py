"""Value generators for the sample's rows, and the Korean word pools they draw from.

Every generator is a pure function of (random source, row so far, row index): no hidden state, so two
generations in one process, or on two machines, produce the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from studio.data.sample.model import ValueGen

# fmt: off
SURNAMES = (
    "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황", "안", "송", "류", "전", "홍",
    "고", "문", "양", "손", "배", "백", "허", "유", "남"
)
SURNAME_WEIGHTS = (
    21, 15, 8, 5, 4, 2, 2, 2, 2, 2, 1.5, 1.5, 1.5, 1.5, 1.4, 1.4, 1.3, 1.2, 1.2, 1.1, 1.1, 0.9, 0.9, 0.9,
    0.9, 0.8, 0.8, 0.7, 0.7, 0.6
)
GIVEN_NAMES = (
    "민준", "서준", "도윤", "예준", "시우", "하준", "주원", "지호", "지후", "준서", "준우", "현우", "도현", "지훈", "건우", "우진", "선우",
    "서진", "민재", "현준", "연우", "유준", "정우", "승우", "승현", "시윤", "준혁", "은우", "지환", "승민", "유찬", "윤우", "민성", "준영",
    "시후", "진우", "지원", "수호", "재윤", "태윤", "서연", "서윤", "지우", "서현", "민서", "하은", "하윤", "윤서", "지유", "지민", "채원",
    "수아", "지아", "지윤", "은서", "다은", "예은", "수빈", "소윤", "예린", "하린", "유나", "채은", "가은", "윤아", "예서", "시은", "소율",
    "다인", "나은", "영수", "영희", "정호", "미경", "성민", "상철", "경수", "은정", "혜진", "수진", "동현", "재현", "영호", "미영", "정민",
    "상훈", "지영", "현주", "성호", "은영", "광수", "명숙", "영자", "종민", "태호", "혜원", "보람", "슬기"
)
CITIES = (
    "서울", "부산", "인천", "대구", "대전", "광주", "울산", "수원", "세종", "제주", "창원", "청주", "전주", "포항", "춘천"
)
CITY_WEIGHTS = (
    30, 12, 10, 8, 6, 6, 4, 5, 2, 3, 3, 3, 3, 2, 2
)
SEOUL_DISTRICTS = (
    "강남구", "서초구", "송파구", "마포구", "영등포구", "종로구", "중구", "용산구", "성동구", "광진구", "동대문구", "성북구", "노원구", "은평구",
    "서대문구", "양천구", "강서구", "구로구", "관악구", "동작구", "강동구", "강북구", "도봉구", "중랑구", "금천구"
)
COUNTRIES = (
    "한국", "미국", "일본", "영국", "프랑스", "중국", "독일", "캐나다", "이탈리아", "스페인"
)
# fmt: on


def pick(options: tuple, weights: tuple | None = None) -> ValueGen:
    return lambda rng, row, i: rng.choices(options, weights)[0]


def integer(lo: int, hi: int, step: int = 1, skew: float = 1.0) -> ValueGen:
    """A whole number in [lo, hi] on a grid of `step`; skew > 1 makes small values more common."""
    slots = (hi - lo) // step

    def gen(rng, row, i):
        return lo + min(slots, int(rng.random() ** skew * (slots + 1))) * step

    return gen


def decimal(lo: float, hi: float, places: int = 1) -> ValueGen:
    return lambda rng, row, i: round(rng.uniform(lo, hi), places)


def day(start: str, end: str) -> ValueGen:
    """A date between start and end (inclusive), as 'YYYY-MM-DD'."""
    first, span = date.fromisoformat(start), (date.fromisoformat(end) - date.fromisoformat(start)).days
    return lambda rng, row, i: (first + timedelta(days=rng.randint(0, span))).isoformat()


def moment(start: str, end: str) -> ValueGen:
    """A time between start and end (whole minutes), as 'YYYY-MM-DD HH:MM:SS'."""
    first = datetime.fromisoformat(start)
    minutes = int((datetime.fromisoformat(end) - first).total_seconds() // 60)
    return lambda rng, row, i: (first + timedelta(minutes=rng.randint(0, minutes))).isoformat(sep=" ")


def after(column: str, min_days: int, max_days: int) -> ValueGen:
    """A date (or time, like the column it follows) some days after another column of the same row."""

    def gen(rng, row, i):
        base = row[column]
        shifted = datetime.fromisoformat(base) + timedelta(
            days=rng.randint(min_days, max_days), minutes=rng.randint(0, 600) if len(base) > 10 else 0
        )
        return shifted.isoformat(sep=" ") if len(base) > 10 else shifted.date().isoformat()

    return gen


def person() -> ValueGen:
    return lambda rng, row, i: rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + rng.choice(GIVEN_NAMES)


def compound(*parts: tuple[str, ...], sep: str = "") -> ValueGen:
    """One word from each part, joined: ("푸른", "붉은") + ("늑대", "매") → "푸른늑대"."""
    return lambda rng, row, i: sep.join(rng.choice(part) for part in parts)


def listed(items: tuple[str, ...]) -> ValueGen:
    """The i-th item: for tables whose rows are a fixed list (departments, airports)."""
    return lambda rng, row, i: items[i % len(items)]


def code(template: str, lo: int, hi: int) -> ValueGen:
    """A formatted number: code("KE{:03d}", 1, 999) → "KE042"."""
    return lambda rng, row, i: template.format(rng.randint(lo, hi))


def derived(fn) -> ValueGen:
    """A value computed from the row so far (and the random source)."""
    return lambda rng, row, i: fn(rng, row)

"""Korean text helpers for question phrasing: particles that depend on the word before them, numbers, dates.

Phrasings are written with both particle forms, as Korean style guides do ("이(가)", "을(를)", "(으)로"),
and `attach_particles` picks the right one from the last sound of the preceding word, so a template reads
naturally whatever value fills it.
"""

from __future__ import annotations

import re

# (form after a final consonant, form after a vowel) for each written pair.
_PAIRS = {
    "이(가)": ("이", "가"),
    "을(를)": ("을", "를"),
    "은(는)": ("은", "는"),
    "과(와)": ("과", "와"),
    "와(과)": ("과", "와"),
    "(으)로": ("으로", "로"),
    "(이)야": ("이야", "야"),
    "(이)고": ("이고", "고"),
    "(이)나": ("이나", "나"),
    "(이)에요": ("이에요", "예요"),
    "(이)라는": ("이라는", "라는"),
    "(이)거나": ("이거나", "거나"),
    "(이)면서": ("이면서", "면서"),
}
_PARTICLE = re.compile("|".join(re.escape(p) for p in _PAIRS))
_SKIP = "'\"’”)]」』 "

# Final sound of digits as read in Sino-Korean: 0 영, 1 일, 2 이, 3 삼, 4 사, 5 오, 6 육, 7 칠, 8 팔, 9 구.
_DIGIT_FINAL = {
    "0": "ㅇ",
    "1": "ㄹ",
    "2": "",
    "3": "ㅁ",
    "4": "",
    "5": "",
    "6": "ㄱ",
    "7": "ㄹ",
    "8": "ㄹ",
    "9": "",
}
# Round numbers end in the unit's sound: 십, 백, 천, 만.
_ZEROS_FINAL = {1: "ㅂ", 2: "ㄱ", 3: "ㄴ", 4: "ㄴ"}
_JONG = ["", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ"]  # enough to tell none / ㄹ / other


def final_sound(word: str) -> str:
    """The final consonant of the last sound of `word` ('' after a vowel, 'ㄹ', or another consonant)."""
    text = word.rstrip(_SKIP)
    if not text:
        return ""
    last = text[-1]
    if "가" <= last <= "힣":
        jong = (ord(last) - ord("가")) % 28
        return "" if jong == 0 else ("ㄹ" if jong == 8 else "ㄱ")
    if last.isdigit():
        digits = re.search(r"[\d,]+$", text).group(0).replace(",", "")
        stripped = digits.rstrip("0")
        zeros = len(digits) - len(stripped)
        if zeros and stripped:
            return _ZEROS_FINAL.get(zeros % 4 or 4, "ㄴ")
        return _DIGIT_FINAL[last]
    if last.isalpha():  # Latin letters, read by their names: only L, M, N, R end in a consonant
        return {"l": "ㄹ", "r": "ㄹ", "m": "ㅁ", "n": "ㄴ"}.get(last.lower(), "")
    return ""


def attach_particles(text: str) -> str:
    """Replace each written particle pair ("이(가)") with the form that fits the word before it."""

    def pick(match: re.Match) -> str:
        after_consonant, after_vowel = _PAIRS[match.group(0)]
        sound = final_sound(text[: match.start()])
        if match.group(0) == "(으)로" and sound == "ㄹ":
            return after_vowel  # 서울로, not 서울으로
        return after_consonant if sound else after_vowel

    return _PARTICLE.sub(pick, text)


def number_text(value: float, unit: str = "") -> str:
    """A number as a question would write it: thousands separators from 10,000 on, then the unit."""
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:g}"
    else:
        value = int(value)
        text = f"{value:,}" if abs(value) >= 10000 else str(value)
    return f"{text}{unit}"


def date_text(iso: str) -> str:
    """'2023-05-01' → '2023년 5월 1일'."""
    year, month, day = iso[:10].split("-")
    return f"{int(year)}년 {int(month)}월 {int(day)}일"

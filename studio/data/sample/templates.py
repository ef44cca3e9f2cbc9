"""The question templates: one SQL pattern each, with several Korean phrasings (polite and casual).

Fields in braces are slots, filled per domain by `binding.py` from the schema model and the generated
rows: the same slot renders as SQL in `sql` (a table or column name, a quoted literal) and as Korean in
the phrasings (a noun, a label, a formatted value). Which slots a template uses decides where it applies:

  single table   t (table), n (display column), nv (a name), c/cv/cv2 (category and values),
                 x/xv/xv2/xa (number and thresholds), xs (a summable number), d/dv/dy/dm (date, day,
                 year, month), z (a nullable column), k (a row count), hv (a group size),
                 sub/pre (part of a name, start of a name)
  foreign key    t is the child; p (the parent, worded by the key's label), pn/pv (parent name),
                 pc/pcv (parent category), fk/pk (the joined columns)
  link table     a —m— q (a table with keys to two named tables): an/av, qn/qv/qv2, qc/qcv, mx (a
                 number of the link), rel/verb (how the link reads)

Particles are written in both forms ("이(가)") and fitted to the word before them afterwards.
Difficulty follows Spider's hardness rules (counting WHERE/GROUP/ORDER/LIMIT/JOIN, nesting, set ops).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cached_property

LEVELS = ("easy", "medium", "hard", "extra")
LINK_SLOTS = frozenset({"a", "an", "av", "q", "qn", "qv", "qv2", "qc", "qcv", "m", "ma", "mq", "apk", "qpk",
                        "mx", "rel", "verb", "a_cnt"})
FK_SLOTS = frozenset({"p", "pn", "pv", "pc", "pcv", "fk", "pk", "p_cnt"})


@dataclass(frozen=True)
class Template:
    id: str
    level: str
    sql: str
    questions: tuple[str, ...]
    strict_fk: bool = False  # the foreign key must be NOT NULL (NOT IN over NULLs is empty)

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"{self.id}: unknown level {self.level}")
        if len(self.questions) < 3:
            raise ValueError(f"{self.id}: at least 3 phrasings are required")

    @cached_property
    def slots(self) -> frozenset[str]:
        names = set()
        for text in (self.sql, *self.questions):
            names.update(field for _, field, _, _ in string.Formatter().parse(text) if field)
        return frozenset(names)

    @property
    def shape(self) -> str:
        if self.slots & LINK_SLOTS:
            return "link"
        return "fk" if self.slots & FK_SLOTS else "single"


def T(id: str, level: str, sql: str, *questions: str, strict_fk: bool = False) -> Template:
    return Template(id, level, sql, tuple(questions), strict_fk)


_JOIN = "{t} AS T1 JOIN {p} AS T2 ON T1.{fk} = T2.{pk}"
_LINK = "{a} AS T1 JOIN {m} AS T2 ON T1.{apk} = T2.{ma} JOIN {q} AS T3 ON T2.{mq} = T3.{qpk}"

TEMPLATES: tuple[Template, ...] = (
    # --- easy: one table, at most one condition -------------------------------------------------
    T("count_all", "easy", "SELECT COUNT(*) FROM {t}",
      "{t}은(는) 모두 몇 {t_cnt}인가요?",
      "전체 {t} 수를 알려줘.",
      "등록된 {t}이(가) 총 몇 {t_cnt}인지 알려주세요.",
      "{t}이(가) 전부 몇 {t_cnt}(이)야?"),
    T("names_by_category", "easy", "SELECT {n} FROM {t} WHERE {c} = {cv}",
      "{c}이(가) {cv}인 {t}의 {n}을(를) 모두 알려주세요.",
      "{c}이(가) {cv}인 {t} {n} 좀 뽑아 줘.",
      "{t} 중에서 {c}이(가) {cv}인 경우의 {n}을(를) 보여 주세요.",
      "{n}을(를) 알려줘, {c}이(가) {cv}인 {t}만."),
    T("count_by_category", "easy", "SELECT COUNT(*) FROM {t} WHERE {c} = {cv}",
      "{c}이(가) {cv}인 {t}은(는) 몇 {t_cnt}인가요?",
      "{t} 중 {c}이(가) {cv}인 것은 몇 {t_cnt}(이)야?",
      "{c}이(가) {cv}인 {t}의 수를 구해 주세요.",
      "{c}이(가) {cv}인 {t}이(가) 몇 {t_cnt}나 되는지 세어 줘."),
    T("names_not_category", "easy", "SELECT {n} FROM {t} WHERE {c} != {cv}",
      "{c}이(가) {cv}이(가) 아닌 {t}의 {n}을(를) 알려주세요.",
      "{t} 중에서 {c}이(가) {cv}이(가) 아닌 것들의 {n}은(는)?",
      "{c}이(가) {cv}인 {t}을(를) 빼고 나머지 {t}의 {n}을(를) 보여줘."),
    T("names_above", "easy", "SELECT {n} FROM {t} WHERE {x} > {xv}",
      "{x}이(가) {xv}보다 {x_hi} {t}의 {n}을(를) 알려주세요.",
      "{x}이(가) {xv}을(를) 넘는 {t}의 {n} 목록을 보여줘.",
      "{xv} 초과의 {x}을(를) 가진 {t}의 {n}은(는) 무엇인가요?"),
    T("names_below", "easy", "SELECT {n} FROM {t} WHERE {x} < {xv}",
      "{x}이(가) {xv}보다 {x_lo} {t}의 {n}을(를) 보여 주세요.",
      "{x}이(가) {xv} 미만인 {t} {n} 알려줘.",
      "{x}이(가) {xv}에 못 미치는 {t}의 {n}은(는) 무엇인가요?"),
    T("count_at_least", "easy", "SELECT COUNT(*) FROM {t} WHERE {x} >= {xv}",
      "{x}이(가) {xv} 이상인 {t}은(는) 몇 {t_cnt}인가요?",
      "{xv} 이상의 {x}을(를) 가진 {t} 수를 알려줘.",
      "{t} 중 {x}이(가) {xv}과(와) 같거나 그보다 {x_hi} 것은 몇 {t_cnt}(이)야?"),
    T("max_number", "easy", "SELECT MAX({x}) FROM {t}",
      "{t}의 최대 {x}을(를) 알려줘.",
      "{t} 중에서 가장 {x_hi} {x}은(는) 얼마인가요?",
      "{x}의 최댓값이 얼마인지 {t} 전체에서 찾아 주세요."),
    T("min_number", "easy", "SELECT MIN({x}) FROM {t}",
      "{t}의 최소 {x}은(는) 얼마인가요?",
      "가장 {x_lo} {x}이(가) 얼마인지 {t}에서 찾아 줘.",
      "{t} 전체에서 {x}의 최솟값을 구해 주세요."),
    T("avg_number", "easy", "SELECT AVG({x}) FROM {t}",
      "{t}의 평균 {x}은(는) 얼마인가요?",
      "전체 {t}의 {x} 평균을 구해 줘.",
      "{x}의 평균값을 {t} 기준으로 알려주세요."),
    T("sum_number", "easy", "SELECT SUM({xs}) FROM {t}",
      "모든 {t}의 {xs}을(를) 합하면 얼마인가요?",
      "{t} 전체 {xs} 합계를 알려줘.",
      "{t}의 {xs} 총합이 얼마인지 구해 주세요."),
    T("distinct_category", "easy", "SELECT DISTINCT {c} FROM {t}",
      "{t}의 {c}에는 어떤 것들이 있나요?",
      "중복 없이 {t} {c} 목록을 보여줘.",
      "{t}에 등록된 {c}의 종류를 모두 알려주세요."),
    T("name_contains", "easy", "SELECT {n} FROM {t} WHERE {n} LIKE {sub}",
      "{n}에 '{sub}'이(가) 포함된 {t}을(를) 모두 찾아 주세요.",
      "'{sub}'이(가) {n}에 들어가는 {t}을(를) 다 보여줘.",
      "{n}에 '{sub}'(이)라는 글자가 있는 {t} 목록 좀 줘."),
    T("name_prefix", "easy", "SELECT {n} FROM {t} WHERE {n} LIKE {pre}",
      "{n}이(가) '{pre}'(으)로 시작하는 {t}을(를) 알려주세요.",
      "'{pre}'(으)로 시작하는 {n}을(를) 가진 {t} 목록을 보여줘.",
      "{t} 중 {n}이(가) '{pre}'(으)로 시작하는 경우를 모두 찾아 줘."),
    T("names_null", "easy", "SELECT {n} FROM {t} WHERE {z} IS NULL",
      "{z} 정보가 없는 {t}의 {n}을(를) 알려주세요.",
      "{z}이(가) 비어 있는 {t} 목록을 {n}(으)로 보여줘.",
      "{z}이(가) 입력되지 않은 {t}의 {n}을(를) 찾아 줘."),
    T("count_null", "easy", "SELECT COUNT(*) FROM {t} WHERE {z} IS NULL",
      "{z}이(가) 비어 있는 {t}은(는) 몇 {t_cnt}인가요?",
      "{z} 정보가 없는 {t} 수를 세어 줘.",
      "{t} 가운데 {z}이(가) 입력되지 않은 경우는 몇 {t_cnt}(이)야?"),
    T("count_not_null", "easy", "SELECT COUNT(*) FROM {t} WHERE {z} IS NOT NULL",
      "{z}이(가) 기록된 {t}은(는) 몇 {t_cnt}인가요?",
      "{z} 값이 있는 {t} 수를 세어 줘.",
      "{t} 중에서 {z}이(가) 비어 있지 않은 것은 모두 몇 {t_cnt}(이)야?"),
    T("date_on_or_after", "easy", "SELECT {n} FROM {t} WHERE {d} >= {dv}",
      "{d}이(가) {dv} 이후인 {t}의 {n}을(를) 알려주세요.",
      "{d}이(가) {dv} 또는 그 이후인 {t} 목록을 {n}(으)로 줘.",
      "{d} 기준으로 {dv}(이)나 그 이후에 해당하는 {t}의 {n}은(는)?"),
    T("lookup_number", "easy", "SELECT {x} FROM {t} WHERE {n} = {nv}",
      "{nv} {t}의 {x}은(는) 얼마인가요?",
      "{t} {nv}의 {x}을(를) 알려줘.",
      "{x}이(가) 얼마야? {nv} {t} 말이야."),
    T("lookup_category", "easy", "SELECT {c} FROM {t} WHERE {n} = {nv}",
      "{nv} {t}의 {c}은(는) 무엇인가요?",
      "{t} {nv}의 {c}이(가) 뭐야?",
      "{nv}(이)라는 {t}의 {c}을(를) 확인해 주세요."),
    T("two_columns_by_category", "easy", "SELECT {n}, {x} FROM {t} WHERE {c} = {cv}",
      "{c}이(가) {cv}인 {t}의 {n}과(와) {x}을(를) 보여 주세요.",
      "{t} 중 {c}이(가) {cv}인 것들의 {n}하고 {x}을(를) 알려줘.",
      "{c}이(가) {cv}인 {t}에 대해 {n}, {x}을(를) 나란히 보여 줄래?"),
    # --- medium: grouping, two conditions, ORDER BY with LIMIT, one join --------------------------
    T("top_one", "medium", "SELECT {n} FROM {t} ORDER BY {x} DESC LIMIT 1",
      "{x}이(가) 가장 {x_hi} {t}의 {n}은(는) 무엇인가요?",
      "{t} 중 {x}이(가) 제일 {x_hi} 것의 {n}을(를) 보여 주세요.",
      "{x} 기준으로 1위인 {t}의 {n}을(를) 알려줘."),
    T("bottom_one", "medium", "SELECT {n} FROM {t} ORDER BY {x} ASC LIMIT 1",
      "{x}이(가) 가장 {x_lo} {t}의 {n}을(를) 알려주세요.",
      "{t} 가운데 {x}이(가) 제일 {x_lo} 것은 뭐야? {n}(으)로 알려줘.",
      "{x}이(가) 최하위인 {t}의 {n}은(는) 무엇인가요?"),
    T("top_one_with_value", "medium", "SELECT {n}, {x} FROM {t} ORDER BY {x} DESC LIMIT 1",
      "{x}이(가) 가장 {x_hi} {t}의 {n}과(와) 그 {x}을(를) 알려주세요.",
      "{t} 중 {x}이(가) 최고인 것의 {n}, {x}을(를) 보여줘.",
      "제일 {x_hi} {x}의 {t}을(를) {x}과(와) 함께 알려줘."),
    T("latest", "medium", "SELECT {n} FROM {t} ORDER BY {d} DESC LIMIT 1",
      "{d}이(가) 가장 최근인 {t}의 {n}은(는) 무엇인가요?",
      "가장 최근 {d}을(를) 가진 {t}의 {n}을(를) 알려줘.",
      "{t} 중 {d}이(가) 제일 늦은 것의 {n}은(는)?"),
    T("earliest", "medium", "SELECT {n} FROM {t} ORDER BY {d} ASC LIMIT 1",
      "{d}이(가) 가장 이른 {t}의 {n}을(를) 알려주세요.",
      "제일 오래전 {d}을(를) 가진 {t}이(가) 뭐야? {n}만 줘.",
      "{t} 가운데 {d}이(가) 가장 빠른 것의 {n}은(는) 무엇인가요?"),
    T("in_year", "medium", "SELECT {n} FROM {t} WHERE {d} >= {dy_start} AND {d} < {dy_end}",
      "{d}이(가) {dy}인 {t}의 {n}을(를) 모두 알려주세요.",
      "{d} 기준으로 {dy}에 해당하는 {t}의 {n}을(를) 찾아 줘.",
      "{dy}에 {d}이(가) 있는 {t} 목록을 {n}(으)로 보여 주세요."),
    T("count_in_month", "medium", "SELECT COUNT(*) FROM {t} WHERE {d} >= {dm_start} AND {d} < {dm_end}",
      "{d}이(가) {dm}인 {t}은(는) 몇 {t_cnt}인가요?",
      "{dm} 한 달 동안의 {t} 수를 {d} 기준으로 세어 줘.",
      "{d} 기준 {dm}에 해당하는 {t}이(가) 몇 {t_cnt}(이)야?"),
    T("group_count", "medium", "SELECT {c}, COUNT(*) FROM {t} GROUP BY {c}",
      "{c}별 {t} 수를 알려주세요.",
      "{t}을(를) {c}별로 묶어서 각각 몇 {t_cnt}인지 세어 줘.",
      "각 {c}마다 {t}이(가) 몇 {t_cnt}씩 있나요?"),
    T("group_avg", "medium", "SELECT {c}, AVG({x}) FROM {t} GROUP BY {c}",
      "{c}별 평균 {x}을(를) 구해 주세요.",
      "{t}의 {x} 평균을 {c}마다 보여줘.",
      "각 {c}에 해당하는 {t}의 평균 {x}은(는) 얼마인가요?"),
    T("group_max", "medium", "SELECT {c}, MAX({x}) FROM {t} GROUP BY {c}",
      "{c}별로 가장 {x_hi} {x}을(를) 알려주세요.",
      "각 {c}의 최대 {x}을(를) 보여줘.",
      "{c}마다 {t}의 {x} 최댓값이 얼마인지 궁금해요."),
    T("group_sum", "medium", "SELECT {c}, SUM({xs}) FROM {t} GROUP BY {c}",
      "{c}별 {xs} 합계를 구해 주세요.",
      "각 {c}마다 {t}의 {xs}을(를) 모두 더하면 얼마야?",
      "{t}의 총 {xs}을(를) {c}별로 보여줘."),
    T("having_count", "medium", "SELECT {c} FROM {t} GROUP BY {c} HAVING COUNT(*) >= {hv}",
      "{t}이(가) {hv}{t_cnt} 이상인 {c}은(는) 무엇인가요?",
      "{c} 중에서 {t} 수가 {hv} 이상인 것만 보여줘.",
      "{hv}{t_cnt} 이상의 {t}을(를) 가진 {c}을(를) 알려주세요."),
    T("category_and_number", "medium", "SELECT {n} FROM {t} WHERE {c} = {cv} AND {x} > {xv}",
      "{c}이(가) {cv}(이)고 {x}이(가) {xv}보다 {x_hi} {t}의 {n}을(를) 알려주세요.",
      "{c}은(는) {cv}, {x}은(는) {xv} 초과인 {t}을(를) 찾아 줘.",
      "{x}이(가) {xv}보다 {x_hi} {t} 중에서 {c}이(가) {cv}인 것의 {n}은(는)?"),
    T("category_in", "medium", "SELECT {n} FROM {t} WHERE {c} IN ({cv}, {cv2})",
      "{c}이(가) {cv} 또는 {cv2}인 {t}의 {n}을(를) 보여 주세요.",
      "{c}이(가) {cv}(이)거나 {cv2}인 {t} 목록 줘.",
      "{cv}, {cv2} 두 {c} 중 하나에 해당하는 {t}의 {n}을(를) 알려줘."),
    T("number_between", "medium", "SELECT {n} FROM {t} WHERE {x} BETWEEN {xv} AND {xv2}",
      "{x}이(가) {xv} 이상 {xv2} 이하인 {t}의 {n}을(를) 알려주세요.",
      "{x}이(가) {xv}에서 {xv2} 사이인 {t}을(를) 찾아 줘.",
      "{xv}~{xv2} 범위의 {x}을(를) 가진 {t} 목록을 보여줘."),
    T("count_distinct", "medium", "SELECT COUNT(DISTINCT {c}) FROM {t}",
      "{t}의 {c}은(는) 몇 가지인가요?",
      "{t}들의 서로 다른 {c}은(는) 몇 개야?",
      "{t}에 등록된 {c} 종류의 수를 세어 주세요."),
    T("avg_by_category", "medium", "SELECT AVG({x}) FROM {t} WHERE {c} = {cv}",
      "{c}이(가) {cv}인 {t}의 평균 {x}은(는) 얼마인가요?",
      "{t} 중 {c}이(가) {cv}인 경우 {x} 평균을 구해 줘.",
      "평균 {x}을(를) 알려주세요. {c}이(가) {cv}인 {t}만 대상입니다."),
    T("not_null_and_category", "medium", "SELECT {n} FROM {t} WHERE {z} IS NOT NULL AND {c} = {cv}",
      "{c}이(가) {cv}인 {t} 중 {z}이(가) 기록된 것의 {n}을(를) 알려주세요.",
      "{z}이(가) 비어 있지 않고 {c}이(가) {cv}인 {t} 목록 줘.",
      "{c}이(가) {cv}(이)면서 {z}이(가) 입력된 {t}의 {n}은(는)?"),
    T("children_of_parent", "medium", f"SELECT T1.{{n}} FROM {_JOIN} WHERE T2.{{pn}} = {{pv}}",
      "{p}이(가) {pv}인 {t}의 {n}을(를) 모두 알려주세요.",
      "{p} {pv}의 {t} {n} 목록을 보여줘.",
      "{t} 가운데 {p}이(가) {pv}인 경우의 {n}을(를) 찾아 줘."),
    T("parent_of_child", "medium", f"SELECT T2.{{pn}} FROM {_JOIN} WHERE T1.{{n}} = {{nv}}",
      "{nv} {t}의 {p} {pn}은(는) 무엇인가요?",
      "{t} {nv}의 {p} {pn}을(를) 알려줘.",
      "{nv} {t}에 연결된 {p}의 {pn}이(가) 궁금해요."),
    T("count_children_of_parent", "medium", f"SELECT COUNT(*) FROM {_JOIN} WHERE T2.{{pn}} = {{pv}}",
      "{p}이(가) {pv}인 {t}은(는) 몇 {t_cnt}인가요?",
      "{p} {pv}의 {t} 수를 알려줘.",
      "{t} 중 {p}이(가) {pv}인 것은 모두 몇 {t_cnt}(이)야?"),
    T("avg_of_parent", "medium", f"SELECT AVG(T1.{{x}}) FROM {_JOIN} WHERE T2.{{pn}} = {{pv}}",
      "{p}이(가) {pv}인 {t}의 평균 {x}은(는) 얼마인가요?",
      "{p} {pv}의 {t}들 {x} 평균을 구해 줘.",
      "평균 {x}을(를) 알려주세요. 대상은 {p}이(가) {pv}인 {t}입니다."),
    T("count_per_parent", "medium", f"SELECT T2.{{pn}}, COUNT(*) FROM {_JOIN} GROUP BY T2.{{pn}}",
      "{p}별 {t} 수를 알려주세요.",
      "각 {p}마다 {t}이(가) 몇 {t_cnt}인지 {pn}과(와) 함께 보여줘.",
      "{t} 수를 {p} {pn}별로 세어 주세요."),
    T("avg_per_parent", "medium", f"SELECT T2.{{pn}}, AVG(T1.{{x}}) FROM {_JOIN} GROUP BY T2.{{pn}}",
      "{p}별 {t}의 평균 {x}을(를) 구해 주세요.",
      "각 {p}마다 {t} 평균 {x}이(가) 얼마인지 {pn}과(와) 함께 보여줘.",
      "{t}의 {x} 평균을 {p} 기준으로 묶어서 알려줘."),
    T("children_by_parent_category", "medium", f"SELECT T1.{{n}} FROM {_JOIN} WHERE T2.{{pc}} = {{pcv}}",
      "{p}의 {pc}이(가) {pcv}인 {t}의 {n}을(를) 알려주세요.",
      "{pc}이(가) {pcv}인 {p}에 해당하는 {t} 목록을 {n}(으)로 보여줘.",
      "{t} 중에서 {p} {pc}이(가) {pcv}인 것의 {n}은(는)?"),
    T("link_average", "medium", "SELECT AVG(T2.{mx}) FROM {m} AS T2 JOIN {q} AS T3 ON T2.{mq} = T3.{qpk} "
      "WHERE T3.{qn} = {qv}",
      "{qv} {q}{rel} {a}들의 평균 {mx}은(는) 얼마인가요?",
      "{q} {qv} 기준으로 평균 {mx}을(를) 구해 줘.",
      "{qv} {q}에 대한 {mx} 평균이 궁금해요."),
    # --- hard: nesting, several conditions, joins over three tables -----------------------------
    T("top_k_in_category", "hard", "SELECT {n} FROM {t} WHERE {c} = {cv} ORDER BY {x} DESC LIMIT {k}",
      "{c}이(가) {cv}인 {t} 중 {x}이(가) 가장 {x_hi} {k}{t_cnt}의 {n}을(를) 알려주세요.",
      "{x} 상위 {k}{t_cnt}을(를) 뽑아 줘. 단, {c}이(가) {cv}인 {t}만.",
      "{c}이(가) {cv}인 {t}을(를) {x}이(가) {x_hi} 순으로 {k}{t_cnt}만 보여줘."),
    T("most_common_category", "hard", "SELECT {c} FROM {t} GROUP BY {c} ORDER BY COUNT(*) DESC LIMIT 1",
      "{t}이(가) 가장 많은 {c}은(는) 무엇인가요?",
      "{t} 중 가장 흔한 {c}이(가) 뭐야?",
      "{c}별로 {t} 수를 셌을 때 1위인 {c}을(를) 알려주세요."),
    T("having_avg", "hard", "SELECT {c} FROM {t} GROUP BY {c} HAVING AVG({x}) > {xa}",
      "평균 {x}이(가) {xa}보다 {x_hi} {c}은(는) 무엇인가요?",
      "{c}별 평균 {x}이(가) {xa}을(를) 넘는 것만 알려줘.",
      "{t}의 {x} 평균이 {xa} 초과인 {c} 목록을 보여 주세요."),
    T("above_average", "hard", "SELECT {n} FROM {t} WHERE {x} > (SELECT AVG({x}) FROM {t})",
      "{x}이(가) 평균보다 {x_hi} {t}의 {n}을(를) 알려주세요.",
      "평균 {x}을(를) 넘는 {t} 목록을 {n}(으)로 보여줘.",
      "{t} 전체 평균보다 {x}이(가) {x_hi} 것들의 {n}은(는)?"),
    T("count_above_average", "hard", "SELECT COUNT(*) FROM {t} WHERE {x} > (SELECT AVG({x}) FROM {t})",
      "{x}이(가) 평균보다 {x_hi} {t}은(는) 몇 {t_cnt}인가요?",
      "평균 {x}을(를) 웃도는 {t} 수를 세어 줘.",
      "{t} 가운데 {x}이(가) 평균을 넘는 것은 몇 {t_cnt}(이)야?"),
    T("argmax_subquery", "hard", "SELECT {n} FROM {t} WHERE {x} = (SELECT MAX({x}) FROM {t})",
      "{x}이(가) 최댓값인 {t}의 {n}을(를) 모두 알려주세요.",
      "가장 {x_hi} {x}을(를) 가진 {t}을(를) 전부 찾아 줘. 동점이면 모두 보여줘.",
      "{t} 중 {x}이(가) 제일 {x_hi} 것의 {n}을(를) 빠짐없이 알려 주세요."),
    T("parents_without_children", "hard", "SELECT {pn} FROM {p} WHERE {pk} NOT IN (SELECT {fk} FROM {t})",
      "{t}이(가) 한 {t_cnt}도 없는 {p}의 {pn}을(를) 알려주세요.",
      "{t}과(와) 연결되지 않은 {p}을(를) 모두 찾아 줘.",
      "{p} 중 {t} 기록이 전혀 없는 것의 {pn}은(는)?",
      strict_fk=True),
    T("children_in_parent_category", "hard", "SELECT {n} FROM {t} WHERE {fk} IN "
      "(SELECT {pk} FROM {p} WHERE {pc} = {pcv})",
      "{pc}이(가) {pcv}인 {p}에 연결된 {t}의 {n}을(를) 모두 보여 주세요.",
      "{pcv}에 해당하는 {pc}의 {p}을(를) 가진 {t}을(를) 찾아 줘.",
      "{t} 중에서 {p}의 {pc} 값이 {pcv}인 것들의 {n}을(를) 알려줘."),
    T("parents_with_many_children", "hard", f"SELECT T2.{{pn}} FROM {_JOIN} GROUP BY T2.{{pn}} "
      "HAVING COUNT(*) >= {hv}",
      "{t}이(가) {hv}{t_cnt} 이상인 {p}의 {pn}을(를) 알려주세요.",
      "{hv}{t_cnt} 이상의 {t}을(를) 가진 {p} 목록을 보여줘.",
      "{p}별로 {t} 수를 셌을 때 {hv} 이상인 {p}의 {pn}은(는)?"),
    T("children_of_parent_since", "hard", f"SELECT T1.{{n}} FROM {_JOIN} WHERE T2.{{pn}} = {{pv}} "
      "AND T1.{d} >= {dv}",
      "{p}이(가) {pv}인 {t} 중 {d}이(가) {dv} 이후인 것의 {n}을(를) 알려주세요.",
      "{dv} 이후의 {d}을(를) 가진 {t} 중에서 {p}이(가) {pv}인 것만 보여줘.",
      "{p} {pv}의 {t} 가운데 {d}이(가) {dv} 이후인 {t}의 {n}은(는)?"),
    T("link_forward", "hard", f"SELECT T1.{{an}} FROM {_LINK} WHERE T3.{{qn}} = {{qv}}",
      "{qv} {q}{rel} {a}의 {an}을(를) 알려주세요.",
      "{q} {qv}{rel} {a} 목록 보여줘.",
      "{qv} {q}{rel} {a}은(는) 누가 있나요?"),
    T("link_reverse", "hard", f"SELECT T3.{{qn}} FROM {_LINK} WHERE T1.{{an}} = {{av}}",
      "{av} {a}이(가) {verb} {q}의 {qn}을(를) 알려주세요.",
      "{a} {av}이(가) {verb} {q} 목록 줘.",
      "{av}이(가) {verb} {q}에는 어떤 것들이 있나요?"),
    T("link_count_by_category", "hard", "SELECT COUNT(DISTINCT T2.{ma}) FROM {m} AS T2 JOIN {q} AS T3 "
      "ON T2.{mq} = T3.{qpk} WHERE T3.{qc} = {qcv}",
      "{qc}이(가) {qcv}인 {q}{rel} {a}은(는) 몇 {a_cnt}인가요?",
      "{q}의 {qc}이(가) {qcv}인 경우, 그 {q}{rel} {a} 수를 중복 없이 세어 줘.",
      "{qcv} {qc}의 {q}{rel} {a}이(가) 몇 {a_cnt}(이)야?"),
    # --- extra: set operations, nesting with joins, join + group + order ---------------------------
    T("top_parent_by_children", "extra", f"SELECT T2.{{pn}} FROM {_JOIN} GROUP BY T2.{{pn}} "
      "ORDER BY COUNT(*) DESC LIMIT 1",
      "{t}이(가) 가장 많은 {p}의 {pn}은(는) 무엇인가요?",
      "{t} 수가 제일 많은 {p}을(를) 알려줘.",
      "어느 {p}에 {t}이(가) 가장 많나요? {pn}(으)로 알려주세요."),
    T("top_k_parents_by_children", "extra", f"SELECT T2.{{pn}} FROM {_JOIN} GROUP BY T2.{{pn}} "
      "ORDER BY COUNT(*) DESC LIMIT {k}",
      "{t}이(가) 많은 순서대로 {p} {k}{p_cnt}의 {pn}을(를) 보여 주세요.",
      "{t} 수 기준 상위 {k}{p_cnt} {p}을(를) 알려줘.",
      "{p}을(를) {t} 수로 줄 세웠을 때 위에서 {k}{p_cnt}의 {pn}은(는)?"),
    T("top_child_of_parent", "extra", f"SELECT T1.{{n}} FROM {_JOIN} WHERE T2.{{pn}} = {{pv}} "
      "ORDER BY T1.{x} DESC LIMIT 1",
      "{p}이(가) {pv}인 {t} 중 {x}이(가) 가장 {x_hi} 것의 {n}은(는)?",
      "{p} {pv}의 {t} 가운데 {x} 1위를 알려줘.",
      "{x}이(가) 제일 {x_hi} {t}을(를) 찾아 줘. 단, {p}이(가) {pv}인 경우만."),
    T("top_parent_by_average", "extra", f"SELECT T2.{{pn}} FROM {_JOIN} GROUP BY T2.{{pn}} "
      "ORDER BY AVG(T1.{x}) DESC LIMIT 1",
      "{t}의 평균 {x}이(가) 가장 {x_hi} {p}의 {pn}은(는) 무엇인가요?",
      "{p}별 평균 {x}을(를) 비교해서 1위인 {p}을(를) 알려줘.",
      "{t} 평균 {x} 기준으로 가장 앞서는 {p}의 {pn}은(는)?"),
    T("above_parent_average", "extra", "SELECT {n} FROM {t} WHERE {x} > (SELECT AVG(T1.{x}) FROM "
      f"{_JOIN} WHERE T2.{{pn}} = {{pv}})",
      "{p}이(가) {pv}인 {t}들의 평균 {x}보다 {x}이(가) {x_hi} {t}의 {n}을(를) 알려주세요.",
      "{p} {pv}의 평균 {x}을(를) 넘는 {t} 목록 보여줘.",
      "{x}이(가) {p} {pv}의 {t} 평균보다 {x_hi} {t}의 {n}은(는)?"),
    T("parents_with_both", "extra", f"SELECT T2.{{pn}} FROM {_JOIN} WHERE T1.{{c}} = {{cv}} INTERSECT "
      f"SELECT T2.{{pn}} FROM {_JOIN} WHERE T1.{{c}} = {{cv2}}",
      "{c}이(가) {cv}인 {t}과(와) {cv2}인 {t}이(가) 모두 있는 {p}의 {pn}을(를) 알려주세요.",
      "{t}의 {c} 중 {cv}와(과) {cv2}을(를) 둘 다 가진 {p}을(를) 찾아 줘.",
      "{p} 중에서 {c}이(가) {cv}인 {t}도, {cv2}인 {t}도 있는 {p}의 {pn}은(는)?"),
    T("parents_without_category", "extra", f"SELECT {{pn}} FROM {{p}} EXCEPT SELECT T2.{{pn}} FROM {_JOIN} "
      "WHERE T1.{c} = {cv}",
      "{c}이(가) {cv}인 {t}이(가) 한 {t_cnt}도 없는 {p}의 {pn}을(를) 알려주세요.",
      "{c}이(가) {cv}인 {t}이(가) 없는 {p}을(를) 모두 찾아 줘.",
      "{pn}을(를) 보여 줘: {c}이(가) {cv}인 {t}이(가) 전혀 없는 {p}."),
    T("union_filters", "extra", "SELECT {n} FROM {t} WHERE {c} = {cv} UNION SELECT {n} FROM {t} WHERE {x} > {xv}",
      "{c}이(가) {cv}(이)거나 {x}이(가) {xv}보다 {x_hi} {t}의 {n}을(를) 알려주세요.",
      "{c}이(가) {cv}인 {t}과(와) {x}이(가) {xv}을(를) 넘는 {t}을(를) 합쳐서 {n} 목록을 보여줘.",
      "{x} {xv} 초과 또는 {c} {cv}에 해당하는 {t}의 {n}은(는)?"),
    T("link_both", "extra", f"SELECT T1.{{an}} FROM {_LINK} WHERE T3.{{qn}} = {{qv}} INTERSECT "
      f"SELECT T1.{{an}} FROM {_LINK} WHERE T3.{{qn}} = {{qv2}}",
      "{qv} {q}{rel} {a} 중에서 {qv2} {q}{rel} {a}의 {an}을(를) 알려주세요.",
      "{qv} {q}{rel} {a}이자 {qv2} {q}{rel} {a}은(는) 누구인가요?",
      "{qv}, {qv2} 두 {q}에 모두 관련된 {a}의 {an} 목록 줘."),
    T("link_reverse_by_category", "extra", f"SELECT T3.{{qn}} FROM {_LINK} WHERE T1.{{an}} = {{av}} "
      "AND T3.{qc} = {qcv}",
      "{av} {a}이(가) {verb} {q} 중 {qc}이(가) {qcv}인 것의 {qn}을(를) 알려주세요.",
      "{a} {av}이(가) {verb} {qcv} {qc}의 {q} 목록 보여줘.",
      "{qc}이(가) {qcv}인 {q} 가운데 {av} {a}이(가) {verb} 것은?"),
)

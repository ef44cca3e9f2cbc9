"""Comparing two query results the way Spider's test-suite evaluation does.

Results are bags of rows (duplicates count); row order matters only when the gold query orders its rows;
column names are ignored and columns may come in another order; NULLs equal NULLs; floats are compared after
rounding to `FLOAT_DIGITS` significant digits, which absorbs summation-order noise (AVG vs SUM/COUNT)
without hiding real differences such as ROUND(x, 2) against x.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

FLOAT_DIGITS = 10
CELL_BUDGET = 5_000_000  # cells compared across all column permutations of one pair, to bound the time


@dataclass(frozen=True)
class Comparison:
    """Whether two results are equal, and if not, a short description of how they differ."""

    equal: bool
    detail: str = ""


def compare_results(
    gold: Sequence[tuple],
    pred: Sequence[tuple],
    *,
    ordered: bool,
    gold_width: int | None = None,
    pred_width: int | None = None,
    max_permutations: int = 200,
) -> Comparison:
    """Compare rows; widths (column counts) come from the cursors because empty results have no rows."""
    gold_width = _width(gold, gold_width)
    pred_width = _width(pred, pred_width)
    if gold_width != pred_width:
        return Comparison(False, f"{_count(pred_width, 'column')}, expected {gold_width}")
    if len(gold) != len(pred):
        return Comparison(False, f"{_count(len(pred), 'row')}, expected {len(gold)}")
    gold_rows = [tuple(map(canonical, row)) for row in gold]
    pred_rows = [tuple(map(canonical, row)) for row in pred]
    gold_bag = Counter(gold_rows)
    order_differs = False
    limit = min(max_permutations, CELL_BUDGET // max(1, len(gold_rows) * gold_width))
    for permutation in column_permutations(gold_rows, pred_rows, gold_width, limit):
        permuted = [tuple(row[i] for i in permutation) for row in pred_rows]
        if Counter(permuted) != gold_bag:
            continue
        if not ordered or permuted == gold_rows:
            return Comparison(True)
        order_differs = True
    return Comparison(False, "rows in a different order" if order_differs else "different values")


def canonical(value):
    """A hashable form in which values that should compare equal are equal (3 == 3.0, float noise)."""
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return float(f"{value:.{FLOAT_DIGITS}g}")
    return value


def column_permutations(
    gold_rows: Sequence[tuple], pred_rows: Sequence[tuple], width: int, limit: int
) -> Iterator[tuple[int, ...]]:
    """Orders of the predicted columns worth trying: identity first, then only those in which every
    predicted column holds the same bag of values as the gold column it stands for (at most `limit`)."""
    identity = tuple(range(width))
    yield identity
    if width < 2 or not gold_rows or limit < 1:
        return
    gold_columns = [_column_signature(gold_rows, i) for i in range(width)]
    pred_columns = [_column_signature(pred_rows, i) for i in range(width)]
    candidates = [[j for j in range(width) if pred_columns[j] == signature] for signature in gold_columns]
    if any(not options for options in candidates):
        return
    produced = 0
    for permutation in _assignments(candidates, [], set()):
        if permutation == identity:
            continue
        yield permutation
        produced += 1
        if produced >= limit:
            return


def _assignments(candidates: list[list[int]], chosen: list[int], used: set[int]) -> Iterator[tuple[int, ...]]:
    """Injective choices of one candidate per gold column (depth-first)."""
    if len(chosen) == len(candidates):
        yield tuple(chosen)
        return
    for option in candidates[len(chosen)]:
        if option not in used:
            chosen.append(option)
            used.add(option)
            yield from _assignments(candidates, chosen, used)
            used.discard(option)
            chosen.pop()


def _column_signature(rows: Sequence[tuple], index: int) -> frozenset:
    return frozenset(Counter(row[index] for row in rows).items())


def _width(rows: Sequence[tuple], width: int | None) -> int:
    if width is not None:
        return width
    return len(rows[0]) if rows else 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")

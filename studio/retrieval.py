"""The nearest training example: for a question, the most alike training question of another database, and
its SQL, shown to the model in the prompt (a one-shot prompt, retrieved).

A 135M model trained for half an hour on a CPU learns little of how Korean phrasings map to SQL shapes
(`... 몇 개인가요?` → `SELECT COUNT(*) ...`). Shown the SQL of a question phrased alike, it only has to adapt
that shape to the DDL in front of it: on databases kept out of training, this tripled execution match at the
same training time (README, "Model quality"). The example comes from another database, in training as at
inference, so the model learns to carry a shape across schemas, not to copy names. The one exception is a
version adapted to a user's database (studio/data/adapt): that database's rows take the example from its own
synthesized pairs (never the row itself, nor, in training, a pair with the row's own SQL), because there the
names are the point: a question about that database is answered next to a pair that uses its real tables
and columns.

Alike means: the TF-IDF cosine of character 2- and 3-grams, after quoted values and numbers are replaced by
placeholders (what a question asks for is its phrasing, not its values). Scores are summed with numpy over
each gram's postings; deterministic: ties go to the earlier row.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from studio.errors import StudioError

EXAMPLE_HEADER = "### Example:"
_QUOTED = re.compile(r"'[^']*'")
_NUMBER = re.compile(r"[0-9][0-9,.]*")


@dataclass(frozen=True)
class Example:
    question: str
    sql: str
    db_id: str


def with_example(question: str, example: Example | None) -> str:
    """The question as the prompt shows it: followed by the example, when there is one."""
    if example is None:
        return question
    return f"{question}\n\n{EXAMPLE_HEADER}\n{example.question}\n{example.sql}"


class ExampleIndex:
    """Training rows (question, SQL, database) to draw examples from. A query sums, with numpy, the
    postings of its grams: ~0.5 ms against the bundled sample's 10,749 rows."""

    def __init__(self, questions: Sequence[str], answers: Sequence[str], db_ids: Sequence[str],
                 own_examples: Sequence[str] = ()):
        self.examples = [Example(q, a.strip(), str(d)) for q, a, d in zip(questions, answers, db_ids)]
        self.own_examples = frozenset(map(str, own_examples))  # databases that draw from their own rows
        grams = [_grams(q) for q in questions]
        document_frequency = Counter(g for row in grams for g in row)
        self._idf = {g: math.log(len(grams) / (1 + n)) for g, n in document_frequency.items()}
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for i, row in enumerate(grams):
            for gram, weight in self._vector(row).items():
                postings[gram][0].append(i)
                postings[gram][1].append(weight)
        self._postings = {g: (np.array(rows, dtype=np.int64), np.array(weights)) for g, (rows, weights)
                          in postings.items()}
        codes = {d: n for n, d in enumerate(dict.fromkeys(e.db_id for e in self.examples))}
        self._db_codes = np.array([codes[e.db_id] for e in self.examples], dtype=np.int64)
        self._codes = codes

    def __len__(self) -> int:
        return len(self.examples)

    def nearest(self, question: str, db_id: str | None = None, unlike_sql: str | None = None) -> Example | None:
        """The most alike example from a database other than `db_id` (ties: the earlier row); None when the
        index has none. For a database in `own_examples`: the most alike of its own rows instead, other than
        the same question or, given `unlike_sql`, the same SQL."""
        found = [(self._postings[g], w) for g, w in self._vector(_grams(question)).items() if g in self._postings]
        scores = np.zeros(len(self.examples))
        if found:
            scores = np.bincount(np.concatenate([rows for (rows, _), _ in found]),
                                 weights=np.concatenate([weights * w for (_, weights), w in found]),
                                 minlength=len(self.examples))
        own = self._codes.get(str(db_id))
        if own is not None and str(db_id) in self.own_examples:
            scores[self._db_codes != own] = -1.0
            scores[[i for i in np.flatnonzero(self._db_codes == own) if self._unfit(i, question, unlike_sql)]] = -1.0
        elif own is not None:
            scores[self._db_codes == own] = -1.0  # never the question's own database
        best = int(np.argmax(scores)) if len(scores) else 0
        return self.examples[best] if len(scores) and scores[best] >= 0 else None

    def _unfit(self, i: int, question: str, unlike_sql: str | None) -> bool:
        example = self.examples[i]
        return example.question == question or (unlike_sql is not None and example.sql == unlike_sql.strip())

    def _vector(self, grams: Counter) -> dict[str, float]:
        weights = {g: n * self._idf.get(g, 0.0) for g, n in grams.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {g: w / norm for g, w in weights.items() if w}


def _grams(question: str) -> Counter:
    text = _NUMBER.sub("N", _QUOTED.sub("'V'", question))
    return Counter(text[i : i + n] for n in (2, 3) for i in range(len(text) - n + 1))


def add_examples(frame, index: ExampleIndex, training: bool = False):
    """`frame` (rows with question and db_id) with each row's nearest example: `example_question` and
    `example_sql`, empty where the index has no other database. Training rows (`training`, with their
    answers) are never shown their own SQL as the example."""
    answers = frame["answer"] if training else [None] * len(frame)
    found = [index.nearest(q, d, a) for q, d, a in zip(frame["question"], frame["db_id"], answers)]
    return frame.assign(example_question=[e.question if e else "" for e in found],
                        example_sql=[e.sql if e else "" for e in found])


def prompt_questions(frame) -> list[str]:
    """The question each row's prompt shows: with its example when the data set has them."""
    if "example_question" not in frame:
        return list(frame["question"])
    return [with_example(q, Example(eq, es, "") if eq else None)
            for q, eq, es in zip(frame["question"], frame["example_question"].fillna(""),
                                 frame["example_sql"].fillna(""))]


@lru_cache(maxsize=4)
def _file_index(train_file: str, own_examples: tuple[str, ...] = ()) -> ExampleIndex | None:
    """The examples in a version's train.jsonl (versions never change, so this is cached), or None when its
    prompts are the book's."""
    import pandas as pd

    frame = pd.read_json(train_file, lines=True, dtype=str)
    if "example_question" not in frame or not frame["example_question"].fillna("").str.len().any():
        return None  # the book's prompt, or one database only: no row was shown an example
    return ExampleIndex(frame["question"], frame["answer"], frame["db_id"], own_examples=own_examples)


def run_index(run_name: str | None, settings) -> ExampleIndex | None:
    """The examples a run was trained with (its data set version's training rows), or None: a run trained
    on the book's prompt, or on a folder of rows, is asked with the book's prompt."""
    from studio.data.versions import get_version
    from studio.training.runs import find_run

    run = find_run(run_name, settings) if run_name else None
    if run is None or not run.dataset_version:
        return None
    try:
        version = get_version(run.dataset_version, settings)
        return _file_index(str(version.train_file), tuple(version.options.get("own_examples", ())))
    except (StudioError, OSError, ValueError):  # the version was deleted or damaged: ask as the book does
        return None

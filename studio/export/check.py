"""Does an exported GGUF still answer as its run does? Read it back, serve it with `transformers serve` (a real
OpenAI-compatible server), evaluate the held-out rows through it, and put its EX next to the run's own.

Both sides decode freely and greedily (a server has no schema grammar), so what differs is the export alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluation.sql import extract_sql
from studio.evaluate import EvalOptions, eval_set_from_version, evaluate, run_candidate, server_candidate
from studio.export import gguf_folder
from studio.export.serve import TransformersServer
from studio.server_engine import ServerConfig
from studio.settings import Settings, load_settings

Progress = Callable[[str, int, int], None]


@dataclass
class ExportCheck:
    run: str
    gguf: str
    eval_set: str
    rows: int
    run_ex: float
    gguf_ex: float
    same_sql: float  # the share of rows where both wrote the same SQL

    def to_dict(self) -> dict:
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in vars(self).items()}


def check_export(run_name: str, gguf: Path, dataset: str, limit: int | None = None, max_new_tokens: int = 128,
                 settings: Settings | None = None, progress: Progress | None = None) -> ExportCheck:
    settings = settings or load_settings()
    eval_set = eval_set_from_version(dataset, settings)
    options = EvalOptions(mode="execution", limit=limit, max_new_tokens=max_new_tokens, constrained=False)
    own = evaluate(run_candidate(run_name, settings), eval_set, options, progress=progress, settings=settings)
    with TransformersServer(gguf_folder(gguf, settings)) as server:
        config = ServerConfig((server.base_url,), server.model, name=gguf.name)
        served = evaluate(server_candidate(config), eval_set, options, progress=progress, settings=settings)
    return ExportCheck(run_name, gguf.name, eval_set.label, own.summary.total, own.summary.ex_score or 0.0,
                       served.summary.ex_score or 0.0, same_sql_share(own.rows, served.rows))


def same_sql_share(rows: list[dict], others: list[dict]) -> float:
    """The share of rows (evaluation rows of the same set, in order) where both answers hold the same SQL."""
    same = sum(_sql(a["completion"]) == _sql(b["completion"]) for a, b in zip(rows, others))
    return same / max(len(rows), 1)


def _sql(completion: str) -> str:
    return " ".join(extract_sql(completion).split())

"""Token statistics with the base model's tokenizer: how long prompts and answers are, what a block cuts.

AutoTrain's `block_size` bounds the whole training text (prompt + SQL + EOS); a longer row is truncated,
and since the SQL comes last, truncation cuts the very part the model should learn. These numbers tell
which block size a data set needs, or which rows to leave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from studio.errors import StudioError
from studio.prompts import BOOK_TEMPLATE, PromptTemplate
from studio.retrieval import prompt_questions

BLOCK_SIZES = (256, 512, 1024, 2048)


def load_tokenizer(path: str | Path):
    """A tokenizer from a local model folder (or a Hub id when the Hub is reachable)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:  # noqa: BLE001 - transformers raises OSError, ValueError, …
        raise StudioError("cannot load a tokenizer from {path}: {error}", key="tokenizer_unloadable",
                          path=path, error=str(exc).splitlines()[0] if str(exc) else exc) from None


@dataclass(frozen=True)
class TokenStats:
    prompt: np.ndarray  # tokens of the inference prompt (template with an empty {query})
    answer: np.ndarray  # tokens of the gold SQL
    total: np.ndarray  # tokens of the training text, plus the EOS that AutoTrain appends
    block_size: int

    @property
    def truncated(self) -> int:
        return self.truncated_at(self.block_size)

    def truncated_at(self, block_size: int) -> int:
        """How many training rows are longer than `block_size` tokens."""
        return int((self.total > block_size).sum())

    def summary(self) -> pd.DataFrame:
        """mean / median / p90 / p99 / max per series: a table for the UI."""
        rows = []
        for name in ("prompt", "answer", "total"):
            values = getattr(self, name)
            rows.append(
                {
                    "series": name,
                    "mean": round(float(values.mean()), 1),
                    "p50": int(np.percentile(values, 50)),
                    "p90": int(np.percentile(values, 90)),
                    "p99": int(np.percentile(values, 99)),
                    "max": int(values.max()),
                }
            )
        return pd.DataFrame(rows)

    def histogram(self, bins: int = 30) -> pd.DataFrame:
        """Counts per length bin for each series (long format: series, start, end, count) for a bar plot."""
        edges = np.histogram_bin_edges(np.concatenate([self.prompt, self.answer, self.total]), bins=bins)
        frames = []
        for name in ("prompt", "answer", "total"):
            counts, _ = np.histogram(getattr(self, name), bins=edges)
            frames.append(
                pd.DataFrame(
                    {
                        "series": name,
                        "start": edges[:-1].astype(int),
                        "end": edges[1:].astype(int),
                        "count": counts,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def to_dict(self) -> dict:
        return {
            "rows": len(self.total),
            "block_size": self.block_size,
            "truncated": self.truncated,
            "truncated_at": {str(b): self.truncated_at(b) for b in sorted({*BLOCK_SIZES, self.block_size})},
            "summary": self.summary().to_dict(orient="records"),
        }


def token_stats(
    frame: pd.DataFrame,
    tokenizer,
    block_size: int = 1024,
    template: str = BOOK_TEMPLATE,
    batch_size: int = 1024,
) -> TokenStats:
    """Count tokens for rows with `context`, `question` and `answer` (batched: fast tokenizers are quick)."""
    if isinstance(tokenizer, (str, Path)):
        tokenizer = load_tokenizer(tokenizer)
    if block_size <= 0:
        raise StudioError("the block size must be positive, not {block}", key="tokens_bad_block_size",
                          block=block_size)
    prompt = PromptTemplate(template)
    prompts = [prompt.render(c, q) for c, q in zip(frame["context"], prompt_questions(frame))]
    answers = list(frame["answer"])
    texts = [p + a for p, a in zip(prompts, answers)]
    eos = 1 if getattr(tokenizer, "eos_token", None) else 0
    return TokenStats(
        prompt=_lengths(tokenizer, prompts, batch_size),
        answer=_lengths(tokenizer, answers, batch_size),
        total=_lengths(tokenizer, texts, batch_size) + eos,
        block_size=block_size,
    )


def _lengths(tokenizer, texts: list[str], batch_size: int) -> np.ndarray:
    lengths: list[int] = []
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(texts[start : start + batch_size], add_special_tokens=False)["input_ids"]
        lengths.extend(len(ids) for ids in encoded)
    return np.asarray(lengths, dtype=np.int64)

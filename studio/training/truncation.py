"""Is the block size long enough for the rows? Checked when jobs are submitted, shown in the Train tab.

AutoTrain cuts the training text at `block_size` tokens (its SFT packs the rows end to end into blocks), so a
row longer than the block is never seen whole: the SQL answer, which comes last in the book's prompt, ends up
apart from its question (the old CPU preset's 256 did that to 92% of the bundled sample's rows). A job whose
block is shorter than more than MAX_CUT_SHARE of its rows is refused, naming the block size that keeps 99%
of them whole; a job with any such row gets a warning.

The rows are the data set's train.csv texts, counted as the Data tab counts them (studio.data.tokens: no
special tokens, plus the EOS AutoTrain appends) with the base model's own tokenizer. Counts stay in memory
per data file and tokenizer, so a sweep, the Train tab's summary and the submit after it count once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from studio.errors import Phrase, StudioError
from studio.training.config import ConfigError, TrainingConfig
from studio.training.data_input import TEXT_COLUMN

log = logging.getLogger(__name__)

MAX_CUT_SHARE = 0.05  # more is refused: those rows would train the model on prompts without their answers
WHOLE_PERCENT = 99  # the block size the messages suggest keeps this share of the rows whole
BATCH_ROWS = 1024


@dataclass(frozen=True)
class TokenLengths:
    """Tokens per training row, sorted."""

    lengths: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.lengths)

    @property
    def longest(self) -> int:
        return int(self.lengths[-1])

    def cut_at(self, block_size: int) -> int:
        """How many rows are longer than `block_size` tokens."""
        return self.rows - int(np.searchsorted(self.lengths, block_size, side="right"))

    def percentile(self, percent: int) -> int:
        """The shortest block that keeps at least `percent`% of the rows whole (a length no interpolation
        invents, so the Train tab's p99 and the refusal's suggestion are the same number)."""
        keep = max(1, -(-percent * self.rows // 100))  # rows kept whole, rounded up in integers (no 99.0001)
        return int(self.lengths[keep - 1])


@dataclass(frozen=True)
class BlockSizeNote:
    """What a block size does to a data set's rows, or why that could not be counted: a warning for people."""

    block_size: int
    model: str  # the base model whose tokenizer counted
    rows: int = 0
    cut: int = 0
    whole: int = 0  # the block size that keeps WHOLE_PERCENT of the rows whole
    longest: int = 0
    unchecked: StudioError | None = None  # why the rows could not be counted

    @property
    def share(self) -> float:
        return self.cut / self.rows if self.rows else 0.0

    @property
    def refused(self) -> bool:
        return self.share > MAX_CUT_SHARE

    def message(self) -> Phrase:
        if self.unchecked:
            return Phrase("could not check whether block_size {block} fits the training rows: {error}",
                          key="block_unchecked", block=self.block_size, error=self.unchecked)
        return Phrase("block_size {block} is shorter than {cut} of {rows} training rows ({share:.1%}, counted "
                      "with {model}'s tokenizer): AutoTrain cuts a longer row at the block size, so the model "
                      "never sees its question together with its SQL answer. block_size {whole} keeps "
                      "{percent}% of the rows whole; {longest} keeps all of them", key="block_cuts",
                      block=self.block_size, cut=self.cut, rows=self.rows, share=self.share, model=self.model,
                      whole=self.whole, percent=WHOLE_PERCENT, longest=self.longest)


def check_block_sizes(jobs: Sequence[tuple[TrainingConfig, Path]], train_csv: Path) -> list[BlockSizeNote]:
    """For each (configuration, its base model's folder): refuse the whole submission (ConfigError) when a
    block size cuts more than MAX_CUT_SHARE of the rows; otherwise the warnings, once each, also logged."""
    notes = {}
    for config, model_dir in jobs:
        note = block_size_note(config.block_size, config.base_model, model_dir, train_csv)
        if note is not None:
            notes.setdefault(note.message(), note)
    refused = [note for note in notes.values() if note.refused]
    if refused:
        raise ConfigError([Phrase("{note} (at most {limit:.0%} of the rows may be cut)", key="block_refused",
                                  note=note.message(), limit=MAX_CUT_SHARE) for note in refused])
    for message in notes:
        log.warning("warning: %s", message)  # the CLI shows it on stderr; the Train tab shows the notes
    return list(notes.values())


def block_size_note(block_size: int, model: str, model_dir: Path, train_csv: Path) -> BlockSizeNote | None:
    """None when every row fits in the block."""
    try:
        lengths = training_lengths(train_csv, model_dir)
    except StudioError as exc:
        return BlockSizeNote(block_size, model, unchecked=exc)
    cut = lengths.cut_at(block_size)
    if not cut:
        return None
    whole = lengths.percentile(WHOLE_PERCENT)
    return BlockSizeNote(block_size, model, lengths.rows, cut, whole, lengths.longest)


def training_lengths(train_csv: Path, model_dir: Path) -> TokenLengths:
    """The token lengths of train.csv's texts with the tokenizer in `model_dir` (a local model folder)."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():  # a Space job's Hub id: the Space downloads the model, this machine does not
        raise StudioError("the base model {model} is not on this machine (a Space downloads it there)",
                          key="tokens_model_remote", model=model_dir)
    stat = train_csv.stat()
    return _counted(str(train_csv.resolve()), stat.st_mtime_ns, stat.st_size, str(model_dir.resolve()))


@lru_cache(maxsize=8)
def _counted(train_csv: str, _mtime_ns: int, _size: int, model_dir: str) -> TokenLengths:
    # The file's time and size are part of the key: a rewritten train.csv is counted again.
    from studio.data.tokens import load_tokenizer  # transformers is heavy: only when counting

    tokenizer = load_tokenizer(model_dir)
    try:
        texts = pd.read_csv(train_csv, usecols=[TEXT_COLUMN], dtype=str, keep_default_na=False)[TEXT_COLUMN]
    except ValueError as exc:  # pandas' parser errors are ValueErrors
        raise StudioError("cannot read {path}: {error}", key="tokens_csv_unreadable", path=train_csv,
                          error=exc) from None
    texts = [text for text in texts if text.strip()]  # the rows a job trains on (data_input.write_job_data)
    if not texts:
        raise StudioError("{path} has no rows with text to train on", key="train_data_empty", path=train_csv)
    eos = 1 if getattr(tokenizer, "eos_token", None) else 0  # AutoTrain appends it to every row
    lengths = [len(ids) for start in range(0, len(texts), BATCH_ROWS)
               for ids in tokenizer(texts[start:start + BATCH_ROWS], add_special_tokens=False)["input_ids"]]
    return TokenLengths(np.sort(np.asarray(lengths, dtype=np.int64) + eos))

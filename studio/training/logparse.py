"""Read an AutoTrain LLM job's log: live progress, the loss curve, and why a job failed.

What the log holds (autotrain-advanced 0.8.36, transformers 4.48):
- tqdm bars, rewritten in place with `\\r`: `  8%|▊  | 1/12 [00:39<07:17, 39.77s/it]`; after "Starting to
  train..." the bar counts optimizer steps (earlier bars count data set rows);
- loguru records of the trainer's logs: `INFO | ... | autotrain.trainers.common:on_log:367 - {'loss': 2.5578,
  'grad_norm': ..., 'learning_rate': 0.0001, 'epoch': 0.08}`, and at the end `{'train_runtime': 161.48,
  'train_samples_per_second': 0.142, ..., 'train_loss': ...}`;
- on failure, `train has failed due to an exception: Traceback ...` (the exit code stays 0).

Gradient accumulation: transformers 4.48.0 sums the micro-batches' mean losses instead of averaging them
when the model takes loss kwargs (Llama, Qwen, Mistral, ...), so it reports loss and grad_norm
`gradient_accumulation` times too high. Measured: the same data at lr 0 gives 2.1816 with batch 4 × GA 1 and
8.7264 = 4 × 2.1816 with batch 1 × GA 4 (tests/training_fixtures/). `loss_scale` says by how much to divide.
"""

from __future__ import annotations

import ast
import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

# transformers versions whose reported loss is multiplied by gradient_accumulation (checked by a run).
GA_SCALED_LOSS_VERSIONS = ("4.48.0",)

TRAIN_START = "Starting to train..."
SAVING = "Finished training, saving model"
FAILED = "has failed due to an exception"
_TQDM = re.compile(r"(\d+)/(\d+) \[(\d+(?::\d+)+)<(\?|\d+(?::\d+)+)")
_RECORD = re.compile(r"\|\s*autotrain\.\S*:on_log:\d+ - (\{.*\})\s*$")
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)):? ?(.*)$")
_MEMORY = re.compile(r"out of memory|OutOfMemoryError|DefaultCPUAllocator: can't allocate|\bMemoryError\b",
                     re.IGNORECASE)


def loss_scale(transformers_version: str | None, gradient_accumulation: int) -> float:
    """The factor the trainer's reported loss is too high by (1.0 where the trainer is right)."""
    return float(gradient_accumulation) if transformers_version in GA_SCALED_LOSS_VERSIONS else 1.0


@dataclass(frozen=True)
class LossPoint:
    step: int
    loss: float  # corrected for gradient accumulation
    learning_rate: float
    epoch: float
    grad_norm: float | None = None


@dataclass
class Progress:
    """What a job's log says so far."""

    phase: str = "starting"  # starting | training | saving | failed
    step: int = 0
    total_steps: int | None = None
    elapsed_s: float | None = None  # training time so far (the trainer's own clock)
    remaining_s: float | None = None  # the trainer's estimate
    points: list[LossPoint] = field(default_factory=list)
    train_loss: float | None = None  # mean loss over the run, corrected
    train_runtime_s: float | None = None
    samples_per_second: float | None = None
    failed: bool = False

    @property
    def fraction(self) -> float:
        if self.total_steps:
            return min(1.0, self.step / self.total_steps)
        return 0.0

    @property
    def last_loss(self) -> float | None:
        return self.points[-1].loss if self.points else None

    @property
    def learning_rate(self) -> float | None:
        return self.points[-1].learning_rate if self.points else None


class LogParser:
    """Incremental: feed it the log as it grows (any chunk boundaries), read `progress`."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self.progress = Progress()
        self._pending = ""
        self._training = False

    def feed(self, text: str) -> Progress:
        segments = re.split(r"[\r\n]", self._pending + text)
        self._pending = segments.pop()  # an unfinished line waits for the rest
        for segment in segments:
            self._segment(segment)
        return self.progress

    def _segment(self, line: str) -> None:
        p = self.progress
        if TRAIN_START in line:
            self._training = True
            p.phase = "training"
        elif SAVING in line:
            p.phase = "saving"
        elif FAILED in line:
            p.phase, p.failed = "failed", True
        # A bar and a record can share a segment: "… 1/12 [00:39<07:17, 39.77s/it]INFO | … on_log …"
        bar = _TQDM.search(line) if self._training else None
        if bar:
            p.step, p.total_steps = int(bar.group(1)), int(bar.group(2))
            p.elapsed_s = _seconds(bar.group(3))
            p.remaining_s = _seconds(bar.group(4))
        record = _RECORD.search(line)
        if record:
            self._record(record.group(1))

    def _record(self, text: str) -> None:
        try:
            values = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return
        if not isinstance(values, dict):
            return
        p = self.progress
        if "loss" in values:
            grad_norm = values.get("grad_norm")
            p.points.append(LossPoint(
                step=p.step or len(p.points) + 1,
                loss=values["loss"] / self.scale,
                learning_rate=values.get("learning_rate", 0.0),
                epoch=values.get("epoch", 0.0),
                grad_norm=None if grad_norm is None else grad_norm / self.scale,
            ))
        if "train_loss" in values:
            p.train_loss = values["train_loss"] / self.scale
            p.train_runtime_s = values.get("train_runtime")
            p.samples_per_second = values.get("train_samples_per_second")
            if p.total_steps:
                p.step, p.remaining_s = p.total_steps, 0.0


def _seconds(clock: str) -> float | None:
    if clock == "?":
        return None
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def parse_log(text: str, scale: float = 1.0) -> Progress:
    parser = LogParser(scale)
    parser.feed(text + "\n")
    return parser.progress


class LogFollower:
    """Follows a growing log file, reading only what was appended since the last call."""

    def __init__(self, path: Path, scale: float = 1.0):
        self.path = path
        self.parser = LogParser(scale)
        self._offset = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def poll(self) -> Progress:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return self.parser.progress
        self._offset += len(chunk)
        return self.parser.feed(self._decoder.decode(chunk))


# -- after the fact: the log tail and the reason for a failure --------------------------------------

def tail(text: str, lines: int = 40) -> str:
    """The last lines as a person would see them in a terminal (a tqdm bar shows its last state)."""
    shown = [line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")]
    shown = [line for line in shown if line.strip()]
    return "\n".join(shown[-lines:])


def read_log(path: Path) -> str:
    """A job's whole log ('' before it has one)."""
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def read_tail(path: Path, lines: int = 40, max_bytes: int = 64_000) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - max_bytes))
            return tail(handle.read().decode("utf-8", errors="replace"), lines)
    except FileNotFoundError:
        return ""


def failure_reason(text: str, returncode: int | None) -> str | None:
    """Why a finished trainer failed, in one line; None if the log shows no failure."""
    lines = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
    exceptions = _exceptions(lines)
    memory = next((line.strip() for line in lines if _MEMORY.search(line)), None)
    if memory:
        return f"out of memory: {_short(memory)}"
    if returncode is not None and returncode < 0:
        if returncode == -9:
            return "the trainer was killed (SIGKILL), most likely by the out-of-memory killer"
        return f"the trainer was stopped by signal {-returncode}"
    if FAILED in text:
        return "training failed: " + _exception_summary(exceptions)
    if returncode:
        if any("ValidationError" in e for e in exceptions):
            details = _validation_details(lines)
            return "bad configuration (AutoTrain rejected its parameters): " + details
        return f"the trainer exited with code {returncode}: " + _exception_summary(exceptions)
    return None


def failure_in_log(text: str) -> str | None:
    """Why training failed, by its log alone (a trainer on a Space has no exit code here); None if the log
    shows no failure."""
    exceptions = _exceptions([line.rsplit("\r", 1)[-1] for line in text.splitlines()])
    return failure_reason(text, None) or (_exception_summary(exceptions) if exceptions else None)


def _exceptions(lines: list[str]) -> list[str]:
    return [f"{m.group(1)}: {m.group(2)}".rstrip(": ") for m in map(_EXCEPTION.match, lines) if m]


def _exception_summary(exceptions: list[str]) -> str:
    if not exceptions:
        return "no exception in the log; see the log tail"
    last = _short(exceptions[-1])
    return last if len(exceptions) == 1 else f"{last} (caused by {_short(exceptions[0])})"


def _validation_details(lines: list[str]) -> str:
    """Pydantic's 'field / message' pairs after 'N validation error(s) for LLMTrainingParams'."""
    for index, line in enumerate(lines):
        if "validation error" in line:
            body = [entry.strip() for entry in lines[index + 1: index + 7] if entry.strip()]
            body = [entry for entry in body if not entry.startswith("For further information")]
            return _short(" ".join(body[:4])) or _short(line)
    return "see the log tail"


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""Reading AutoTrain logs recorded on this machine (tests/training_fixtures/*.log).

The two `lr0-*` logs trained SmolLM2-135M on the same 16 rows with learning rate 0, so the model never
changed and every step's true loss is the base model's loss on the same packed blocks: batch 4 × gradient
accumulation 1, and batch 1 × gradient accumulation 4, see the same blocks in the same order per step.
A right reading of the second must therefore give the first's numbers.
"""

import random

import pytest

from studio.training.logparse import LogFollower, LogParser, failure_reason, loss_scale, parse_log, tail
from tests.training_fixtures.support import FIXTURES

GA1 = (FIXTURES / "lr0-batch4-ga1.log").read_text()
GA4 = (FIXTURES / "lr0-batch1-ga4.log").read_text()


def test_transformers_4_48_reports_loss_times_gradient_accumulation():
    raw = parse_log(GA4, scale=1.0)
    truth = parse_log(GA1, scale=1.0)
    ratios = [r.loss / t.loss for r, t in zip(raw.points, truth.points)]
    assert ratios == pytest.approx([4.0] * 5, abs=1e-3)


def test_the_corrected_loss_curve_matches_a_run_whose_loss_is_known():
    corrected = parse_log(GA4, scale=loss_scale("4.48.0", 4))
    truth = parse_log(GA1, scale=loss_scale("4.48.0", 1))
    assert [p.step for p in corrected.points] == [1, 2, 3, 4, 5]
    assert [p.loss for p in corrected.points] == pytest.approx([p.loss for p in truth.points[:5]], abs=1e-4)
    assert corrected.points[0].loss == pytest.approx(2.1816, abs=1e-4)
    # GA 4 drops the last, incomplete accumulation window: its mean covers the first five blocks of four.
    assert corrected.train_loss == pytest.approx(sum(p.loss for p in truth.points[:5]) / 5, abs=1e-4)


def test_loss_scale_applies_only_where_the_bug_is():
    assert loss_scale("4.48.0", 8) == 8.0
    assert loss_scale("4.48.0", 1) == 1.0
    assert loss_scale("4.57.1", 8) == 1.0
    assert loss_scale(None, 8) == 1.0


def test_progress_steps_time_and_learning_rate():
    progress = parse_log(GA1)
    assert (progress.step, progress.total_steps, progress.fraction) == (6, 6, 1.0)
    assert progress.phase == "saving" and not progress.failed
    assert progress.elapsed_s == 18.0 and progress.remaining_s == 0.0
    assert progress.train_runtime_s == pytest.approx(18.8239)
    assert progress.samples_per_second == pytest.approx(1.222)
    assert [p.learning_rate for p in progress.points] == [0.0] * 6
    assert progress.points[-1].epoch == 1.0


def test_feeding_in_any_chunks_gives_the_same_result():
    whole = parse_log(GA4, scale=4)
    parser = LogParser(scale=4)
    rng = random.Random(7)
    position = 0
    while position < len(GA4):
        size = rng.randint(1, 200)
        parser.feed(GA4[position: position + size])
        position += size
    parser.feed("\n")
    assert parser.progress == whole


def test_a_follower_reads_only_what_was_appended(tmp_path):
    log = tmp_path / "train.log"
    lines = GA1.encode().splitlines(keepends=True)
    follower = LogFollower(log, scale=1.0)
    assert follower.poll().points == []  # no file yet
    half = len(lines) // 2
    log.write_bytes(b"".join(lines[:half]))
    early = len(follower.poll().points)
    with open(log, "ab") as handle:
        handle.write(b"".join(lines[half:]))
    assert early < len(follower.poll().points) == 6


def test_mid_training_progress_before_the_end():
    cut = GA1.index("'loss': 2.2511")  # stop in the middle of step 4's record
    progress = parse_log(GA1[:cut])
    assert progress.phase == "training"
    assert progress.step == 4 and progress.total_steps == 6
    assert len(progress.points) == 3 and progress.train_loss is None


@pytest.mark.parametrize("fixture, returncode, reason", [
    ("fail-badmod.log", 0,
     "training failed: ValueError: Target modules {'no_such_proj'} not found in the base model"),
    ("fail-badcol.log", 0, "(caused by KeyError: 'sql')"),
    ("fail-badtype.log", 1,
     "bad configuration (AutoTrain rejected its parameters): lora_r Input should be a valid integer"),
])
def test_failure_reasons(fixture, returncode, reason):
    found = failure_reason((FIXTURES / fixture).read_text(), returncode)
    assert reason in found
    assert parse_log((FIXTURES / fixture).read_text()).failed == (returncode == 0)


def test_no_failure_in_a_good_log_and_memory_and_signals():
    assert failure_reason(GA1, 0) is None
    assert failure_reason("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", 0) \
        .startswith("out of memory: torch.OutOfMemoryError")
    assert "out-of-memory killer" in failure_reason("", -9)
    assert failure_reason("", -15) == "the trainer was stopped by signal 15"


def test_tail_shows_the_last_state_of_progress_bars():
    log = "start\n  0%| | 0/6 [00:00<?]\r 50%| | 3/6 [00:05<00:05]\r100%| | 6/6 [00:10<00:00]\nend\n"
    shown = tail(log, 2)
    assert shown == "100%| | 6/6 [00:10<00:00]\nend"

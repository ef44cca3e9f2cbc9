"""A block size that cuts off the answers is refused before anything is queued, a few cut rows get a warning
(CLI, Train tab), and the Train tab shows the training rows' token lengths next to block_size.

The base model is the stand-in model folder with a word-level tokenizer: a row of n words is n + 1 tokens
(the EOS AutoTrain appends), so every expected number below is exact."""

import csv
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from studio import registry
from studio.settings import REPO_ROOT, load_settings
from studio.training.config import ConfigError, TrainingConfig
from studio.training.jobs import list_jobs
from studio.training.submit import submit
from studio.training.truncation import training_lengths
from tests.data_fixtures import tiny_tokenizer
from tests.test_training_ui import client, form  # noqa: F401 - the launched app fixture and its form
from tests.training_fixtures.support import fake_autotrain, fake_python  # noqa: F401

# 94 rows of 10 tokens, 5 of 20, 1 of 30: block 30 fits all, 25 cuts 1%, 15 cuts 6% (refused); 20 keeps 99%
LENGTHS = [10] * 94 + [20] * 5 + [30]


def write_rows(folder: Path, lengths: list[int]) -> Path:
    """train.csv with one row of `n - 1` words per length n."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "train.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text"])
        writer.writerows([" ".join(["SELECT"] * (n - 1))] for n in lengths)
    return folder


@pytest.fixture
def counted(fake_autotrain, tmp_path):
    """The stand-in model with a tokenizer, and data whose token lengths are LENGTHS."""
    tiny_tokenizer(fake_autotrain["model"])
    return SimpleNamespace(model=fake_autotrain["model"], data=write_rows(tmp_path / "counted", LENGTHS))


def config(counted, block_size: int, **values) -> TrainingConfig:
    return TrainingConfig(base_model=str(counted.model), block_size=block_size, project_name="fit", **values)


def cut_message(counted, block_size: int, cut: int) -> str:
    return (f"block_size {block_size} is shorter than {cut} of 100 training rows ({cut / 100:.1%}, counted "
            f"with {counted.model}'s tokenizer): AutoTrain cuts a longer row at the block size, so the model "
            "never sees its question together with its SQL answer. block_size 20 keeps 99% of the rows "
            "whole; 30 keeps all of them")


def test_rows_are_counted_as_autotrain_sees_them_and_counted_again_when_the_file_changes(counted):
    lengths = training_lengths(counted.data / "train.csv", counted.model)
    assert (lengths.rows, lengths.longest) == (100, 30)
    assert (lengths.percentile(50), lengths.percentile(99), lengths.percentile(100)) == (10, 20, 30)
    assert [lengths.cut_at(block) for block in (9, 10, 19, 20, 29, 30)] == [100, 6, 6, 1, 1, 0]
    write_rows(counted.data, [40, 12])
    assert training_lengths(counted.data / "train.csv", counted.model).longest == 40


def test_a_block_that_cuts_many_rows_is_refused_naming_the_size_that_fits_and_nothing_is_queued(counted):
    with pytest.raises(ConfigError) as raised:
        submit([config(counted, 25), config(counted, 15)], str(counted.data))
    assert raised.value.problems == [f"{cut_message(counted, 15, 6)} (at most 5% of the rows may be cut)"]
    settings = load_settings()
    with registry.session(settings.registry_path) as db:
        assert list_jobs(db, settings) == []


def test_a_block_that_cuts_a_few_rows_is_queued_with_one_warning_per_block_size(counted, caplog):
    with caplog.at_level(logging.WARNING, logger="studio.training.truncation"):
        jobs = submit([config(counted, 25, lora_r=8), config(counted, 25, lora_r=16), config(counted, 30)],
                      str(counted.data))
    assert len(jobs) == 3
    assert [(n.block_size, n.cut, n.rows, n.whole, n.longest) for n in jobs.notes] == [(25, 1, 100, 20, 30)]
    assert caplog.messages == [f"warning: {cut_message(counted, 25, 1)}"]
    assert submit([config(counted, 30)], str(counted.data)).notes == []


def test_without_a_tokenizer_the_job_is_queued_with_a_warning_that_says_why(fake_autotrain):
    no_tokenizer = TrainingConfig(base_model=str(fake_autotrain["model"]), block_size=8)
    jobs = submit([no_tokenizer], str(fake_autotrain["data"]))
    assert len(jobs) == 1 and "cannot load a tokenizer from" in str(jobs.notes[0].unchecked)
    assert jobs.notes[0].message().startswith("could not check whether block_size 8 fits the training rows: ")


def test_the_cli_shows_the_warning_on_stderr(counted):
    # A refusal is a ConfigError: the CLI prints its one `error:` line, as for every invalid configuration.
    command = [sys.executable, "-m", "studio", "train", "--config", "cpu-lora", "--dataset",
               str(counted.data), "--set", f"base_model={counted.model}", "--set", "block_size=25"]
    done = subprocess.run(command, cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("queued job 1: ")
    assert f"warning: {cut_message(counted, 25, 1)}\n" in done.stderr and "Traceback" not in done.stderr


def test_the_train_tab_shows_token_lengths_by_block_size_and_warns_on_start(client, counted):  # noqa: F811
    def lengths(block_size, data=str(counted.data)):
        return client.predict(data, str(counted.model), block_size, api_name="/train_token_lengths")

    summary = "Token lengths of the 100 training rows: p50 **10** · p99 **20** · max **30**  \n"
    assert lengths(30) == summary + "✅ block_size 30: every row fits whole."
    assert lengths(25) == summary + ("⚠️ block_size 25: **1 of 100 rows** (1.0%) are cut. 20 or more keeps "
                                     "99% whole.")
    assert lengths(15) == summary + ("❌ block_size 15: **6 of 100 rows** (6.0%) are cut, so training will "
                                     "not start (at most 5%). 20 or more keeps 99% whole.")
    assert lengths(25, data="") == "Choose the training data to see its rows' token lengths."

    fake = {"model": counted.model}
    with pytest.raises(Exception, match="block_size 15 is shorter than 6 of 100 training rows"):
        client.predict(str(counted.data), "", *form(client, fake, block_size=15), api_name="/train_start")
    status = client.predict(str(counted.data), "", *form(client, fake, block_size=25),
                            api_name="/train_start")
    assert status.startswith("Queued 1 job(s): ")
    assert status.endswith("\n⚠️ block_size 25 is shorter than 1 of 100 training rows (1.0%): they are cut, "
                           "so their question and SQL answer are not learned together. 20 keeps 99% of the "
                           "rows whole, 30 keeps all.")

"""Helpers shared by the data tests: the sample built once per test process, a local stand-in for the
Hub data set, and a tiny tokenizer trained on the spot (no network anywhere)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pandas as pd

from studio.data.sample import SampleInfo, ensure_sample

BOOK_DDL = """CREATE TABLE players (
  player_id INT PRIMARY KEY AUTO_INCREMENT,
  username VARCHAR(255) UNIQUE NOT NULL,
  email VARCHAR(255) UNIQUE NOT NULL,
  date_joined DATETIME NOT NULL,
  last_login DATETIME
);"""


@lru_cache(maxsize=1)
def built_sample() -> Path:
    """The sample, generated once for the whole test run (a few seconds)."""
    home = Path(tempfile.mkdtemp(prefix="studio-test-sample-"))
    atexit.register(shutil.rmtree, home, True)
    return ensure_sample(home).path


def install_sample(home: Path) -> SampleInfo:
    """Put the already built sample into a fresh STUDIO_HOME, as a first run would have."""
    source = built_sample()
    target = home / "sample" / source.name
    if not target.exists():
        shutil.copytree(source, target)
    return ensure_sample(home)


def write_hub_standin(folder: Path) -> Path:
    """A local folder laid out like the `shangrilar/ko_text2sql` repository: configs origin and clean
    (train splits) sharing a test split of the game domain, declared in the README as on the Hub."""
    rows = [
        (
            "1",
            BOOK_DDL,
            "사용자 이름에 'admin'이 포함되어 있는 계정의 수를 알려주세요.",
            "SELECT COUNT(*) FROM players WHERE username LIKE '%admin%';",
        ),
        (
            "2",
            BOOK_DDL,
            "가장 최근에 가입한 플레이어의 이메일은?",
            "SELECT email FROM players ORDER BY date_joined DESC LIMIT 1;",
        ),
        (
            "3",
            BOOK_DDL,
            "2023년에 가입한 플레이어 수는?",
            "SELECT COUNT(*) FROM players WHERE YEAR(date_joined) = 2023;",
        ),
        (
            "3",
            BOOK_DDL,
            "접속 기록이 없는 플레이어 목록",
            "SELECT username FROM player WHERE last_login IS NULL;",
        ),
        ("4", BOOK_DDL, None, "SELECT 1;"),
    ]
    columns = ["db_id", "context", "question", "answer"]
    (folder / "origin").mkdir(parents=True)
    (folder / "clean").mkdir()
    pd.DataFrame(rows[1:], columns=columns).to_csv(folder / "origin" / "origin.csv", index=False)
    pd.DataFrame(rows[1:3], columns=columns).to_csv(folder / "clean" / "clean.csv", index=False)
    pd.DataFrame(rows[:1], columns=columns).to_csv(folder / "test.csv", index=False)
    (folder / "README.md").write_text(
        "---\nconfigs:\n"
        "- config_name: origin\n  data_files:\n  - split: train\n    path: origin/origin.csv\n"
        "  - split: test\n    path: test.csv\n"
        "- config_name: clean\n  data_files:\n  - split: train\n    path: clean/clean.csv\n"
        "  - split: test\n    path: test.csv\n---\n",
        encoding="utf-8",
    )
    return folder


def tiny_tokenizer(folder: Path) -> Path:
    """A whitespace word-level tokenizer saved as a transformers tokenizer folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.train_from_iterator(
        ["SELECT name FROM players WHERE level > 10", "플레이어 레벨"],
        trainers.WordLevelTrainer(special_tokens=["[UNK]", "</s>"]),
    )
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", eos_token="</s>").save_pretrained(
        folder
    )
    return folder

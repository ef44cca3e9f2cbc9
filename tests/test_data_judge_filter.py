"""The book's GPT data filter as an action on a prepared version, against a local OpenAI-compatible server."""

import json
import os
import subprocess
import sys
from pathlib import Path

from evaluation.testing.openai_standin import OpenAIStandin
from studio.data import PrepareOptions, get_version, prepare_dataset

ROOT = Path(__file__).resolve().parent.parent
DDL = "CREATE TABLE players (player_id INT PRIMARY KEY, username VARCHAR(50), level INT);"
QUESTIONS = ["플레이어 수는?", "가장 높은 레벨은?", "이름 목록은? (틀린 SQL)", "레벨 합계는?", "레벨 평균은? (틀린 SQL)"]
ANSWERS = ["SELECT COUNT(*) FROM players", "SELECT MAX(level) FROM players", "SELECT level FROM players",
           "SELECT SUM(level) FROM players", "SELECT MIN(level) FROM players"]


def _source(tmp_path: Path) -> Path:
    rows = [{"db_id": "2", "context": DDL, "question": q, "answer": a} for q, a in zip(QUESTIONS, ANSWERS)]
    rows.append({"db_id": "1", "context": DDL, "question": "held out", "answer": "SELECT 1"})
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_filter_drops_the_rows_the_judge_rejects_into_a_new_version(studio_home, tmp_path):
    version = prepare_dataset(str(_source(tmp_path)), PrepareOptions(name="tiny"))
    assert version.train_rows == 5
    with OpenAIStandin(decide=lambda prompt: "틀린" not in prompt) as standin:
        env = {**os.environ, "OPENAI_API_KEY": "sk-test", "STUDIO_HOME": str(studio_home)}
        done = subprocess.run([sys.executable, "-m", "studio", "data", "filter", version.id,
                               "--judge-model", "gpt-4o-mini", "--judge-base-url", standin.base_url],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert standin.count() == 5
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["asked"] == 5 and report["dropped"] == 2 and report["errors_kept"] == 0
    filtered = get_version(report["version"])
    assert filtered.id != version.id and filtered.train_rows == 3 and filtered.eval_rows == 1
    assert "틀린" not in filtered.train_frame()["question"].str.cat()
    assert get_version(version.id).train_rows == 5  # the original version is untouched
    assert "sk-test" not in "".join(p.read_text(errors="ignore") for p in studio_home.rglob("*") if p.is_file())

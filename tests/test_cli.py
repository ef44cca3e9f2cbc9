"""`python -m studio` as a user runs it: a real subprocess, output on stdout, one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.ui.examples import GAME_DDL, QUESTIONS

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, home: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if home is not None:
        env["STUDIO_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "studio", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_infer_prints_the_sql(offline_model, tmp_path):
    ddl = tmp_path / "game.sql"
    ddl.write_text(GAME_DDL, encoding="utf-8")
    done = run_cli("infer", "--ddl", str(ddl), "--question", QUESTIONS[0], "--max-new-tokens", "32", "--json",
                   home=offline_model.parent.parent)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["sql"] and result["completion"].startswith(result["sql"])
    assert 0 < result["new_tokens"] <= 32
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["infer", "--ddl", "/no/such/file.sql", "--question", "q"], "error: DDL file not found: /no/such/file.sql"),
        (["infer", "--model", "nope", "--ddl", __file__, "--question", "q"], "error: unknown model 'nope'"),
    ],
)
def test_bad_input_gives_one_error_line_and_exit_2(args, message, studio_home):
    done = run_cli(*args, home=studio_home)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(message)


def test_serve_help_lists_host_port_and_share():
    done = run_cli("serve", "--help")
    assert done.returncode == 0
    for option in ("--host", "--port", "--share"):
        assert option in done.stdout


def test_models_list_names_the_offline_default(studio_home):
    done = run_cli("models", "list", home=studio_home)
    assert done.returncode == 0
    assert done.stdout.startswith("smollm2-135m-instruct\tnot prepared yet")

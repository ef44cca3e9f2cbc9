"""The whole workflow in a real browser: Playwright drives Debian's Chromium (headless) against the real app
(`python -m studio serve` with a fresh STUDIO_HOME), through the UI only.

Data: load the bundled sample and save a 20 % version → Train: a short real LoRA job (8 rows, 768-token
blocks) → wait until it succeeds with a loss → Playground: a Korean question with the new adapter gives SQL →
Evaluate: the base model and the run on 3 rows → Leaderboard: both rows with their EX. On each tab a failing
action (a file without answers, an invalid project name, an empty question, no evaluation set, no run picked)
must read in Korean, with no English sentence in it. A screenshot of each
tab goes to tests/e2e/screenshots/ (or $STUDIO_E2E_SCREENSHOTS), with the last page's HTML and app log for
reading a failure. The page may reach nothing but the app (127.0.0.1).

Chromium: $STUDIO_CHROMIUM, `chromium` on PATH, or /usr/bin/chromium (`make test` installs it through apt with
scripts/ensure_chromium.sh). Without it the test fails under `make test` or CI, and is skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from studio.settings import DEFAULT_MODEL, REPO_ROOT
from studio.ui.examples import QUESTIONS
from studio.ui.i18n import ERRORS_KO, MESSAGES
from studio.ui.i18n import KO as LABELS

KO = MESSAGES["ko"]  # the browser asks for Korean: the UI's run-time messages come from this table
SCREENSHOTS = Path(os.environ.get("STUDIO_E2E_SCREENSHOTS") or Path(__file__).parent / "screenshots")
PROJECT = "browser-e2e"
BASE_ROW = f"base:{DEFAULT_MODEL}"
# A short LoRA job (the cpu-lora preset: the default, full fine-tuning, would diverge at this learning rate),
# long enough to teach the untrained model to answer with a SELECT (it repeats the DDL before): a block longer
# than every row of the sample (with its example: up to 1,136 tokens), a high learning rate, few steps.
LORA_PRESET = "cpu-lora.yml"
TRAIN = {"data-fraction": "0.006", "block-size": "1280", "lr": "0.003", "epochs": "2", "batch-size": "1"}
EVAL_ROWS, EVAL_TOKENS = 3, 64
TRAIN_TIMEOUT_S = 900  # about a minute on an idle 2-core machine; generous for a loaded one
STEP_TIMEOUT_MS = 120_000


def _chromium() -> str | None:
    candidates = (os.environ.get("STUDIO_CHROMIUM"), shutil.which("chromium"),
                  shutil.which("chromium-browser"), "/usr/bin/chromium")
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _require_chromium() -> str:
    path = _chromium()
    if path:
        return path
    message = ("no Chromium for the browser test: install Debian's `chromium` (scripts/ensure_chromium.sh "
               "does, as root or with sudo) or point STUDIO_CHROMIUM at a Chromium binary")
    if os.environ.get("CI") or os.environ.get("STUDIO_BROWSER_TESTS") == "required":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class App:
    """The app as a user starts it, in its own process, on a free loopback port."""

    def __init__(self, home: Path, log: Path):
        self.home, self.log = home, log
        self.url = f"http://127.0.0.1:{_free_port()}/"
        port = self.url.rsplit(":", 1)[1].strip("/")
        # One torch thread for the app and the trainer it starts: on 2 cores beside a browser, two threads
        # spin-wait on each other (see test_training_e2e).
        env = {**os.environ, "STUDIO_HOME": str(home), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
               "HF_DATASETS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
        self._log_handle = open(log, "w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "studio", "serve", "--host", "127.0.0.1", "--port", port],
            cwd=REPO_ROOT, env=env, stdout=self._log_handle, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_up(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the app exited with {self.process.returncode}:\n{self.log_tail()}",
                            pytrace=False)
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"the app did not answer on {self.url} within {timeout_s:.0f} s:\n{self.log_tail()}",
                    pytrace=False)

    def log_tail(self, chars: int = 4000) -> str:
        self._log_handle.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)  # the app and the trainer it may have started: its own session
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log_handle.close()


@pytest.fixture
def app(model_home, tmp_path):
    """The real app on a fresh STUDIO_HOME that shares only the session's converted model (models/)."""
    home = tmp_path / "studio-home"
    home.mkdir()
    (home / "models").symlink_to(model_home / "models", target_is_directory=True)
    running = App(home, tmp_path / "app.log")
    try:
        running.wait_until_up()
        yield running
    finally:
        running.stop()


@pytest.fixture
def chromium() -> str:
    return _require_chromium()


@pytest.fixture
def page(chromium, app):
    """A Korean-speaking headless Chromium on the app, allowed to reach nothing but 127.0.0.1."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        context = browser.new_context(locale="ko-KR", viewport={"width": 1440, "height": 1000})

        def local_only(route):  # nothing beyond 127.0.0.1, as offline as the app must work
            if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", local_only)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        try:
            yield tab
        finally:
            _save_evidence(tab, app)
            context.close()
            browser.close()
    # The page must work offline: no fonts, scripts or calls from anywhere but the app itself.
    assert not blocked, f"the page asked for more than 127.0.0.1: {sorted(set(blocked))}"


def _save_evidence(tab, app: App) -> None:
    """The last page's HTML and the app's log beside the screenshots, for reading a failure."""
    try:
        (SCREENSHOTS / "last-page.html").write_text(tab.content(), encoding="utf-8")
        tab.screenshot(path=str(SCREENSHOTS / "last-page.png"), full_page=True)
    except Exception:  # noqa: BLE001 - best effort; the test's own failure is what matters
        pass
    (SCREENSHOTS / "app.log").write_text(app.log_tail(200_000), encoding="utf-8")


# --- small helpers over Gradio's DOM, by elem_id ----------------------------------------------------------

def open_tab(page, name: str) -> None:
    page.click(f"#tab-{name}-button")
    page.wait_for_selector(f"#tab-{name}", state="visible")


def shoot(page, name: str) -> None:
    page.wait_for_timeout(800)  # let plots and tables finish drawing
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def set_number(page, elem_id: str, value: str) -> None:
    """A gr.Number or a gr.Slider's number box: type the value and leave the field."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(value)
    box.press("Tab")


def set_text(page, elem_id: str, value: str) -> None:
    """A gr.Textbox: typed key by key (Gradio 6 fires the textbox's input event on typing, not on fill)."""
    box = page.locator(f"#{elem_id} textarea").first
    box.fill("")
    box.press_sequentially(value)
    box.press("Tab")


def pick(page, elem_id: str, value: str) -> None:
    """Open a dropdown (its choices refresh on focus) and click the option named `value`."""
    page.locator(f"#{elem_id} input[role=combobox]").click()
    page.locator(f'#{elem_id} [role=option][aria-label="{value}"]').click(timeout=STEP_TIMEOUT_MS)
    page.keyboard.press("Escape")


def choose(page, elem_id: str, label: str) -> None:
    """A gr.Radio's choice, by its label as the Korean page shows it."""
    page.click(f'#{elem_id} [data-testid="{label}-radio-label"]')


def text_of(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id}").inner_text()


def wait_for_text(page, elem_id: str, pattern: str, timeout_ms: int = STEP_TIMEOUT_MS) -> str:
    """Wait until the component's text matches `pattern` (a regex); return the text."""
    from playwright.sync_api import expect

    expect(page.locator(f"#{elem_id}")).to_contain_text(re.compile(pattern), timeout=timeout_ms)
    return text_of(page, elem_id)


def table(page, elem_id: str) -> list[dict[str, str]]:
    """A gr.Dataframe's rows (those drawn: it draws what is in view) as dicts keyed by its header."""
    frame = page.locator(f"#{elem_id}")
    header = [h.get_attribute("title") for h in frame.locator("th[role=columnheader]").all()]
    rows = []
    for row in frame.locator("[role=row]:has([role=gridcell])").all():
        cells = [c.strip() for c in row.locator("[role=gridcell]").all_inner_texts()]
        rows.append(dict(zip(header, cells)))
    return rows


# Four English words in a row: a sentence a Korean reader was not meant to see (identifiers such as
# block_size, HF_TOKEN or owner/name are not words here).
ENGLISH_SENTENCE = re.compile(r"\b[a-z]{2,}(?:[ ,]+[a-z]{2,}){3}\b")


def toast(page) -> str:
    """The error a failing action shows (waited for), closed once read."""
    text = page.locator("[data-testid=toast-text]").first.inner_text(timeout=STEP_TIMEOUT_MS)
    page.locator("[data-testid=toast-close]").first.click()
    return text


def assert_korean(text: str) -> None:
    assert re.search("[가-힣]", text) and not ENGLISH_SENTENCE.search(text), text


def pattern_of(key: str, texts: dict[str, str] = KO, **groups: str) -> str:
    """A regex for a Korean message (of `texts`) with its {fields} as the given groups (or anything)."""
    parts = re.split(r"\{(\w+)[^}]*\}", texts[key])  # literal text and field names, alternating
    return "".join(groups.get(part, ".*?") if i % 2 else re.escape(part) for i, part in enumerate(parts))


# --- the workflow -------------------------------------------------------------------------------------------

@pytest.mark.slow
def _sample_domains(home: Path) -> list[dict]:
    """The bundled sample's domains, as its manifest (written when the page loaded the sample) counts them."""
    manifest = json.loads(next((home / "sample").glob("*/manifest.json")).read_text(encoding="utf-8"))
    return manifest["domains"]


def _sample_rows(home: Path) -> int:
    return sum(d["questions"] for d in _sample_domains(home))


def _training_share(home: Path, fraction: float) -> int:
    """How many training rows a version of the sample keeps at `fraction`: its share of every domain but the
    held-out game."""
    rows = sum(d["questions"] for d in _sample_domains(home) if d["db_id"] != "1")
    return max(1, round(rows * fraction))  # as studio.data.prepare.take_fraction


def test_the_whole_workflow_through_the_browser(page, app):  # page first: no Chromium, no app started
    started = time.monotonic()
    page.goto(app.url)
    page.wait_for_selector("#data-load")

    # Every tab's failing action reads in Korean (here: a file whose every row lacks its SQL answer).
    choose(page, "data-source", LABELS["data.source_file"])
    page.locator("#data-file input[type=file]").set_input_files(_answerless_csv(app.home))
    page.click("#data-load")
    dropped = toast(page)
    assert_korean(dropped)
    reasons = re.escape(ERRORS_KO["data_drop_missing"].format(count=1))  # the reason, translated too
    assert re.search(pattern_of("data_all_dropped", ERRORS_KO, reasons=reasons), dropped), dropped
    choose(page, "data-source", LABELS["data.source_sample"])

    # Data: the bundled sample, validated, then a 20 % version saved (held-out game domain for evaluation).
    page.click("#data-load")
    report = wait_for_text(page, "data-report", r"\d,?\d{3}")
    assert str(_sample_rows(app.home)) in report.replace(",", ""), report  # every row of the sample kept
    assert "**" not in report  # rendered Markdown, not its source
    set_number(page, "data-fraction", "0.2")
    page.click("#data-save")
    saved = wait_for_text(page, "data-saved", r"ds-[0-9a-f]{12}")
    version = re.search(r"ds-[0-9a-f]{12}", saved).group(0)
    assert str(_training_share(app.home, 0.2)) in saved.replace(",", ""), saved  # the fraction was applied
    wait_for_text(page, "data-versions", version)
    shoot(page, "1-data")

    # Train: the version picked from the refreshed choices, a short real LoRA job, followed to its end.
    open_tab(page, "train")
    pick(page, "train-preset", LORA_PRESET)
    wait_for_text(page, "train-yaml", r"peft: true")  # the LoRA preset filled the form (the default: false)
    pick(page, "train-dataset", version)
    for field, value in TRAIN.items():
        set_number(page, f"train-{field}", value)
    set_text(page, "train-project-name", "두 단어")  # the form's problems, in place of the YAML
    assert_korean(wait_for_text(page, "train-yaml", pattern_of("config_invalid", ERRORS_KO)))
    set_text(page, "train-project-name", PROJECT)
    yaml = wait_for_text(page, "train-yaml", rf"project_name: {PROJECT}")
    assert "block_size: 1280" in yaml and "lr: 0.003" in yaml and "peft: true" in yaml, yaml
    page.click("#train-start")
    queued = wait_for_text(page, "train-status", pattern_of("train_queued", count="1"))
    job = queued.splitlines()[0].rsplit(":", 1)[1].strip()  # the first line names the jobs queued
    assert job.startswith(PROJECT), queued
    progress = _wait_for_job(page, job)
    loss = re.search(pattern_of("train_loss", loss=r"(\d+\.\d+)"), progress)
    assert loss and 0 < float(loss.group(1)) < 10, progress
    step = re.search(pattern_of("train_step", step=r"(\d+)", total=r"(\d+)"), progress)
    assert step and step.group(1) == step.group(2) and int(step.group(2)) > 0, progress
    queue = table(page, "train-queue")
    assert any(r.get("name") == job and r.get("run") == job for r in queue), queue
    shoot(page, "2-train")
    trained_at = time.monotonic()

    # Playground: a Korean question to the base model with the new adapter (asked nothing first).
    open_tab(page, "playground")
    set_text(page, "playground-question", " ")
    page.click("#playground-generate")
    assert_korean(toast(page))
    pick(page, "playground-adapter", job)
    set_number(page, "playground-max-new-tokens", "64")
    set_text(page, "playground-question", QUESTIONS[0])
    page.click("#playground-generate")
    status = wait_for_text(page, "playground-status", f"{pattern_of('generated')}|{pattern_of('no_sql')}")
    sql = page.locator("#playground-sql .cm-content").inner_text()
    assert re.search(r"\bSELECT\b", sql, re.IGNORECASE), f"{status}\n{sql}"
    assert "players" in sql.lower(), sql  # about the game schema in the DDL box
    shoot(page, "5-playground")

    # Evaluate: the run and the base model on the first rows of the version's evaluation set, by execution.
    open_tab(page, "evaluate")
    page.click("#evaluate-start")  # no evaluation set chosen yet
    assert_korean(toast(page))
    pick(page, "evaluate-runs", job)
    assert DEFAULT_MODEL in text_of(page, "evaluate-bases")  # the base model is chosen by default
    pick(page, "evaluate-dataset", version)
    page.click("#evaluate-mode [data-testid=execution-radio-label]")
    set_number(page, "evaluate-max-new-tokens", str(EVAL_TOKENS))
    set_number(page, "evaluate-limit", str(EVAL_ROWS))
    page.click("#evaluate-start")
    wait_for_text(page, "evaluate-notice", pattern_of("evaluated", count="2"), timeout_ms=600_000)
    summary = {r["candidate"]: r for r in table(page, "evaluate-summary")}
    assert set(summary) == {job, BASE_ROW}, summary
    for row in summary.values():
        assert row["rows"] == str(EVAL_ROWS) and row["mode"] == "execution", row
        assert re.fullmatch(r"\d+(\.\d)?%", row["EX"]), row
    wait_for_text(page, "evaluate-rows", "SELECT")  # the rows of the evaluations just made
    shoot(page, "3-evaluate")

    # Leaderboard: refreshed, it holds the run and the base model, each with its EX.
    open_tab(page, "leaderboard")
    page.click("#leaderboard-refresh")
    wait_for_text(page, "leaderboard-table", re.escape(job))
    wait_for_text(page, "leaderboard-table", re.escape(BASE_ROW))
    board = {r["run"]: r for r in table(page, "leaderboard-table")}
    assert {job, BASE_ROW} <= set(board), board
    for name in (job, BASE_ROW):
        assert 0 <= float(board[name]["EX"]) <= 1 and board[name]["rows"] == str(EVAL_ROWS), board[name]
    assert float(board[job]["final_loss"]) == pytest.approx(float(loss.group(1)), abs=1e-3), board[job]
    assert re.search(pattern_of("lb_count", shown=r"\d+", total=r"\d+"), text_of(page, "leaderboard-count"))
    page.click("#leaderboard-reproduce")  # no run picked
    assert_korean(toast(page))
    shoot(page, "4-leaderboard")
    print(f"browser workflow: {time.monotonic() - started:.0f} s (training done at "
          f"{trained_at - started:.0f} s); screenshots in {SCREENSHOTS}")


def _answerless_csv(home: Path) -> Path:
    path = home / "answerless.csv"
    path.write_text("db_id,context,question,answer\n1,CREATE TABLE t (a INT);,질문,\n", encoding="utf-8")
    return path


def _wait_for_job(page, job: str) -> str:
    """Follow the Train tab's live progress (its timer refreshes it) until the job ends; its text."""
    finished = {KO[f"train_status_{s}"] for s in ("failed", "cancelled", "interrupted")}
    deadline = time.monotonic() + TRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        progress = text_of(page, "train-progress")
        if job in progress and KO["train_status_succeeded"] in progress.split("·")[0]:
            return progress
        if job in progress and any(status in progress.split("·")[0] for status in finished):
            log = page.locator("#train-log textarea").input_value()
            pytest.fail(f"the job ended without success: {progress}\n{log[-3000:]}", pytrace=False)
        page.wait_for_timeout(2000)
    pytest.fail(f"the job did not finish within {TRAIN_TIMEOUT_S} s: {text_of(page, 'train-progress')}",
                pytrace=False)

"""`python -m evaluation score --input PAIRS.jsonl --db-dir DIR --output OUT.jsonl [options]`.

Writes each input row back with `match` and `reason` (and details), prints a short summary whose last line
is a JSON object, and exits 0. Bad input (a missing file, broken JSONL line N, missing fields, an option
that cannot work) gives one line `error: <reason>` on stderr and exit code 2, never a traceback.
The judge's API key comes from OPENAI_API_KEY only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from evaluation.execution import ExecutionConfig
from evaluation.judge import (
    BOOK_ANSWER_KEY,
    BOOK_MODEL,
    RESPONSE_FORMATS,
    Judge,
    JudgeConfig,
    JudgeConfigError,
    validate_template,
)
from evaluation.pairs import PairsError, read_pairs, write_rows
from evaluation.sandbox import MAX_TIMEOUT_S, LimitsError, check_number
from evaluation.scoring import MODES, ScoringConfig, Summary, finish_scoring, plan_scoring


class CliError(Exception):
    """A problem with the command line or its files, reported as one `error:` line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit code 2 instead of argparse's usage block
        raise CliError(message)


def _number(kind, low, high, *, low_open: bool = False):
    """An argparse type: a finite `kind` in [low, high] ((low, high] with `low_open`)."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        try:
            return check_number("", value, low, high, integer=kind is int, low_open=low_open)
        except LimitsError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = kind.__name__
    return convert


def default_cache_path() -> Path:
    return Path(os.environ.get("STUDIO_HOME") or "workspace") / "cache" / "judge.sqlite"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m evaluation", description="Score Text2SQL predictions.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    score = commands.add_parser("score", help="score a JSONL of prediction pairs")
    score.add_argument(
        "--input", required=True, type=Path, help="JSONL rows: id, db_id, question, gold_sql, pred_sql"
    )
    score.add_argument("--output", required=True, type=Path, help="JSONL rows with match and reason added")
    score.add_argument("--db-dir", type=Path, help="databases as DIR/<db_id>.sqlite or DIR/<db_id>/*.sqlite")
    score.add_argument("--mode", choices=MODES, default="hybrid")
    score.add_argument(
        "--timeout",
        type=_number(float, 0, MAX_TIMEOUT_S, low_open=True),
        default=3.0,
        help=f"seconds per query, at most {MAX_TIMEOUT_S:g} (default 3)",
    )
    score.add_argument(
        "--max-rows", type=_number(int, 1, 10_000_000), default=100_000, help="rows per result before giving up"
    )
    score.add_argument("--dialect", default="sqlite", help="dialect of SQL run on databases (default sqlite)")
    score.add_argument("--ddl-dialect", default="mysql", help="dialect of DDL-only rows (default mysql)")
    judge = score.add_argument_group("judge (key from OPENAI_API_KEY)")
    judge.add_argument("--judge-model", default=BOOK_MODEL)
    judge.add_argument(
        "--judge-base-url", help="OpenAI-compatible endpoint (default: OPENAI_BASE_URL or OpenAI)"
    )
    judge.add_argument(
        "--judge-template", type=Path, help="prompt template file ({context} {question} {answer} {gen_sql})"
    )
    judge.add_argument("--judge-answer-key", default=BOOK_ANSWER_KEY)
    judge.add_argument("--judge-response-format", choices=RESPONSE_FORMATS, default="auto")
    judge.add_argument(
        "--judge-cache", type=Path, help="verdict cache (default $STUDIO_HOME/cache/judge.sqlite)"
    )
    judge.add_argument("--no-judge-cache", action="store_true", help="keep verdicts in memory only")
    judge.add_argument("--judge-concurrency", type=_number(int, 1, 256), default=8)
    judge.add_argument("--judge-rpm", type=_number(int, 1, 1_000_000), default=2500, help="requests per minute")
    judge.add_argument("--judge-tpm", type=_number(int, 1, 1_000_000_000), default=100_000, help="tokens per minute")
    judge.add_argument("--judge-timeout", type=_number(float, 0, 3600, low_open=True), default=60.0, help="seconds per request")
    judge.add_argument("--judge-attempts", type=_number(int, 1, 100), default=5)
    judge.add_argument("--judge-batch", action="store_true", help="use the Batch API (half price, slow)")
    judge.add_argument("--estimate-only", action="store_true", help="print the judge cost estimate and stop")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return score(args)
    except (CliError, PairsError, JudgeConfigError, LimitsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def score(args: argparse.Namespace) -> int:
    started = time.monotonic()
    pairs = read_pairs(args.input)
    if args.db_dir is not None and not args.db_dir.is_dir():
        raise CliError(f"database folder not found: {args.db_dir}")
    config = ScoringConfig(
        mode=args.mode,
        execution=ExecutionConfig(
            timeout_s=args.timeout, max_rows=args.max_rows, dialect=args.dialect, ddl_dialect=args.ddl_dialect
        ),
    )
    judge_config = _judge_config(args)  # checked before scoring starts
    plan = plan_scoring(pairs, db_dir=args.db_dir, config=config)
    judge = _make_judge(args, judge_config) if plan.judge_items else None  # no cache file when not needed
    try:
        if args.estimate_only:
            estimate = (
                judge.estimate(plan.judge_items).to_dict() if judge else {"requests": len(plan.judge_items)}
            )
            print(json.dumps(estimate))
            return 0
        if plan.judge_items and judge is None:
            undecided = len(plan.judge_items)
            hint = "set OPENAI_API_KEY or --judge-base-url"
            print(f"warning: no judge ({hint}): {undecided} rows left undecided", file=sys.stderr)
        elif plan.judge_items:
            _print_estimate(judge, plan.judge_items)
        report = finish_scoring(plan, judge)
    finally:
        if judge:
            judge.close()
    write_rows(args.output, (row.to_row() for row in report.rows))
    _print_summary(report.summary, time.monotonic() - started)
    return 0


def _judge_config(args: argparse.Namespace) -> JudgeConfig:
    config = JudgeConfig(
        model=args.judge_model,
        base_url=args.judge_base_url,
        template=_read_template(args.judge_template),
        answer_key=args.judge_answer_key,
        response_format=args.judge_response_format,
        timeout_s=args.judge_timeout,
        max_attempts=args.judge_attempts,
        concurrency=args.judge_concurrency,
        requests_per_minute=args.judge_rpm,
        tokens_per_minute=args.judge_tpm,
        cache_path=None if args.no_judge_cache else (args.judge_cache or default_cache_path()),
        batch=args.judge_batch,
    )
    validate_template(config.template)
    return config


def _make_judge(args: argparse.Namespace, config: JudgeConfig) -> Judge | None:
    """The judge the mode needs; in hybrid mode a missing API key means no judge rather than an error."""
    reachable = os.environ.get("OPENAI_API_KEY") or args.judge_base_url or os.environ.get("OPENAI_BASE_URL")
    if args.mode == "execution" or (args.mode == "hybrid" and not reachable):
        return None
    return Judge(config)


def _read_template(path: Path | None) -> str:
    if path is None:
        return JudgeConfig.template
    if not path.is_file():
        raise CliError(f"judge template not found: {path}")
    return path.read_text(encoding="utf-8")


def _print_estimate(judge: Judge, items) -> None:
    estimate = judge.estimate(items)
    cost = "unknown cost" if estimate.cost_usd is None else f"~${estimate.cost_usd:.4f}"
    tokens = estimate.prompt_tokens + estimate.completion_tokens
    print(f"judge: {estimate.requests} requests ({estimate.cached} cached), ~{tokens} tokens, {cost}")


def _print_summary(summary: Summary, seconds: float) -> None:
    print(f"scored {summary.total} pairs ({summary.mode}) in {seconds:.1f} s")
    print(f"final: {summary.matches}/{summary.total} match ({_percent(summary.accuracy)})")
    if summary.ex_evaluated:
        print(f"EX: {summary.ex_matches}/{summary.ex_evaluated} ({_percent(summary.ex_score)})")
    if summary.judge_yes + summary.judge_no + summary.judge_errors:
        cost = "unknown cost" if summary.cost_usd is None else f"${summary.cost_usd:.4f}"
        print(
            f"judge: {summary.judge_yes} yes, {summary.judge_no} no, {summary.judge_errors} errors "
            f"({_percent(summary.judge_score)}); "
            f"{summary.judge_calls} calls, {summary.judge_cached} cached, {cost}"
        )
    if summary.agreement:
        a = summary.agreement
        print(
            f"agreement: {_percent(a.rate)} of {a.total} (EX yes/judge yes {a.both_yes}, EX yes/judge no "
            f"{a.ex_yes_judge_no}, EX no/judge yes {a.ex_no_judge_yes}, EX no/judge no {a.both_no})"
        )
    print(json.dumps(summary.to_dict(), ensure_ascii=False))


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"

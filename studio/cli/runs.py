"""`python -m studio runs list|show|export|delete`: the runs training jobs became, and the leaderboard.

    python -m studio runs list [--json]
    python -m studio runs show RUN                     # the run and its latest scores, as JSON
    python -m studio runs export [-o FILE] [--eval-set SET] [--best-per base_model] ...  # leaderboard CSV
    python -m studio runs delete RUN --yes             # its folders, registry rows and evaluations
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from studio import leaderboard as lb
from studio.errors import StudioError
from studio.training.runs import get_run, list_runs

SCORE_FIELDS = ["eval_set", "mode", "accuracy", "EX", "judge", "agreement", "rows", "cost_usd", "date",
                "evaluation_id"]


def register(subparsers) -> None:
    parser = subparsers.add_parser("runs", help="list, show, export (the leaderboard as CSV) and delete runs")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every run, newest first")
    listing.add_argument("--json", action="store_true", help="one JSON object per run")
    listing.set_defaults(func=list_command)
    show = actions.add_parser("show", help="everything recorded about one run and its latest scores, as JSON")
    show.add_argument("run", help="a run name or id")
    show.set_defaults(func=show_command)
    export = actions.add_parser("export", help="the leaderboard as CSV: a row per run, evaluation set, mode")
    _add_filters(export)
    export.set_defaults(func=export_command)
    delete = actions.add_parser("delete", help="delete a run: its folders, registry rows and evaluations")
    delete.add_argument("run", help="a run name or id")
    delete.add_argument("--yes", action="store_true", help="really delete (without it: say what would go)")
    delete.set_defaults(func=delete_command)


def _add_filters(parser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="write this file (default: standard output)")
    parser.add_argument("--search", default="", help="words that must all appear (run, model, data set, …)")
    for option, meaning in (("base-model", "base model"), ("dataset", "training data set"),
                            ("eval-set", "evaluation set"), ("mode", "scoring mode")):
        parser.add_argument(f"--{option}", action="append", default=[],
                            help=f"keep this {meaning} (repeatable)")
    parser.add_argument("--range", action="append", default=[], metavar="PARAM=LOW-HIGH",
                        help=f"keep runs with PARAM in a range, e.g. lora_r=8-32, fraction=-0.6 "
                             f"({', '.join(lb.RANGE_COLUMNS)}; repeatable)")
    parser.add_argument("--no-base", action="store_true", help="leave out base models evaluated alone")
    parser.add_argument("--best-per", choices=lb.GROUP_COLUMNS,
                        help="only the best row per group (within each evaluation set and mode)")
    parser.add_argument("--metric", choices=lb.METRICS, default="accuracy",
                        help="ranks rows and picks the best (default: accuracy)")
    parser.add_argument("--columns", default="all",
                        help="comma-separated columns, 'default' (the book's) or 'all' (default)")


def list_command(args) -> int:
    runs = list_runs()
    if not runs:
        print("no runs yet: python -m studio train --config cpu-full --dataset DATASET --wait")
    for run in runs:
        if args.json:
            print(json.dumps(run.summary(), ensure_ascii=False))
            continue
        loss = "n/a" if run.final_loss is None else f"{run.final_loss:.4f}"
        print("\t".join([run.name, run.base_model, run.dataset_version or run.dataset_ref, f"loss {loss}",
                         f"{run.duration_s:.0f} s", str(run.adapter_path)]))
    return 0


def show_command(args) -> int:
    run = get_run(args.run)
    board = lb.load_board()
    scores = board[(board["run"] == run.name) & board["evaluation_id"].notna()][SCORE_FIELDS]
    evaluations = scores.astype(object).where(scores.notna(), None).to_dict("records")
    print(json.dumps({**run.summary(), "evaluations": evaluations}, indent=2, ensure_ascii=False))
    return 0


def export_command(args) -> int:
    rows = lb.leaderboard(_query(args))
    rows = rows[_columns(args.columns)]
    if args.output:
        lb.export_csv(rows, args.output)
        print(f"wrote {len(rows)} rows to {args.output}", file=sys.stderr)
    else:
        rows.to_csv(sys.stdout, index=False)
    return 0


def _query(args) -> lb.BoardQuery:
    ranges = {}
    for item in args.range:
        column, sep, text = item.partition("=")
        if not sep:
            raise StudioError(f"--range needs PARAM=LOW-HIGH, got {item!r}")
        ranges[column.strip()] = lb.parse_range(text)
    return lb.BoardQuery(search=args.search, base_models=args.base_model, datasets=args.dataset,
                         eval_sets=args.eval_set, modes=args.mode, ranges=ranges,
                         include_base=not args.no_base, best_per=args.best_per, metric=args.metric)


def _columns(text: str) -> list[str]:
    if text in ("all", "default"):
        return list(lb.COLUMNS if text == "all" else lb.DEFAULT_COLUMNS)
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    unknown = ", ".join(c for c in chosen if c not in lb.COLUMNS)
    if unknown or not chosen:
        raise StudioError(f"unknown column(s) {unknown or '(none given)'}: "
                          f"choose from {', '.join(lb.COLUMNS)}")
    return chosen


def delete_command(args) -> int:
    name = get_run(args.run).name
    if not args.yes:
        print(f"would delete:\n{lb.plan_deletion(name).describe()}\nadd --yes to delete it", file=sys.stderr)
        return 1
    done = lb.delete_run(name)
    print(f"deleted:\n{done.describe()}")
    return 0

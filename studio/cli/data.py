"""`python -m studio data check|prepare|sample|list|synthesize|glossary|filter`: the data layer from the command
line.

`check` keeps the contract other programs rely on (ARCHITECTURE.md): exit 0 with a JSON object holding
`rows` and `dropped` as the last stdout line, or exit 2 with one line `error: <reason>` on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from studio.errors import StudioError

TEMPLATE_MAX_BYTES = 64 * 1024


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="check, prepare and export Text2SQL data sets")
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    check = actions.add_parser("check", help="validate a CSV/TSV/JSON/JSONL/Parquet file")
    check.add_argument("file", type=Path)
    _mapping_argument(check)
    check.add_argument("--max-field-chars", type=int, default=None, help="drop rows with a longer field")
    check.set_defaults(func=_check)

    prepare = actions.add_parser("prepare", help="split, filter and save a data set version for training")
    prepare.add_argument("--source", default="sample", help="sample | FILE | hub:ID[:config[:split]]")
    _mapping_argument(prepare)
    prepare.add_argument("--db-dir", type=Path, help="folder of <db_id>.sqlite databases for the exec filter")
    split = prepare.add_mutually_exclusive_group()
    split.add_argument(
        "--holdout-db",
        action="append",
        metavar="DB_ID",
        help="evaluation database (repeatable; default: 1, the game domain)",
    )
    split.add_argument(
        "--random-split", type=float, metavar="SHARE", help="evaluate on a random share instead"
    )
    prepare.add_argument(
        "--fraction", type=float, default=1.0, help="share of training rows to keep (0.2 … 1)"
    )
    prepare.add_argument("--seed", type=int, default=42)
    prepare.add_argument(
        "--no-exec-filter", action="store_true", help="keep rows whose gold SQL does not run"
    )
    prepare.add_argument("--exec-timeout", type=float, default=2.0, help="seconds per gold SQL")
    prepare.add_argument("--template", type=Path, help="prompt template file with {ddl}, {question}, {query}")
    prepare.add_argument("--name", default="", help="a label for the version")
    prepare.add_argument(
        "--schemas",
        default="all",
        metavar="all|hand|synthesized",
        help="the sample's schemas to train on: all (default), the 8 hand-written or the 120 synthesized",
    )
    prepare.add_argument(
        "--no-examples",
        action="store_true",
        help="the book's prompt exactly: no nearest training example after each question",
    )
    prepare.add_argument("--tokenizer", help="tokenizer folder: add token statistics")
    prepare.add_argument("--block-size", type=int, default=1024)
    prepare.set_defaults(func=_prepare)

    sample = actions.add_parser("sample", help="build the bundled Korean sample (and copy it out)")
    sample.add_argument(
        "--out", type=Path, help="write sample.csv, databases/, schema/ and manifest.json here"
    )
    sample.set_defaults(func=_sample)

    listing = actions.add_parser("list", help="list prepared data set versions")
    listing.set_defaults(func=_list)

    synth = actions.add_parser("synthesize", help="checked question/SQL pairs for your own SQLite database")
    synth.add_argument("--db", type=Path, required=True, help="a SQLite database file")
    synth.add_argument("--glossary", type=Path,
                       help="table,column,korean[,role,unit] CSV, or DDL with Korean comments (.sql)")
    synth.add_argument("--rows", type=int, default=1000, help="pairs wanted (default 1000)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--name", default="", help="the database's name (its db_id) and the version's label")
    synth.add_argument("--sample-share", type=float, default=0.0,
                       help="share of training rows drawn from the bundled sample, 0 to 0.9 (default 0)")
    synth.add_argument("--exec-timeout", type=float, default=2.0, help="seconds per gold SQL")
    synth.set_defaults(func=_synthesize)

    words = actions.add_parser("glossary", help="print a database's glossary as CSV, to edit for synthesize")
    words.add_argument("--db", type=Path, required=True, help="a SQLite database file")
    words.add_argument("--glossary", type=Path, help="words to start from (CSV or commented DDL)")
    words.add_argument("--propose-model", help="an LLM proposes the missing words (OPENAI_API_KEY), e.g. gpt-4o-mini")
    words.add_argument("--base-url", help="its OpenAI-compatible endpoint (default: OPENAI_BASE_URL or OpenAI)")
    words.add_argument("--estimate-only", action="store_true", help="print what the proposal costs; send nothing")
    words.set_defaults(func=_glossary)

    judged = actions.add_parser("filter", help="the book's GPT filter: drop training rows a judge says are wrong")
    judged.add_argument("version", help="a prepared data set version (ds-...)")
    judged.add_argument("--judge-model", required=True, help="e.g. gpt-4-turbo-preview; key from OPENAI_API_KEY")
    judged.add_argument("--judge-base-url", help="an OpenAI-compatible endpoint (default: OPENAI_BASE_URL or OpenAI)")
    judged.set_defaults(func=_filter)


def _mapping_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="use the input's column THEIRS as OURS (db_id, context, question, answer)",
    )


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise StudioError(f"--map takes OURS=THEIRS (e.g. question=q), not '{pair}'")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def _check(args) -> int:
    from studio.data.files import ReadLimits
    from studio.data.validation import check_file

    try:
        limits = ReadLimits(max_field_chars=args.max_field_chars) if args.max_field_chars else ReadLimits()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = check_file(args.file, _parse_mapping(args.map), limits)
    except StudioError as exc:
        raise StudioError(_one_line(str(exc))) from None
    except Exception as exc:  # noqa: BLE001 - the contract: a rejected file is exit 2, never a traceback
        raise StudioError(_one_line(f"cannot read the file ({type(exc).__name__}: {exc})")) from None
    print(
        f"{args.file}: {report.rows} usable rows, {report.dropped} dropped "
        f"({', '.join(f'{k}: {v}' for k, v in report.dropped_by_reason.items())}); "
        f"format {report.format}, encoding {report.encoding}"
    )
    for note in report.notes:
        print(f"note: {note}")
    print(json.dumps(report.to_dict(), ensure_ascii=False))
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _prepare(args) -> int:
    from studio.data.prepare import PrepareOptions, prepare_dataset
    from studio.prompts import BOOK_TEMPLATE

    template = _read_template(args.template) if args.template else BOOK_TEMPLATE
    options = PrepareOptions(
        holdout_db_ids=tuple(args.holdout_db or PrepareOptions().holdout_db_ids),
        eval_fraction=args.random_split,
        fraction=args.fraction,
        seed=args.seed,
        exec_filter=not args.no_exec_filter,
        exec_timeout_s=args.exec_timeout,
        prompt_template=template,
        name=args.name,
        schemas=args.schemas,
        examples=not args.no_examples,
    )
    version = prepare_dataset(
        args.source,
        options,
        mapping=_parse_mapping(args.map),
        db_dir=args.db_dir,
        tokenizer=args.tokenizer,
        block_size=args.block_size,
        progress=_progress(),
    )
    counts = version.counts
    print(f"version {version.id}: {counts['train']} training rows, {counts['eval']} evaluation rows")
    print(f"files: {version.path}")
    if "tokens" in counts:
        print(f"rows longer than {args.block_size} tokens: {counts['tokens']['truncated']}")
    print(
        json.dumps(
            {
                "version": version.id,
                "path": str(version.path),
                "train": counts["train"],
                "eval": counts["eval"],
                "counts": counts,
            },
            ensure_ascii=False,
        )
    )
    return 0


def _read_template(path: Path) -> str:
    """A prompt template file's text (UTF-8), or one clear line on why it cannot be one."""
    if not path.is_file():
        raise StudioError(f"template file not found: {path}")
    if path.stat().st_size > TEMPLATE_MAX_BYTES:
        raise StudioError(f"the template file {path} is over {TEMPLATE_MAX_BYTES // 1024} KiB: a prompt template "
                          "is a few lines with {ddl}, {question} and {query}")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StudioError(f"the template file {path} is not UTF-8 text (undecodable byte at offset {exc.start}); "
                          "save it as UTF-8") from None


def _progress():
    if not sys.stderr.isatty():
        return None
    return lambda fraction, message: print(
        f"\r[{fraction:4.0%}] {message:<60}", end="", file=sys.stderr, flush=True
    )


def _sample(args) -> int:
    from studio.data.sample import ensure_sample, export_sample

    info = export_sample(args.out) if args.out else ensure_sample()
    manifest = info.manifest
    for domain in manifest["domains"]:
        print(
            f"db {domain['db_id']:<4} {domain['name']:<16} {domain['questions']:>5} questions  "
            f"{domain['difficulty']}"
        )
    print(f"sample: {manifest['rows']} questions from {manifest['templates']} templates in {info.path}")
    print(f"sample: {info.summary()}")
    print(
        json.dumps(
            {
                "path": str(info.path),
                "content_hash": info.content_hash,
                "rows": manifest["rows"],
                "templates": manifest["templates"],
                "domains": len(manifest["domains"]),
                "synthesized": manifest["synthesized"],
            },
            ensure_ascii=False,
        )
    )
    return 0


def _list(args) -> int:
    from studio.data.versions import versions_table

    table = versions_table()
    print(table.to_string(index=False) if len(table) else "no prepared data sets yet")
    print(json.dumps(table.to_dict(orient="records"), ensure_ascii=False))
    return 0


def _synthesize(args) -> int:
    from studio.data.adapt.synthesize import SynthesisOptions, save_synthesis, synthesize

    options = SynthesisOptions(pairs=args.rows, seed=args.seed, name=args.name, sample_share=args.sample_share,
                               exec_timeout_s=args.exec_timeout)
    synthesis = synthesize(args.db, _glossary_file(args.glossary), options, progress=_progress())
    version = save_synthesis(synthesis, options, progress=_progress())
    counts = version.counts
    print(version.id)
    print(synthesis.summary())
    for line in synthesis.schema.left_out:
        print(f"left out: {line}")
    print(json.dumps({"version": version.id, "db_id": synthesis.db_id, "pairs": len(synthesis.frame),
                      "dropped": dict(synthesis.dropped), "left_out": list(synthesis.schema.left_out),
                      "glossary": synthesis.schema.glossary.digest, "train": counts["train"],
                      "eval": counts["eval"], "path": str(version.path)}, ensure_ascii=False))
    return 0


def _glossary(args) -> int:
    from studio.data.adapt.glossary import Glossary
    from studio.data.adapt.propose import estimate_proposal, proposal_prompt, propose_glossary
    from studio.data.adapt.schema import read_database
    from studio.data.adapt.synthesize import draft_glossary

    proposed = Glossary()
    if args.propose_model:
        info = read_database(args.db)
        prompt = proposal_prompt(info)  # reads rows of every table: made once, for the estimate and the request
        estimate = estimate_proposal(info, args.propose_model, prompt)
        print(json.dumps({"estimate": {"prompt_tokens": estimate.prompt_tokens,
                                       "completion_tokens": estimate.completion_tokens,
                                       "cost_usd": estimate.cost_usd}}), file=sys.stderr if not args.estimate_only
              else sys.stdout)
        if args.estimate_only:
            return 0
        proposal = propose_glossary(info, args.propose_model, base_url=args.base_url, prompt=prompt)
        proposed = proposal.glossary
        print(json.dumps({"proposed": len(proposed.terms), "dropped": proposal.dropped,
                          "cost_usd": proposal.cost_usd}), file=sys.stderr)
    print(draft_glossary(args.db, _glossary_file(args.glossary), proposed).to_csv(), end="")
    return 0


def _glossary_file(path: Path | None):
    from studio.data.adapt.glossary import Glossary, read_glossary

    return read_glossary(path) if path else Glossary()


def _filter(args) -> int:
    from studio.data.judge_filter import FILTER_TEMPLATE, filter_version
    from studio.settings import load_settings
    from studio.evaluate import EvalOptions, open_judge

    settings = load_settings()
    options = EvalOptions(judge_model=args.judge_model, judge_base_url=args.judge_base_url)
    with open_judge(options, settings, template=FILTER_TEMPLATE) as judge:
        version, row_filter = filter_version(args.version, judge, settings)
    print(json.dumps({"version": version.id, "from": args.version, "train_rows": version.train_rows,
                      "asked": row_filter.asked, "dropped": row_filter.dropped, "errors_kept": row_filter.errors,
                      "cost_usd": row_filter.cost_usd}))
    return 0

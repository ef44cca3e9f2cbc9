"""Adapting to one database (issue #19): execution match on questions people wrote, before and after.

Two databases, each with Korean questions written by hand (varied wording, not the templates) and gold SQL:

  bank      the bundled sample's bank (db 8); `benchmarks/data/bank-human.jsonl`, 45 questions
  evcharge  an EV-charging network the studio's sample and templates have never seen
            (`benchmarks/data/evcharge.sql`, built into a SQLite file here); `evcharge-human.jsonl`, 47
            questions, and its glossary, written together by someone who did not read the templates

For each, through the studio's own CLI in a scratch STUDIO_HOME (benchmarks/results/tmp/adaptation/,
gitignored), two runs are scored on the human questions:

  before   the default recipe (autotrain_configs/cpu-full.yml) on the whole bundled sample, the
           cross-schema model of bench_quality.py (it saw a few of the bank's template questions)
  adapted  the same recipe on pairs synthesized for that database (`data synthesize` with its glossary)
           mixed with 30 % of the bundled sample (without that database and the held-out game); the
           database's own rows are shown the most alike of its own pairs as their example

The adapted bank run is also scored on the held-out game rows, to show what adapting costs across schemas,
and synthesis itself is timed: 2,000 checked pairs for the bank, in this process (target < 60 s).
Nothing is tuned on the human questions: the glossaries and the synthesis settings were fixed before they
were scored.

    python benchmarks/bench_adaptation.py [--seed 42] [--targets bank,evcharge] [--before-run RUN]
                                          [--adapted-run NAME=RUN] [--also NAME=RUN ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_experiments import existing_runs, prepare_home, studio  # noqa: E402
from benchmarks.bench_quality import ARMS, Plan, eval_sample, evaluate, prepare, run_facts, train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = RESULTS / "tmp" / "adaptation"
DATA = ROOT / "benchmarks" / "data"
BANK = "8"
SYNTHESIS = ("--rows", "1200", "--sample-share", "0.3", "--seed", "0")  # fixed before any human question was scored
DEFAULT_ARM = next(arm for arm in ARMS if arm.name == "default + schema")


@dataclass(frozen=True)
class Target:
    """A database to adapt to: where its SQLite file comes from, its glossary and its human questions."""

    name: str  # also its db_id in the questions and the synthesized version
    glossary: Path
    human: Path
    script: Path | None = None  # a SQL script that builds the database; None: the bundled sample's database

    def database(self, pool: dict, scratch: Path) -> Path:
        if self.script is None:
            return Path(pool["path"], "databases", f"{self.name}.sqlite")
        built = scratch / f"{self.name}.sqlite"
        if not built.exists():
            db = sqlite3.connect(scratch / f"{self.name}.partial.sqlite")
            db.executescript(self.script.read_text(encoding="utf-8"))
            db.close()
            (scratch / f"{self.name}.partial.sqlite").replace(built)
        return built


TARGETS = {
    "bank": Target(BANK, DATA / "bank-glossary.csv", DATA / "bank-human.jsonl"),
    "evcharge": Target("evcharge", DATA / "evcharge-glossary.csv", DATA / "evcharge-human.jsonl",
                       DATA / "evcharge.sql"),
}


def synthesize(target: Target, pool: dict, scratch: Path) -> dict:
    out = studio("data", "synthesize", "--db", str(target.database(pool, scratch)), "--glossary",
                 str(target.glossary), "--name", target.name, *SYNTHESIS)
    return json.loads(out.strip().splitlines()[-1])


def adapted_run(target: str, version: dict, seed: int) -> str:
    slug = f"adapt-{target}-s{seed}"
    found = [name for name in existing_runs() if name.startswith(slug + "-")]
    if not found:
        studio("train", "--config", DEFAULT_ARM.preset, "--dataset", version["version"], "--set", f"seed={seed}",
               "--set", f"project_name={slug}", "--wait", capture=False)
        found = [name for name in existing_runs() if name.startswith(slug + "-")]
    return found[0]


def measure(seed: int, targets: list[str], before: str | None, adapted: dict[str, str], also: dict[str, str],
            scratch: Path) -> list[dict]:
    """Score before/adapted on each target's human questions (and the adapted bank run on the game rows);
    `also`: more runs (label=run) scored on the bank's questions, e.g. an earlier adapted recipe."""
    plan = Plan(seeds=(seed,))
    pool = prepare("all", True)  # its databases folder holds the bank's and the game's
    before = before or train(plan, DEFAULT_ARM, seed, pool)
    lines = []

    def score(label: str, run: str, eval_file: Path, databases: dict, extra: dict) -> None:
        scored = evaluate(plan, ["--run", run], "schema", eval_file, databases)
        lines.append({"model": label, "eval_set": eval_file.name, **run_facts(run), **scored, **extra})
        print(json.dumps(lines[-1], ensure_ascii=False), flush=True)

    for name in targets:
        target = TARGETS[name]
        version = synthesize(target, pool, scratch)
        run = adapted.get(name) or adapted_run(name, version, seed)
        facts = {"version": version["version"], "pairs": version["pairs"]}
        score("before", before, target.human, version, {})
        score("adapted", run, target.human, version, facts)
        if name == "bank":
            for label, other in also.items():
                score(label, other, target.human, version, {})
            score("before", before, eval_sample(plan, pool, scratch, True), pool, {})
            score("adapted", run, eval_sample(plan, pool, scratch, True), pool, facts)
    return lines


def synthesis_speed(pool: dict, pairs: int = 2000) -> dict:
    """Seconds to synthesize (and check by execution) `pairs` pairs for the bank, without saving them."""
    from studio.data.adapt.glossary import read_glossary
    from studio.data.adapt.synthesize import SynthesisOptions, synthesize as make_pairs

    started = time.perf_counter()
    bank = TARGETS["bank"]
    made = make_pairs(Path(pool["path"], "databases", f"{BANK}.sqlite"), read_glossary(bank.glossary),
                      SynthesisOptions(pairs=pairs, name=BANK))
    seconds = time.perf_counter() - started
    return {"pairs": len(made.frame), "seconds": round(seconds, 2), "dropped": dict(made.dropped)}


def _pairs(values: list[str]) -> dict[str, str]:
    return dict(value.split("=", 1) for value in values)


def markdown(lines: list[dict]) -> str:
    out = ["| model | questions | run | training time | runnable SQL | EX |", "|---|---|---|---|---|---|"]
    for line in lines:
        minutes = line.get("train_time_s")
        out.append(f"| {line['model']} | {line['eval_set']} | {line['run']} | "
                   f"{'' if minutes is None else f'{minutes / 60:.1f} min'} | {100 * line['runs']:.0f} % | "
                   f"{100 * line['EX']:.1f} % ({round(line['EX'] * line['rows'])}/{line['rows']}) |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scratch", type=Path, default=SCRATCH, help="the scratch folder (its home/ is used)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="databases to adapt to: " + ", ".join(TARGETS))
    parser.add_argument("--before-run", help="an existing default-recipe run to score instead of training one")
    parser.add_argument("--adapted-run", action="append", default=[], metavar="TARGET=RUN",
                        help="an existing adapted run to score instead of training one")
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=RUN",
                        help="another run to score on the bank's human questions")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    if unknown := set(targets) - set(TARGETS):
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    prepare_home(args.scratch)
    args.scratch.mkdir(parents=True, exist_ok=True)
    lines = measure(args.seed, targets, args.before_run, _pairs(args.adapted_run), _pairs(args.also), args.scratch)
    speed = synthesis_speed(prepare("all", True))
    table = [{"benchmark": "adaptation", "measure": f"EX {line['model']} ({line['eval_set']})",
              "value": round(100 * line["EX"], 1), "unit": "%",
              "note": f"runnable SQL {100 * line['runs']:.0f} %; run {line['run']}"} for line in lines]
    table.append({"benchmark": "adaptation", "measure": f"synthesis of {speed['pairs']:,} checked pairs",
                  "value": speed["seconds"], "unit": "s", "note": "the bank, every gold run in the sandbox; target < 60 s"})
    result = {"lines": lines, "synthesis": speed, "table": table, "seconds": round(time.monotonic() - started),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_at_end": os.getloadavg()}}
    (RESULTS / "adaptation.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS / "adaptation.md").write_text(markdown(lines), encoding="utf-8")
    print(markdown(lines))


if __name__ == "__main__":
    main()

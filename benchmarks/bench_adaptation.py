"""Adapting to one database (issue #19): execution match on questions people wrote, before and after.

The database is the bundled sample's bank (db 8). `benchmarks/data/bank-human.jsonl` holds 45 Korean
questions written by hand for it, with gold SQL: varied wording, not the templates. Two runs are scored on
them, through the studio's own CLI in a scratch STUDIO_HOME (benchmarks/results/tmp/adaptation/, gitignored):

  before   the default recipe (autotrain_configs/cpu-full.yml) on the whole bundled sample, the
           cross-schema model of bench_quality.py (it saw a few of the bank's template questions)
  adapted  the same recipe on pairs synthesized for the bank (`data synthesize`, glossary
           benchmarks/data/bank-glossary.csv, written without looking at the human questions) mixed with
           30 % of the bundled sample (without the bank and the held-out game)

The adapted run is also scored on the held-out game rows, to show what adapting costs across schemas, and
synthesis itself is timed: 2,000 checked pairs for the bank, in this process (target < 60 s).
Nothing is tuned on the human questions: the glossary and the synthesis settings were fixed before they
were scored.

    python benchmarks/bench_adaptation.py [--seed 42] [--before-run RUN] [--adapted-run RUN]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_experiments import existing_runs, prepare_home, studio  # noqa: E402
from benchmarks.bench_quality import ARMS, Plan, eval_sample, evaluate, prepare, run_facts, train  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = RESULTS / "tmp" / "adaptation"
HUMAN = ROOT / "benchmarks" / "data" / "bank-human.jsonl"
GLOSSARY = ROOT / "benchmarks" / "data" / "bank-glossary.csv"
BANK = "8"
SYNTHESIS = ("--rows", "1200", "--sample-share", "0.3", "--seed", "0")  # fixed before any human question was scored
DEFAULT_ARM = next(arm for arm in ARMS if arm.name == "default + schema")


def synthesize(pool: dict) -> dict:
    out = studio("data", "synthesize", "--db", str(Path(pool["path"], "databases", f"{BANK}.sqlite")),
                 "--glossary", str(GLOSSARY), "--name", BANK, *SYNTHESIS)
    return json.loads(out.strip().splitlines()[-1])


def adapted_run(version: dict, seed: int) -> str:
    slug = f"adapt-bank-s{seed}"
    found = [name for name in existing_runs() if name.startswith(slug + "-")]
    if not found:
        studio("train", "--config", DEFAULT_ARM.preset, "--dataset", version["version"], "--set", f"seed={seed}",
               "--set", f"project_name={slug}", "--wait", capture=False)
        found = [name for name in existing_runs() if name.startswith(slug + "-")]
    return found[0]


def measure(seed: int, before: str | None, adapted: str | None, scratch: Path) -> list[dict]:
    plan = Plan(seeds=(seed,))
    pool = prepare("all", True)  # its databases folder holds the bank's and the game's
    before = before or train(plan, DEFAULT_ARM, seed, pool)
    version = synthesize(pool)
    adapted = adapted or adapted_run(version, seed)
    game = eval_sample(plan, pool, scratch, True)
    lines = []
    for label, run, eval_file in (("before", before, HUMAN), ("adapted", adapted, HUMAN),
                                  ("before", before, game), ("adapted", adapted, game)):
        scored = evaluate(plan, ["--run", run], "schema", eval_file, pool)
        lines.append({"model": label, "eval_set": eval_file.name, **run_facts(run), **scored,
                      **({"version": version["version"], "pairs": version["pairs"]} if label == "adapted" else {})})
        print(json.dumps(lines[-1], ensure_ascii=False), flush=True)
    return lines


def synthesis_speed(pool: dict, pairs: int = 2000) -> dict:
    """Seconds to synthesize (and check by execution) `pairs` pairs for the bank, without saving them."""
    from studio.data.adapt.glossary import read_glossary
    from studio.data.adapt.synthesize import SynthesisOptions, synthesize as make_pairs

    started = time.perf_counter()
    made = make_pairs(Path(pool["path"], "databases", f"{BANK}.sqlite"), read_glossary(GLOSSARY),
                      SynthesisOptions(pairs=pairs, name=BANK))
    seconds = time.perf_counter() - started
    return {"pairs": len(made.frame), "seconds": round(seconds, 2), "dropped": dict(made.dropped)}


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
    parser.add_argument("--before-run", help="an existing default-recipe run to score instead of training one")
    parser.add_argument("--adapted-run", help="an existing adapted run to score instead of training one")
    args = parser.parse_args(argv)
    started = time.monotonic()
    prepare_home(args.scratch)
    lines = measure(args.seed, args.before_run, args.adapted_run, args.scratch)
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

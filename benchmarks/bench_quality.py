"""Model quality on the offline default: what each lever buys on the held-out game domain (issue #10/#15).

SmolLM2-135M-Instruct (offline copy), the bundled Korean sample, a 2-core CPU, through the studio's own CLI
(`data prepare`, `train --wait`, `eval`) in a scratch STUDIO_HOME (benchmarks/results/tmp/quality/,
gitignored). Every arm is scored by execution match on the same seeded sample of the held-out game rows
(db 1: no game table is ever trained on), side by side in one run:

The default recipe (autotrain_configs/cpu-full.yml: full fine-tuning, bf16 where the CPU has it, prompts
with the nearest training example of another database) and the levers it is made of:

  default + schema        the default recipe on the whole sample (the eight hand-written domains and the
                          synthesized ones), decoding constrained to the DDL's SQL grammar (the default)
  default (free decoding)  the same run, unconstrained
  default + schema + select5  the same run, each answer chosen by execution among the greedy one and 4 sampled
                          ones (studio/selection.py; benchmarks/bench_selection.py times it from scratch)
  base + example + schema the untrained model on the same prompts (one retrieved example each)
  base / base + schema    the untrained model on the book's prompt, free and constrained
  tuned ...               the earlier default (autotrain_configs/cpu-lora.yml: LoRA r16, fp32, the book's
                          prompt): free, constrained, with selection, and on the 7 hand-written schemas only

Training arms run once per seed (`--seeds`); the table shows each seed and their spread. "runs" is the share
of answers that are a query the game database accepts (right or wrong result). Generation rows/s is the
evaluation's own generation time (cached answers are not re-generated: a re-run reuses them and reports the
first measurement). Nothing here is tuned on these rows: the grammar comes from each prompt's DDL, the
recipe from the training domains.

    python benchmarks/bench_quality.py                       # every arm, 2 seeds (hours on 2 cores)
    python benchmarks/bench_quality.py --arms base,tuned --seeds 42
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_experiments import existing_runs, prepare_home, runnable_share, studio  # noqa: E402
from studio.evaluate import list_evaluations  # noqa: E402
from studio.settings import DEFAULT_MODEL  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = RESULTS / "tmp" / "quality"


@dataclass(frozen=True)
class Arm:
    name: str
    decoding: str  # free | schema
    schemas: str | None = None  # the training data: all | hand; None for the base model
    changes: dict = field(default_factory=dict)  # preset parameters this arm changes
    candidates: int = 1  # execution-guided selection among this many answers a row (1: greedy only)
    preset: str = "cpu-lora.yml"
    examples: bool = False  # prompts with the nearest training example (data prepare's default since #15)
    tag: str = ""  # names its runs: q-<tag>-s<seed> (default: the schemas)

    @property
    def trained(self) -> bool:
        return self.schemas is not None

    @property
    def pool(self) -> tuple[str, bool]:
        """The prepared data set it trains and is scored on: (schemas, examples)."""
        return self.schemas or "all", self.examples


DEFAULT = {"preset": "cpu-full.yml", "examples": True, "tag": "full"}
ARMS = (
    Arm("default + schema", "schema", "all", **DEFAULT),
    Arm("default (free decoding)", "free", "all", **DEFAULT),
    # The greedy answers are reused from "default + schema": its rows/s counts only the samples and the choice.
    Arm("default + schema + select5", "schema", "all", candidates=5, **DEFAULT),
    Arm("base + example + schema", "schema", examples=True),
    Arm("base", "free"),
    Arm("base + schema", "schema"),
    Arm("tuned", "free", "all"),
    Arm("tuned + schema", "schema", "all"),
    Arm("tuned + schema + select5", "schema", "all", candidates=5),
    Arm("7 schemas + schema", "schema", "hand"),
)


@dataclass(frozen=True)
class Plan:
    eval_rows: int = 100
    seeds: tuple[int, ...] = (42, 7)
    max_new_tokens: int = 128
    arms: tuple[str, ...] = tuple(a.name for a in ARMS)


def run_slug(arm: Arm, seed: int) -> str:
    changes = "-".join(f"{k}{v}" for k, v in sorted(arm.changes.items())).replace(".", "")
    return f"q-{arm.tag or arm.schemas}{'-' + changes if changes else ''}-s{seed}".replace("_", "").lower()[:40]


def prepare(schemas: str, examples: bool) -> dict:
    out = studio("data", "prepare", "--source", "sample", "--schemas", schemas,
                 *([] if examples else ["--no-examples"]),
                 "--name", f"quality-{schemas}{'-examples' if examples else ''}")
    return json.loads(out.strip().splitlines()[-1])


def eval_sample(plan: Plan, pool: dict, scratch: Path, examples: bool) -> Path:
    """A seeded sample of the held-out game rows (the split is ordered by template: its head is all easy):
    the same rows with and without their examples."""
    rows = Path(pool["path"], "eval.jsonl").read_text(encoding="utf-8").splitlines()
    picked = sorted(random.Random(0).sample(range(len(rows)), min(plan.eval_rows, len(rows))))
    path = scratch / f"game-heldout-{len(picked)}{'-examples' if examples else ''}.jsonl"
    path.write_text("".join(rows[i] + "\n" for i in picked), encoding="utf-8")
    return path


def train(plan: Plan, arm: Arm, seed: int, pool: dict) -> str:
    """The arm's run for this seed, trained now unless it exists (re-running resumes)."""
    slug = run_slug(arm, seed)
    found = [name for name in existing_runs() if name.startswith(slug + "-")]
    if found:
        return found[0]
    sets = {**arm.changes, "seed": seed, "project_name": slug}
    print(f"== training {slug}: {sets}", flush=True)
    studio("train", "--config", arm.preset, "--dataset", pool["version"],
           *[arg for key, value in sets.items() for arg in ("--set", f"{key}={value}")], "--wait", capture=False)
    found = [name for name in existing_runs() if name.startswith(slug + "-")]
    if not found:
        raise SystemExit(f"training {slug} finished without a run")
    return found[0]


def evaluate(plan: Plan, candidate: list[str], decoding: str, eval_file: Path, pool: dict,
             candidates: int = 1) -> dict:
    """Score one candidate (`--run R` or `--base M`) with one decoding; its stored evaluation."""
    studio("eval", *candidate, "--file", str(eval_file), "--db-dir", str(Path(pool["path"], "databases")),
           "--mode", "execution", "--max-new-tokens", str(plan.max_new_tokens),
           *(["--free"] if decoding == "free" else []), "--candidates", str(candidates), capture=False)
    label = candidate[1] if candidate[0] == "--run" else f"base:{candidate[1]}"
    stored = list_evaluations()
    recorded = decoding if candidates == 1 else f"{decoding}+select{candidates}"
    mine = stored[(stored["candidate"] == label) & (stored["eval_set"] == eval_file.name)
                  & (stored["decoding"] == recorded)]
    latest = mine.sort_values("id").iloc[-1]
    generated = mine.sort_values("generate_seconds").iloc[-1]  # the one that generated (later ones reuse it)
    return {"evaluation_id": int(latest["id"]), "EX": float(latest["ex_score"] or 0), "rows": int(latest["rows"]),
            "runs": runnable_share(int(latest["id"])),
            "rows_per_s": generated["rows"] / generated["generate_seconds"] if generated["generate_seconds"] else None}


def run_facts(run: str) -> dict:
    found = existing_runs()[run]
    return {"run": run, "train_rows": found.get("train_rows"), "train_time_s": found.get("duration_s"),
            "final_loss": found.get("final_loss")}


def measure(plan: Plan, scratch: Path = SCRATCH) -> list[dict]:
    prepare_home(scratch)
    chosen = [a for a in ARMS if a.name in plan.arms]
    # The held-out rows are scored on the "all" pools' evaluation split (the game domain, in every pool).
    wanted = {("all", a.examples) for a in chosen} | {a.pool for a in chosen}
    pools = {pool: prepare(*pool) for pool in sorted(wanted)}
    eval_files = {examples: eval_sample(plan, pools[("all", examples)], scratch, examples)
                  for examples in {a.examples for a in chosen}}
    lines = []
    for arm in chosen:
        scored_on = (eval_files[arm.examples], pools[("all", arm.examples)])
        for seed in (plan.seeds if arm.trained else (None,)):
            if arm.trained:
                run = train(plan, arm, seed, pools[arm.pool])
                line = {**run_facts(run), **evaluate(plan, ["--run", run], arm.decoding, *scored_on, arm.candidates)}
            else:
                line = {"run": f"base:{DEFAULT_MODEL}",
                        **evaluate(plan, ["--base", DEFAULT_MODEL], arm.decoding, *scored_on, arm.candidates)}
            lines.append({"arm": arm.name, "seed": seed, **line})
            print(json.dumps(lines[-1], ensure_ascii=False), flush=True)
    return lines


def summary(lines: list[dict]) -> list[dict]:
    """One line per arm: the mean over seeds and the spread between them."""
    out = []
    for arm in dict.fromkeys(line["arm"] for line in lines):
        mine = [line for line in lines if line["arm"] == arm]
        ex = [line["EX"] for line in mine]
        out.append({"arm": arm, "seeds": len(mine), "EX": statistics.mean(ex), "EX_spread": max(ex) - min(ex),
                    "runs": statistics.mean(line["runs"] for line in mine),
                    "train_min": _mean([line.get("train_time_s") for line in mine], 60),
                    "rows_per_s": _mean([line.get("rows_per_s") for line in mine])})
    return out


def _mean(values, scale: float = 1.0) -> float | None:
    present = [v / scale for v in values if v is not None]
    return statistics.mean(present) if present else None


def markdown(lines: list[dict]) -> str:
    out = ["| arm | seed | run | training rows | training time | final loss | runnable SQL | EX | generation |",
           "|---|---|---|---|---|---|---|---|---|"]
    for line in lines:
        minutes = line.get("train_time_s")
        out.append("| " + " | ".join([
            line["arm"], "" if line["seed"] is None else str(line["seed"]), line["run"],
            str(line.get("train_rows") or ""), "" if minutes is None else f"{minutes / 60:.1f} min",
            "" if line.get("final_loss") is None else f"{line['final_loss']:.3f}", f"{100 * line['runs']:.0f} %",
            f"{100 * line['EX']:.1f} % ({round(line['EX'] * line['rows'])}/{line['rows']})",
            "" if line.get("rows_per_s") is None else f"{line['rows_per_s']:.2f} rows/s"]) + " |")
    return "\n".join(out) + "\n"


def merged(lines: list[dict]) -> list[dict]:
    """These lines over those of earlier runs (other arms, other scratch folders), in the order of ARMS."""
    path = RESULTS / "quality.json"
    earlier = json.loads(path.read_text(encoding="utf-8"))["lines"] if path.exists() else []
    fresh = {(line["arm"], line["seed"]) for line in lines}
    order = [arm.name for arm in ARMS]
    every = [line for line in earlier if (line["arm"], line["seed"]) not in fresh] + lines
    return sorted(every, key=lambda line: (order.index(line["arm"]), line["seed"] or 0))


def write(plan: Plan, lines: list[dict], seconds: float) -> None:
    lines = merged(lines)
    table = [{"benchmark": "quality", "measure": f"EX {s['arm']}", "value": round(100 * s["EX"], 1), "unit": "%",
              "note": f"runnable SQL {100 * s['runs']:.0f} %; {s['seeds']} seed(s), spread "
                      f"{100 * s['EX_spread']:.1f} points"
                      + ("" if s["train_min"] is None else f"; {s['train_min']:.1f} min training")
                      + ("" if s["rows_per_s"] is None else f"; {s['rows_per_s']:.2f} rows/s generation")}
             for s in summary(lines)]
    result = {"plan": {k: getattr(plan, k) for k in plan.__dataclass_fields__}, "lines": lines, "table": table,
              "seconds": round(seconds), "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                                     "load_at_end": os.getloadavg()}}
    (RESULTS / "quality.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (RESULTS / "quality.md").write_text(markdown(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", help="comma-separated arm names (default: all)")
    parser.add_argument("--seeds", help="comma-separated training seeds (default: 42,7)")
    parser.add_argument("--eval-rows", type=int, default=Plan.eval_rows)
    parser.add_argument("--scratch", type=Path, default=SCRATCH,
                        help="the scratch folder (a second one lets two arms train at once, a core each)")
    args = parser.parse_args(argv)
    plan = Plan(eval_rows=args.eval_rows,
                seeds=tuple(int(s) for s in args.seeds.split(",")) if args.seeds else Plan.seeds,
                arms=tuple(a.strip() for a in args.arms.split(",")) if args.arms else Plan.arms)
    started = time.monotonic()
    lines = measure(plan, args.scratch)
    write(plan, lines, time.monotonic() - started)
    print((RESULTS / "quality.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()

"""The book's chapter-6 experiments, reproduced on the embedded defaults through the studio's own CLI.

SmolLM2-135M-Instruct (offline copy), the bundled Korean sample, a 2-core CPU. Every number below comes
from `python -m studio data prepare | train | eval | runs export`, run as subprocesses in a scratch
STUDIO_HOME (benchmarks/results/tmp/experiments/, gitignored), exactly as a user would run them:

  1. base vs fine-tuned        the base model evaluated alone, next to every run;
  2. lora_r x lora_alpha       a 2x2 grid at one data size (the preset's r16/a32 cell is shared with 3.);
  3. data size                 20/40/60/80/100 % of the training pool, all else fixed;
  4. the book's learning rate  the grid's data size again with the book's lr 2e-4 instead of the preset's;
  5. the budget run            the best grid cell's settings on a bigger pool (400 rows), what half an
                               hour of CPU training buys.

Scoring is execution match (the generated SQL runs against the game database and returns the gold
result) on a seeded sample of the held-out game domain (db 1, never seen in training). Next to EX, the
share of answers that are a runnable SELECT at all ("runs"): where EX cannot tell models apart, it shows
whether fine-tuning taught the task's form (the untrained model answers by repeating the DDL). A CPU trains a
few hundred rows in the time a GPU trains thousands, so the training pool is a seeded sample of the
bundled 6,660 training rows; the plan's numbers are at the top of the file.

Re-running resumes: runs that exist are not trained again, generations are cached by the studio.
Writes benchmarks/results/experiments.json (the `table` the README quotes), experiments.md (all columns)
and experiments-*.png.

    python benchmarks/bench_experiments.py            # everything, about an hour on 2 idle cores
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.evaluate import evaluation_rows  # noqa: E402
from studio.models import resolve_model  # noqa: E402
from studio.settings import DEFAULT_MODEL  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SCRATCH = RESULTS / "tmp" / "experiments"


@dataclass(frozen=True)
class Cell:
    """One training run of the study: a name and the parameters it changes from the preset."""
    name: str
    changes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    preset: str = "cpu-lora.yml"
    pool_fraction: float = 0.018  # of the 6,660 bundled training rows: a 120-row pool
    fractions: tuple = (0.2, 0.4, 0.6, 0.8, 1.0)
    grid_fraction: float = 0.4  # the data size of the lora_r x lora_alpha grid and the lr comparison
    lora_r: tuple = (8, 16)
    lora_alpha: tuple = (16, 32)
    preset_r_alpha: tuple = (16, 32)  # the preset's own values: that grid cell is a data-size cell too
    book_lr: float = 2e-4
    budget_fraction: float = 0.06  # the budget run: 400 rows, about half an hour of training on 2 cores
    eval_rows: int = 60
    max_new_tokens: int = 128
    seed: int = 42

    def cells(self) -> list[Cell]:
        sizes = [Cell(f"f{round(f * 100)}", {"data_fraction": f}) for f in self.fractions]
        grid = [Cell(f"r{r}-a{a}", {"lora_r": r, "lora_alpha": a, "data_fraction": self.grid_fraction})
                for r in self.lora_r for a in self.lora_alpha if (r, a) != self.preset_r_alpha]
        book_lr = [Cell(f"f{round(self.grid_fraction * 100)}-book-lr",
                        {"data_fraction": self.grid_fraction, "lr": self.book_lr})]
        return sizes + grid + book_lr


def studio(*args: str, capture: bool = True) -> str:
    """Run `python -m studio ARGS` in the scratch home; its output, or an error with its tail."""
    done = subprocess.run([sys.executable, "-m", "studio", *args], cwd=ROOT, text=True,
                          capture_output=capture, env=os.environ.copy())
    if done.returncode != 0:
        tail = ((done.stdout or "") + (done.stderr or ""))[-2000:]
        raise SystemExit(f"studio {' '.join(args)} failed ({done.returncode}):\n{tail}")
    return done.stdout or ""


def prepare_home(scratch: Path = SCRATCH) -> None:
    """A scratch STUDIO_HOME for a benchmark's runs, sharing the converted default model."""
    model = resolve_model(DEFAULT_MODEL)  # converted once into the default STUDIO_HOME
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists():
        (home / "models").symlink_to(model.parent, target_is_directory=True)
    os.environ["STUDIO_HOME"] = str(home)


def prepare_pool(plan: Plan, fraction: float, name: str) -> dict:
    out = studio("data", "prepare", "--source", "sample", "--fraction", str(fraction),
                 "--seed", str(plan.seed), "--name", name)
    return json.loads(out.strip().splitlines()[-1])


def write_eval_sample(plan: Plan, pool: dict) -> Path:
    """A seeded sample of the held-out split: the split is ordered by template, so its head is all easy."""
    rows = Path(pool["path"], "eval.jsonl").read_text(encoding="utf-8").splitlines()
    picked = sorted(random.Random(plan.seed).sample(range(len(rows)), plan.eval_rows))
    path = SCRATCH / f"game-heldout-{plan.eval_rows}.jsonl"
    path.write_text("".join(rows[i] + "\n" for i in picked), encoding="utf-8")
    return path


def existing_runs() -> dict[str, dict]:
    out = studio("runs", "list", "--json")
    runs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {run["name"]: run for run in runs}


def train_cells(plan: Plan, pool: dict, cells: list[Cell]) -> dict[str, str]:
    """Train every cell that has no run yet (one after another); cell name -> run name."""
    return {cell.name: _run_of(cell, existing_runs()) or train(plan, pool, cell) for cell in cells}


def train(plan: Plan, pool: dict, cell: Cell) -> str:
    sets = [f"{key}={value}" for key, value in {**cell.changes, "project_name": f"exp-{cell.name}"}.items()]
    print(f"== training {cell.name}: {cell.changes}", flush=True)
    started = time.monotonic()
    studio("train", "--config", plan.preset, "--dataset", pool["version"],
           *[arg for item in sets for arg in ("--set", item)], "--wait", capture=False)
    print(f"   {cell.name} done in {time.monotonic() - started:.0f} s", flush=True)
    run = _run_of(cell, existing_runs())
    if run is None:
        raise SystemExit(f"training {cell.name} finished without a run")
    return run


def budget_cell(plan: Plan, lines: list[dict]) -> Cell:
    """The best lora_r x lora_alpha x lr cell at the grid's data size, on the big pool: by EX, then by
    runnable SQL, then the preset."""
    at_grid_size = [line for line in lines[1:] if line["fraction"] == plan.grid_fraction]
    preset_cell = f"f{round(plan.grid_fraction * 100)}"
    best = max(at_grid_size,
               key=lambda line: (line["EX"] or 0, line["runs"], line["cell"] == preset_cell))
    return Cell("budget", {"lora_r": int(best["lora_r"]), "lora_alpha": int(best["lora_alpha"]),
                           "lr": best["lr"]})


def _run_of(cell: Cell, runs: dict[str, dict]) -> str | None:
    prefix = f"exp-{cell.name}-"
    return next((name for name in runs if name.startswith(prefix) and name[len(prefix):].isdigit()), None)


def evaluate(plan: Plan, pool: dict, eval_file: Path, runs: dict[str, str], with_base: bool = True) -> None:
    """The runs (and the base model); generations already made are reused from the studio's cache."""
    candidates = [arg for run in runs.values() for arg in ("--run", run)]
    candidates += ["--base", DEFAULT_MODEL] if with_base else []
    print(f"== evaluating {len(candidates) // 2} candidates on {eval_file.name}", flush=True)
    studio("eval", *candidates, "--file", str(eval_file),
           "--db-dir", str(Path(pool["path"], "databases")), "--mode", "execution",
           "--max-new-tokens", str(plan.max_new_tokens), capture=False)


def board(eval_file: Path) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(studio("runs", "export", "--columns", "all"))))
    return [row for row in rows if row["eval_set"] == eval_file.name]


def findings(cells: list[Cell], runs: dict[str, str], rows: list[dict]) -> list[dict]:
    """One line per experiment cell (and the base model), in the plan's order."""
    by_run = {row["run"]: row for row in rows}
    base = next(row for row in rows if not row["lora_r"])  # the base model alone has no LoRA config
    lines = [_line("base model (no fine-tuning)", base, {})]
    lines += [_line(cell.name, by_run[runs[cell.name]], cell.changes) for cell in cells]
    return lines


def _line(cell: str, row: dict, changes: dict) -> dict:
    number = lambda key: float(row[key]) if row.get(key) not in (None, "") else None  # noqa: E731
    return {"cell": cell, "run": row["run"], "changes": changes, "lora_r": number("lora_r"),
            "lora_alpha": number("lora_alpha"), "fraction": changes.get("data_fraction"),
            "train_rows": number("train_rows"), "lr": number("lr"), "train_time_s": number("train_time_s"),
            "final_loss": number("final_loss"), "EX": number("EX"), "rows": number("rows"),
            "runs": runnable_share(int(row["evaluation_id"]))}


def runnable_share(evaluation_id: int) -> float:
    """The share of generated answers that ran on the database (right or wrong result): stored rows."""
    rows = evaluation_rows([evaluation_id])
    failed = rows["reason"].fillna("").str.startswith("pred error")
    return float(1 - failed.mean()) if len(rows) else 0.0


def plot(plan: Plan, lines: list[dict]) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_cell = {line["cell"]: line for line in lines}
    base_ex = lines[0]["EX"] or 0.0
    files = []

    sizes = [by_cell[f"f{round(f * 100)}"] for f in plan.fractions]
    rows = [line["train_rows"] for line in sizes]
    figure, left = plt.subplots(figsize=(6.5, 4))
    left.plot(rows, [100 * (line["EX"] or 0) for line in sizes], "o-", label="EX (fine-tuned, r16 a32)")
    left.plot(rows, [100 * line["runs"] for line in sizes], "s--", label="runnable SQL (fine-tuned)")
    left.axhline(100 * base_ex, color="grey", linestyle=":", label=f"EX base model ({100 * base_ex:.0f} %)")
    left.set(xlabel="training rows (20-100 % of the pool)", ylabel="% of held-out game rows", ylim=(-2, 102),
             title="Data size (book 6.4): SmolLM2-135M, CPU")
    right = left.twinx()
    right.bar(rows, [line["train_time_s"] / 60 for line in sizes], width=6, alpha=0.2, color="tab:orange")
    right.set_ylabel("training time (min, bars)")
    left.legend(loc="upper left", fontsize=8)
    files.append(_save(figure, "experiments-data-size.png"))

    figure, axis = plt.subplots(figsize=(5, 4))
    grid = [[_grid_line(plan, by_cell, r, a) for a in plan.lora_alpha] for r in plan.lora_r]
    shares = [[100 * line["runs"] for line in row] for row in grid]
    image = axis.imshow(shares, cmap="viridis", vmin=0, vmax=100)
    for i, row in enumerate(grid):
        for j, line in enumerate(row):
            axis.text(j, i, f"runs {100 * line['runs']:.0f}%\nEX {100 * (line['EX'] or 0):.1f}%",
                      ha="center", va="center", color="white")
    axis.set(xticks=range(len(plan.lora_alpha)), xticklabels=[str(a) for a in plan.lora_alpha],
             yticks=range(len(plan.lora_r)), yticklabels=[str(r) for r in plan.lora_r],
             xlabel="lora_alpha", ylabel="lora_r",
             title=f"lora_r x lora_alpha ({round(plan.grid_fraction * 100)} % of the pool)")
    figure.colorbar(image, label="runnable SQL (%)")
    files.append(_save(figure, "experiments-lora.png"))
    plt.close("all")
    return files


def _grid_line(plan: Plan, by_cell: dict, r: int, a: int) -> dict:
    name = f"f{round(plan.grid_fraction * 100)}" if (r, a) == plan.preset_r_alpha else f"r{r}-a{a}"
    return by_cell[name]


def _save(figure, name: str) -> str:
    figure.tight_layout()
    figure.savefig(RESULTS / name, dpi=110)
    return name


def write_results(plan: Plan, pool: dict, lines: list[dict], plots: list[str], seconds: float) -> None:
    note = f"{plan.eval_rows} held-out game rows, execution match"
    table = [{"benchmark": "experiments", "measure": f"EX {line['cell']}",
              "value": round(100 * (line["EX"] or 0), 1), "unit": "%",
              "note": f"runnable SQL {100 * line['runs']:.0f} %; " + (note if line is lines[0] else
                      f"{int(line['train_rows'] or 0)} rows, {round(line['train_time_s'] or 0)} s training, "
                      f"loss {line['final_loss']}")} for line in lines]
    result = {"plan": {key: getattr(plan, key) for key in plan.__dataclass_fields__},
              "pool": {"version": pool["version"], "train": pool["train"], "eval": pool["eval"]},
              "cells": lines, "plots": plots, "table": table, "seconds": round(seconds),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "load_at_end": os.getloadavg()}}
    (RESULTS / "experiments.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    (RESULTS / "experiments.md").write_text(markdown(lines, plots), encoding="utf-8")


def markdown(lines: list[dict], plots: list[str]) -> str:
    head = ("| experiment | run | lora_r | lora_alpha | lr | training rows | training time | final loss "
            "| runnable SQL | EX |")
    out = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    for line in lines:
        ex, rows = line["EX"] or 0, line["rows"] or 0
        cells = [line["cell"], line["run"], _int(line["lora_r"]), _int(line["lora_alpha"]),
                 _plain(line["lr"]),
                 _int(line["train_rows"]), _minutes(line["train_time_s"]), _plain(line["final_loss"]),
                 f"{100 * line['runs']:.0f} %", f"{100 * ex:.1f} % ({round(ex * rows)}/{int(rows)})"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n\n" + "\n".join(f"![{name}]({name})" for name in plots) + "\n"


def _int(value) -> str:
    return "" if value is None else str(int(value))


def _plain(value) -> str:
    return "" if value is None else f"{value:g}"


def _minutes(seconds) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f} min"


def main() -> None:
    started = time.monotonic()
    plan = Plan()
    prepare_home()
    pool = prepare_pool(plan, plan.pool_fraction, "experiment-pool")
    eval_file = write_eval_sample(plan, pool)
    runs = train_cells(plan, pool, plan.cells())
    evaluate(plan, pool, eval_file, runs)
    budget = budget_cell(plan, findings(plan.cells(), runs, board(eval_file)))
    big_pool = prepare_pool(plan, plan.budget_fraction, "experiment-budget-pool")
    budget_run = train_cells(plan, big_pool, [budget])
    runs.update(budget_run)
    # Only the new run: the others' latest evaluations stand (the held-out rows are the same in both pools).
    evaluate(plan, pool, eval_file, budget_run, with_base=False)
    lines = findings([*plan.cells(), budget], runs, board(eval_file))
    plots = plot(plan, lines)
    write_results(plan, pool, lines, plots, time.monotonic() - started)
    print((RESULTS / "experiments.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()

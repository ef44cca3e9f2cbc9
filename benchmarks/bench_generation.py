"""Generating evaluation answers: the book's way against the studio's engine, side by side in one run.

The book's way: a `text-generation` pipeline, one prompt at a time, greedy (`do_sample=False`),
`return_full_text=False`, the same `max_new_tokens`. The studio's way: `studio.inference` as evaluations use
it — the prefix the prompts share (instruction + DDL) computed once per group, batched greedy decoding, each
answer stopped at the end of its statement. Same base model and LoRA adapter (loaded the same way, unmerged),
same CPU, same prompts: the first PROMPTS held-out game-domain rows of the bundled sample, as an evaluation
of a prepared data set sees them.

The adapter matters: an untrained model never writes `;`, so both ways would run to the token budget. Without
`--adapter PATH`, a small one is trained through the studio (python -m studio train, the cpu-lora preset on
TRAIN_ROWS training rows, 768-token blocks so no SQL is cut off) and kept under benchmarks/results/tmp/.

The studio runs four times: with the options `studio.evaluate` uses by default but free decoding (the book's
arithmetic, whose answers must equal the pipeline's), then without prompt lookup, in batches of 8, and with
Evaluate's default schema-constrained decoding (studio/constraints.py: its answers differ by design; the table
reports its speed and its cost per generated token). Then both ways answer the same prompts with the base model
alone, as the book's first experiment evaluates it (it repeats the DDL, so its answers are long). Each run is a process of its own, so the
peak resident memory of each is its own (the peak is reset after loading where Linux allows, and both the
whole-process and the generation-only peak are reported). Wall-clock and CPU time are both recorded: on a
machine shared with other work the wall clock also counts the others' time, while with one torch thread the
CPU time is what the run itself computed. Outputs are compared after the same cut the studio applies (the
statement up to its `;`): the book's pipeline writes on until end of sequence or the budget, and the words
after the statement are not part of the answer.

Torch threads: OMP_NUM_THREADS is 1 unless set, for both ways (on 2 cores shared with other work, two
threads spin-wait on each other; see bench_training.py). On a quiet machine, OMP_NUM_THREADS=2 uses both cores.

Why a fine-tuned adapter gains less than the base model on this CPU: its answers are short (~27 tokens, and
it ends them itself), so the book's way spends ~1.7 s a prompt, and what the studio must still compute is
the prompt. The questions are Korean, which SmolLM2's tokenizer splits finely, so what follows the shared
prefix is ~65 tokens a prompt (of ~265); with the prefixes, ~4,300 prompt tokens for 48 prompts. The fp32
matrix products of those run at the CPU's measured peak (~190 GFLOPS on 2 threads, torch's profiler: 3.9 s
of a 5.3 s prefill in aten::mm), so about 6 s of the ~14 s is prompt work no batching can remove. The base
model writes ~100 tokens a prompt, and there batching and prompt lookup pay in full. Measured and left out:
merging the LoRA weights (10 % faster, the same outputs here, but not the same arithmetic as the book's
unmerged adapter) and bfloat16 (25 % faster, 37 of 48 answers the same: not the same model any more).

    python benchmarks/bench_generation.py [--adapter PATH] [--prompts 48]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.inference import _cut_after_statement  # noqa: E402
from studio.models import resolve_model  # noqa: E402
from studio.prompts import PromptTemplate, extract_sql  # noqa: E402
from studio.settings import DEFAULT_MODEL  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "generation.json"
SCRATCH = ROOT / "benchmarks" / "results" / "tmp" / "generation"
CACHED_ADAPTER = SCRATCH / "adapter"
MAX_NEW_TOKENS = 128
TRAIN_ROWS = 48
# cpu-lora with a higher learning rate and two epochs, so that 48 rows are enough to learn the answer's form;
# batch 1 keeps the trainer's memory at a few GB on a shared machine.
TRAIN_SETTINGS = {"block_size": 768, "lr": 0.001, "epochs": 2, "batch_size": 1, "gradient_accumulation": 2,
                  "lora_r": 16, "lora_alpha": 32}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.measure:
        return measure(args)
    # One torch thread for both ways unless set: on 2 cores shared with other work, two threads spin-wait on
    # each other (see bench_training.py).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    model = resolve_model(DEFAULT_MODEL)  # converted once into the default STUDIO_HOME
    os.environ["STUDIO_HOME"] = str(SCRATCH / "home")  # the data set version and the training run stay here
    version = prepare_sample()
    adapter = Path(args.adapter).resolve() if args.adapter else cached_or_trained_adapter(model, version)
    prompts, ddls = eval_prompts(version, args.prompts)
    prompts_file = SCRATCH / "prompts.json"
    prompts_file.write_text(json.dumps({"prompts": prompts, "ddls": ddls}, ensure_ascii=False), encoding="utf-8")
    load = os.getloadavg()[0]
    from studio.evaluate import EvalOptions

    default = EvalOptions()
    studio = {"batch_size": default.batch_size, "max_batch_tokens": default.max_batch_tokens}
    setups = {
        "fine-tuned": {
            "studio": run_way("studio", model, adapter, prompts_file, studio),
            "studio-no-lookup": run_way("studio", model, adapter, prompts_file, {**studio, "draft_tokens": 0}),
            "studio-batch-8": run_way("studio", model, adapter, prompts_file, {**studio, "batch_size": 8}),
            "studio-schema": run_way("studio", model, adapter, prompts_file, {**studio, "schema": True}),
            "book": run_way("book", model, adapter, prompts_file, {}),
        },
        # The base model, as the book's first experiment evaluates it: it answers by repeating the DDL, so
        # its answers are long (up to the token budget) and end at the first `;` of the copied DDL.
        "base": {
            "studio": run_way("studio", model, None, prompts_file, studio),
            "studio-schema": run_way("studio", model, None, prompts_file, {**studio, "schema": True}),
            "book": run_way("book", model, None, prompts_file, {}),
        },
    }
    write_results(setups, prompts, adapter, load, studio)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", help="a LoRA adapter folder for the offline model (default: train one)")
    parser.add_argument("--prompts", type=int, default=int(os.environ.get("BENCH_GENERATION_PROMPTS", "48")))
    # The studio's generation options in a child process (a JSON object of GenerationOptions fields):
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    # One way, measured in a child process:
    parser.add_argument("--measure", choices=("book", "studio"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--prompts-file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the data set, the adapter, the prompts ---------------------------------------------------------------


def studio_cli(*args: str) -> list[str]:
    """Run `python -m studio ...` (in the scratch STUDIO_HOME); its stdout lines."""
    done = subprocess.run([sys.executable, "-m", "studio", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=7200)
    if done.returncode != 0:
        output = done.stdout[-2000:] + done.stderr[-2000:]
        raise SystemExit(f"python -m studio {' '.join(args[:2])} failed:\n{output}")
    return done.stdout.strip().splitlines()


def prepare_sample() -> dict:
    """The bundled sample as a prepared data set version (content-addressed: the same version every time)."""
    return json.loads(studio_cli("data", "prepare", "--source", "sample", "--name", "bench-generation")[-1])


def cached_or_trained_adapter(model: Path, version: dict) -> Path:
    if (CACHED_ADAPTER / "adapter_config.json").is_file():
        return CACHED_ADAPTER
    print(f"training an adapter on {TRAIN_ROWS} rows (once; kept in {CACHED_ADAPTER})", flush=True)
    settings = {**TRAIN_SETTINGS, "base_model": str(model), "data_fraction": TRAIN_ROWS / version["train"],
                "project_name": "bench-generation"}
    overrides = [arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")]
    dataset = version["version"]
    last = studio_cli("train", "--config", "cpu-lora", "--dataset", dataset, *overrides, "--wait")[-1]
    trained = Path(last.rsplit("adapter ", 1)[1].strip())  # "[job] succeeded in …: run …, adapter PATH"
    shutil.copytree(trained, CACHED_ADAPTER, ignore=shutil.ignore_patterns("checkpoint-*"))
    print(last, flush=True)
    return CACHED_ADAPTER


def eval_prompts(version: dict, count: int) -> tuple[list[str], list[str]]:
    """The first `count` held-out rows of the version, rendered as an evaluation renders them, and their DDL."""
    from studio.data.versions import get_version

    prepared = get_version(version["version"])
    render = PromptTemplate(prepared.prompt_template).render
    rows = prepared.eval_frame().head(count).to_dict("records")
    return [render(r["context"], r["question"]) for r in rows], [r["context"] for r in rows]


# --- one way, measured in a child process -----------------------------------------------------------------


def run_way(way: str, model: Path, adapter: Path | None, prompts_file: Path, options: dict) -> dict:
    name = "-".join([way, *(f"{k}{v}" for k, v in options.items()), "adapter" if adapter else "base"])
    result = SCRATCH / f"{name}.json"
    command = [sys.executable, __file__, "--measure", way, "--model", str(model),
               "--prompts-file", str(prompts_file), "--result", str(result), "--options", json.dumps(options)]
    if adapter:
        command += ["--adapter", str(adapter)]
    print(f"== {name}", flush=True)
    if subprocess.run(command, cwd=ROOT, timeout=7200).returncode != 0:
        raise SystemExit(f"measuring the {way} way failed")
    # The 1-minute load average after the run: other work on the machine slows the wall clock, not CPU time.
    return {**json.loads(result.read_text(encoding="utf-8")), "load_average_after": os.getloadavg()[0]}


def measure(args) -> int:
    prompts = json.loads(Path(args.prompts_file).read_text(encoding="utf-8"))["prompts"]
    started = time.perf_counter()
    load = load_book if args.measure == "book" else load_studio
    generate = load(Path(args.model), Path(args.adapter) if args.adapter else None, args)
    loaded_s = time.perf_counter() - started
    process_peak = peak_rss_mb()
    reset = reset_peak_rss()
    started, cpu_started = time.perf_counter(), time.process_time()
    outputs = generate(prompts)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    result = {"way": args.measure, "seconds": seconds, "cpu_seconds": cpu_seconds, "load_seconds": loaded_s,
              "outputs": outputs,
              "peak_rss_mb": max(process_peak, peak_rss_mb()),
              "generation_peak_rss_mb": peak_rss_mb() if reset else None, "loaded_rss_mb": process_peak}
    Path(args.result).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    print(f"{args.measure}: {len(prompts)} prompts in {seconds:.1f} s", flush=True)
    return 0


def load_book(model: Path, adapter: Path | None, _args):
    """The book's generation: a text-generation pipeline called once per prompt."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # as the book
    model = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    if adapter:
        model = PeftModel.from_pretrained(model, adapter)
    model.eval()
    pipe = pipeline("text-generation", model=model, tokenizer=tokenizer, device="cpu")

    def generate(prompts: list[str]) -> list[str]:
        # add_special_tokens: the pipeline leaves out the BOS token by default, while training and the studio
        # put it in; with it, both ways see the very same tokens (it costs the pipeline nothing).
        return [pipe(p, do_sample=False, max_new_tokens=MAX_NEW_TOKENS, return_full_text=False,
                     add_special_tokens=True)[0]["generated_text"] for p in prompts]

    return generate


def load_studio(model: Path, adapter: Path | None, args):
    """The studio's generation, as `studio.evaluate` calls it."""
    from studio.inference import GenerationOptions, LoadOptions, get_generator

    generator = get_generator(model, LoadOptions(adapter=adapter))
    settings = json.loads(args.options)
    # "schema": constrained to each prompt's DDL grammar, as Evaluate decodes by default; else free decoding,
    # the book's arithmetic, whose answers must equal the pipeline's.
    ddls = json.loads(Path(args.prompts_file).read_text(encoding="utf-8"))["ddls"] if settings.pop("schema", False) \
        else None
    options = GenerationOptions(max_new_tokens=MAX_NEW_TOKENS, constrained=ddls is not None, **settings)
    return lambda prompts: [c.text for c in generator.generate(prompts, options, ddls=ddls)]


def peak_rss_mb() -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start the peak over from the current memory (Linux: clear_refs 5), so that it measures generation."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


# --- the comparison -----------------------------------------------------------------------------------------


def write_results(setups: dict, prompts: list[str], adapter: Path, load: float, studio: dict) -> None:
    n = len(prompts)
    threads = os.environ["OMP_NUM_THREADS"]
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, {threads} torch thread(s), "
               f"load average {load:.1f} at the start")
    compared = {setup: compare_with_book(runs) for setup, runs in setups.items()}
    differences = {setup: {way: c.pop("differences") for way, c in ways.items()}
                   for setup, ways in compared.items()}
    command = f"OMP_NUM_THREADS={threads} python benchmarks/bench_generation.py {' '.join(sys.argv[1:])}".strip()
    default = f"evaluate's defaults: batches of {studio['batch_size']}, prompt lookup"
    tuned, base = setups["fine-tuned"], setups["base"]
    result = {
        "command": command, "machine": machine, "model": DEFAULT_MODEL,
        "adapter": str(adapter.relative_to(ROOT)) if adapter.is_relative_to(ROOT) else str(adapter),
        "prompts": n, "max_new_tokens": MAX_NEW_TOKENS, "studio_options": studio,
        "compared_with_book": compared,
        "book_answers_ending_in_semicolon": {
            setup: sum(";" in _cut_after_statement(a) for a in runs["book"]["outputs"])
            for setup, runs in setups.items()},
        "ways": {setup: {way: {k: round(v, 1) if isinstance(v, float) else v for k, v in run.items()
                               if k != "outputs"} for way, run in runs.items()} for setup, runs in setups.items()},
        "differences": differences,
        "table": [
            way_row(f"fine-tuned, book's way: pipeline, one prompt at a time ({n} held-out game prompts)",
                    tuned["book"], n),
            way_row(f"fine-tuned, studio engine, {default}", tuned["studio"], n),
            speedup_row("fine-tuned, studio engine (evaluate's defaults) vs the book's way",
                        compared["fine-tuned"]["studio"], n, machine),
            speedup_row("fine-tuned, studio engine without prompt lookup vs the book's way",
                        compared["fine-tuned"]["studio-no-lookup"], n, machine),
            speedup_row("fine-tuned, studio engine in batches of 8 vs the book's way",
                        compared["fine-tuned"]["studio-batch-8"], n, machine),
            way_row("base model, book's way", base["book"], n),
            way_row(f"base model, studio engine, {default}", base["studio"], n),
            speedup_row("base model, studio engine (evaluate's defaults) vs the book's way",
                        compared["base"]["studio"], n, machine),
            speedup_row("fine-tuned, studio engine, schema-constrained (evaluate's default decoding) vs the "
                        "book's way (free)", compared["fine-tuned"]["studio-schema"], n, machine),
            constraint_cost_row("fine-tuned", tuned, n),
            speedup_row("base model, studio engine, schema-constrained vs the book's way (free)",
                        compared["base"]["studio-schema"], n, machine),
            constraint_cost_row("base model", base, n),
        ],
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result["table"], indent=1, ensure_ascii=False))


def compare_with_book(runs: dict) -> dict:
    """Each studio run of a setup against the book's run of the same setup."""
    answers = [_cut_after_statement(text) for text in runs["book"]["outputs"]]
    return {way: compare(answers, run, runs["book"]) for way, run in runs.items() if way != "book"}


def compare(answers: list[str], run: dict, book: dict) -> dict:
    outputs = run["outputs"]
    return {
        "speedup_wall": round(book["seconds"] / run["seconds"], 1),
        "speedup_cpu": round(book["cpu_seconds"] / run["cpu_seconds"], 1),
        "identical_outputs": sum(a == b for a, b in zip(answers, outputs)),
        "same_extracted_sql": sum(extract_sql(a) == extract_sql(b) for a, b in zip(answers, outputs)),
        "differences": [{"prompt": i, "book": a, "studio": b}
                        for i, (a, b) in enumerate(zip(answers, outputs)) if a != b],
    }


def constraint_cost_row(setup: str, runs: dict, n: int) -> dict:
    """What the schema grammar costs per generated token: the constrained run's wall time over the free
    run's, per token the constrained run wrote (its answers differ, so both times are per answer set)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(DEFAULT_MODEL))
    free, schema = runs["studio"], runs["studio-schema"]
    tokens = {way: sum(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in run["outputs"])
              for way, run in (("free", free), ("schema", schema))}
    per_token = {way: 1000 * run["seconds"] / max(tokens[way], 1) for way, run in (("free", free), ("schema", schema))}
    return {"benchmark": "generation", "measure": f"{setup}, schema-constrained decoding: wall time per token",
            "value": round(per_token["schema"], 1), "unit": "ms",
            "note": f"free decoding {per_token['free']:.1f} ms a token; {tokens['schema']} tokens constrained, "
                    f"{tokens['free']} free, {n} prompts; {n / schema['seconds']:.2f} vs "
                    f"{n / free['seconds']:.2f} rows/s"}


def way_row(measure: str, run: dict, n: int) -> dict:
    generation_peak = run["generation_peak_rss_mb"]
    during = f", {generation_peak:.0f} MB while generating" if generation_peak is not None else ""
    return {"benchmark": "generation", "measure": measure, "value": round(n / run["seconds"], 2),
            "unit": "rows/s",
            "note": f"{run['seconds']:.1f} s wall, {run['cpu_seconds']:.1f} s CPU "
                    f"({n / run['cpu_seconds']:.2f} rows per CPU second); "
                    f"peak RSS {run['peak_rss_mb']:.0f} MB{during}"}


def speedup_row(measure: str, compared: dict, n: int, machine: str) -> dict:
    return {"benchmark": "generation", "measure": f"speed-up, {measure}", "value": compared["speedup_wall"],
            "unit": "×", "note": f"wall clock (CPU time: {compared['speedup_cpu']}×); identical outputs "
                                f"{compared['identical_outputs']}/{n}; same model (and adapter); {machine}"}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

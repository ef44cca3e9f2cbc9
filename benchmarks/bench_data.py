"""Data-layer benchmark: build the sample, prepare it whole (validate, run every gold SQL, tokenize),
and check a ~100 MB CSV with `python -m studio data check` while measuring its peak memory.

    .venv/bin/python benchmarks/bench_data.py [--csv-mb 100] [--tokenizer DIR]

Prints a table and writes benchmarks/results/data.json. Targets (issue 3): preparing the sample under
60 s on 2 cores; checking a 100 MB CSV under 1 GB peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from studio.data.prepare import PrepareOptions, prepare_dataset
from studio.data.sample import ensure_sample
from studio.settings import load_settings

RESULTS = REPO / "benchmarks" / "results" / "data.json"


def default_tokenizer() -> tuple[str, str]:
    """The offline default model's tokenizer when it has been provisioned, else a BPE trained here."""
    model = load_settings().models_dir / "smollm2-135m-instruct"
    if (model / "tokenizer.json").exists():
        return str(model), "smollm2-135m-instruct"
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    frame = ensure_sample().frame()
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()
    tok.train_from_iterator(
        list(frame["context"]) + list(frame["question"]) + list(frame["answer"]),
        trainers.BpeTrainer(vocab_size=8000, special_tokens=["<unk>", "</s>"]),
    )
    folder = Path(tempfile.mkdtemp()) / "bpe"
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="</s>").save_pretrained(folder)
    return str(folder), "BPE (8k) trained on the sample"


def bench_sample(home: Path) -> dict:
    started = time.perf_counter()
    info = ensure_sample(home)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "rows": info.manifest["rows"],
        "templates": info.manifest["templates"],
        "content_hash": info.content_hash,
        "domains": {d["name"]: d["questions"] for d in info.manifest["domains"]},
    }


def bench_prepare(tokenizer: str) -> dict:
    started = time.perf_counter()
    version = prepare_dataset("sample", PrepareOptions(name="bench"), tokenizer=tokenizer, block_size=1024)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "train": version.train_rows,
        "eval": version.eval_rows,
        "truncated_at_1024": version.counts["tokens"]["truncated"],
        "token_summary": version.counts["tokens"]["summary"],
    }


def make_csv(path: Path, megabytes: int) -> int:
    """A CSV of about `megabytes` MB: sample rows repeated with distinct questions, plus a few bad rows."""
    frame = ensure_sample().frame()[["db_id", "context", "question", "answer"]]
    block = frame.to_csv(index=False, header=False).encode()
    rows = 0
    with path.open("wb") as f:
        f.write(b"db_id,context,question,answer\n")
        copy = 0
        while f.tell() < megabytes * 1_000_000:
            f.write(
                frame.assign(question=frame["question"] + f" ({copy})")
                .to_csv(index=False, header=False)
                .encode()
                if copy
                else block
            )
            rows += len(frame)
            copy += 1
        f.write(b"1,,missing context,SELECT 1\n")
    return rows + 1


def bench_check(megabytes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        rows = make_csv(path, megabytes)
        size = path.stat().st_size
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, cwd=REPO, check=False
        )
        seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"check failed: {proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    report, peak_kb = json.loads(lines[-2]), int(lines[-1])
    return {
        "file_mb": round(size / 1e6, 1),
        "rows_written": rows,
        "rows_kept": report["rows"],
        "dropped": report["dropped"],
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


# `python -m studio data check FILE`, then the child's own peak RSS: VmHWM belongs to this process image
# (ru_maxrss would also count the parent's memory copied at fork time).
_CHILD = """
import re, sys
from pathlib import Path
from studio.cli import main
code = main(["data", "check", sys.argv[1]])
print(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
sys.exit(code)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-mb", type=int, default=100)
    parser.add_argument(
        "--tokenizer", help="tokenizer folder (default: the offline model's, else a local BPE)"
    )
    args = parser.parse_args()
    os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="bench-data-"))
    home = load_settings().home
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        }
    }
    results["sample_build"] = bench_sample(home)
    tokenizer, tokenizer_name = (args.tokenizer, args.tokenizer) if args.tokenizer else default_tokenizer()
    results["prepare_sample"] = {"tokenizer": tokenizer_name, **bench_prepare(tokenizer)}
    results["check_csv"] = bench_check(args.csv_mb)
    results["targets"] = {"prepare_sample_s": 60, "check_100mb_peak_mb": 1024}
    results["table"] = [
        {
            "benchmark": "data",
            "measure": "sample generation",
            "value": results["sample_build"]["seconds"],
            "unit": "s",
            "note": f"{results['sample_build']['rows']} questions, 8 SQLite databases",
        },
        {
            "benchmark": "data",
            "measure": "prepare whole sample",
            "value": results["prepare_sample"]["seconds"],
            "unit": "s",
            "note": f"validate, run every gold SQL, tokenize ({tokenizer_name}); target < 60 s",
        },
        {
            "benchmark": "data",
            "measure": f"check {results['check_csv']['file_mb']} MB CSV, peak memory",
            "value": results["check_csv"]["peak_rss_mb"],
            "unit": "MB",
            "note": f"{results['check_csv']['seconds']} s, {results['check_csv']['rows_kept']} rows; target < 1024 MB",
        },
    ]
    print(
        f"sample build           {results['sample_build']['seconds']:>8} s   "
        f"({results['sample_build']['rows']} rows, {results['sample_build']['templates']} templates)"
    )
    print(
        f"prepare whole sample   {results['prepare_sample']['seconds']:>8} s   "
        f"(validate + execute every gold SQL + tokenize with {tokenizer_name}; target < 60 s)"
    )
    print(
        f"check {results['check_csv']['file_mb']} MB CSV    {results['check_csv']['seconds']:>8} s   "
        f"peak {results['check_csv']['peak_rss_mb']} MB (target < 1024 MB)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written: {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()

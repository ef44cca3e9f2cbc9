"""Playground latency with the offline default model on this machine: load once, then time per answer."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.inference import GenerationOptions, get_generator  # noqa: E402
from studio.models import resolve_model  # noqa: E402
from studio.prompts import make_prompt  # noqa: E402
from studio.settings import DEFAULT_MODEL  # noqa: E402
from studio.ui.examples import GAME_DDL, QUESTIONS  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "playground.json"


def main() -> None:
    started = time.perf_counter()
    path = resolve_model(DEFAULT_MODEL)
    prepared = time.perf_counter() - started
    started = time.perf_counter()
    generator = get_generator(path)
    loaded = time.perf_counter() - started
    options = GenerationOptions(max_new_tokens=128)
    timings, tokens = [], []
    for question in QUESTIONS:
        started = time.perf_counter()
        completion = generator.generate([make_prompt(GAME_DDL, question)], options)[0]
        timings.append(time.perf_counter() - started)
        tokens.append(completion.new_tokens)
    per_answer = statistics.median(timings)
    rate = sum(tokens) / sum(timings)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    result = {
        "machine": machine, "model": DEFAULT_MODEL, "max_new_tokens": options.max_new_tokens,
        "prepare_seconds": round(prepared, 2), "load_seconds": round(loaded, 2),
        "answer_seconds": [round(t, 2) for t in timings], "new_tokens": tokens,
        "table": [
            {"benchmark": "playground", "measure": "model load (cached after)", "value": round(loaded, 1),
             "unit": "s", "note": machine},
            {"benchmark": "playground", "measure": "time per answer (median of 4, game DDL)",
             "value": round(per_answer, 1), "unit": "s", "note": f"≤{options.max_new_tokens} new tokens"},
            {"benchmark": "playground", "measure": "generation speed", "value": round(rate, 1),
             "unit": "tokens/s", "note": "batch of 1, fp32, CPU"},
        ],
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result["table"], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

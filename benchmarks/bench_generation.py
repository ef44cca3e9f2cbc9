"""Generating evaluation answers: the book's way against the studio's engine, side by side in one run.

The book's way: a `text-generation` pipeline, one prompt at a time, greedy, a fixed token budget.
The studio's way: `studio.inference` — length-sorted, left-padded batches that stop as soon as every
answer has finished its statement. Same model, same CPU, same prompts (the bundled game-domain set).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.data import ensure_sample  # noqa: E402
from studio.inference import GenerationOptions, get_generator  # noqa: E402
from studio.models import resolve_model  # noqa: E402
from studio.prompts import extract_sql, make_prompt  # noqa: E402
from studio.settings import DEFAULT_MODEL  # noqa: E402

PROMPTS = int(os.environ.get("BENCH_GENERATION_PROMPTS", "32"))
MAX_NEW_TOKENS = 128
OUT = Path(__file__).resolve().parent / "results" / "generation.json"


def game_prompts(count: int) -> list[str]:
    rows = ensure_sample().frame()
    game = rows[rows["db_id"] == "1"].head(count)
    return [make_prompt(r.context, r.question) for r in game.itertuples()]


def book_way(path: Path, prompts: list[str]) -> tuple[float, list[str]]:
    from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

    tokenizer = AutoTokenizer.from_pretrained(path)
    pipe = pipeline("text-generation", model=AutoModelForCausalLM.from_pretrained(path), tokenizer=tokenizer,
                    device="cpu")
    started = time.perf_counter()
    outputs = [pipe(p, do_sample=False, max_new_tokens=MAX_NEW_TOKENS, return_full_text=False)[0]["generated_text"]
               for p in prompts]
    return time.perf_counter() - started, outputs


def studio_way(path: Path, prompts: list[str]) -> tuple[float, list[str]]:
    generator = get_generator(path)
    started = time.perf_counter()
    completions = generator.generate(prompts, GenerationOptions(max_new_tokens=MAX_NEW_TOKENS, batch_size=16))
    return time.perf_counter() - started, [c.text for c in completions]


def main() -> None:
    path = resolve_model(DEFAULT_MODEL)
    prompts = game_prompts(PROMPTS)
    studio_s, studio_out = studio_way(path, prompts)
    book_s, book_out = book_way(path, prompts)
    same_sql = sum(extract_sql(a) == extract_sql(b) for a, b in zip(book_out, studio_out))
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    result = {
        "machine": machine, "model": DEFAULT_MODEL, "prompts": len(prompts), "max_new_tokens": MAX_NEW_TOKENS,
        "book_seconds": round(book_s, 1), "studio_seconds": round(studio_s, 1),
        "speedup": round(book_s / studio_s, 1), "same_extracted_sql": same_sql,
        "table": [
            {"benchmark": "generation", "measure": f"book's way ({len(prompts)} game prompts, pipeline, one at a time)",
             "value": round(book_s, 1), "unit": "s", "note": machine},
            {"benchmark": "generation", "measure": "studio engine (batched, stops at the statement's end)",
             "value": round(studio_s, 1), "unit": "s", "note": machine},
            {"benchmark": "generation", "measure": "speed-up, same model and CPU", "value": round(book_s / studio_s, 1),
             "unit": "×", "note": f"same extracted SQL in {same_sql}/{len(prompts)}"},
        ],
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result["table"], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

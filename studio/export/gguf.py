"""A merged model as a GGUF file for llama.cpp and Ollama, written with the `gguf` package (llama.cpp's own
Python writer, on PyPI), in f16 or quantized to Q8_0.

What llama.cpp's convert_hf_to_gguf.py does for a Llama-architecture model, and no more: the hyperparameters,
the BPE tokenizer (tokens, types, merges, special ids, chat template), and the tensors under llama.cpp's names,
with the query and key projections permuted into llama.cpp's rotary layout (readers undo it). Other
architectures are refused with a pointer to that script: a half-right GGUF would load and answer nonsense.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from studio.errors import StudioError

KINDS = {"f16": "F16", "q8_0": "Q8_0"}  # the file's type as users name it → the GGML type of its matrices
ARCHITECTURES = ("LlamaForCausalLM",)
Progress = Callable[[int, int], None]


def write_gguf(folder: Path, output: Path, kind: str = "q8_0", progress: Progress | None = None) -> Path:
    """Write the model in `folder` (a merged model: config, safetensors, tokenizer) to `output`."""
    import gguf

    if kind not in KINDS:
        raise StudioError("GGUF type {kind!r}: choose one of {known}", key="gguf_bad_kind", kind=kind,
                          known=", ".join(KINDS))
    config = _llama_config(folder)
    writer = gguf.GGUFWriter(output, "llama")
    _add_hyperparameters(writer, config, folder.name, kind)
    _add_tokenizer(writer, folder, config)
    _add_tensors(writer, folder, config, getattr(gguf.GGMLQuantizationType, KINDS[kind]), progress)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return output


def _llama_config(folder: Path) -> dict:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    architecture = (config.get("architectures") or ["?"])[0]
    if architecture not in ARCHITECTURES:
        raise StudioError("GGUF export writes Llama-architecture models; {architecture} is not one: convert the "
                          "merged folder {folder} with llama.cpp's convert_hf_to_gguf.py", key="gguf_architecture",
                          architecture=architecture, folder=folder)
    return config


def _add_hyperparameters(writer, config: dict, name: str, kind: str) -> None:
    import gguf

    heads = config["num_attention_heads"]
    rope = config.get("rope_theta") or (config.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    writer.add_name(name)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(config.get("num_key_value_heads") or heads)
    writer.add_rope_freq_base(float(rope))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_dimension_count(config.get("head_dim") or config["hidden_size"] // heads)
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0 if kind == "q8_0" else gguf.LlamaFileType.MOSTLY_F16)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)


def _add_tokenizer(writer, folder: Path, config: dict) -> None:
    """A BPE tokenizer as llama.cpp's "gpt2" model: every id's token and type, the merges, the special ids."""
    import gguf
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    by_id = {index: token for token, index in tokenizer.get_vocab().items()}
    added = tokenizer.get_added_vocab()
    special = set(tokenizer.all_special_tokens)
    tokens, types = [], []
    for index in range(max(config["vocab_size"], len(by_id))):
        token = by_id.get(index)
        tokens.append(token if token is not None else f"[PAD{index}]")
        if token is None:
            types.append(gguf.TokenType.UNUSED)
        elif token in added:
            types.append(gguf.TokenType.CONTROL if token in special else gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm" if "smollm" in json.dumps(config).lower() else "default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    gguf.SpecialVocab(folder, load_merges=True, n_vocab=len(tokens)).add_to_gguf(writer)


def _add_tensors(writer, folder: Path, config: dict, qtype, progress: Progress | None) -> None:
    import gguf

    names = gguf.TensorNameMap(gguf.MODEL_ARCH.LLAMA, config["num_hidden_layers"])
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads") or heads
    files = _tensor_keys(folder)
    total = sum(len(keys) for _, keys in files)
    for done, (key, data) in enumerate(_tensors(files), start=1):
        if key == "lm_head.weight" and config.get("tie_word_embeddings"):
            continue  # llama.cpp reuses token_embd, as the model does
        name = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise StudioError("GGUF export does not know the tensor {tensor} of {folder}", key="gguf_tensor",
                              tensor=key, folder=folder.name)
        if key.endswith("q_proj.weight"):
            data = _permute(data, heads, heads)
        elif key.endswith("k_proj.weight"):
            data = _permute(data, heads, kv_heads)
        _add_tensor(writer, name, data, qtype)
        if progress:
            progress(done, total)


def _tensor_keys(folder: Path) -> list[tuple[Path, list[str]]]:
    """Each safetensors file and the tensors it holds (its header only)."""
    from safetensors import safe_open

    files = []
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(path, "np") as tensors:
            files.append((path, list(tensors.keys())))
    return files


def _tensors(files: list[tuple[Path, list[str]]]) -> Iterator[tuple[str, np.ndarray]]:
    """Every tensor as fp32, each file opened once."""
    from safetensors import safe_open

    for path, keys in files:
        with safe_open(path, "pt") as tensors:  # "pt": numpy has no bfloat16
            for key in keys:
                yield key, tensors.get_tensor(key).float().numpy()


def _add_tensor(writer, name: str, data: np.ndarray, qtype) -> None:
    import gguf

    if data.ndim == 1:  # norms stay f32, as llama.cpp keeps them
        writer.add_tensor(name, data.astype(np.float32))
    elif qtype == gguf.GGMLQuantizationType.F16:
        writer.add_tensor(name, data.astype(np.float16))
    else:
        writer.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)


def _permute(weights: np.ndarray, heads: int, kv_heads: int) -> np.ndarray:
    """HF's rotary layout (halves) to llama.cpp's (interleaved pairs), as convert_hf_to_gguf.py permutes."""
    if kv_heads != heads:
        heads = kv_heads
    return (weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))

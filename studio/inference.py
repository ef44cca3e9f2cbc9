"""Generation engine shared by the Playground and evaluation.

A base model (+ an optional LoRA adapter) generates completions for many prompts at once: greedy decoding,
left-padded batches of similar length, and a stop as soon as every sequence has finished its SQL statement
(`;`, end of sequence, or a new `###` prompt section). `max_new_tokens` counts only generated tokens (the
book's `max_length` also counted the prompt and so truncated answers to long DDL).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluation.sql import extract_sql, statement_end
from studio.errors import StudioError

ProgressCallback = Callable[[int, int], None]  # (prompts done, prompts total)


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model: which adapter, on which device, in which precision."""

    adapter: Path | None = None
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "auto"  # auto (fp32 on CPU, bf16/fp16 on GPU) | float32 | float16 | bfloat16
    load_in_4bit: bool = False  # QLoRA-style 4-bit base, GPU only


@dataclass(frozen=True)
class GenerationOptions:
    max_new_tokens: int = 128
    batch_size: int = 8
    max_batch_tokens: int = 16384  # prompt+answer tokens per batch; bounds memory for long prompts

    def __post_init__(self):
        if not 1 <= self.max_new_tokens <= 4096:
            raise StudioError("max_new_tokens must be between 1 and 4096")
        if self.batch_size < 1:
            raise StudioError("batch_size must be at least 1")


@dataclass(frozen=True)
class Completion:
    prompt: str
    text: str  # the raw completion, without the prompt
    sql: str  # the first SQL statement extracted from it
    new_tokens: int


class Generator:
    """A loaded model and tokenizer; thread-safe (one generation at a time)."""

    def __init__(self, model_path: Path, options: LoadOptions = LoadOptions()):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.model_path = model_path
        self.options = options
        self.device = _pick_device(options.device)
        self._lock = threading.Lock()
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "left"  # decoder-only batches must end aligned
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token  # as the book: pad = eos
        model = AutoModelForCausalLM.from_pretrained(model_path, **_load_kwargs(options, self.device))
        if options.adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, options.adapter)
        if not options.load_in_4bit:
            model.to(self.device)
        model.eval()
        self.model = model
        self._torch = torch

    def generate(
        self,
        prompts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        progress: ProgressCallback | None = None,
    ) -> list[Completion]:
        """Greedy completions for `prompts`, in their order."""
        results: list[Completion | None] = [None] * len(prompts)
        lengths = [len(ids) for ids in self.tokenizer(list(prompts))["input_ids"]]
        done = 0
        with self._lock:
            for batch in _length_sorted_batches(lengths, options):
                for index, completion in zip(batch, self._generate_batch([prompts[i] for i in batch], options)):
                    results[index] = completion
                done += len(batch)
                if progress:
                    progress(done, len(prompts))
        return results  # type: ignore[return-value]

    def _generate_batch(self, prompts: list[str], options: GenerationOptions) -> list[Completion]:
        torch = self._torch
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        prompt_width = inputs["input_ids"].shape[1]
        stop = SqlStopCriteria(self.tokenizer, prompt_width)
        with torch.inference_mode():
            output = self.model.generate(
                **inputs,
                max_new_tokens=options.max_new_tokens,
                do_sample=False,
                num_beams=1,
                pad_token_id=self.tokenizer.pad_token_id,
                stopping_criteria=[stop],
            )
        completions = []
        for prompt, row in zip(prompts, output[:, prompt_width:]):
            tokens = [t for t in row.tolist() if t != self.tokenizer.pad_token_id]
            text = _cut_after_statement(self.tokenizer.decode(tokens, skip_special_tokens=True))
            completions.append(Completion(prompt=prompt, text=text, sql=extract_sql(text), new_tokens=len(tokens)))
        return completions


class SqlStopCriteria:
    """Per-sequence stop once the generated text holds a finished statement or a new `###` section."""

    def __init__(self, tokenizer, prompt_width: int):
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        generated = input_ids[:, self.prompt_width :]
        texts = self.tokenizer.batch_decode(generated, skip_special_tokens=True)
        return torch.tensor([_is_finished(t) for t in texts], device=input_ids.device)


def _is_finished(text: str) -> bool:
    return "###" in text or statement_end(text) is not None


def _cut_after_statement(text: str) -> str:
    """Drop what the model wrote after the statement's `;` or from a new `###` section on."""
    section = text.find("###")
    if section >= 0:
        text = text[:section]
    end = statement_end(text)
    return (text if end is None else text[: end + 1]).rstrip()


def _length_sorted_batches(lengths: list[int], options: GenerationOptions) -> list[list[int]]:
    """Indices grouped into batches of similar prompt length, each within the token budget."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    for index in order:
        current = batches[-1] if batches else None
        # The longest prompt comes first in each batch, so it sets the batch's width.
        width = lengths[current[0]] + options.max_new_tokens if current else 0
        if current and len(current) < options.batch_size and (len(current) + 1) * width <= options.max_batch_tokens:
            current.append(index)
        else:
            batches.append([index])
    return batches


def _pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise StudioError("a GPU (CUDA) was asked for, but none is available on this machine")
    return device


def _load_kwargs(options: LoadOptions, device: str) -> dict:
    import torch

    if options.load_in_4bit:
        if device != "cuda":
            raise StudioError("4-bit loading needs a CUDA GPU; use full precision on CPU")
        from transformers import BitsAndBytesConfig

        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   bnb_4bit_compute_dtype=torch.bfloat16)
        return {"quantization_config": quant, "device_map": {"": 0}}
    names = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if options.dtype == "auto":
        dtype = torch.float32 if device == "cpu" else (
            torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    elif options.dtype in names:
        dtype = names[options.dtype]
    else:
        raise StudioError(f"unknown dtype {options.dtype!r}: choose auto, float32, float16 or bfloat16")
    return {"dtype": dtype}


# Loaded models are kept across requests; two at most, because each holds its weights in memory.
_CACHE: OrderedDict[tuple, Generator] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 2


def get_generator(model_path: Path, options: LoadOptions = LoadOptions()) -> Generator:
    """A cached `Generator` for this model folder and load options."""
    key = (str(model_path), str(options.adapter), options.device, options.dtype, options.load_in_4bit)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        generator = _load(model_path, options)
        _CACHE[key] = generator
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return generator


def _load(model_path: Path, options: LoadOptions) -> Generator:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # load-time notes and progress bars are noise in a CLI or a UI log
    hf_logging.disable_progress_bar()
    try:
        return Generator(model_path, options)
    except StudioError:
        raise
    except (OSError, ValueError) as exc:
        raise StudioError(f"cannot load the model from {model_path}: {exc}") from None

"""Generation engine shared by the Playground and evaluation.

A base model (+ an optional LoRA adapter) generates completions for many prompts at once: greedy decoding in
batches, and each sequence stops as soon as it has finished its SQL statement (`;`, end of sequence, or a new
`###` prompt section). `max_new_tokens` counts only generated tokens (the book's `max_length` also counted the
prompt and so truncated answers to long DDL).

Evaluation prompts are mostly one long shared part (the instruction and the DDL of the evaluation database)
and a short question. With `prefix_cache` (the default) the prompts are grouped by the token prefix they
share, each group's prefix is run through the model once (continuing from the previous group's, with which
it shares the instruction), and its key/value cache is copied into every row of the batch that needs it;
only the rest of each prompt (the question) is computed per prompt, in parts of similar length. A greedy
loop over the model's forward pass then decodes the batch into a cache with room to grow, and a row leaves
the batch as soon as it finishes. Once few rows are left (the long answers), each step also checks tokens
drafted by prompt lookup (what followed the latest earlier occurrence of the row's last tokens: names copied
from the DDL, a clause or a loop repeated): the model keeps those it would have chosen itself, and the
rejected ones are masked out. Padding (between prefix and question, and before shorter questions) is
masked out and skipped by the position ids, so each row computes what it would alone: the answers are
those of one-at-a-time greedy `generate` (tests/test_inference_prefix.py checks it on the real model, and
benchmarks/bench_generation.py against the book's pipeline). In floating point, differently shaped
computations may round differently, so a near tie between two tokens could in principle go the other way;
none has been seen. Models whose cache is not a plain per-layer key/value cache (sliding windows, state
space layers) or whose generation config changes greedy choices (penalties, forced tokens) take the
`generate` path instead.
"""

from __future__ import annotations

import functools
import itertools
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
    prefix_cache: bool = True  # compute a prefix shared by several prompts once (see the module's docstring)
    draft_tokens: int = 10  # prompt lookup: at most this many tokens a row checked per step (0: off)
    # Schema-constrained decoding (studio/constraints.py) for the prompts given a DDL; off: free decoding.
    constrained: bool = True

    def __post_init__(self):
        if not 1 <= self.max_new_tokens <= 4096:
            raise StudioError("max_new_tokens must be between 1 and 4096", key="gen_max_new_tokens")
        if self.batch_size < 1:
            raise StudioError("batch_size must be at least 1", key="gen_batch_size")
        if self.draft_tokens < 0:
            raise StudioError("draft_tokens must be 0 or more", key="gen_draft_tokens")


@dataclass(frozen=True)
class Sampling:
    """A row's answer drawn at random instead of greedily: each token from the model's distribution at
    `temperature` (within the row's grammar when constrained: masked first, then drawn). The draws come from
    the row's own generator seeded with `seed`, one draw per token taken, so the same seed gives the same
    answer whatever else is in the batch (up to floating-point rounding of differently shaped batches)."""

    seed: int
    temperature: float = 0.7

    def __post_init__(self):
        if not 0.01 <= self.temperature <= 5:
            raise StudioError("temperature must be between 0.01 and 5", key="gen_temperature")


@dataclass(frozen=True)
class Completion:
    prompt: str
    text: str  # the raw completion, without the prompt
    sql: str  # the first SQL statement extracted from it
    new_tokens: int
    problem: str = ""  # why a constrained answer ended before its statement did (empty: it did not)


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
        self._eos = _eos_ids(model.generation_config)
        self._shares_prefixes = _plain_kv_cache(model.config) and _plain_greedy(model.generation_config)
        self._constraints = None  # built on first constrained use (llguidance's vocabulary, ~0.3 s)

    def generate(
        self,
        prompts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        progress: ProgressCallback | None = None,
        ddls: Sequence[str | None] | None = None,
        sampling: Sequence[Sampling | None] | None = None,
    ) -> list[Completion]:
        """Greedy completions for `prompts`, in their order. `progress` hears of every prompt answered (on the
        shared-prefix path as soon as its row finishes, not only when its batch does). With `ddls` (each
        prompt's DDL) and `options.constrained`, each answer is the greedy one within its DDL's SQL grammar.
        `sampling` (one per prompt, None: greedy) draws a prompt's answer at random instead; to get several
        answers to one prompt, repeat it (its shared prefix is still computed once)."""
        ids = self.tokenizer(list(prompts))["input_ids"]
        rules = self._row_constraints(ddls, len(prompts)) if options.constrained and ddls else [None] * len(ids)
        steering = list(zip(rules, self._samplers(sampling, len(prompts))))  # each row's (constraint, sampler)
        done = 0

        def answered_rows(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, len(prompts))

        # A prompt of one token has no prefix to share and no suffix to start from: the plain path takes it.
        if options.prefix_cache and self._shares_prefixes and all(len(t) > 1 for t in ids):
            groups = _shared_prefix_groups(ids)
            batches = _prefix_batches(groups, ids, options)
            answered = self._generate_shared(batches, ids, groups, steering, options, answered_rows)
        else:
            batches = _length_sorted_batches([len(t) for t in ids], options)
            answered = self._generate_plain(batches, ids, steering, options, answered_rows)
        results: list[Completion | None] = [None] * len(prompts)
        with self._lock, self._torch.inference_mode():  # the generators above start computing only here
            for batch, tokens in answered:
                for index, generated in zip(batch, tokens):
                    results[index] = self._completion(prompts[index], generated, rules[index])
        return results  # type: ignore[return-value]

    def _samplers(self, sampling: Sequence[Sampling | None] | None, count: int) -> list[_Sampler | None]:
        if sampling is None:
            return [None] * count
        if len(sampling) != count:
            raise ValueError("one Sampling (or None) per prompt")
        return [None if s is None else _Sampler(s, self.device) for s in sampling]

    def _row_constraints(self, ddls: Sequence[str | None], count: int) -> list:
        if len(ddls) != count:
            raise ValueError("one DDL (or None) per prompt")
        if self._constraints is None:
            from studio.constraints import SchemaConstraints

            self._constraints = SchemaConstraints(self.tokenizer, self._eos)
        return [self._constraints.for_ddl(ddl) for ddl in ddls]

    def _completion(self, prompt: str, generated: list[int], rule) -> Completion:
        tokens = [t for t in generated if t != self.tokenizer.pad_token_id]
        text = _cut_after_statement(self.tokenizer.decode(tokens, skip_special_tokens=True))
        problem = ""
        if rule is not None:
            problem = rule.problem or ("" if statement_end(text) is not None else UNFINISHED)
        return Completion(prompt=prompt, text=text, sql=extract_sql(text), new_tokens=len(tokens),
                          problem=problem)

    # --- the plain path: transformers' generate on left-padded batches --------------------------------------

    def _generate_plain(self, batches, ids, steering, options, answered_rows):
        for batch in batches:
            yield batch, self._generate_batch([ids[i] for i in batch], [steering[i] for i in batch], options)
            answered_rows(len(batch))

    def _generate_batch(self, ids: list[list[int]], steering: list, options: GenerationOptions) -> list[list[int]]:
        inputs = self.tokenizer.pad({"input_ids": ids}, return_tensors="pt").to(self.device)
        prompt_width = inputs["input_ids"].shape[1]
        steered = any(part is not None for row in steering for part in row)
        output = self.model.generate(
            **inputs,
            max_new_tokens=options.max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.tokenizer.pad_token_id,
            stopping_criteria=[SqlStopCriteria(self.tokenizer, prompt_width)],
            logits_processor=[_RowProcessor(self, steering, prompt_width)] if steered else None,
        )
        return output[:, prompt_width:].tolist()

    # --- the shared-prefix path: each group's prefix once, then a greedy loop over forward passes ---------

    def _generate_shared(self, batches, ids, groups, steering, options, answered_rows):
        group_of = {index: number for number, group in enumerate(groups) for index in group.members}
        unanswered = [len(group.members) for group in groups]
        states: dict[int, _Prefix] = {}  # the prefixes of the groups in use, by group number
        last = _Prefix([], [])
        for batch in batches:
            for number in sorted({group_of[i] for i in batch} - states.keys()):  # in token order: see _prefix
                group = groups[number]
                states[number] = last = self._prefix(ids[group.members[0]][: group.length], last)
            # By suffix length: the prefill takes neighbouring rows together (see _prefill).
            batch = sorted(batch, key=lambda i: len(ids[i]) - groups[group_of[i]].length)
            rows = [_Row(ids[i], groups[group_of[i]].length, states[group_of[i]].states, steering[i])
                    for i in batch]
            yield batch, self._decode(rows, options, answered_rows)
            for i in batch:  # a group's prefix is dropped once all its prompts are answered
                unanswered[group_of[i]] -= 1
                if not unanswered[group_of[i]]:
                    del states[group_of[i]]

    def _prefix(self, tokens: list[int], known: _Prefix) -> _Prefix:
        """A prefix and its per-layer (keys, values), batch of one. It starts from the tokens it shares with
        `known` (the previous group's prefix: groups come in token order, so neighbours share the most, e.g.
        the instruction before their different DDL)."""
        reuse = _common_length(tokens, known.tokens)
        cached = [(k[:, :, :reuse], v[:, :, :reuse]) for k, v in known.states] if reuse else []
        if reuse == len(tokens):
            return _Prefix(tokens, cached)
        from transformers import DynamicCache

        rest = self._torch.tensor([tokens[reuse:]], device=self.device)
        # The cache's length places the new tokens after the reused ones (positions and causal mask alike).
        cache = self.model(input_ids=rest, past_key_values=DynamicCache(cached) if cached else None,
                           use_cache=True, logits_to_keep=1).past_key_values
        return _Prefix(tokens, [(layer.keys, layer.values) for layer in cache.layers])

    def _decode(self, rows: list[_Row], options: GenerationOptions,
                answered_rows: Callable[[int], None]) -> list[list[int]]:
        """Greedy tokens for a batch of rows: prefill their suffixes on their prefixes' caches, then decode;
        a row leaves the batch once finished, so the others no longer wait for it. A step also checks
        tokens drafted from each row's own text (see _draft) when that pays (see _draft_length): every drafted
        token the model agrees with is a step saved."""
        torch = self._torch
        cache, mask, positions, logits = self._prefill(rows, options)
        generated: list[list[int]] = [[] for _ in rows]
        active = list(range(len(rows)))  # the rows still in the batch, in the cache's order
        # per active row, the tokens the model chose last step
        chosen = [self._choose(row_logits[None], [], *rows[row].steering)[0] for row, row_logits in enumerate(logits)]
        drafted, taken = [0] * len(rows), [0] * len(rows)  # per row, drafted tokens and those the model took
        while True:
            keep = [slot for slot, row in enumerate(active)
                    if not self._take(generated[row], chosen[slot], options)]
            if len(keep) < len(active):
                answered_rows(len(active) - len(keep))
                if not keep:
                    return generated
                index = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(index)
                mask, positions = mask[index], positions[index]
                active = [active[slot] for slot in keep]
            acceptance = [(taken[row] + 1) / (drafted[row] + 2) for row in active]  # 1/2 before any draft
            limit = _draft_length(acceptance, options.draft_tokens)
            drafts = [_draft(rows[row].ids + generated[row],
                             min(limit, options.max_new_tokens - len(generated[row]) - 1)) for row in active]
            inputs, mask = self._step_inputs([generated[row][-1] for row in active], drafts, mask)
            width = inputs.shape[1]
            steps = torch.arange(1, width + 1, device=self.device)
            logits = self._forward(inputs, mask, positions + steps, cache, keep=width)
            choices = [self._choose(step_logits, d, *rows[row].steering)
                       for row, d, step_logits in zip(active, drafts, logits)]
            chosen, agreed = [c for c, _ in choices], [a for _, a in choices]
            for row, d, a in zip(active, drafts, agreed):
                drafted[row], taken[row] = drafted[row] + len(d), taken[row] + a
            positions = positions + 1 + torch.tensor(agreed, device=self.device)[:, None]
            mask = self._drop_rejected(cache, mask, width, agreed)

    def _choose(self, logits, draft: list[int], rule, sampler=None) -> tuple[list[int], int]:
        """The tokens a row takes this step from its logits at each of its positions (its last token, then
        each drafted one): the model's choice at the first position, and at each next one while the model
        chose the drafted token before it. Under a schema constraint each choice is made within the grammar
        (masked logits), and the grammar is fed every token taken; a row the grammar lets go no further
        takes an end-of-sequence token. A sampled row draws its choice (one draw per token taken, so drafting
        does not change what it draws)."""
        if rule is None and sampler is None:
            predicted = logits.argmax(-1).tolist()
            agreed = _agreeing(draft, predicted)
            return predicted[: agreed + 1], agreed
        chosen: list[int] = []
        for position in range(len(draft) + 1):
            if rule is not None and not rule.mask_logits(logits[position], self._constraints.bitmask()):
                chosen.append(self._stop_token)
                break
            token = sampler.pick(logits[position]) if sampler else int(logits[position].argmax())
            if rule is not None:
                rule.take(token)
            chosen.append(token)
            if position == len(draft) or token != draft[position]:
                break
        return chosen, len(chosen) - 1

    @property
    def _stop_token(self) -> int:
        return min(self._eos) if self._eos else self.tokenizer.pad_token_id

    def _step_inputs(self, last: list[int], drafts: list[list[int]], mask):
        """A step's input ids, each row's last token and its drafted ones (padded to the longest draft), and
        the attention mask grown by them (padding masked)."""
        torch = self._torch
        width = 1 + max(map(len, drafts))
        pad = self.tokenizer.pad_token_id
        inputs = torch.tensor([[token, *d] + [pad] * (width - 1 - len(d)) for token, d in zip(last, drafts)],
                              device=self.device)
        grown = torch.tensor([[1] * (1 + len(d)) + [0] * (width - 1 - len(d)) for d in drafts],
                             device=self.device)
        return inputs, torch.cat([mask, grown], dim=1)

    def _take(self, generated: list[int], tokens: list[int], options: GenerationOptions) -> bool:
        """Add the model's tokens to a row's answer up to where it finishes; whether it has."""
        for token in tokens:
            generated.append(token)
            if self._finished(generated, options):
                return True
        return False

    def _drop_rejected(self, cache, mask, width: int, agreed: list[int]):
        """After a step of `width` tokens a row, hide the drafted tokens a row's model did not agree with
        (masked, so later tokens never see them) and give back the cache columns no row uses any more."""
        length = mask.shape[1]
        for slot, kept in enumerate(agreed):
            mask[slot, length - width + 1 + kept :] = 0
        unused = width - 1 - max(agreed)
        if unused:
            for layer in cache.layers:
                layer.show(length - unused)
            mask = mask[:, : length - unused]
        return mask

    def _prefill(self, rows: list[_Row], options: GenerationOptions):
        """The batch's cache, attention mask, last positions and first logits, once its rows' suffixes are
        computed on their prefixes. Every row ends at the same index of the cache, the layout being
        [pad…][prefix][pad…][suffix] (see _batch_layout). The suffixes go in parts of rows of similar
        length (the rows come sorted by it), so that little padding is computed: a part writes into its
        rows of the batch's cache and leaves masked room before its shorter suffixes."""
        torch = self._torch
        prefix_width, end = _batch_layout(rows)
        cache = _batch_cache(rows, prefix_width, capacity=end + _ROOM)
        mask = _batch_mask(rows, prefix_width, end, self.device)
        suffixes = [r.ids[r.prefix :] for r in rows]
        logits, positions = [], []
        pad = self.tokenizer.pad_token_id
        for start, stop in _prefill_parts([len(s) for s in suffixes]):
            part = suffixes[start:stop]
            width = max(len(s) for s in part)
            inputs = torch.tensor([[pad] * (width - len(s)) + s for s in part], device=self.device)
            part_mask = mask[start:stop]
            part_positions = (part_mask.cumsum(-1) - 1).clamp(min=0)[:, -width:]
            part_cache = _cache_rows(cache, start, stop, end - width)
            logits.append(self._forward(inputs, part_mask, part_positions, part_cache)[:, -1])
            positions.append(part_positions[:, -1:])
        for layer in cache.layers:
            layer.show(end)
        return cache, mask, torch.cat(positions), torch.cat(logits)

    def _forward(self, inputs, mask, positions, cache, keep: int = 1):
        # Only the last `keep` positions' logits are needed (the vocabulary projection is large).
        return self.model(input_ids=inputs, attention_mask=mask, position_ids=positions,
                          past_key_values=cache, use_cache=True, logits_to_keep=keep).logits

    def _finished(self, generated: list[int], options: GenerationOptions) -> bool:
        """The plain path's stop rules: the token budget, an end-of-sequence token, or SqlStopCriteria."""
        if len(generated) >= options.max_new_tokens or generated[-1] in self._eos:
            return True
        return _is_finished(self.tokenizer.decode(generated, skip_special_tokens=True))


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


class _RowProcessor:
    """The plain path's schema constraint and sampling (`generate` itself stays greedy): each step, feed every
    constrained row its last token and mask what its grammar forbids next; a sampled row then draws its token,
    which is left the only one possible (rows that ended keep receiving padding and are left as they are)."""

    def __init__(self, generator: Generator, steering: list, prompt_width: int):
        """`steering`: per row, (its RowConstraint or None, its _Sampler or None)."""
        self.generator, self.steering, self.prompt_width = generator, steering, prompt_width
        self.ended = [False] * len(steering)

    def __call__(self, input_ids, scores):
        generated = input_ids.shape[1] - self.prompt_width
        for row, (rule, sampler) in enumerate(self.steering):
            if (rule is None and sampler is None) or self.ended[row]:
                continue
            if generated:
                last = int(input_ids[row, -1])
                if last in self.generator._eos or last == self.generator.tokenizer.pad_token_id:
                    self.ended[row] = True
                    continue
                if rule is not None:
                    rule.take(last)
            if rule is not None and not rule.mask_logits(scores[row], self.generator._constraints.bitmask()):
                self._only(scores, row, self.generator._stop_token)
            elif sampler is not None:
                self._only(scores, row, sampler.pick(scores[row]))
        return scores

    @staticmethod
    def _only(scores, row: int, token: int) -> None:
        scores[row].fill_(float("-inf"))
        scores[row, token] = 0.0


class _Sampler:
    """A sampled row's draws: its own seeded generator, so rows never share random state."""

    def __init__(self, sampling: Sampling, device: str):
        import torch

        self.temperature = sampling.temperature
        self.generator = torch.Generator(device=device).manual_seed(sampling.seed)

    def pick(self, logits) -> int:
        """A token drawn from softmax(logits / temperature); masked (-inf) tokens have no chance."""
        import torch

        probabilities = torch.softmax(logits.float() / self.temperature, dim=-1)
        return int(torch.multinomial(probabilities, 1, generator=self.generator))


# Why a constrained answer did not end its statement: the token budget ran out first.
UNFINISHED = "the token budget ran out before the statement ended"


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
    return _batches(sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True), lengths, options)


def _batches(order: list[int], lengths: list[int], options: GenerationOptions) -> list[list[int]]:
    """`order` cut into consecutive batches of at most `batch_size` rows and `max_batch_tokens` tokens
    (each row counted as wide as the batch's longest prompt plus the answer)."""
    batches: list[list[int]] = []
    width = 0
    for index in order:
        current = batches[-1] if batches else None
        wider = max(width, lengths[index] + options.max_new_tokens)
        room = current and len(current) < options.batch_size
        if room and (len(current) + 1) * wider <= options.max_batch_tokens:
            current.append(index)
            width = wider
        else:
            batches.append([index])
            width = lengths[index] + options.max_new_tokens
    return batches


# --- shared prefixes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefixGroup:
    """Prompts whose first `length` tokens are the same: that prefix is computed once for all of them."""

    length: int
    members: list[int]  # prompt indices


@dataclass(frozen=True)
class _Prefix:
    tokens: list[int]
    states: list  # per layer (keys, values), each (1, heads, len(tokens), head_dim)


@dataclass(frozen=True)
class _Row:
    ids: list[int]  # the whole prompt
    prefix: int  # how many of its first tokens `states` already holds
    states: list  # the prefix's per-layer (keys, values), batch of one
    steering: tuple = (None, None)  # its schema constraint (studio.constraints.RowConstraint) and _Sampler, if any


# A group spans at most this many neighbouring prompts: it keeps the grouping linear in the number of
# prompts and costs one more prefix pass per 256 prompts of a group.
_GROUP_WINDOW = 256


def _shared_prefix_groups(ids: list[list[int]], window: int = _GROUP_WINDOW) -> list[PrefixGroup]:
    """Prompts grouped so that the fewest prompt tokens are computed in all, each group's prefix once.

    Sorted by their tokens, prompts sharing a prefix are neighbours; a run of neighbours shares the
    smallest prefix two of them share, and grouping n prompts on a prefix of p tokens saves (n - 1) * p.
    A dynamic programme picks the runs that save the most (a prompt sharing nothing stays alone). Each
    prompt keeps at least its last token out of the prefix: the logits that start its answer come from there.
    """
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    links = [min(_common_length(ids[a], ids[b]), len(ids[a]) - 1, len(ids[b]) - 1)
             for a, b in itertools.pairwise(order)]
    saved = [0] * (len(order) + 1)  # saved[end]: the most tokens saved by grouping order[:end]
    start = list(range(-1, len(order)))  # start[end]: where the last group of that best grouping starts
    for end in range(2, len(order) + 1):
        saved[end] = saved[end - 1]
        shared = None
        for first in range(end - 2, max(-1, end - 1 - window), -1):
            shared = links[first] if shared is None else min(shared, links[first])
            if saved[first] + (end - 1 - first) * shared > saved[end]:
                saved[end], start[end] = saved[first] + (end - 1 - first) * shared, first
    groups = []
    end = len(order)
    while end > 0:
        first = start[end]
        members = order[first:end]
        length = min(links[first : end - 1]) if len(members) > 1 else len(ids[members[0]]) - 1
        groups.append(PrefixGroup(length, members))
        end = first
    return groups[::-1]


def _common_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _prefix_batches(groups: list[PrefixGroup], ids: list[list[int]],
                    options: GenerationOptions) -> list[list[int]]:
    """Batches that take the groups in order, so that the prefixes of few groups are alive at once."""
    return _batches([i for group in groups for i in group.members], [len(t) for t in ids], options)


# A prefill part holds about this many suffix tokens: enough for a CPU's matrix units to run at full speed,
# few enough that the parts' rows are of similar length (with one part for the whole batch, a quarter of
# the suffix tokens computed were padding, on the benchmark's evaluation prompts).
_PREFILL_TOKENS = 512


def _prefill_parts(lengths: list[int], tokens: int = _PREFILL_TOKENS) -> list[tuple[int, int]]:
    """(start, stop) of runs of rows (sorted by length) of about `tokens` tokens each, padding included."""
    parts: list[tuple[int, int]] = []
    start = 0
    for stop in range(1, len(lengths) + 1):
        if stop == len(lengths) or (stop + 1 - start) * max(lengths[start : stop + 1]) > tokens:
            parts.append((start, stop))
            start = stop
    return parts


# --- prompt lookup ---------------------------------------------------------------------------------------

# A decoding step costs about this many tokens' worth of computation before any token is computed: the
# weights are read once a step, however many tokens the batch holds. Measured on SmolLM2-135M, 2 cores: one
# row of 1 token 47 ms, of 16 tokens 81 ms; 8 rows of 1 token 82 ms, of 8 tokens 208 ms (~2.2 ms a token).
_STEP_COST_TOKENS = 24
_DRAFT_NGRAM = 3


def _draft_length(acceptance: list[float], limit: int) -> int:
    """How many tokens to draft a row this step: the number that yields the most tokens per unit of cost, a
    step costing _STEP_COST_TOKENS plus the tokens it computes (rows x (1 + drafted)). A row whose drafted
    tokens were taken at rate p yields 1 + p + ... + p^k tokens a step from k drafted ones. So a big batch
    drafts only when the model has been taking nearly every drafted token (a copied DDL, a loop), and a
    batch of a few rows drafts even at a modest rate."""
    def tokens_per_cost(k: int) -> float:
        expected = sum((1 - p ** (k + 1)) / (1 - p) for p in acceptance)
        return expected / (_STEP_COST_TOKENS + len(acceptance) * (k + 1))

    return max(range(limit + 1), key=tokens_per_cost)


def _draft(tokens: list[int], limit: int, ngram: int = _DRAFT_NGRAM) -> list[int]:
    """Prompt lookup: the tokens that followed the latest earlier occurrence of the text's last few tokens.
    SQL copies table and column names from the DDL and repeats its own clauses, and a model stuck in a loop
    repeats itself exactly, so these are often the very tokens greedy decoding would choose."""
    if limit <= 0:
        return []
    for n in range(min(ngram, len(tokens) - 1), 0, -1):
        tail = tokens[-n:]
        for start in range(len(tokens) - n - 1, -1, -1):
            if tokens[start : start + n] == tail:
                return tokens[start + n : start + n + limit]
    return []


def _agreeing(draft: list[int], predicted: list[int]) -> int:
    """How many leading drafted tokens are the ones the model chose (each given the ones before it)."""
    agreed = 0
    while agreed < len(draft) and draft[agreed] == predicted[agreed]:
        agreed += 1
    return agreed


def _batch_layout(rows: list[_Row]) -> tuple[int, int]:
    """Where every row's prefix ends and where its suffix ends (the same index for all rows)."""
    prefix_width = max(r.prefix for r in rows)
    return prefix_width, prefix_width + max(len(r.ids) - r.prefix for r in rows)


def _batch_mask(rows: list[_Row], prefix_width: int, end: int, device):
    """1 for a row's tokens, 0 for padding: row = [0…][1 × prefix][0…][1 × suffix], `end` wide."""
    import torch

    suffixes = [len(r.ids) - r.prefix for r in rows]
    rows_mask = [[0] * (prefix_width - r.prefix) + [1] * r.prefix + [0] * (end - prefix_width - s) + [1] * s
                 for r, s in zip(rows, suffixes)]
    return torch.tensor(rows_mask, device=device)


def _batch_cache(rows: list[_Row], prefix_width: int, capacity: int):
    """A cache with room for `capacity` tokens a row, each row's prefix placed to end at `prefix_width`."""
    from transformers.cache_utils import Cache

    layers = []
    for layer in range(len(rows[0].states)):
        keys, values = rows[0].states[layer]
        shape = (len(rows), keys.shape[1], capacity, keys.shape[3])
        # Zeros where a row has no token: masked out, and never NaN in a masked product.
        buffers = (keys.new_zeros(shape), values.new_zeros(shape))
        for row, r in enumerate(rows):
            for buffer, part in zip(buffers, r.states[layer]):
                buffer[row, :, prefix_width - r.prefix : prefix_width] = part[0]
        layers.append(_buffer_layer_class()(buffers, prefix_width))
    return Cache(layers=layers)


def _cache_rows(cache, start: int, stop: int, length: int):
    """Rows start:stop of a batch's cache, sharing its memory; their next tokens are written at `length`."""
    from transformers.cache_utils import Cache

    return Cache(layers=[layer.rows(start, stop, length) for layer in cache.layers])


# Room for this many more tokens is made in a batch's cache when it is full: one copy of the cache per
# _ROOM generated tokens, and no more memory held than the answers need (most are far shorter than the
# token budget).
_ROOM = 32


def _grown(buffer, length: int, capacity: int):
    """A (batch, heads, capacity, dim) copy of `buffer` holding its first `length` tokens."""
    grown = buffer.new_zeros(buffer.shape[:2] + (capacity,) + buffer.shape[3:])
    grown[:, :, :length] = buffer[:, :, :length]
    return grown


@functools.cache
def _buffer_layer_class():
    """A cache layer with room for more tokens. transformers' DynamicLayer concatenates at every token, which
    copies the whole cache per generated token: a quarter of a decoding step's time on a CPU at batch 32
    (measured)."""
    from transformers.cache_utils import DynamicLayer

    class BufferLayer(DynamicLayer):
        def __init__(self, buffers: tuple, length: int):
            """`buffers`: (keys, values), (batch, heads, capacity, dim), the first `length` tokens filled."""
            super().__init__()
            self.lazy_initialization(*buffers)
            self._buffers = buffers
            self.show(length)

        def update(self, key_states, value_states, *args, **kwargs):
            start = self._length
            if start + key_states.shape[-2] > self._buffers[0].shape[-2]:
                self._buffers = tuple(_grown(buffer, start, start + key_states.shape[-2] + _ROOM)
                                      for buffer in self._buffers)
            for buffer, part in zip(self._buffers, (key_states, value_states)):
                buffer[:, :, start : start + part.shape[-2]] = part
            self.show(start + key_states.shape[-2])
            return self.keys, self.values

        def batch_select_indices(self, indices) -> None:
            self._buffers = tuple(buffer[indices] for buffer in self._buffers)
            self.show(self._length)

        def rows(self, start: int, stop: int, length: int):
            return BufferLayer(tuple(buffer[start:stop] for buffer in self._buffers), length)

        def show(self, length: int) -> None:
            """Make the first `length` tokens the layer's keys and values (what attention sees)."""
            self._length = length
            self.keys, self.values = (buffer[:, :, :length] for buffer in self._buffers)

    return BufferLayer


def _plain_kv_cache(config) -> bool:
    """Whether every layer keeps plain keys and values (so a prefix's cache can be padded and stacked)."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    try:
        layers = DynamicCache(config=config).layers
    except Exception:  # noqa: BLE001 - an architecture the cache cannot describe: use the plain path
        return False
    return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)


# Generation-config settings that make greedy decoding more than an argmax over the logits.
_LOGITS_CHANGING = (
    "repetition_penalty", "encoder_repetition_penalty", "no_repeat_ngram_size", "bad_words_ids",
    "min_length", "min_new_tokens", "forced_bos_token_id", "forced_eos_token_id", "suppress_tokens",
    "begin_suppress_tokens", "sequence_bias", "exponential_decay_length_penalty", "guidance_scale",
)


def _plain_greedy(generation_config) -> bool:
    from transformers import GenerationConfig

    default = GenerationConfig()
    return all(getattr(generation_config, name, None) == getattr(default, name, None)
               for name in _LOGITS_CHANGING)


def _eos_ids(generation_config) -> frozenset[int]:
    eos = generation_config.eos_token_id
    return frozenset(eos if isinstance(eos, list) else [] if eos is None else [eos])


def _pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise StudioError("a GPU (CUDA) was asked for, but none is available on this machine",
                          key="gen_no_gpu")
    return device


def _load_kwargs(options: LoadOptions, device: str) -> dict:
    import torch

    if options.load_in_4bit:
        if device != "cuda":
            raise StudioError("4-bit loading needs a CUDA GPU; use full precision on CPU", key="gen_4bit_cpu")
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
        raise StudioError("unknown dtype {dtype!r}: choose auto, float32, float16 or bfloat16",
                          key="gen_dtype", dtype=options.dtype)
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
        raise StudioError("cannot load the model from {path}: {error}", key="model_load_failed",
                          path=model_path, error=exc) from None

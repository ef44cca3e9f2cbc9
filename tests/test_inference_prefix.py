"""The shared-prefix engine: its answers are those of plain one-at-a-time greedy `generate` (real model), and
its grouping, batching, padding and prompt lookup do what they claim."""

import pytest
import torch

from studio.inference import (
    GenerationOptions,
    Generator,
    LoadOptions,
    _batch_cache,
    _batch_layout,
    _batch_mask,
    _cache_rows,
    _agreeing,
    _cut_after_statement,
    _draft,
    _plain_greedy,
    _plain_kv_cache,
    _prefill_parts,
    _Prefix,
    _prefix_batches,
    _Row,
    _shared_prefix_groups,
    get_generator,
)
from studio.errors import StudioError
from studio.prompts import make_prompt
from studio.ui.examples import GAME_DDL, QUESTIONS

SHORT_DDL = "CREATE TABLE players (player_id INT PRIMARY KEY, username VARCHAR(255), level INT);"
MAX_NEW_TOKENS = 12


def mixed_prompts() -> list[str]:
    """Two groups sharing a long DDL prefix, one prompt alone, questions of different lengths, and one prompt
    twice. The SQL is started (`SELECT`) so that an untrained model's answer depends on the question."""
    game = [make_prompt(GAME_DDL, q, "SELECT") for q in QUESTIONS[:3]]
    questions = ("플레이어 수는?", "What is the average level of all players?")
    short = [make_prompt(SHORT_DDL, q, "SELECT") for q in questions]
    alone = make_prompt("CREATE TABLE quests (quest_id INT, reward_gold INT);", "보상 골드의 합은?", "SELECT")
    return [game[0], short[0], alone, game[1], short[1], game[2], short[0]]


def one_at_a_time(generator: Generator, prompts: list[str], tokens: int = MAX_NEW_TOKENS) -> list[str]:
    """The reference: transformers' greedy `generate`, one prompt per call, no stop rule of the studio's; the
    studio's cut (the statement up to its `;`) applied afterwards."""
    texts = []
    for prompt in prompts:
        inputs = generator.tokenizer(prompt, return_tensors="pt")
        with torch.inference_mode():
            output = generator.model.generate(**inputs, max_new_tokens=tokens, do_sample=False,
                                              pad_token_id=generator.tokenizer.pad_token_id)
        new = output[0, inputs["input_ids"].shape[1]:]
        texts.append(_cut_after_statement(generator.tokenizer.decode(new, skip_special_tokens=True)))
    return texts


def test_shared_prefix_answers_equal_one_at_a_time_generate(offline_model):
    generator = get_generator(offline_model)
    prompts = mixed_prompts()
    expected = one_at_a_time(generator, prompts)
    assert len(set(expected)) >= 4  # the answers differ by question: a row given another's answer would show
    # Batches of 3 mix groups (prefixes of different lengths in one batch) and rows that finish early.
    options = GenerationOptions(max_new_tokens=MAX_NEW_TOKENS, batch_size=3)
    completions = generator.generate(prompts, options)
    assert [c.text for c in completions] == expected
    assert [c.prompt for c in completions] == prompts
    assert all(0 < c.new_tokens <= MAX_NEW_TOKENS for c in completions)
    plain = generator.generate(prompts, GenerationOptions(max_new_tokens=MAX_NEW_TOKENS, batch_size=3,
                                                          prefix_cache=False))
    assert [(c.text, c.new_tokens) for c in plain] == [(c.text, c.new_tokens) for c in completions]


def test_an_adapter_answers_the_same_both_ways(offline_model, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    # A LoRA with random, non-zero weights on every linear layer: it changes the keys and values the prefix
    # cache holds, so a prefix computed without the adapter would give other answers.
    base = AutoModelForCausalLM.from_pretrained(offline_model)
    config = LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False)
    torch.manual_seed(0)
    get_peft_model(base, config).save_pretrained(tmp_path / "adapter")
    generator = Generator(offline_model, LoadOptions(adapter=tmp_path / "adapter"))
    prompts = mixed_prompts()[:4]
    options = GenerationOptions(max_new_tokens=MAX_NEW_TOKENS, batch_size=4)
    assert [c.text for c in generator.generate(prompts, options)] == one_at_a_time(generator, prompts)
    assert [c.text for c in generator.generate(prompts, options)] != [
        c.text for c in get_generator(offline_model).generate(prompts, options)]


def test_a_prefix_continues_from_the_one_before_it(offline_model, monkeypatch):
    generator = get_generator(offline_model)
    first, second = (generator.tokenizer(make_prompt(ddl, ""))["input_ids"] for ddl in (GAME_DDL, SHORT_DDL))
    shared = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)  # the instruction's tokens
    assert shared > 10
    with torch.inference_mode():
        alone = generator._prefix(second, _Prefix([], []))
        before = generator._prefix(first, _Prefix([], []))
        computed = []
        model = generator.model
        monkeypatch.setattr(generator, "model", lambda input_ids, **kw: computed.append(input_ids.shape[1])
                            or model(input_ids=input_ids, **kw))
        continued = generator._prefix(second, before)
    assert computed == [len(second) - shared]  # only the tokens after the shared instruction
    for (keys, values), (keys2, values2) in zip(alone.states, continued.states):
        assert keys.shape == keys2.shape == (1, keys.shape[1], len(second), keys.shape[3])
        torch.testing.assert_close(keys2, keys, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(values2, values, rtol=1e-4, atol=1e-4)


def test_groups_share_the_longest_prefixes_that_pay():
    instruction, ddl_a, ddl_b = [1, 2], [3] * 10, [4] * 10
    ids = [instruction + ddl_a + [5], instruction + ddl_b + [7], [9, 9, 9], instruction + ddl_a + [6, 6],
           instruction + ddl_b + [8]]
    groups = [(g.length, sorted(g.members)) for g in _shared_prefix_groups(ids)]
    # Two groups on the DDLs save 12 + 12 tokens; one group on the instruction alone would save only 3 * 2.
    assert groups == [(12, [0, 3]), (12, [1, 4]), (2, [2])]


def test_every_prompt_keeps_a_token_after_its_prefix():
    groups = _shared_prefix_groups([[1, 2, 3], [1, 2, 3], [1, 2, 3, 4]])
    assert [(g.length, sorted(g.members)) for g in groups] == [(2, [0, 1, 2])]


def test_a_group_spans_at_most_the_window():
    groups = _shared_prefix_groups([[1, 2, 3, 4]] * 5, window=2)
    assert [len(g.members) for g in groups] == [2, 2, 1]
    assert all(g.length == 3 for g in groups)


def test_batches_take_the_groups_in_order():
    ids = [[1] * 9 + [3], [2] * 9 + [5] * 4, [1] * 9 + [4] * 4, [2] * 9 + [6]]
    groups = _shared_prefix_groups(ids)
    assert [sorted(g.members) for g in groups] == [[0, 2], [1, 3]]
    batches = _prefix_batches(groups, ids, GenerationOptions(max_new_tokens=4, batch_size=2))
    assert [sorted(b) for b in batches] == [[0, 2], [1, 3]]


def test_prefill_parts_hold_rows_of_similar_length():
    assert _prefill_parts([2, 3, 3, 8, 9], tokens=16) == [(0, 3), (3, 4), (4, 5)]
    assert _prefill_parts([40], tokens=16) == [(0, 1)]


def test_padding_between_prefix_and_suffix_is_masked_and_skipped_by_positions():
    def states(length: int) -> list:
        keys = torch.arange(1, length + 1, dtype=torch.float32).view(1, 1, length, 1)
        return [(keys, keys + 100)]

    rows = [_Row([10, 11, 12, 13], 3, states(3)), _Row([20, 21, 22], 1, states(1))]
    prefix_width, end = _batch_layout(rows)
    assert (prefix_width, end) == (3, 5)
    mask = _batch_mask(rows, prefix_width, end, "cpu")
    assert mask.tolist() == [[1, 1, 1, 0, 1], [0, 0, 1, 1, 1]]
    positions = (mask.cumsum(-1) - 1).clamp(min=0)  # as _prefill computes them
    assert positions[:, -1].tolist() == [3, 2]  # each row's last token sits where it would alone
    cache = _batch_cache(rows, prefix_width, capacity=8)
    keys, values = cache.layers[0].keys, cache.layers[0].values
    assert keys[:, 0, :, 0].tolist() == [[1, 2, 3], [0, 0, 1]]  # the shorter prefix is padded in front
    assert values[1, 0, :, 0].tolist() == [0, 0, 101]
    # A part of the rows writes its suffix into the batch's cache, after masked room for longer suffixes.
    part = _cache_rows(cache, 1, 2, length=3)
    part.update(torch.full((1, 1, 2, 1), 7.0), torch.full((1, 1, 2, 1), 8.0), 0)
    cache.layers[0].show(end)
    assert cache.layers[0].keys[:, 0, :, 0].tolist() == [[1, 2, 3, 0, 0], [0, 0, 1, 7, 7]]
    for step in range(4):  # past the capacity of 8: the room grows, the tokens stay
        cache.layers[0].update(torch.full((2, 1, 1, 1), 9.0 + step), torch.full((2, 1, 1, 1), 9.0))
    keys = cache.layers[0].keys
    assert keys.shape[2] == 9 and keys[:, 0, :, 0].tolist() == [[1, 2, 3, 0, 0, 9, 10, 11, 12],
                                                                   [0, 0, 1, 7, 7, 9, 10, 11, 12]]


def test_models_that_need_the_plain_path_are_recognised():
    from transformers import GenerationConfig, LlamaConfig, MistralConfig

    assert _plain_greedy(GenerationConfig(eos_token_id=2, pad_token_id=2))
    assert not _plain_greedy(GenerationConfig(repetition_penalty=1.2))
    assert _plain_kv_cache(LlamaConfig(num_hidden_layers=2))
    assert not _plain_kv_cache(MistralConfig(num_hidden_layers=2, sliding_window=64))


def test_a_one_token_prompt_takes_the_plain_path(offline_model):
    # The empty prompt is one token (BOS): no prefix to share and nothing after it, so the plain path answers.
    generator = get_generator(offline_model)
    prompts, options = ["", make_prompt(SHORT_DDL, "플레이어 수는?")], GenerationOptions(max_new_tokens=4)
    shared = generator.generate(prompts, options)
    plain = generator.generate(prompts, GenerationOptions(max_new_tokens=4, prefix_cache=False))
    assert shared == plain and shared[0].new_tokens > 0


# --- prompt lookup -------------------------------------------------------------------------------------------


def test_a_draft_is_what_followed_the_latest_match_of_the_last_tokens():
    tokens = [1, 2, 3, 9, 1, 2, 3, 7, 8, 5, 1, 2, 3]
    assert _draft(tokens, limit=2) == [7, 8]  # the latest earlier "1 2 3", not the first one
    assert _draft(tokens, limit=10) == [7, 8, 5, 1, 2, 3]  # up to the end of the text
    assert _draft([4, 5, 6, 5], limit=3) == [6, 5]  # no 3- or 2-token match: the last token alone
    assert _draft([4, 5, 6], limit=3) == [] and _draft(tokens, limit=0) == []


def test_only_the_drafted_tokens_the_model_chose_are_kept():
    assert _agreeing([5, 6, 7], [5, 6, 9, 4]) == 2
    assert _agreeing([5], [4, 1]) == 0 and _agreeing([], [3]) == 0


def count_forwards(generator, monkeypatch) -> list[tuple[int, int]]:
    """The (rows, tokens a row) of each decoding step the generator runs from now on."""
    shapes: list[tuple[int, int]] = []
    forward = generator._forward

    def recorded(inputs, mask, positions, cache, keep=1):
        shapes.append(tuple(inputs.shape))
        return forward(inputs, mask, positions, cache, keep)

    monkeypatch.setattr(generator, "_forward", recorded)
    return shapes


def test_drafted_tokens_save_steps_and_change_no_answer(offline_model, monkeypatch):
    # Untrained, SmolLM2 copies the DDL: prompt lookup drafts it, and most drafted tokens are taken.
    generator = get_generator(offline_model)
    prompts = [make_prompt(GAME_DDL, q) for q in QUESTIONS[:2]] + [make_prompt(SHORT_DDL, "플레이어 수는?")]
    tokens = 40
    shapes = count_forwards(generator, monkeypatch)
    options = GenerationOptions(max_new_tokens=tokens, batch_size=3)
    drafted = generator.generate(prompts, options)
    decoding = [shape for shape in shapes if shape[1] > 1 and shape[0] <= len(prompts)]
    assert decoding, "no step checked drafted tokens"
    assert len(shapes) < max(c.new_tokens for c in drafted)  # fewer forward passes than tokens
    undrafted = generator.generate(prompts, GenerationOptions(max_new_tokens=tokens, batch_size=3,
                                                              draft_tokens=0))
    assert [(c.text, c.new_tokens) for c in drafted] == [(c.text, c.new_tokens) for c in undrafted]
    assert [c.text for c in drafted] == one_at_a_time(generator, prompts, tokens)


def test_draft_tokens_must_not_be_negative():
    with pytest.raises(StudioError, match="draft_tokens"):
        GenerationOptions(draft_tokens=-1)

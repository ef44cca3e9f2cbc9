"""Korean words for a schema proposed by an LLM (any OpenAI-compatible server), to start a glossary from.

One request: the tables, their columns with types and a few real values, and the instruction to answer
with a JSON object `{"table": {"": "<noun>", "column": "<word>"}}`. The estimate comes first and sends
nothing; the key lives in memory for the call only. Words for names the schema does not have, and words
without Hangul, are dropped (and counted); the proposal fills only what the glossary leaves empty.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

from evaluation.pricing import cost_usd, estimate_tokens
from studio.data.adapt.glossary import MAX_WORD, Glossary, Term
from studio.data.adapt.schema import DatabaseInfo, read_rows
from studio.errors import StudioError

VALUES_SHOWN = 3
MAX_PROMPT_CHARS = 60_000  # about 15k tokens: a schema beyond this is proposed for its first tables only
ANSWER_TOKENS_PER_NAME = 8
TIMEOUT_S = 120.0
_HANGUL = re.compile(r"[가-힣]")
INSTRUCTION = (
    "You name database columns in Korean for people who ask questions about the data in Korean.\n"
    "For each table give the Korean noun people use for one of its rows, and for each column the short Korean "
    "word or phrase people would say for it (e.g. username → 닉네임, reward_gold → 보상 골드).\n"
    'Answer with one JSON object only: {"<table>": {"": "<noun of the table>", "<column>": "<Korean>"}}.\n'
)


@dataclass(frozen=True)
class Proposal:
    glossary: Glossary
    dropped: int  # words for unknown names, or without Hangul
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


@dataclass(frozen=True)
class ProposalEstimate:
    prompt_tokens: int
    completion_tokens: int  # an upper estimate: a few tokens per name
    cost_usd: float | None  # None: a model without a known price


def proposal_prompt(info: DatabaseInfo) -> str:
    """The request's text: the instruction, then each table with its columns, types and real values."""
    parts = [INSTRUCTION]
    for table in info.tables:
        rows = read_rows(info, table)
        lines = [f"TABLE {table.name}"]
        for column in table.columns:
            values = list(dict.fromkeys(r[column.name] for r in rows if r[column.name] is not None))
            shown = ", ".join(repr(v)[:40] for v in values[:VALUES_SHOWN])
            lines.append(f"  {column.name} {column.declared_type or ''}".rstrip() + (f"  -- e.g. {shown}" if shown else ""))
        block = "\n".join(lines) + "\n"
        if sum(map(len, parts)) + len(block) > MAX_PROMPT_CHARS:
            break
        parts.append(block)
    return "\n".join(parts)


def estimate_proposal(info: DatabaseInfo, model: str, prompt: str | None = None) -> ProposalEstimate:
    """What the request would cost; nothing is sent. `prompt`: `proposal_prompt(info)`, when already made."""
    names = len(info.tables) + sum(len(t.columns) for t in info.tables)
    tokens = estimate_tokens(prompt or proposal_prompt(info))
    completion = names * ANSWER_TOKENS_PER_NAME
    return ProposalEstimate(tokens, completion, cost_usd(model, tokens, completion))


def propose_glossary(info: DatabaseInfo, model: str, *, base_url: str | None = None,
                     api_key: str | None = None, prompt: str | None = None) -> Proposal:
    """Ask the model once (with `prompt`, when the estimate made it already); its words, checked against the
    schema."""
    import openai

    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    key = api_key or os.environ.get("OPENAI_API_KEY") or ("not-needed" if base_url else None)
    if not key:
        raise StudioError("no API key: set OPENAI_API_KEY (or give a base URL for a local server)",
                          key="adapt_propose_no_key")
    client = openai.OpenAI(api_key=key, base_url=base_url, timeout=TIMEOUT_S, max_retries=2)
    try:
        response = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt or proposal_prompt(info)}], temperature=0,
            response_format={"type": "json_object"})
        text = response.choices[0].message.content or ""
    except openai.OpenAIError as error:
        raise StudioError("the model could not propose words: {error}", key="adapt_propose_failed",
                          error=_first_line(error)) from None
    finally:
        client.close()
    glossary, dropped = _parse(text, info)
    usage = response.usage
    prompt, completion = (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)
    return Proposal(glossary, dropped, prompt, completion, cost_usd(model, prompt, completion))


def _parse(text: str, info: DatabaseInfo) -> tuple[Glossary, int]:
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise StudioError("the model's answer is not the JSON object asked for: {answer}",
                          key="adapt_propose_bad_answer", answer=text[:120])
    columns = {t.name: {c.name for c in t.columns} for t in info.tables}
    terms, dropped = [], 0
    for table, words in answer.items():
        for column, word in (words.items() if isinstance(words, dict) else ()):
            known = table in columns and (column == "" or column in columns[table])
            if known and isinstance(word, str) and _HANGUL.search(word) and len(word.strip()) <= MAX_WORD:
                terms.append(Term(table, column, word.strip()))
            else:
                dropped += 1
    return Glossary(tuple(terms)), dropped


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]

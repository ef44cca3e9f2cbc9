"""Token counts and prices for judge runs: what a run will cost before it starts and what it did cost.

Prices are list prices in USD per million tokens for standard (synchronous) calls; the Batch API costs
half. They change: check https://openai.com/api/pricing before relying on an estimate. A model that is not
in the table has an unknown cost (None), never a guessed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

BATCH_DISCOUNT = 0.5
MESSAGE_OVERHEAD_TOKENS = 8  # role and framing tokens the chat format adds to each request
ANSWER_TOKENS = 12  # {"resolve_yn": "yes"} and its framing


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float


PRICES: dict[str, Price] = {
    "gpt-4-turbo-preview": Price(10.0, 30.0),
    "gpt-4-turbo": Price(10.0, 30.0),
    "gpt-4-0125-preview": Price(10.0, 30.0),
    "gpt-4-1106-preview": Price(10.0, 30.0),
    "gpt-4": Price(30.0, 60.0),
    "gpt-4o": Price(2.5, 10.0),
    "gpt-4o-mini": Price(0.15, 0.6),
    "gpt-4.1": Price(2.0, 8.0),
    "gpt-4.1-mini": Price(0.4, 1.6),
    "gpt-4.1-nano": Price(0.1, 0.4),
    "gpt-3.5-turbo": Price(0.5, 1.5),
}


def price_for(model: str) -> Price | None:
    """The price of a model, matching dated snapshots to their family (gpt-4o-2024-08-06 → gpt-4o)."""
    matches = [name for name in PRICES if model == name or model.startswith(name + "-")]
    return PRICES[max(matches, key=len)] if matches else None


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int, *, batch: bool = False) -> float | None:
    price = price_for(model)
    if price is None:
        return None
    cost = (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1_000_000
    return cost * BATCH_DISCOUNT if batch else cost


def estimate_tokens(text: str) -> int:
    """Approximate token count: tiktoken when it is installed, otherwise a character heuristic."""
    encode = _tiktoken_encoder()
    if encode is not None:
        return len(encode(text))
    # Latin text runs at about 4 characters a token; Hangul and other non-ASCII text at about 1 (cl100k
    # splits most syllables into one or two tokens), so Korean questions are not underestimated.
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return (ascii_chars + 3) // 4 + (len(text) - ascii_chars)


@lru_cache(maxsize=1)
def _tiktoken_encoder():
    try:
        import tiktoken
    except ImportError:
        return None
    return tiktoken.get_encoding("cl100k_base").encode

"""Schema-constrained decoding: a token mask per row from the SQL grammar of its prompt's DDL (llguidance).

Each row of a batch gets a matcher for `studio.sql_grammar.sql_grammar(ddl)`. Before the engine takes the
model's most likely token, the tokens the grammar does not allow next are masked out of the logits; the
token taken is then fed to the matcher. So the answer is the greedy answer within the grammar: a SELECT
over the DDL's own tables and columns, ending with `;`. A row whose grammar allows no token any more (it
cannot happen with a consistent grammar, but a matcher may report an error) ends with a reason.

The offline model's tokenizer comes from a GGUF file, and its decoder chain (byte fallback, `▁` → space,
then byte level) makes llguidance read byte-level tokens such as `Ġ` literally; llguidance is given the same
vocabulary with a plain byte-level decoder instead, which agrees with the tokenizer on every token (checked in
tests/test_constraints.py).
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

from studio.sql_grammar import sql_grammar

# Why a constrained row ended other than by finishing its statement (the evaluation row shows it).
DEAD_END = "the schema grammar allowed no further token"
# Earley items llguidance may make for one token's mask (its default, 50,000, is too few for a 2-table DDL's
# alias copies: the mask after `... FROM` failed and cut the answer there). At ~20,000 items a millisecond
# this bounds the rare expensive token at ~25 ms; a typical token's mask takes ~0.3 ms.
STEP_MAX_ITEMS = 500_000


@dataclass
class RowConstraint:
    """One row's matcher (fed every token the row takes) and, if it had to stop, why."""

    matcher: object
    problem: str = ""

    def mask_logits(self, logits, bitmask) -> bool:
        """Mask (in place) the tokens the grammar forbids next; False when it allows none (a dead end)."""
        import llguidance.torch as llt

        if not self._usable():
            return False
        llt.fill_next_token_bitmask(self.matcher, bitmask, 0)
        if not self._usable():  # computing the mask can fail too (a parser limit): it then allows only EOS
            return False
        llt.apply_token_bitmask_inplace(logits[None], bitmask.to(logits.device))
        return True

    def _usable(self) -> bool:
        """False once the matcher has stopped: with an error (a problem), or because the statement is complete
        (its `;` taken: the engine, checking a drafted token beyond it, ends the row there, no problem)."""
        if self.matcher.is_error():
            self.problem = self.problem or _first_line(self.matcher.get_error()) or DEAD_END
            return False
        return not self.matcher.is_stopped()

    def take(self, token: int) -> None:
        if not self.matcher.consume_token(token):
            self.problem = self.problem or _first_line(self.matcher.get_error()) or DEAD_END


class SchemaConstraints:
    """Matchers for the rows of one tokenizer (the llguidance vocabulary is built once, ~0.3 s)."""

    def __init__(self, tokenizer, eos_ids):
        import llguidance
        from tokenizers import decoders

        backend = copy.copy(tokenizer.backend_tokenizer)
        backend.no_padding()
        backend.no_truncation()
        backend.decoder = decoders.ByteLevel()
        self.tokenizer = llguidance.LLTokenizer(backend.to_str(), n_vocab=len(tokenizer),
                                                eos_token=sorted(eos_ids)[0] if eos_ids else None)
        self.vocab_size = len(tokenizer)
        self._pristine: dict[str, object] = {}
        self._lock = threading.Lock()

    def for_ddl(self, ddl: str | None) -> RowConstraint | None:
        """A fresh matcher for a prompt whose DDL is `ddl`; None when the DDL defines no usable table."""
        grammar = sql_grammar(ddl) if ddl else None
        if grammar is None:
            return None
        with self._lock:
            if grammar not in self._pristine:
                self._pristine[grammar] = self._matcher(grammar)
            return RowConstraint(self._pristine[grammar].deep_copy())

    def bitmask(self):
        import llguidance.torch as llt

        return llt.allocate_token_bitmask(1, self.vocab_size)

    def _matcher(self, grammar: str):
        import llguidance

        matcher = llguidance.LLMatcher(self.tokenizer, llguidance.LLMatcher.grammar_from_lark(grammar),
                                       log_level=0, limits=llguidance.LLParserLimits(step_max_items=STEP_MAX_ITEMS))
        if matcher.is_error():  # the grammar is built by code: a failure here is a bug, said plainly
            raise RuntimeError(f"the schema grammar does not compile: {matcher.get_error()}")
        return matcher


def _first_line(error: str | None) -> str:
    """llguidance's error text goes on with the parser's state and the whole grammar: the reason is line one."""
    return (error or "").strip().splitlines()[0] if (error or "").strip() else ""

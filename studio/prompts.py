"""The book's Text2SQL prompt (`make_prompt`), custom templates, and SQL extraction from completions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from evaluation.sql import extract_sql

__all__ = ["BOOK_TEMPLATE", "PromptTemplate", "make_prompt", "extract_sql"]

_FIELD = re.compile(r"\{(ddl|question|query)\}")

# Chapter 6's template, character for character: training rows fill {query} with the gold SQL,
# inference leaves it empty and the model's completion is the SQL.
BOOK_TEMPLATE = """당신은 SQL을 생성하는 SQL 봇입니다. DDL의 테이블을 활용한 Question을 해결할 수 있는 SQL 쿼리를 생성하세요.

### DDL:
{ddl}

### Question:
{question}

### SQL:
{query}"""


@dataclass(frozen=True)
class PromptTemplate:
    """A prompt template with the fields `{ddl}`, `{question}` and `{query}`."""

    text: str = BOOK_TEMPLATE

    def __post_init__(self):
        for name in ("{ddl}", "{question}", "{query}"):
            if name not in self.text:
                raise ValueError(f"the prompt template must contain {name}")
        if not self.text.rstrip(" ").endswith("{query}"):
            raise ValueError("the prompt template must end with {query}: the model completes from there")

    def render(self, ddl: str, question: str, query: str = "") -> str:
        # One pass, not str.format: DDL and questions may contain braces or the field names themselves.
        values = {"ddl": ddl, "question": question, "query": query}
        return _FIELD.sub(lambda m: values[m.group(1)], self.text)


def make_prompt(ddl: str, question: str, query: str = "") -> str:
    """The book's `make_prompt(ddl, question, query='')`."""
    return PromptTemplate().render(ddl, question, query)

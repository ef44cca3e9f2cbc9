"""The Text2SQL answer as an MCP tool: the served app's MCP server (Gradio's, over streamable HTTP), called by a
real MCP client (the `mcp` package)."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.app_support import served_app

QUESTION = "레벨이 가장 높은 플레이어의 이름은?"


async def _session_calls(url: str, database: str) -> tuple[list[str], list[str], dict, bool, str]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(f"{url}gradio_api/mcp/?tools=text2sql_answer") as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            narrowed = [tool.name for tool in (await session.list_tools()).tools]
            answered = await session.call_tool("text2sql_answer", {"database": database, "question": QUESTION,
                                                                   "max_new_tokens": 32})
            refused = await session.call_tool("text2sql_answer", {"database": "/etc/passwd",
                                                                  "question": QUESTION})
    async with streamable_http_client(f"{url}gradio_api/mcp/") as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            every = [tool.name for tool in (await session.list_tools()).tools]
    answer = json.loads(answered.content[0].text)
    return narrowed, every, answer, refused.isError, " ".join(getattr(c, "text", "") for c in refused.content)


@pytest.mark.slow
def test_an_mcp_client_asks_a_listed_database_and_is_refused_a_path(offline_model, sample_version_id):
    with served_app(mcp_server=True) as url:
        narrowed, every, answer, failed, refusal = asyncio.run(_session_calls(url, f"{sample_version_id}/1"))
    assert narrowed == ["text2sql_answer"] and "text2sql_answer" in every and "generate_sql" in every
    assert answer["sql"].upper().startswith("SELECT") and answer["model"] == "smollm2-135m-instruct"
    assert set(answer) >= {"columns", "rows", "row_count", "error", "runs_on_schema"}
    assert failed and "'/etc/passwd'" in refusal and "<db_id>" in refusal  # in Korean: no Accept-Language

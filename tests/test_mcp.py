"""The MCP server as an AI assistant reaches it, through the SDK's own client, over Streamable
HTTP at /mcp of a real server with two workers. Over stdio, `tests/test_package.py` runs the same
`exercise` and `check` against the installed `qa-mcp` (one start of the model, not two)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx2
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from qa.config import SETTINGS
from tests.conftest import ARTICLE
from tests.test_browser import start_server, stop_server
from ui.server import create_app

QUESTION = "What is collective leadership?"
# The REST API's 422 line for a question of white space only (ui.rest.invalid_field).
EMPTY = "question: is empty: ask something"
TOO_MANY = f"k: Input should be less than or equal to {SETTINGS.api_max_k}"


T = TypeVar("T")


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """`anyio.run(main)` in a thread of its own: once a browser test has run, Playwright's sync API
    keeps an event loop running in the session's main thread, where anyio.run refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, main).result()


async def exercise(client: Client) -> dict[str, Any]:
    """List the tools and resources and call each, as an assistant would; what came back, by name."""
    seen: dict[str, Any] = {"tools": {t.name: t for t in (await client.list_tools()).tools}}
    seen["ask"] = await client.call_tool("ask", {"question": QUESTION, "k": 2})
    seen["follow_up"] = await client.call_tool("ask", {"question": "And who is accountable?", "history": [QUESTION]})
    seen["retrieve"] = await client.call_tool("retrieve", {"question": "Who is accountable?", "k": 4})
    seen["documents"] = await client.call_tool("list_documents", {})
    seen["empty"] = await client.call_tool("ask", {"question": "   "})
    seen["too_many"] = await client.call_tool("retrieve", {"question": QUESTION, "k": SETTINGS.api_max_k + 1})
    seen["missing"] = await client.call_tool("ask", {})
    seen["wrong_type"] = await client.call_tool("retrieve", {"question": QUESTION, "k": "several"})
    seen["extra"] = await client.call_tool("list_documents", {"colour": "red"})
    seen["after_errors"] = await client.call_tool("ask", {"question": QUESTION})
    resources = (await client.list_resources()).resources
    seen["resources"] = resources
    seen["text"] = (await client.read_resource(resources[0].uri)).contents[0].text
    return seen


def check(seen: dict[str, Any]) -> None:
    """What every transport must give: the quote, its citation, the rules, one-line errors."""
    tools = seen["tools"]
    assert set(tools) == {"ask", "retrieve", "list_documents"}
    for name in ("ask", "retrieve"):
        description = tools[name].description
        assert "quotation" in description and all(s in description for s in ("'unsure'", "'related'", "'not_covered'"))
        assert "no quote may be presented as the answer" in description

    ask = seen["ask"]
    assert not ask.is_error
    answer = ask.structured_content
    assert answer["status"] == "answered" and answer["found"] is True
    assert answer["answer"].startswith("Collective leadership is a leadership in which all staff take responsibility")
    assert answer["meaning"].startswith("The quotation answers the question")
    assert len(answer["passages"]) == 2
    best = answer["passages"][0]
    assert best["source"] == ARTICLE.name and best["highlight"] in best["text"] and answer["answer"] in best["text"]
    assert best["paragraph"] >= 1 and best["page"] == 0 and best["link"] == ""
    assert best["reference"].startswith("Michael West (2014) Michael West: collective leadership for culture change.")
    # The follow-up is searched with the earlier question.
    assert "collective leadership" in seen["follow_up"].structured_content["query"].lower()

    assert [p["source"] for p in seen["retrieve"].structured_content["passages"]] == [ARTICLE.name] * 4
    documents = seen["documents"].structured_content
    assert [d["source"] for d in documents["documents"]] == [ARTICLE.name] and documents["passages"] > 10

    # Bad input: a tool error with the REST API's own line, and the server answers on.
    # Checked by the SDK before the tool runs, these were pydantic's whole report (or, an unknown
    # field, ignored): now each is the line the REST API gives for the same body.
    for name, message in (
        ("empty", EMPTY),
        ("too_many", TOO_MANY),
        ("missing", "question: Field required"),
        ("wrong_type", "k: Input should be a valid integer, unable to parse string as an integer"),
        ("extra", "colour: Extra inputs are not permitted"),
    ):
        assert seen[name].is_error and [c.text for c in seen[name].content] == [message]
    assert seen["after_errors"].structured_content["status"] == "answered"

    assert [r.name for r in seen["resources"]] == [ARTICLE.name]
    assert seen["text"].startswith("By Michael West") and answer["answer"] in seen["text"]


def test_http_behind_the_api_login_on_two_workers(built_index: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.db"
    env = {
        "QA_API_TOKEN": "reader-token",
        "QA_UI_PASSWORD": "reader-password",
        "QA_LOG": "1",
        "QA_LOG_DB": str(questions),
    }
    server = start_server(built_index, tmp_path / "server.log", env, ("--workers", "2"))
    url = server.url
    try:

        async def session(mode: str, **login: Any) -> dict[str, Any]:
            # No kept-alive connections: each request is handed to the next worker in turn, so a
            # session that lived in one worker's memory would be lost on the next request.
            limits = httpx2.Limits(max_keepalive_connections=0)
            async with (
                httpx2.AsyncClient(timeout=60, limits=limits, **login) as http,
                Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client,
            ):
                return await exercise(client)

        # Today's assistants open a session with the initialize handshake ("legacy" to the SDK);
        # newer ones speak the 2026 protocol, where each request stands alone.
        check(run_async(lambda: session("legacy", headers={"Authorization": "Bearer reader-token"})))
        check(run_async(lambda: session("auto", auth=("nhs", "reader-password"))))

        # Without the login, the same 401 as the API, before any MCP is spoken.
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            refused = httpx2.post(
                f"{url}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Accept": "application/json, text/event-stream", **headers},
            )
            assert refused.status_code == 401 and refused.json()["error"].startswith("this API needs a login")

        # Counted and logged like the API's questions, under their own name: per session three
        # asks and one retrieve (the refused calls never reached the index).
        metrics = httpx2.get(f"{url}/metrics", headers={"Authorization": "Bearer reader-token"}).text
        assert 'qa_questions_total{status="retrieved",via="mcp"} 2.0' in metrics
        with contextlib.closing(sqlite3.connect(questions)) as db:
            assert db.execute("SELECT channel, COUNT(*) FROM questions GROUP BY channel").fetchall() == [("mcp", 6)]

    finally:
        stop_server(server.process)


def test_an_app_started_twice_serves_mcp_each_time(article_index) -> None:
    """The SDK's transport runs once; a test client (or a restart in-process) starts the app again."""
    app = create_app(article_index)
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {"Accept": "application/json, text/event-stream"}
    for _ in range(2):
        with TestClient(app) as client:
            reply = client.post("/mcp", json=hello, headers=headers)
            assert reply.status_code == 200, reply.text
            assert reply.json()["result"]["serverInfo"]["name"] == "collective-leadership-qa"
        # No server-sent stream to open: GET once held the connection until the client gave up.
        held = client.get("/mcp", headers={"Accept": "text/event-stream"})
        assert (held.status_code, held.headers["allow"]) == (405, "POST"), held.text
    # Outside its lifespan the app has no transport: one line, not a traceback.
    stopped = TestClient(app).post("/mcp", json=hello, headers=headers)
    assert stopped.status_code == 503 and stopped.json() == {
        "error": "the MCP server runs only while the app's lifespan does"
    }

"""The quotations as a tool for AI assistants: an MCP (Model Context Protocol) server over `qa`.

    qa-mcp [--index DIR]      over stdio, started by the assistant (also `python -m ui.mcp`)
    /mcp                      over Streamable HTTP on the web server (`qa-serve`), behind the API's login

Tools `ask`, `retrieve` and `list_documents`; every indexed document is a resource
(`qa://documents/{source}`, its whole text). A thin layer like `ui.rest`: the same JSON shapes
(`ui.api`), the same bounds (`ui.rest.AskRequest`) and the same one-line messages for bad input,
which come back as a tool error while the server keeps running.

Over HTTP the server is stateless (each request stands alone, answered as JSON), so
`--workers N` may hand an /mcp connection to any worker (see `ui.workers`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, InputRequiredResult, Resource, TextContent
from pydantic import Field, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send
from typing_extensions import TypedDict  # pydantic reads only this one on Python 3.11

from qa.config import SETTINGS
from qa.errors import QAError
from qa.questionlog import QuestionLog
from qa.reference import harvard, web_address
from qa.types import ANSWERED, NOT_COVERED, RELATED, UNSURE, Passage
from ui.api import PassageJSON, answer_json, passage_json
from ui.rest import AskRequest, DocumentsOut, RetrieveRequest, documents_out, error_response, invalid_field

log = logging.getLogger(__name__)

PATH = "/mcp"
DOCUMENT_URI = "qa://documents/{source}"

# Said to the assistant when it connects, and again in each tool's description: the whole point
# of this service is that nothing it returns may be passed off as an answer it is not.
RULES = (
    "Every answer is a quotation of an indexed document, never generated text: quote it word for word "
    "with its reference. The status says what the quotation is worth: only 'answered' means the quote "
    "answers the question. 'unsure', 'related' and 'not_covered' mean no quote may be presented as the "
    "answer: say that the documents do not (reliably) answer it; passages may be offered only as related "
    "reading, said to be such."
)

# What each status means for the assistant, returned with every answer. A status missing here
# (a newer engine's) is described by the safe default.
MEANINGS = {
    ANSWERED: "The quotation answers the question: present it as a quotation, with its reference.",
    UNSURE: "Not sure the content answers this: no quote may be presented as the answer; the closest "
    "passages are shown for the reader to judge.",
    RELATED: "The content does not answer this, though it has passages on the topic: no quote may be "
    "presented as the answer.",
    NOT_COVERED: "The content does not cover this question: no quote may be presented as the answer.",
}
NO_ANSWER = "No quote may be presented as the answer."

ASK = f"""Answer a question from the indexed documents (health and care leadership) with a quotation.

{RULES}

Returns `status`, `meaning` (what the status allows), `answer` (the quoted sentence(s), or a
message saying the content does not answer it) and `passages`, best first, each with `source`,
`title`, `link` (web address, "" for a file), `paragraph` and `page` (PDFs; 0 otherwise),
`highlight` (the sentence that best answers) and `reference` (Harvard, ready to paste).
`k`: passages, 1 to {SETTINGS.api_max_k} (default 3). `history`: earlier questions of this
conversation, oldest first, for a follow-up such as "and who?"."""

RETRIEVE = f"""The passages of the indexed documents closest to a question, best first, with no judgement
of whether they answer it: none may be presented as an answer. For answers, use `ask`.

{RULES}

Each passage has `text`, `source`, `title`, `link`, `paragraph`, `page`, `highlight` and `reference`.
`k`: passages, 1 to {SETTINGS.api_max_k} (default 5)."""

DOCUMENTS = """Every indexed document: `source` (its name; read its whole text as the resource
qa://documents/{source}), `title`, `passages`, `metadata` (author, date, publisher, url when known),
and the index's passage count, build time and model."""


class MCPPassage(PassageJSON):
    """A passage as the REST API returns it, plus what an assistant needs to cite it."""

    link: str
    reference: str


class MCPAnswer(TypedDict):
    """An answer as the REST API returns it, plus what its status allows the assistant to say."""

    status: str
    meaning: str
    found: bool
    answer: str
    question: str
    query: str
    passages: list[MCPPassage]


class MCPPassages(TypedDict):
    passages: list[MCPPassage]


def mcp_passage(passage: Passage) -> MCPPassage:
    """`ui.api.passage_json` with the document's web address and its Harvard reference."""
    return MCPPassage(
        **passage_json(passage),
        link=web_address(passage.metadata),
        reference=harvard(passage.metadata, passage.title, passage.source).text,
    )


P = ParamSpec("P")
R = TypeVar("R")


def _tool_errors(tool: Callable[P, R]) -> Callable[P, R | CallToolResult]:
    """Bad input or an index that cannot serve becomes a tool error with the REST API's one line.

    Returned as the tool's own result, so the assistant reads exactly that line (the SDK would
    prefix its own words); anything else is our fault, logged here, and reported without details.
    """

    @functools.wraps(tool)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | CallToolResult:
        try:
            return tool(*args, **kwargs)
        except ValidationError as exc:
            message = invalid_field(exc.errors())
        except (QAError, ValueError) as exc:
            lines = str(exc).strip().splitlines()
            message = lines[0] if lines else "bad request"
        except Exception:
            log.exception("MCP tool %s failed", tool.__name__)
            message = "internal error; the service's log has the details"
        return _error_result(message)

    return guarded


def _error_result(message: str) -> CallToolResult:
    """A tool error the assistant reads as `message` alone."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


class QuotesServer(MCPServer):
    """The MCP server over one index; lists the documents indexed now as its resources."""

    def __init__(self, index: Any, question_log: QuestionLog | None = None) -> None:
        super().__init__(
            "collective-leadership-qa",
            title="Quotes from health and care leadership content",
            instructions=RULES,
            version="1",
            # The SDK configures the root logger unless the program already has: no louder than Python's default.
            log_level="WARNING",
        )
        self.index = index
        self.question_log = question_log
        # Each tool's arguments, by name: the tools are fixed, so this is read once, not on each call.
        self.arguments: dict[str, set[str]] = {}
        for tool, description in ((self.ask, ASK), (self.retrieve, RETRIEVE), (self.list_documents, DOCUMENTS)):
            self.add_tool(_tool_errors(tool), description=description, structured_output=True)
            self.arguments[tool.__name__] = set(inspect.signature(tool).parameters)
        self.resource(DOCUMENT_URI, name="document", mime_type="text/plain")(self.read_document)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """The tool `name` called with `arguments`, checked as the REST API checks a body, and told
        with its one line: a field missing or of the wrong type (the SDK's text was pydantic's
        whole report, prefixed), or one the tool lacks (the SDK ignored it)."""
        if name in self.arguments and (extra := sorted(set(arguments) - self.arguments[name])):
            return _error_result(f"{extra[0]}: Extra inputs are not permitted")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return _error_result(invalid_field(exc.__cause__.errors()))
            raise

    def ask(
        self,
        question: Annotated[str, Field(description="the question, in plain words")],
        k: Annotated[int, Field(description=f"passages to return, 1 to {SETTINGS.api_max_k}")] = 3,
        history: Annotated[list[str] | None, Field(description="earlier questions, oldest first")] = None,
    ) -> MCPAnswer:
        """Answer a question with a quotation (see ASK)."""
        request = AskRequest(question=question, k=k, history=history or [])
        began = time.perf_counter()
        answer = self.index.ask(request.question, k=request.k, history=request.history)
        if self.question_log is not None:
            self.question_log.record(request.question, answer, time.perf_counter() - began, channel="mcp")
        shaped = answer_json(answer)
        return MCPAnswer(
            status=shaped["status"],
            meaning=MEANINGS.get(answer.status, NO_ANSWER),
            found=shaped["found"],
            answer=shaped["answer"],
            question=shaped["question"],
            query=shaped["query"],
            passages=[mcp_passage(p) for p in answer.passages],
        )

    def retrieve(
        self,
        question: Annotated[str, Field(description="the question, in plain words")],
        k: Annotated[int, Field(description=f"passages to return, 1 to {SETTINGS.api_max_k}")] = 5,
    ) -> MCPPassages:
        """The closest passages, no judgement (see RETRIEVE)."""
        request = RetrieveRequest(question=question, k=k)
        return MCPPassages(passages=[mcp_passage(p) for p in self.index.retrieve(request.question, k=request.k)])

    def list_documents(self) -> DocumentsOut:
        """What is indexed (see DOCUMENTS)."""
        return documents_out(self.index.info)

    def read_document(self, source: str) -> str:
        """The whole text of the indexed document `source`, as its passages quote it."""
        document = self.index.document(source)
        if document is None:
            raise ResourceNotFoundError(f"no document named {source!r} is indexed; list_documents names them")
        return document.text

    async def list_resources(self) -> list[Resource]:
        """One resource per document indexed now (a rebuild adds or removes them)."""
        return [
            Resource(
                uri=DOCUMENT_URI.format(source=quote(d.source, safe="")),
                name=d.source,
                title=d.title,
                description=harvard(d.metadata, d.title, d.source).text,
                mime_type="text/plain",
            )
            for d in self.index.info.documents
        ]


class _Handover(Response):
    """A response that lets an ASGI app (the MCP transport) read the request and write the reply."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__()
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def mount_mcp(
    app: FastAPI, index: Any, authorize: Callable[..., Awaitable[None]], question_log: QuestionLog | None = None
) -> None:
    """Serve the MCP server at /mcp of `app` over Streamable HTTP, behind `authorize` (the API's login).

    A FastAPI route rather than a mounted app, so the login is the API's own dependency, with
    its 401; stateless with JSON replies, so no session ties a client to one worker process.
    POST only: with no session there is nothing to end (DELETE) and no server-sent stream (GET),
    which the transport still opened and held until the client hung up; the specification has
    a server without one answer GET with 405.
    """
    server = QuotesServer(index, question_log)
    # A transport serves one run of the app (the SDK refuses a second), so each start of the
    # app's lifespan gets a new one: a test client or a server may start the same app again.
    running: list[ASGIApp] = []

    async def mcp(request: Request) -> Response:
        if not running:  # an app used without its lifespan (e.g. a test client outside `with`)
            return error_response(503, "the MCP server runs only while the app's lifespan does")
        return _Handover(running[-1])

    app.add_api_route(
        PATH,
        mcp,
        methods=["POST"],
        dependencies=[Depends(authorize)],
        include_in_schema=False,
    )
    outer = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        # Host and Origin are checked no more (and no less) than for /api/v1: the same login guards both.
        server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        manager = server.session_manager
        async with manager.run(), outer(target) as state:
            running.append(manager.handle_request)
            try:
                yield state
            finally:
                running.remove(manager.handle_request)

    app.router.lifespan_context = lifespan


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="qa-mcp",
        description="Serve the quotations to an AI assistant over MCP (stdio). " + RULES,
    )
    parser.add_argument("--index", help=f"index folder (default: {SETTINGS.index_dir}, built on first use)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """`qa-mcp [--index DIR]`: the MCP server over stdio (stdout carries the protocol, logs go to stderr)."""
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    import qa

    try:
        index = qa.serving_index(args.index)
    except qa.QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    QuotesServer(index).run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The REST API under /api/v1: ask, retrieve, and what is indexed; JSON in and out.

Answers and passages are serialised by `ui.api` (the same shape as the Gradio endpoints and
`python -m qa --json`). Requests are bounded (question length, k, history, body size) and
checked by pydantic; a bad one gets `{"error": "one line"}` (see `ui.server`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from qa.config import SETTINGS
from qa.engine import IndexInfo
from qa.errors import IndexBusyError, IndexCorruptError, IndexNotFoundError, QAError
from qa.questionlog import QuestionLog
from ui.api import AnswerJSON, PassageJSON, answer_json, passage_json

log = logging.getLogger(__name__)

# A question must hold something other than white space (as Python's str.strip sees it, which
# is how the engine refuses an empty one): the pattern declares that, and pydantic checks it.
QUESTION_PATTERN = r"[^\s\x1c-\x1f]"
Question = Annotated[
    str,
    Field(
        min_length=1,
        max_length=SETTINGS.question_chars,
        pattern=QUESTION_PATTERN,
        description=f"The question, in plain words (at most {SETTINGS.question_chars} characters)",
        examples=["What is collective leadership?"],
    ),
]


class AskRequest(BaseModel):
    """A question, how many passages to return, and the conversation's earlier questions."""

    model_config = ConfigDict(extra="forbid")

    question: Question
    k: int = Field(3, ge=1, le=SETTINGS.api_max_k, description="passages to return")
    history: list[Annotated[str, Field(max_length=SETTINGS.question_chars)]] = Field(
        default_factory=list,
        max_length=SETTINGS.api_max_history,
        description="earlier questions of this conversation, oldest first, for a follow-up such as 'and who?'",
    )


class RetrieveRequest(BaseModel):
    """A question and how many passages to return (best first, no relevance cut)."""

    model_config = ConfigDict(extra="forbid")

    question: Question
    k: int = Field(5, ge=1, le=SETTINGS.api_max_k, description="passages to return")


class RetrieveOut(BaseModel):
    passages: list[PassageJSON]


class DocumentOut(BaseModel):
    source: str
    title: str
    passages: int
    metadata: dict[str, str]


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]
    passages: int
    built_at: str
    model: str


def documents_out(info: IndexInfo) -> DocumentsOut:
    """What an index holds (`Index.info`), as /api/v1/documents and MCP's `list_documents` return it."""
    return DocumentsOut(
        documents=[
            DocumentOut(source=d.source, title=d.title, passages=d.passages, metadata=d.metadata)
            for d in info.documents
        ],
        passages=info.passages,
        built_at=info.built_at,
        model=info.model,
    )


class ErrorOut(BaseModel):
    error: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text}
    for code, text in {
        400: "the body is not a JSON object, or the question cannot be used",
        401: "a password or token is needed (HTTP Basic with QA_UI_PASSWORD, or Bearer QA_API_TOKEN or QA_ADMIN_TOKEN)",
        413: "the request body is too large",
        422: "a field is missing, of the wrong type or out of bounds (an empty question among them)",
        429: "too many questions from this client (QA_RATE_LIMIT): wait for Retry-After seconds",
        500: "a fault of the service; its log has the details",
        503: "no index can be served",
    }.items()
}


def error_response(status: int, message: object, headers: dict[str, str] | None = None) -> JSONResponse:
    """`{"error": "..."}` with `status`: the first line of `message` only, never a traceback."""
    lines = str(message).strip().splitlines()
    return JSONResponse({"error": lines[0] if lines else "error"}, status_code=status, headers=headers)


def invalid_field(errors: Sequence[Any]) -> str:
    """The first of pydantic's `errors` as one line, "field: what is wrong" (the REST API's 422, MCP's tool error).

    >>> invalid_field([{"loc": ("body", "k"), "msg": "Input should be less than or equal to 20"}])
    'k: Input should be less than or equal to 20'
    """
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    # The one pattern the API declares is "not only white space" (QUESTION_PATTERN).
    says = "is empty: ask something" if first.get("type") == "string_pattern_mismatch" else first.get("msg")
    return f"{where or 'body'}: {says or 'invalid request'}"


class _GuardedRoute(APIRoute):
    """A route whose failures are answered as JSON errors.

    The index's own errors say what to do: an index that cannot be read is 503 (another worker
    or a retry may serve), a question it refuses (empty) is 400; anything else is our fault, 500,
    with the traceback in the log only.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (HTTPException, RequestValidationError):
                raise
            except (IndexNotFoundError, IndexCorruptError, IndexBusyError) as exc:
                return error_response(503, exc)
            except (QAError, ValueError) as exc:
                return error_response(400, exc)
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                return error_response(500, "internal error; the service's log has the details")

        return guarded


def _json(body: Any) -> Response:
    # Built directly rather than through a response model: the shape is `ui.api`'s, and
    # validating our own output again would cost more than the search on a small index.
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


def make_router(
    index: Any, authorize: Callable[..., Awaitable[None]], question_log: QuestionLog | None = None
) -> APIRouter:
    """The /api/v1 routes over `index` (a `qa.Index`, or one wrapped to count its questions).

    Each question to /ask is recorded in `question_log` (channel "api"), if there is one.
    """
    router = APIRouter(
        prefix="/api/v1",
        tags=["questions"],
        dependencies=[Depends(authorize)],
        responses=ERRORS,
        route_class=_GuardedRoute,
    )

    @router.post("/ask", response_model=AnswerJSON, summary="Answer a question")
    def ask(body: AskRequest, request: Request) -> Response:
        """The answering sentence, quoted, and the passages it comes from, best first.

        `status` is "answered" (then `found` is true and `answer` quotes it), "unsure" (the closest
        passages may answer: the likeliest sentence is each one's highlight, and no quote may be
        presented as the answer), "related" (on topic, but the content does not answer it) or
        "not_covered"; `query` is what was searched (a follow-up is searched with `history`).
        """
        request.state.question = body.question
        began = time.perf_counter()
        answer = index.ask(body.question, k=body.k, history=body.history)
        if question_log is not None:
            question_log.record(body.question, answer, time.perf_counter() - began, channel="api")
        return _json(answer_json(answer))

    @router.post("/retrieve", response_model=RetrieveOut, summary="Passages for a question")
    def retrieve(body: RetrieveRequest, request: Request) -> Response:
        """The `k` passages that best answer the question, best first, without a relevance cut."""
        request.state.question = body.question
        return _json({"passages": [passage_json(p) for p in index.retrieve(body.question, k=body.k)]})

    @router.get("/documents", response_model=DocumentsOut, tags=["index"], summary="What is indexed")
    def documents() -> Response:
        """Every indexed document (name, title, passages, metadata), the passage count, when built."""
        return _json(documents_out(index.info).model_dump())

    return router

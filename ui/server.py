"""The web app: one FastAPI server with the Gradio chat at "/" and, beside it, the REST API.

    GET  /healthz            alive: the index served (passages, built_at, model)
    GET  /readyz             ready: the index is loaded and its folder holds a whole one; 503 otherwise
    GET  /metrics            Prometheus text format (questions by status, latency, errors, index)
    POST /api/v1/ask         {"question", "k", "history"} -> the answer (see ui.rest)
    POST /api/v1/retrieve    {"question", "k"} -> {"passages": [...]}
    GET  /api/v1/documents   what is indexed
    POST /mcp                the MCP server for AI assistants (Streamable HTTP; see ui.mcp)
    GET  /docs               the OpenAPI page
    GET  /accessibility      the accessibility statement (ui.accessibility)

Every error is JSON `{"error": "one line"}` with its status code (400, 401, 404, 405, 413, 422, 429,
503; 500 for a fault of ours, whose traceback goes to the log only). With QA_UI_PASSWORD set, the
API, /metrics and /mcp need it too (HTTP Basic, the chat's user name), or `Authorization: Bearer
$QA_API_TOKEN` (the admin's QA_ADMIN_TOKEN is accepted wherever that is). Every response carries
the security headers, and questions are rate-limited per client (`ui.security`).
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in `_authorizer`'s
# signature at run time, and they name objects local to it.
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount

from qa import store
from qa.config import SETTINGS
from qa.errors import QAError
from qa.questionlog import QuestionLog
from ui.accessibility import mount_accessibility
from ui.app import build_app, default_question_log, mount
from ui.library import UPLOADS, mount_library
from ui.mcp import mount_mcp
from ui.metrics import CONTENT_TYPE, MeteredIndex, Metrics
from ui.middleware import AccessLog, BodyLimit, MethodCheck
from ui.rest import ERRORS, ErrorOut, error_response, invalid_field, make_router
from ui.security import ClientLimit, Clients, QuestionLimit, RateLimiter, SecurityHeaders
from ui.site import site_for
from ui.slots import Slots

log = logging.getLogger(__name__)

UNAUTHORIZED = (
    "this API needs a login: HTTP Basic with the chat's user name and password, "
    "or the header 'Authorization: Bearer <QA_API_TOKEN>'"
)
# The question routes the rate limit applies to here; the chat and its Gradio endpoints check the
# same limit themselves (`ui.app`, `ui.api`), where the reply can say so in their own terms.
QUESTION_PATHS = ("/api/v1/ask", "/api/v1/retrieve")


def create_app(
    index: Any,
    *,
    examples: Sequence[str] | None = None,
    auth: list[tuple[str, str]] | None = None,
    api_token: str | None = None,
    concurrency: int = 4,
    log_questions: bool = SETTINGS.log_questions,
    max_body_bytes: int = SETTINGS.api_max_body_bytes,
    admin_token: str | None = None,
    upload_dir: Path | None = None,
    question_log: QuestionLog | None = None,
    rate_limit: float = SETTINGS.rate_limit,
    question_slots: int = SETTINGS.question_slots,
) -> FastAPI:
    """The whole web app over `index` (a loaded `qa.Index`).

    `admin_token` and `upload_dir` are the Library's (default: QA_ADMIN_TOKEN, QA_UPLOAD_DIR);
    `question_log` records the chat's and the API's questions (default: the one settings name)
    and the admins' actions. `rate_limit` is questions a second per client (QA_RATE_LIMIT; 0 off).

    `auth` is the chat's [(user, password)] (None: no login); the API accepts it as HTTP Basic,
    or `api_token` as a bearer token; with neither, the API is open like the chat. `concurrency`
    is how many chat questions are answered at once (others wait in Gradio's queue);
    `question_slots` how many questions the process answers at once, whichever way they came in
    (QA_QUESTION_SLOTS; others wait their turn).
    """
    # Shared by every way in: the chat, the API and MCP answer in the same slots.
    slots = Slots(question_slots)
    metrics = Metrics()
    app = FastAPI(
        title="Collective leadership Q&A",
        summary="Quoted answers from the indexed content: no generative model, every answer is a quotation.",
        version="1",
        docs_url="/docs",
        redoc_url=None,
    )
    _install_error_handlers(app)
    admin_token = SETTINGS.admin_token if admin_token is None else admin_token
    authorize = _authorizer(auth, api_token, admin_token)
    clients = Clients.from_settings((api_token, admin_token))
    limit = ClientLimit(RateLimiter(rate_limit), clients, metrics)
    question_log = question_log or default_question_log()
    app.include_router(make_router(MeteredIndex(index, metrics, "api", slots), authorize, question_log))
    mount_mcp(app, MeteredIndex(index, metrics, "mcp", slots), authorize, question_log)

    @app.get("/healthz", tags=["service"], summary="Alive")
    def healthz() -> dict[str, Any]:
        """The process answers; the index it serves (whatever the state of the folder on disk)."""
        return {"status": "alive", **_index_figures(index)}

    @app.get("/readyz", tags=["service"], summary="Ready for questions", responses={503: ERRORS[503]})
    def readyz() -> Response:
        """200 when an index is loaded and its folder holds a whole index (so a restart would serve it too)."""
        try:
            figures = _index_figures(index)
            store.check(index.path)
        except (QAError, OSError) as exc:
            return error_response(503, str(exc))
        if not figures["passages"]:
            return error_response(503, f"the index at {index.path} has no passages")
        return JSONResponse({"status": "ready", **figures})

    @app.get(
        "/metrics",
        tags=["service"],
        summary="Prometheus metrics",
        dependencies=[Depends(authorize)],
        response_class=Response,
        responses={
            200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}, "description": "metrics"},
            401: {"model": ErrorOut, "description": ERRORS[401]["description"]},
        },
    )
    def metrics_text() -> Response:
        """Questions by status and way in, their latency, HTTP errors, passages indexed, build time."""
        info = index.info
        return Response(metrics.render(info.passages, info.built_at), media_type=CONTENT_TYPE)

    # The Library (admin only; off without QA_ADMIN_TOKEN), before the chat takes every other path.
    mount_library(
        app,
        index.path,
        admin_token=admin_token,
        upload_dir=upload_dir,
        question_log=question_log,
        index=index,
        clients=clients,
    )

    mount_accessibility(app, lambda: site_for(index.info).title)
    demo = build_app(
        MeteredIndex(index, metrics, "chat", slots),
        examples=examples,
        question_log=question_log,
        limit=limit,
    )
    mount(app, demo, "/", auth=auth, concurrency=concurrency)
    # The last added runs first: the access log sees (and times) every refusal below it, and
    # every response, refusals included, carries the security headers.
    routes = [r for r in app.router.routes if not isinstance(r, Mount)]
    app.add_middleware(MethodCheck, routes=routes, api_prefix="/api/v1/")  # the REST API's own paths
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, exempt=(UPLOADS,))
    app.add_middleware(QuestionLimit, limit=limit, paths=QUESTION_PATHS)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog, metrics=metrics, log_questions=log_questions)
    return app


def _index_figures(index: Any) -> dict[str, Any]:
    info = index.info
    return {"passages": info.passages, "built_at": info.built_at, "model": info.model, "worker": os.getpid()}


def _install_error_handlers(app: FastAPI) -> None:
    """Every error as `{"error": "one line"}`: malformed JSON is 400, a field out of bounds 422."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "the request body is not valid JSON")
        if errors and tuple(errors[0].get("loc", ())) == ("body",):
            # A JSON object sent as another media type is not read at all: say which is needed.
            if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                return error_response(400, 'send the body as JSON, with "Content-Type: application/json"')
            return error_response(400, 'the request body must be a JSON object, e.g. {"question": "..."}')
        return error_response(422, invalid_field(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


def _authorizer(
    auth: list[tuple[str, str]] | None, token: str | None, admin_token: str | None
) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency that lets a request through with the right Basic login or bearer token.

    Without a login or `token` the API is open, as the chat is. Where it is not, the admin's
    token is accepted too: an admin may do whatever a reader may, with the one token.
    Declared through FastAPI's security classes, so /docs offers both ways to log in. A coroutine,
    though it never waits: FastAPI runs a plain function in its thread pool, and that hop to a
    thread and back, on every API request, cost more than the comparisons.
    """
    tokens = tuple(t for t in (token, admin_token) if t)
    basic = HTTPBasic(auto_error=False, description="the chat's user name and QA_UI_PASSWORD")
    bearer = HTTPBearer(auto_error=False, description="QA_API_TOKEN or QA_ADMIN_TOKEN")

    async def authorize(
        login: Annotated[HTTPBasicCredentials | None, Depends(basic)],
        presented: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if not auth and not token:
            return
        given = presented.credentials.encode() if presented else b""
        # Every token compared, always: the time taken must not tell which one came close.
        if given and sum(secrets.compare_digest(given, token.encode()) for token in tokens):
            return
        if auth and login and any(_same(login, user, password) for user, password in auth):
            return
        challenge = 'Basic realm="qa", charset="UTF-8"' if auth else "Bearer"
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": challenge})

    return authorize


def _same(login: HTTPBasicCredentials, user: str, password: str) -> bool:
    # Both compared, always, in constant time: the answer must not tell which one was wrong.
    user_ok = secrets.compare_digest(login.username.encode(), user.encode())
    password_ok = secrets.compare_digest(login.password.encode(), password.encode())
    return user_ok and password_ok

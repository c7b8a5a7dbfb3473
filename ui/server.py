"""The web app: one FastAPI server with the Gradio chat at "/" and, beside it, the REST API.

    GET  /healthz            alive: the index served (passages, built_at, model)
    GET  /readyz             ready: the index is loaded and its folder readable; 503 otherwise
    GET  /metrics            Prometheus text format (questions by status, latency, errors, index)
    POST /api/v1/ask         {"question", "k", "history"} -> the answer (see ui.rest)
    POST /api/v1/retrieve    {"question", "k"} -> {"passages": [...]}
    GET  /api/v1/documents   what is indexed
    POST /mcp                the MCP server for AI assistants (Streamable HTTP; see ui.mcp)
    GET  /docs               the OpenAPI page
    GET  /accessibility      the accessibility statement (ui.accessibility)

Every error is JSON `{"error": "one line"}` with its status code (400, 401, 413, 422, 503; 500
for a fault of ours, whose traceback goes to the log only). With QA_UI_PASSWORD set, the API and
/metrics and /mcp need it too (HTTP Basic, the chat's user name), or `Authorization: Bearer $QA_API_TOKEN`.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in `_authorizer`'s
# signature at run time, and they name objects local to it.
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa import store
from qa.config import SETTINGS
from qa.errors import QAError
from qa.questionlog import QuestionLog
from ui.accessibility import mount_accessibility
from ui.app import build_app, default_question_log, mount
from ui.library import UPLOADS, mount_library
from ui.mcp import mount_mcp
from ui.metrics import CONTENT_TYPE, MeteredIndex, Metrics
from ui.middleware import AccessLog, BodyLimit
from ui.rest import ERRORS, error_response, invalid_field, make_router
from ui.site import site_for

log = logging.getLogger(__name__)

UNAUTHORIZED = (
    "this API needs a login: HTTP Basic with the chat's user name and password, "
    "or the header 'Authorization: Bearer <QA_API_TOKEN>'"
)


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
) -> FastAPI:
    """The whole web app over `index` (a loaded `qa.Index`).

    `admin_token` and `upload_dir` are the Library's (default: QA_ADMIN_TOKEN, QA_UPLOAD_DIR);
    `question_log` records the chat's and the API's questions (default: the one settings name).

    `auth` is the chat's [(user, password)] (None: no login); the API accepts it as HTTP Basic,
    or `api_token` as a bearer token; with neither, the API is open like the chat. `concurrency`
    is how many chat questions are answered at once (others wait in Gradio's queue).
    """
    metrics = Metrics()
    app = FastAPI(
        title="Collective leadership Q&A",
        summary="Quoted answers from the indexed content: no generative model, every answer is a quotation.",
        version="1",
        docs_url="/docs",
        redoc_url=None,
    )
    _install_error_handlers(app)
    authorize = _authorizer(auth, api_token)
    question_log = question_log or default_question_log()
    app.include_router(make_router(MeteredIndex(index, metrics, "api"), authorize, question_log))
    mount_mcp(app, MeteredIndex(index, metrics, "mcp"), authorize, question_log)

    @app.get("/healthz", tags=["service"], summary="Alive")
    def healthz() -> dict[str, Any]:
        """The process answers; the index it serves (whatever the state of the folder on disk)."""
        return {"status": "alive", **_index_figures(index)}

    @app.get("/readyz", tags=["service"], summary="Ready for questions", responses={503: ERRORS[503]})
    def readyz() -> Response:
        """200 when an index is loaded and its folder can be read (so a restart would serve it too)."""
        try:
            figures = _index_figures(index)
            store.resolve(index.path)
        except (QAError, OSError) as exc:
            return error_response(503, str(exc))
        if not figures["passages"]:
            return error_response(503, f"the index at {index.path} has no passages")
        return JSONResponse({"status": "ready", **figures})

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics", dependencies=[Depends(authorize)])
    def metrics_text() -> Response:
        """Questions by status and way in, their latency, HTTP errors, passages indexed, build time."""
        info = index.info
        return Response(metrics.render(info.passages, info.built_at), media_type=CONTENT_TYPE)

    # The Library (admin only; off without QA_ADMIN_TOKEN), before the chat takes every other path.
    mount_library(
        app, index.path, admin_token=admin_token, upload_dir=upload_dir, question_log=question_log, index=index
    )

    mount_accessibility(app, lambda: site_for(index.info).title)
    demo = build_app(MeteredIndex(index, metrics, "chat"), examples=examples, question_log=question_log)
    mount(app, demo, "/", auth=auth, concurrency=concurrency)
    # The last added runs first: the access log sees (and times) the body limit's refusals too.
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, exempt=(UPLOADS,))
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
            return error_response(400, 'the request body must be a JSON object, e.g. {"question": "..."}')
        return error_response(422, invalid_field(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


def _authorizer(auth: list[tuple[str, str]] | None, token: str | None) -> Callable[..., None]:
    """A FastAPI dependency that lets a request through with the right Basic login or bearer token.

    Declared through FastAPI's security classes, so /docs offers both ways to log in.
    """
    basic = HTTPBasic(auto_error=False, description="the chat's user name and QA_UI_PASSWORD")
    bearer = HTTPBearer(auto_error=False, description="QA_API_TOKEN")

    def authorize(
        login: Annotated[HTTPBasicCredentials | None, Depends(basic)],
        presented: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if not auth and not token:
            return
        if token and presented and secrets.compare_digest(presented.credentials.encode(), token.encode()):
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

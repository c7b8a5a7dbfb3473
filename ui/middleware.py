"""ASGI middleware of the web app: a JSON access-log line per request, a cap on API bodies, 405s.

Both are plain ASGI (not Starlette's BaseHTTPMiddleware), so the chat's streamed replies pass
through untouched and a request costs a few microseconds more, not a task switch.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from fastapi import HTTPException
from starlette.routing import BaseRoute, Match

from qa.redact import redact
from ui.metrics import Metrics

access_log = logging.getLogger("ui.access")

Scope = dict[str, Any]
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class AccessLog:
    """Log one JSON line per HTTP request: time, method, route, status code, latency in ms.

    The question text is added (from `scope["state"]["question"]`, where the API puts it) only
    when `log_questions` is on, redacted as the question log's are (qa.redact): questions can
    hold personal data. Error codes are counted in `metrics` as well.
    """

    def __init__(self, app: Any, metrics: Metrics, log_questions: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.log_questions = log_questions

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the client gets if the app fails before it starts a response

        async def send_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except asyncio.CancelledError:
            # The server only cancels a request when it stops and the request outlives the grace
            # period: the chat's event streams stay open for good. That is a normal stop, not an
            # error, so it ends here rather than as a traceback in the server's log.
            status = 499
        finally:
            record: dict[str, Any] = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "method": scope.get("method", ""),
                "route": scope.get("path", ""),
                "status": status,
                "ms": round(1000 * (time.perf_counter() - began), 2),
            }
            question = scope.get("state", {}).get("question")
            if self.log_questions and question is not None:
                record["question"] = redact(question)
            if status >= 400:
                self.metrics.errors.labels(str(status)).inc()
            access_log.info(json.dumps(record, ensure_ascii=False))


class BodyLimit:
    """Refuse request bodies over `max_bytes` under `prefix` with 413, before reading them whole.

    A declared Content-Length is checked at once; a chunked body is counted as it arrives. Paths
    under `exempt` (uploads to the Library, which sets its own, larger limits) are let through.
    """

    def __init__(self, app: Any, max_bytes: int, prefix: str = "/api/", exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        exempt = bool(self.exempt) and path.startswith(self.exempt)
        if scope["type"] != "http" or not path.startswith(self.prefix) or exempt:
            await self.app(scope, receive, send)
            return
        too_large = f"the request body is over {self.max_bytes:,} bytes (QA_API_MAX_BODY)"
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await send_json(send, 413, {"error": too_large})
                return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                # Raised inside the app's body parsing, so the app's error handler answers it.
                raise HTTPException(413, too_large)
            return message

        await self.app(scope, counted, send)


class MethodCheck:
    """Answer a method a route does not have with 405 and the Allow header, and a path under
    `api_prefix` that no route has with 404, both as `{"error": ...}`.

    Without this, a request such as TRACE /api/v1/ask or GET /api/v1/nope would fall through to
    the chat, mounted at "/" for every other path, and get its 404 `{"detail": "Not Found"}`.
    `routes` are the app's own (not the chat's mount); what each allows is found by asking it,
    since an included router does not list its methods.
    """

    def __init__(self, app: Any, routes: list[BaseRoute], api_prefix: str = "") -> None:
        self.app = app
        self.routes = routes
        self.api_prefix = api_prefix

    def _matches(self, scope: Scope) -> Match:
        best = Match.NONE
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return match
            best = Match.PARTIAL if match is Match.PARTIAL else best
        return best

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        match = self._matches(scope) if scope["type"] == "http" else Match.FULL
        if match is Match.PARTIAL:
            allowed = [m for m in METHODS if self._matches({**scope, "method": m}) is Match.FULL]
            allow = ", ".join(allowed)
            message = f"{scope.get('method')} is not allowed here; use {allow}"
            await send_json(send, 405, {"error": message}, [(b"allow", allow.encode())])
            return
        path = scope.get("path", "")
        if match is Match.NONE and self.api_prefix and path.startswith(self.api_prefix):
            await send_json(send, 404, {"error": f"no such endpoint: {path}; the API's endpoints are listed at /docs"})
            return
        await self.app(scope, receive, send)


async def send_json(
    send: Any, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with `body` as JSON, `status` and the `extra` headers, from ASGI middleware."""
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})

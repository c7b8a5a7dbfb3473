"""Security of the web app: headers on every response, rate limits on questions, admin lock-outs.

`SecurityHeaders` and `QuestionLimit` are plain ASGI middleware like those in `ui.middleware`,
so the chat's streamed replies pass through untouched.

Who a client is (`Clients`): the bearer token it presents when that is a token the server knows
(a reader's API token or the admin's), else its address. The address is the connection's peer,
or, when the peer is one of `QA_TRUSTED_PROXIES`, the last address in X-Forwarded-For that is not
a trusted proxy itself (earlier entries are whatever the client wrote, so they are never believed).

With several workers (`python -m ui --workers N`) the limits are kept per worker process. The
chat and its Gradio endpoints always live in worker 0 (see `ui.workers`), so for them the limit
is exact. API connections (the REST questions, and the Library's routes other than its page,
uploads, removals and jobs) are handed to the workers in turn and a keep-alive connection stays
with its worker, so a client reusing one connection meets the limits exactly, and one that opens
a new connection for each request may get up to N times a limit (N times the wrong admin tokens
before a lock-out) before every worker refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.config import SETTINGS, Settings
from ui.metrics import Metrics
from ui.middleware import send_json

Scope = dict[str, Any]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# What the chat's page needs, and why (checked in Chromium: tests/test_browser_security.py):
# - script-src 'unsafe-inline': Gradio writes its configuration into an inline <script> of the
#   page it generates (no nonce can be added to it), and the chat's PAGE_HEAD script (copy
#   reference) is inline.
# - script-src 'unsafe-eval': Gradio runs the `js=` code of event listeners (the chat's scroll to
#   the latest question, the tab title) by compiling it with `new Function`; without it the page
#   stops at its first script and the chat never appears.
# - style-src 'unsafe-inline': Gradio's components set style attributes and inject <style>
#   elements for the theme at run time; the Library page has inline styles too.
# - img-src data: blob:, font-src data:: Gradio's icons and the theme's embedded images.
# - connect-src 'self': the chat talks to its own server only (fetch and server-sent events).
# - worker-src blob:: Gradio starts a web worker from a blob for its client.
# Everything else (plugins, other origins, forms to other sites, <base> changes) is refused.
_CHAT_SOURCES = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "media-src": "'self' blob: data:",
    "worker-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
# The Library, where the admin token is typed, is our own page: one inline script and inline
# styles, no eval.
_LIBRARY_SOURCES = {**_CHAT_SOURCES, "script-src": "'self' 'unsafe-inline'"}
# FastAPI's /docs page loads Swagger UI's script and style from jsDelivr and its icon from
# fastapi.tiangolo.com; only that page may (it works only where the internet can be reached).
_DOCS_SOURCES = {
    **_CHAT_SOURCES,
    "script-src": "'self' 'unsafe-inline' 'unsafe-eval' https://cdn.jsdelivr.net",
    "style-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "img-src": "'self' data: https://fastapi.tiangolo.com",
}
# JSON and metrics are never rendered as pages: nothing at all may load in them.
_DATA_SOURCES = {"default-src": "'none'"}
POLICIES = {"chat": _CHAT_SOURCES, "library": _LIBRARY_SOURCES, "docs": _DOCS_SOURCES, "data": _DATA_SOURCES}
# Nothing here uses the camera, the microphone, where the reader is, payments or devices; the
# chat's "Copy reference" button writes to the clipboard, from this site only.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
    "midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), "
    "clipboard-write=(self)"
)
# Responses that must never be kept by a browser or a proxy: what an admin sees, and the API's
# answers (which depend on an index that changes).
NO_STORE_PREFIXES = ("/api/", "/library", "/metrics")
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(frame_ancestors: str, kind: str = "chat") -> str:
    """The Content-Security-Policy header for a `kind` of response (a key of POLICIES).

    >>> content_security_policy("'self'", "data")
    "default-src 'none'; frame-ancestors 'self'"
    """
    sources = {**POLICIES[kind], "frame-ancestors": frame_ancestors}
    return "; ".join(f"{name} {value}" for name, value in sources.items())


def response_kind(path: str) -> str:
    """Which policy a path's responses get.

    >>> [response_kind(p) for p in ("/", "/library", "/docs", "/api/v1/ask", "/metrics")]
    ['chat', 'library', 'docs', 'data', 'data']
    """
    if path == "/docs":
        return "docs"
    if path.startswith("/library"):
        return "library"
    if path.startswith(("/api/", "/metrics", "/openapi.json", "/healthz", "/readyz")):
        return "data"
    return "chat"


class SecurityHeaders:
    """Add the security headers to every HTTP response (headers the app set itself are kept)."""

    def __init__(self, app: Any, settings: Settings = SETTINGS) -> None:
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", PERMISSIONS_POLICY.encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if settings.frame_ancestors == "'self'":
            # For browsers too old for frame-ancestors; it cannot name other sites, so only by default.
            common.append((b"x-frame-options", b"SAMEORIGIN"))
        if settings.hsts:
            common.append((b"strict-transport-security", HSTS.encode()))
        self._headers = {
            kind: [
                (b"content-security-policy", content_security_policy(settings.frame_ancestors, kind).encode()),
                *common,
            ]
            for kind in POLICIES
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        extra = list(self._headers[response_kind(path)])
        if path.startswith(NO_STORE_PREFIXES):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class Clients:
    """Tells clients apart: by a known bearer token, else by address (see the module's docstring)."""

    tokens: tuple[str, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, tokens: Iterable[str | None], settings: Settings = SETTINGS) -> Clients:
        """Clients known by `tokens` (empty ones ignored), proxies from QA_TRUSTED_PROXIES."""
        try:
            proxies = tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"QA_TRUSTED_PROXIES: {exc}; give addresses or CIDRs, comma-separated") from None
        return cls(tuple(t for t in tokens if t), proxies)

    def address(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """The client's address: the peer's, or the forwarded one when the peer is a trusted proxy.

        >>> proxy = Clients(trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
        >>> proxy.address("10.0.0.2", {"x-forwarded-for": "1.2.3.4, 5.6.7.8, 10.0.0.9"})
        '5.6.7.8'
        >>> proxy.address("192.0.2.1", {"x-forwarded-for": "1.2.3.4"})
        '192.0.2.1'
        """
        address = peer or "unknown"
        if not self.trusted_proxies or not self._trusted(address):
            return address
        hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
            address = hop
        return address

    def key(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """Who is asking: a digest of a known bearer token, else "address:<address>".

        An unknown token counts as no token: otherwise each made-up token would be a new client.
        """
        scheme, _, given = headers.get("authorization", "").partition(" ")
        given = given.strip()
        if scheme.lower() == "bearer" and given:
            for token in self.tokens:
                if hmac.compare_digest(given.encode(), token.encode()):
                    return "token:" + hashlib.sha256(given.encode()).hexdigest()[:16]
        return "address:" + self.address(peer, headers)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)


@dataclass
class RateLimiter:
    """A token bucket per client: `rate` a second, up to `burst` at once; `rate` 0 is no limit.

    Buckets of clients quiet long enough to be full again are dropped once there are more than
    `max_clients`, so memory stays bounded however many addresses knock.
    """

    rate: float
    burst: float = 0.0  # 0: three times the rate
    max_clients: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)  # tokens, when
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise ValueError(f"the rate limit (QA_RATE_LIMIT) must be 0 (off) or more, not {self.rate}")
        self.burst = self.burst or max(1.0, 3 * self.rate)

    def wait(self, client: str) -> float:
        """0.0 and one question counted if `client` may ask now; else the seconds until it may."""
        if not self.rate:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                if len(self._buckets) > self.max_clients:
                    self._forget_full(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [c for c, (tokens, then) in self._buckets.items() if tokens + (now - then) * self.rate >= self.burst]
        for client in full:
            del self._buckets[client]


def retry_after(seconds: float) -> str:
    """The Retry-After header's value: whole seconds, at least 1.

    >>> retry_after(0.2), retry_after(2.5)
    ('1', '3')
    """
    return str(max(1, math.ceil(seconds)))


def too_many(seconds: float) -> str:
    """The one-line error for a client over the question limit."""
    return f"too many questions at once: try again in {retry_after(seconds)} s"


@dataclass(frozen=True)
class ClientLimit:
    """The question limit as the chat and the API apply it: who is asking, their bucket, the count."""

    limiter: RateLimiter
    clients: Clients
    metrics: Metrics

    def wait(self, peer: str | None, headers: Mapping[str, str], via: str) -> float:
        """0.0 if this client may ask now; else the seconds to wait, the refusal counted under `via`."""
        wait = self.limiter.wait(self.clients.key(peer, headers))
        if wait:
            self.metrics.limited.labels(via).inc()
        return wait


class QuestionLimit:
    """Refuse questions to `paths` (POST) over the client's rate with 429, Retry-After and a JSON error."""

    def __init__(self, app: Any, limit: ClientLimit, paths: Sequence[str]) -> None:
        self.app = app
        self.limit = limit
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        peer = (scope.get("client") or (None,))[0]
        wait = self.limit.wait(peer, headers, "api")
        if not wait:
            await self.app(scope, receive, send)
            return
        await send_json(send, 429, {"error": too_many(wait)}, [(b"retry-after", retry_after(wait).encode())])


@dataclass
class Lockout:
    """Lock a client out for `seconds` after `max_failures` wrong admin tokens in a row (0: never)."""

    max_failures: int = SETTINGS.admin_max_failures
    seconds: float = SETTINGS.admin_lockout_seconds
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False)  # count, locked until
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remaining(self, client: str) -> float:
        """Seconds `client` is still locked out for (0.0 if it is not)."""
        with self._lock:
            _, until = self._failures.get(client, (0, 0.0))
            return max(0.0, until - self.clock())

    def failed(self, client: str) -> None:
        """Count a wrong token; the `max_failures`th in a row locks the client out."""
        with self._lock:
            count, _ = self._failures.get(client, (0, 0.0))
            count += 1
            if count >= self.max_failures > 0:
                self._failures[client] = (0, self.clock() + self.seconds)
            else:
                self._failures[client] = (count, 0.0)
            if len(self._failures) > 10_000:  # only those locked out now are worth remembering
                now = self.clock()
                self._failures = {c: v for c, v in self._failures.items() if v[1] > now}

    def succeeded(self, client: str) -> None:
        """The right token: the client's count of failures starts again."""
        with self._lock:
            self._failures.pop(client, None)

"""A local HTTP server for tests of fetching: pages, errors, redirects, slow, trickling and huge answers.

Started on 127.0.0.1 on a free port in a thread, stopped by the test that started it.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """What a path answers: a status, a body and headers; `delay` seconds before answering."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    trickle: float = 0.0  # seconds between 100-byte pieces of the body: each read is quick, the whole slow


@dataclass
class Site:
    url: str
    routes: dict[str, Route]
    hits: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)  # the Host header of each request


@contextmanager
def serve(routes: dict[str, Route], tls: ssl.SSLContext | None = None) -> Iterator[Site]:
    """Serve `routes` (path -> Route; changeable while serving) until the block ends; https with `tls`."""
    site = Site("", routes)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits.append(self.path)
            site.hosts.append(self.headers.get("Host", ""))
            route = site.routes.get(self.path, Route(b"not here", 404, "text/plain"))
            time.sleep(route.delay)
            try:
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if not route.trickle:
                    self.wfile.write(route.body)
                for start in range(0, len(route.body) if route.trickle else 0, 100):
                    self.wfile.write(route.body[start : start + 100])
                    self.wfile.flush()
                    time.sleep(route.trickle)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a size cap or a timeout): what the test wants

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:  # the handshake happens on accept; a client refusing the certificate is just dropped
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Safety huddles on every ward | Care Journal</title>
<meta property="og:site_name" content="Care Journal">
<meta property="og:title" content="Safety huddles on every ward">
<meta name="author" content="Priya Shah">
<meta property="article:published_time" content="2024-02-12">
</head><body>
<header>
<a href="#main">Skip to main content</a>
<nav aria-label="Main"><ul>
<li><a href="/topics">Browse our topics</a></li><li><a href="/events">Upcoming events and webinars</a></li>
<li><a href="/newsletter">Sign up to our weekly newsletter</a></li>
<li><a href="/donate">Support our charity work</a></li>
</ul></nav>
<nav aria-label="Breadcrumb"><a href="/">Home</a> &gt; <a href="/insight">Insight and analysis</a></nav>
</header>
<main id="main"><article>
<h1>Safety huddles on every ward</h1>
<p class="byline">By Priya Shah, 12 February 2024</p>
<p>A safety huddle is a short meeting at the start of each shift where the whole team names the risks
of the day. On the wards we studied, huddles lasted seven minutes on average.</p>
<h2>What the wards found</h2>
<p>Wards that huddled every day reported 23 per cent fewer falls over eighteen months. Porters and
cleaners said they felt listened to for the first time.</p>
<p>The matron on one ward said the huddle turned worry into action because every concern got an owner
before the shift began.</p>
<h2>How to start</h2>
<p>Pick a fixed time, stand by a whiteboard and keep the huddle under ten minutes. Review yesterday's
actions before adding new ones.</p>
</article>
<aside class="related"><h2>Related content</h2><ul>
<li><a href="/blog/rota">Blog: Why rota gaps keep growing in community nursing</a></li>
<li><a href="/report/boards">Report: What hospital boards get wrong about culture</a></li>
</ul></aside>
</main>
<footer>
<ul><li><a href="/privacy">Privacy and cookie policy</a></li><li><a href="/terms">Terms of use</a></li></ul>
<p>Care Journal is a registered charity, number 1234567. Registered office 11 Example Street, London.</p>
</footer>
</body></html>
"""

# Text of the page furniture above: none of it may end up in a passage.
FURNITURE = (
    "Browse our topics",
    "Upcoming events",
    "weekly newsletter",
    "Support our charity",
    "Skip to main content",
    "Insight and analysis",
    "Privacy and cookie policy",
    "Terms of use",
    "registered charity",
    "Registered office",
)

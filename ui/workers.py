"""`python -m ui --workers N`: N server processes behind one port, the chat kept in one of them.

Why not N processes accepting on a shared socket (uvicorn's own `--workers`): the kernel spreads
*connections*, and the Gradio chat keeps per-process state across them (its queue: a question is
sent on one connection and its answer streamed on another; per-session `gr.State`; login
cookies). Spread over processes, a chat user's answer would be waited for in a process that never
got the question. The REST API holds no such state, so it can go anywhere.

So the parent process is a small front: it accepts each connection, peeks at its first request
line (without reading it), and hands the connection itself (its file descriptor, over a Unix
socket) to a worker: API, health, metrics and docs connections in turn to every worker, all
others (the chat, its assets, the admin routes with their jobs) to worker 0. The front never
copies a byte of a request or a reply; a keep-alive connection stays with the worker it was
handed to. Each worker is a whole `python -m ui` process: it memory-maps the same index (the
FAISS file is mapped in place, so N workers share one copy in the page cache) and, like a single
server, serves a rebuilt index from its next request. Metrics of all workers are added up
through prometheus-client's multiprocess mode, so /metrics on any worker shows the whole server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

# Paths any worker can serve: no per-process state behind them.
# /mcp too: its server is stateless (ui.mcp), each request answered on its own.
STATELESS = ("/api/", "/mcp", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json")
# Under /api/, what must stay with worker 0: admin jobs live in the process that started them.
STATEFUL_API = ("/api/v1/jobs",)
PEEK_BYTES = 2048
# A client that has not sent its request line by then is dropped (slow or idle connections).
FIRST_LINE_SECONDS = 10.0


def is_stateless(request_head: bytes) -> bool:
    """Whether a connection opening with `request_head` may go to any worker.

    >>> is_stateless(b"POST /api/v1/ask HTTP/1.1\\r\\nHost: x"), is_stateless(b"POST /mcp HTTP/1.1\\r\\n")
    (True, True)
    >>> is_stateless(b"GET / HTTP/1.1\\r\\n"), is_stateless(b"POST /api/v1/documents HTTP/1.1\\r\\n")
    (False, False)
    """
    parts = request_head.split(b"\r\n", 1)[0].split(b" ")
    if len(parts) < 2:
        return False
    method, path = parts[0].decode("latin-1"), parts[1].decode("latin-1")
    if not path.startswith(STATELESS) or path.startswith(STATEFUL_API):
        return False
    # Adding or removing documents starts a job that is then polled: keep both in one process.
    return not (path.startswith("/api/v1/documents") and method != "GET")


def _settle(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


async def _first_line(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> bytes:
    """The start of the first request on `conn`, left unread for the worker (b"" if closed)."""
    while True:
        ready = loop.create_future()
        loop.add_reader(conn.fileno(), _settle, ready)
        try:
            await ready
        finally:
            loop.remove_reader(conn.fileno())
        head = conn.recv(PEEK_BYTES, socket.MSG_PEEK)
        if not head or b"\r\n" in head or len(head) >= PEEK_BYTES:
            return head
        await asyncio.sleep(0.01)  # a request line split over packets: rare; wait for the rest


class Front:
    """Accepts connections on the public socket and hands each to a worker process."""

    def __init__(self, listener: socket.socket, channels: Sequence[socket.socket]) -> None:
        self.listener = listener
        self.channels = list(channels)
        self._turn = itertools.cycle(range(len(self.channels)))

    async def serve(self, stop: asyncio.Event) -> None:
        """Hand connections on until `stop` is set."""
        loop = asyncio.get_running_loop()
        self.listener.setblocking(False)
        accepting = loop.create_task(self._accept(loop))
        await stop.wait()
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await accepting

    async def _accept(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            conn, _ = await loop.sock_accept(self.listener)
            loop.create_task(self._hand_on(loop, conn))

    async def _hand_on(self, loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
        with conn:
            try:
                head = await asyncio.wait_for(_first_line(loop, conn), FIRST_LINE_SECONDS)
            except (TimeoutError, OSError):
                return
            if not head:
                return
            worker = next(self._turn) if is_stateless(head) else 0
            try:
                socket.send_fds(self.channels[worker], [b"c"], [conn.fileno()])
            except OSError as exc:
                log.error("worker %d cannot take a connection (%s); it is dropped", worker, exc)
        # Our copy is closed on leaving `with`; the worker's copy keeps the connection open.


class HandedServer(uvicorn.Server):
    """A uvicorn server that listens on nothing and serves connections handed over `channel`."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self.channel = channel

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app's start-up (Gradio's queue) without a listener
        loop = asyncio.get_running_loop()
        self.channel.setblocking(False)
        loop.add_reader(self.channel.fileno(), self._take, loop)

    def _protocol(self) -> asyncio.Protocol:
        return self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )

    def _take(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(self.channel, 16, 4)
        except BlockingIOError:
            return
        if not message and not fds:  # the front has gone: stop as on Ctrl-C
            loop.remove_reader(self.channel.fileno())
            self.should_exit = True
            return
        for fd in fds:
            conn = socket.socket(fileno=fd)
            conn.setblocking(False)
            loop.create_task(loop.connect_accepted_socket(self._protocol, conn))


def serve_handed(app: Any, channel_fd: int) -> None:
    """Run `app` in a worker, serving the connections the front hands over `channel_fd`."""
    channel = socket.socket(fileno=channel_fd)
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    HandedServer(config, channel).run()


def worker_env(environ: Mapping[str, str], workers: int, cores: int) -> dict[str, str]:
    """The environment of each of `workers` processes sharing `cores`: unless `environ` says
    otherwise, each answers with its share of them, in as many threads and slots.

    >>> env = worker_env({"QA_QUESTION_SLOTS": "3"}, workers=2, cores=4)
    >>> env["QA_QUERY_THREADS"], env["QA_QUESTION_SLOTS"]
    ('2', '3')
    """
    share = str(max(1, cores // workers))
    return {"QA_QUERY_THREADS": share, "QA_QUESTION_SLOTS": share, **environ}


def run_workers(listener: socket.socket, workers: int, worker_args: Sequence[str]) -> int:
    """Start `workers` processes of `python -m ui *worker_args` and front them on `listener`.

    Returns when interrupted (SIGINT/SIGTERM) or when a worker exits; every worker is stopped.
    """
    metrics_dir = tempfile.mkdtemp(prefix="qa-metrics-")
    env = worker_env(os.environ, workers, os.cpu_count() or 1) | {"PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    processes: list[subprocess.Popen] = []
    channels: list[socket.socket] = []
    try:
        for number in range(workers):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            command = [sys.executable, "-m", "ui", *worker_args, "--worker-fd", str(theirs.fileno())]
            processes.append(subprocess.Popen(command, pass_fds=[theirs.fileno()], env=env))
            theirs.close()
            channels.append(ours)
            log.info("worker %d: process %d", number, processes[-1].pid)
        return asyncio.run(_front(listener, channels, processes))
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for channel in channels:
            channel.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


async def _front(listener: socket.socket, channels: list[socket.socket], processes: list[subprocess.Popen]) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    status = 0

    async def watch() -> None:
        nonlocal status
        while not stop.is_set():
            gone = [p for p in processes if p.poll() is not None]
            if gone:
                log.error("worker process %d exited (%s); stopping the server", gone[0].pid, gone[0].returncode)
                status = 1
                stop.set()
            await asyncio.sleep(0.5)

    watcher = loop.create_task(watch())
    await Front(listener, channels).serve(stop)
    watcher.cancel()
    return status

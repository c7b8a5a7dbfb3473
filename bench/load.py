"""The web chat under load: `python -m bench.load [--users 50] [--questions 3] [--api ask]`.

Starts the real server (`python -m ui --index DIR --port P`, loopback only, a free port) as a
subprocess, measures one user asking alone (the baseline, same run), then lets `--users`
simultaneous users (threads, each with its own `gradio_client.Client`, as separate browsers
would have) ask `--questions` questions each from the article's question set through the named
API. Everything is bounded: each call by `--call-timeout`, the whole load by `--deadline`. The
figures are errors (the target is none), latency p50/p95/max and requests per second; the server
is stopped at the end whatever happened.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import report
from bench.speed import ARTICLE, PROJECT_ROOT, build_index, load_questions

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on now (the OS picks; a race with other programs is unlikely)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `python -m ui`: its process, address and log file."""

    process: subprocess.Popen
    url: str
    log: Path

    def peak_rss_mib(self) -> float:
        """The server's peak resident memory so far (its own VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        """Ctrl-C, as a person would stop it; killed if it has not gone within 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_server(index_dir: Path, log: Path, ready_within: float = 180.0, extra: Sequence[str] = ()) -> Server:
    """Start the web chat on a free loopback port and wait until it answers HTTP."""
    port = free_port()
    url = f"http://{HOST}:{port}/"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("QA_UI_PASSWORD", None)  # the load users do not log in
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ui", "--index", str(index_dir), "--host", HOST, "--port", str(port), *extra],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, url, log)
    deadline = time.monotonic() + ready_within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"the server did not answer within {ready_within:.0f}s:\n{log.read_text()[-3000:]}")


def client(url: str) -> Any:
    """A gradio_client session, quiet, with nothing downloaded and no usage reporting."""
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def endpoints(url: str) -> list[str]:
    """The named API endpoints the server publishes (e.g. '/ask', '/retrieve')."""
    info = client(url).view_api(print_info=False, return_format="dict")
    return sorted(info.get("named_endpoints", {}))


@dataclass
class Tally:
    """What the users saw, gathered across threads."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def failed(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def _check(api: str, result: Any) -> None:
    """A reply the chat could show: an answer dict for /ask, a list of passages for /retrieve."""
    if api == "/ask" and not (isinstance(result, dict) and "found" in result and result.get("passages") is not None):
        raise ValueError(f"unexpected /ask reply: {str(result)[:120]}")
    if api == "/retrieve" and not (isinstance(result, list) and result and "text" in result[0]):
        raise ValueError(f"unexpected /retrieve reply: {str(result)[:120]}")


def user(
    url: str, questions: Sequence[str], api: str, tally: Tally, start: threading.Barrier, call_timeout: float
) -> None:
    """One person: opens the app (a Client fetches its config), then asks questions in turn."""
    try:
        session = client(url)
    except Exception as exc:  # counted, not raised: the run must report every failure
        tally.failed(f"connect: {type(exc).__name__}: {exc}")
        start.abort()
        return
    # If another user could not connect the barrier breaks; still ask, so the load is as large as it can be.
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait(timeout=call_timeout)
    for question in questions:
        began = time.perf_counter()
        try:
            result = session.submit(question, 3, api_name=api).result(timeout=call_timeout)
            _check(api, result)
        except Exception as exc:
            tally.failed(f"{type(exc).__name__}: {str(exc)[:160]}")
            continue
        tally.ok(time.perf_counter() - began)


def alone(url: str, questions: Sequence[str], api: str, call_timeout: float) -> list[float]:
    """Latencies of one user asking `questions` with nobody else about: the baseline."""
    tally = Tally()
    user(url, questions, api, tally, threading.Barrier(1), call_timeout)
    if tally.errors:
        raise RuntimeError(f"a single user already fails: {tally.errors[0]}")
    return tally.latencies


def crowd(
    url: str, users: int, questions: Sequence[str], per_user: int, api: str, call_timeout: float, deadline: float
) -> tuple[Tally, float, int]:
    """`users` people at once, each asking `per_user` questions: (tally, wall seconds, users unfinished)."""
    tally = Tally()
    start = threading.Barrier(users)
    threads = []
    for u in range(users):
        mine = [questions[(u * per_user + i) % len(questions)] for i in range(per_user)]
        threads.append(
            threading.Thread(target=user, args=(url, mine, api, tally, start, call_timeout), daemon=True, name=f"u{u}")
        )
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - (time.perf_counter() - began)))
    wall = time.perf_counter() - began
    unfinished = sum(thread.is_alive() for thread in threads)
    return tally, wall, unfinished


def run(
    index_dir: Path,
    workdir: Path,
    users: int = 50,
    per_user: int = 3,
    api: str = "/ask",
    call_timeout: float = 120.0,
    deadline: float = 600.0,
    questions: Sequence[str] = (),
) -> dict[str, float | int | str]:
    """Start the server, measure one user then the crowd, stop the server; the figures.

    `questions` default to the article's evaluation questions.
    """
    questions = list(questions) or load_questions()
    server = start_server(index_dir, workdir / "server.log")
    try:
        names = endpoints(server.url)
        if api not in names:
            raise RuntimeError(f"the server has no {api} endpoint; it publishes {names}")
        single = alone(server.url, questions[:10], api, call_timeout)
        tally, wall, unfinished = crowd(server.url, users, questions, per_user, api, call_timeout, deadline)
        peak = server.peak_rss_mib()
    finally:
        server.stop()
    latencies = tally.latencies or [float("nan")]
    figures: dict[str, float | int | str] = {
        "endpoints": ",".join(names),
        "api": api,
        "users": users,
        "requests": users * per_user,
        "answered": len(tally.latencies),
        # Every question not answered in time counts, including those of users still waiting at the deadline.
        "errors": users * per_user - len(tally.latencies),
        "unfinished_users": unfinished,
        "single_user_p50_ms": 1000 * float(np.percentile(single, 50)),
        "p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "p95_ms": 1000 * float(np.percentile(latencies, 95)),
        "max_ms": 1000 * float(np.max(latencies)),
        "wall_s": wall,
        "throughput_rps": len(tally.latencies) / wall,
        "server_peak_rss_mib": peak,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if tally.errors:
        figures["first_error"] = tally.errors[0]
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="simultaneous users")
    parser.add_argument("--questions", type=int, default=3, help="questions each user asks")
    parser.add_argument("--api", default="/ask", choices=["/ask", "/retrieve"], help="named endpoint to call")
    parser.add_argument("--index", type=Path, help="an index to serve (default: the article, built here)")
    parser.add_argument("--call-timeout", type=float, default=120.0, help="seconds one call may take")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds the whole load may take")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        work = Path(tmp)
        index_dir = args.index or build_index([ARTICLE], work / "index")
        figures = run(index_dir, work, args.users, args.questions, args.api, args.call_timeout, args.deadline)
    report("load", figures)


if __name__ == "__main__":
    main()

"""The web app under load: `python -m bench.load [--target rest chat build] [--users 50] [--concurrency 16]`.

Starts the real server (`python -m ui --index DIR --port P [--workers N]`, loopback only, a free
port) as a subprocess, and stops it at the end whatever happened.

REST (`--target rest`): Debian's `wrk` (`apt-get install wrk`) posts the article's dev questions
in turn to `/api/v1/ask` from `--concurrency` clients for `--seconds`, against 1 and then 2
workers (each the baseline of the other, same run): answers per second, latency p50/p95/max, errors.

Chat (`--target chat`): one user asking alone (the baseline, same run), then `--users`
simultaneous users (threads, each with its own `gradio_client.Client`, as separate browsers
would have: each question goes through Gradio's queue, posted and then streamed back) ask
`--questions` questions each from the article's question set. Each call is bounded by
`--call-timeout`, the whole load by `--deadline`.

During a build (`--target build`): /healthz, /readyz and a question asked in turn, each on a new
connection, while `python -m index build` rebuilds the index being served, until the server
serves the new one: their latencies and any failure (the target is none).

For each load, the server's own CPU (all its processes, in cores busy over the run) and memory
(proportional set size summed over its processes, so pages the workers share count once; and
the largest peak RSS of one process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
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

    def processes(self) -> list[int]:
        """The server's process and its children (the workers of `--workers N`)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    children.append(int(stat.parent.name))
        return [self.process.pid, *children]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's processes."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.processes():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def memory_mib(self) -> tuple[float, float]:
        """(Proportional set size summed over the server's processes, largest peak RSS of one), MiB."""
        pss, peak = 0.0, 0.0
        for pid in self.processes():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) / 1024
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) / 1024)
        return pss, peak

    def peak_rss_mib(self) -> float:
        """The largest peak resident memory of one of the server's processes so far."""
        return self.memory_mib()[1]

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
    # Every simulated user comes from this one address: the per-client question limit would
    # measure itself, not the server.
    env["QA_RATE_LIMIT"] = "0"
    # Its questions are logged as a server's are, but in a log of its own beside the server's
    # output: the project's log (var/questions.db) is for questions people asked.
    env["QA_LOG_DB"] = str(log.with_name(f"{log.stem}-questions.db"))
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


class HTTPSession:
    """A chat user over plain HTTP, as light on the client side as a browser tab: each question is
    posted to Gradio's queue (`/gradio_api/call/NAME`) and its answer read from the event stream.

    `gradio_client.Client` does the same with far more client work per call; 50 of them in one
    Python process measure the client's GIL as much as the server.
    """

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        with urllib.request.urlopen(url + "config", timeout=timeout) as response:  # opening the page
            response.read()

    def ask(self, api: str, question: str) -> Any:
        data = [question, 3, []] if api == "/ask" else [question, 3]
        request = urllib.request.Request(
            f"{self.url}gradio_api/call{api}",
            data=json.dumps({"data": data}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            event = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{self.url}gradio_api/call{api}/{event}", timeout=self.timeout) as stream:
            kind = ""
            for raw in stream:
                line = raw.decode().strip()
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    payload = json.loads(line.split(":", 1)[1])
                    if kind == "error":
                        raise RuntimeError(f"the server answered with an error: {payload}")
                    return payload[0]
        raise RuntimeError("the event stream ended without an answer")


class GradioSession:
    """A chat user through `gradio_client.Client` (how a Python script would call the chat)."""

    def __init__(self, url: str, timeout: float) -> None:
        self.session = client(url)
        self.timeout = timeout

    def ask(self, api: str, question: str) -> Any:
        return self.session.submit(question, 3, api_name=api).result(timeout=self.timeout)


SESSIONS = {"http": HTTPSession, "gradio": GradioSession}


def user(
    url: str,
    questions: Sequence[str],
    api: str,
    tally: Tally,
    start: threading.Barrier,
    call_timeout: float,
    kind: str = "http",
) -> None:
    """One person: opens the app (fetches its config), then asks questions in turn."""
    try:
        session = SESSIONS[kind](url, call_timeout)
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
            _check(api, session.ask(api, question))
        except Exception as exc:
            tally.failed(f"{type(exc).__name__}: {str(exc)[:160]}")
            continue
        tally.ok(time.perf_counter() - began)


def alone(url: str, questions: Sequence[str], api: str, call_timeout: float, kind: str = "http") -> list[float]:
    """Latencies of one user asking `questions` with nobody else about: the baseline."""
    tally = Tally()
    user(url, questions, api, tally, threading.Barrier(1), call_timeout, kind)
    if tally.errors:
        raise RuntimeError(f"a single user already fails: {tally.errors[0]}")
    return tally.latencies


def crowd(
    url: str,
    users: int,
    questions: Sequence[str],
    per_user: int,
    api: str,
    call_timeout: float,
    deadline: float,
    kind: str = "http",
) -> tuple[Tally, float, int]:
    """`users` people at once, each asking `per_user` questions: (tally, wall seconds, users unfinished)."""
    tally = Tally()
    start = threading.Barrier(users)
    threads = []
    for u in range(users):
        mine = [questions[(u * per_user + i) % len(questions)] for i in range(per_user)]
        threads.append(
            threading.Thread(
                target=user, args=(url, mine, api, tally, start, call_timeout, kind), daemon=True, name=f"u{u}"
            )
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
    kind: str = "http",
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
        single = alone(server.url, questions[:10], api, call_timeout, kind)
        cpu = server.cpu_seconds()
        client_cpu = time.process_time()
        tally, wall, unfinished = crowd(server.url, users, questions, per_user, api, call_timeout, deadline, kind)
        client_cpu = time.process_time() - client_cpu
        cpu = server.cpu_seconds() - cpu
        pss, peak = server.memory_mib()
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
        "client": kind,
        "client_cpu_cores_busy": client_cpu / wall,
        "server_cpu_cores_busy": cpu / wall,
        "server_pss_mib": pss,
        "server_peak_rss_mib": peak,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if tally.errors:
        figures["first_error"] = tally.errors[0]
    return figures


# wrk's Lua: each request posts the next body of the list (each connection thread starting at its
# own place), and `done` prints the round's figures as JSON. Latencies are in microseconds.
_WRK_SCRIPT = """
local bodies = {%s}
local n = 0
function init(args) n = math.random(#bodies) end
function request()
  n = n %% #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[n])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %%d, "failed": %%d, "p50": %%d, "p95": %%d, "max": %%d}\\n',
    summary.requests, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(95), latency.max))
end
"""


@dataclass(frozen=True)
class Round:
    """One `wrk` run: requests answered with 200, failed ones, and latency percentiles in seconds."""

    answered: int
    failed: int
    p50: float
    p95: float
    max: float


def wrk(url: str, bodies: Sequence[dict[str, Any]], concurrency: int, seconds: float, workdir: Path) -> Round:
    """Debian's `wrk` posting `bodies` in turn to `url` from `concurrency` connections for `seconds`."""
    tool = shutil.which("wrk")
    if tool is None:
        raise RuntimeError("the REST load needs Debian's wrk: apt-get install wrk")
    script = workdir / "mix.lua"
    # Lua long strings hold the JSON as it is, whatever quotes it has.
    script.write_text(_WRK_SCRIPT % ", ".join(f"[==[{json.dumps(b)}]==]" for b in bodies), encoding="utf-8")
    # wrk takes whole seconds.
    command = [
        tool,
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {result.returncode}): {(result.stderr or result.stdout)[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    failed = int(figures["failed"])
    return Round(int(figures["requests"]) - failed, failed, *(figures[k] / 1e6 for k in ("p50", "p95", "max")))


def wait_for_workers(url: str, count: int, within: float = 120.0) -> None:
    """Until /readyz has answered from `count` different worker processes (each loaded and warm)."""
    seen: set[int] = set()
    deadline = time.monotonic() + within
    while len(seen) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(seen)} of {count} workers became ready within {within:.0f}s")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "readyz", timeout=30) as response:
            seen.add(json.loads(response.read())["worker"])


def run_rest(
    index_dir: Path,
    workdir: Path,
    workers: Sequence[int] = (1, 2),
    concurrency: int = 16,
    seconds: float = 10.0,
    rounds: int = 3,
    questions: Sequence[str] = (),
) -> dict[str, float | int | str]:
    """`wrk` posting `questions` in turn (default: every question of the article's dev set) to
    /api/v1/ask on a server of each number of `workers`; their figures.

    A mix, not one question: what a question costs depends on it (the judgement's reader runs on
    some, not others). The servers run side by side (an idle one costs nothing) and are loaded in
    turn, `rounds` times each for `seconds`, so a change in what else the machine is doing hits each
    alike. The percentiles are each round's, averaged over the rounds by their answers. Besides
    answers per second, answers per CPU-second of the server: what a server gets from the cores it
    is given, whatever else runs on the machine.
    """
    bodies = [{"question": q, "k": 3} for q in (questions or load_questions())]
    url = "api/v1/ask"
    servers = {n: start_server(index_dir, workdir / f"server-{n}.log", extra=("--workers", str(n))) for n in workers}
    runs: dict[int, list[Round]] = {n: [] for n in workers}
    cpu = dict.fromkeys(workers, 0.0)
    try:
        for n, server in servers.items():
            wait_for_workers(server.url, n)
            wrk(server.url + url, bodies, concurrency, 2, workdir)  # warm every worker up
        for _ in range(rounds):
            for n, server in servers.items():
                before = server.cpu_seconds()
                runs[n].append(wrk(server.url + url, bodies, concurrency, seconds, workdir))
                cpu[n] += server.cpu_seconds() - before
        memory = {n: server.memory_mib() for n, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    figures: dict[str, float | int | str] = {
        "concurrency": concurrency,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "questions": len(bodies),
    }
    for n in workers:
        answered = sum(r.answered for r in runs[n])
        weights = [r.answered for r in runs[n]] if answered else None

        def mean(key: str, n: int = n, weights: list[int] | None = weights) -> float:
            return float(np.average([getattr(r, key) for r in runs[n]], weights=weights))

        total = rounds * seconds
        figures.update(
            {
                f"rest_{n}w_answers": answered,
                f"rest_{n}w_errors": sum(r.failed for r in runs[n]),
                f"rest_{n}w_answers_per_s": answered / total,
                f"rest_{n}w_p50_ms": 1000 * mean("p50"),
                f"rest_{n}w_p95_ms": 1000 * mean("p95"),
                f"rest_{n}w_max_ms": 1000 * max(r.max for r in runs[n]),
                f"rest_{n}w_server_cpu_cores_busy": cpu[n] / total,
                f"rest_{n}w_answers_per_server_cpu_s": answered / cpu[n] if cpu[n] else float("nan"),
                f"rest_{n}w_server_pss_mib": memory[n][0],
                f"rest_{n}w_server_peak_rss_mib": memory[n][1],
            }
        )
    if len(workers) == 2:
        first, second = (float(figures[f"rest_{n}w_answers_per_s"]) for n in workers)
        figures[f"rest_{workers[1]}w_over_{workers[0]}w"] = second / first if first else float("nan")
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return figures


def _probe(url: str, body: dict[str, Any] | None = None) -> tuple[int, float]:
    """(status code, milliseconds) of one request on a new connection; status 0 if it failed."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, 1000 * (time.perf_counter() - began)


def run_during_build(index_dir: Path, workdir: Path, articles: int = 4) -> dict[str, float | int | str]:
    """/healthz, /readyz and a question, asked in turn while `python -m index build` rebuilds the
    served index (the article plus `articles` SQuAD articles) until the server serves the new one."""
    from bench.speed import write_squad_articles

    served = workdir / "served"
    build_index([ARTICLE], served)
    sources = workdir / "more"
    write_squad_articles(sources, articles)
    server = start_server(served, workdir / "server-build.log")
    timings: dict[str, list[float]] = {"healthz": [], "readyz": [], "ask": []}
    failures = 0
    try:
        command = [sys.executable, "-m", "index", "build", str(ARTICLE), str(sources), "--out", str(served), "--quiet"]
        builder = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        began = time.perf_counter()
        switched = False
        while not switched:
            for name in timings:
                body = {"question": "Who is accountable?"} if name == "ask" else None
                route = "api/v1/ask" if name == "ask" else name
                status, ms = _probe(server.url + route, body)
                failures += status != 200
                timings[name].append(ms)
            if builder.poll() is not None:
                if builder.returncode != 0:
                    raise RuntimeError(f"the build failed: {builder.stdout.read().decode()[-2000:]}")
                with urllib.request.urlopen(server.url + "readyz", timeout=30) as response:
                    switched = json.loads(response.read())["passages"] > 19
        seconds = time.perf_counter() - began
    finally:
        server.stop()
    figures: dict[str, float | int | str] = {"build_and_switch_seconds": seconds, "failures": failures}
    for name, values in timings.items():
        figures[f"{name}_probes"] = len(values)
        figures[f"{name}_p50_ms"] = float(np.percentile(values, 50))
        figures[f"{name}_p95_ms"] = float(np.percentile(values, 95))
        figures[f"{name}_max_ms"] = float(np.max(values))
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--target", nargs="+", default=["rest", "chat", "build"], choices=["rest", "chat", "build"], help="what to run"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="REST clients at once (default: 16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="REST load per server and round (default: 10)")
    parser.add_argument("--rounds", type=int, default=3, help="REST rounds, each server loaded in turn (default: 3)")
    parser.add_argument("--users", type=int, default=50, help="simultaneous chat users")
    parser.add_argument(
        "--client",
        nargs="+",
        default=["http"],
        choices=sorted(SESSIONS),
        help="chat users as plain HTTP (light, like a browser tab) and/or gradio_client (heavier)",
    )
    parser.add_argument("--questions", type=int, default=3, help="questions each user asks")
    parser.add_argument("--api", default="/ask", choices=["/ask", "/retrieve"], help="named endpoint to call")
    parser.add_argument("--index", type=Path, help="an index to serve (default: the article, built here)")
    parser.add_argument("--call-timeout", type=float, default=120.0, help="seconds one call may take")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds the whole load may take")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        work = Path(tmp)
        index_dir = args.index or build_index([ARTICLE], work / "index")
        if "rest" in args.target:
            report(
                "load: REST /api/v1/ask, the article's dev questions in turn, 1 and 2 workers",
                run_rest(index_dir, work, (1, 2), args.concurrency, args.seconds, args.rounds),
            )
        if "chat" in args.target:
            for kind in args.client:
                figures = run(
                    index_dir, work, args.users, args.questions, args.api, args.call_timeout, args.deadline, kind=kind
                )
                report(f"load: chat ({kind} clients)", figures)
        if "build" in args.target:
            report("health and questions while the served index is rebuilt", run_during_build(index_dir, work))


if __name__ == "__main__":
    main()

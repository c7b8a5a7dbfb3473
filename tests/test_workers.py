"""`python -m ui --workers 2` as an operator runs it, behind a password, a reader's token and an
admin token: both workers answer and enforce the login, the chat stays whole, /metrics on either
worker counts both, Library jobs started in different workers both complete, and a build
published under them is served by both from their next request, without a failed request."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from index import build
from tests.conftest import ARTICLE
from tests.test_browser import start_server
from tests.webserver import ARTICLE_PAGE, Route, serve

NEW_DOCUMENT = "Falls on ward 7\n\nWard 7 reduced falls by 40 percent after nurses began hourly rounding.\n"
PASSWORD, TOKEN, ADMIN_TOKEN = "correct horse", "reader-s3cret", "admin-s3cret"
READER = {"Authorization": f"Bearer {TOKEN}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LOGIN = ("nhs", PASSWORD)
QUESTION = "What is collective leadership?"


@dataclass
class Workers:
    url: str
    source: Path
    index: Path
    uploads: Path
    pids: set[int] = field(default_factory=set)

    def request(self, method: str, route: str, **kwargs) -> httpx.Response:
        """One request on a new connection, so the front hands each to the next worker in turn."""
        return httpx.request(method, self.url + route, timeout=60, **kwargs)

    def worker(self) -> int:
        """The process id of the worker this request's connection was handed to."""
        return self.request("GET", "/healthz").json()["worker"]


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """One two-worker server for every test here, over its own index of the article."""
    tmp = tmp_path_factory.mktemp("workers")
    source = tmp / "docs"
    source.mkdir()
    shutil.copy(ARTICLE, source)
    out = tmp / "index"
    build([source], out, progress=False)
    uploads = tmp / "uploads"
    env = {
        "QA_UI_PASSWORD": PASSWORD,
        "QA_API_TOKEN": TOKEN,
        "QA_ADMIN_TOKEN": ADMIN_TOKEN,
        "QA_UPLOAD_DIR": str(uploads),
        # The Library's fetches reach the test's own web server on loopback.
        "QA_FETCH_ALLOW": "127.0.0.1",
    }
    log = tmp / "server.log"
    started = start_server(out, log, env, ("--workers", "2"))
    process = started.process
    server = Workers(started.url, source, out, uploads)
    try:
        server.pids = {server.worker() for _ in range(2)}
        assert len(server.pids) == 2 and process.pid not in server.pids
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0
    for pid in server.pids:  # the workers were stopped with the front
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert "Traceback" not in log.read_text()


@contextmanager
def asking(workers: Workers) -> Iterator[list[str]]:
    """Ask the server (its readiness probe and an API question) until the block ends; yields the
    failures (anything but 200). Four rounds a second at most: a polite client stays under the
    server's question limit (QA_RATE_LIMIT, 5 a second) even when every question reaches one worker."""
    failures: list[str] = []
    stop = threading.Event()
    question = {"question": "Who is accountable?"}

    def keep_asking() -> None:
        while not stop.is_set():
            for route, kwargs in (("/readyz", {}), ("/api/v1/ask", {"json": question, "headers": READER})):
                try:
                    response = workers.request("POST" if kwargs else "GET", route, **kwargs)
                except httpx.HTTPError as exc:
                    failures.append(f"{route}: {exc}")
                    continue
                if response.status_code != 200:
                    failures.append(f"{route}: {response.status_code} {response.text}")
            stop.wait(0.25)

    thread = threading.Thread(target=keep_asking)
    thread.start()
    try:
        yield failures
    finally:
        stop.set()
        thread.join(timeout=60)


def gradio_ask(chat: httpx.Client, question: str) -> str:
    """The chat's `ask` through Gradio's queue: a question posted, its answer streamed back."""
    joined = chat.post("/gradio_api/call/ask", json={"data": [question, 3, []]})
    assert joined.status_code == 200, joined.text
    return chat.get(f"/gradio_api/call/ask/{joined.json()['event_id']}").text


def test_two_workers_answer_share_the_chat_and_switch_to_a_rebuilt_index(workers):
    # Connections go to the workers in turn: two processes, each answering.
    pids = [workers.worker() for _ in range(4)]
    assert pids[0] != pids[1] and pids == pids[:2] * 2 and set(pids) == workers.pids
    for _ in range(2):
        answer = workers.request("POST", "/api/v1/ask", json={"question": QUESTION}, headers=READER)
        assert answer.status_code == 200 and answer.json()["found"] is True
    # The chat (Gradio's queue: question and streamed answer on two connections) stays whole.
    with httpx.Client(base_url=workers.url, timeout=60) as chat:
        assert "Michael West" not in chat.get("/config").text  # nothing of the chat before the login
        assert chat.post("/login", data={"username": LOGIN[0], "password": PASSWORD}).json() == {"success": True}
        for _ in range(3):
            assert "Collective leadership is a leadership" in gradio_ask(chat, QUESTION)

    # A build published while questions keep coming: none fails, both workers switch.
    with asking(workers) as failures:
        (workers.source / "ward7.txt").write_text(NEW_DOCUMENT)
        rebuilt = build([workers.source], workers.index, progress=False)
        deadline = time.monotonic() + 30
        passages: dict[int, int] = {}
        while len(passages) < 2 or set(passages.values()) != {rebuilt.passages}:
            assert time.monotonic() < deadline, passages
            ready = workers.request("GET", "/readyz").json()
            passages[ready["worker"]] = ready["passages"]
    assert not failures, failures[:5]
    for _ in range(2):
        question = {"question": "By how much did Ward 7 reduce falls?"}
        answer = workers.request("POST", "/api/v1/ask", json=question, headers=READER).json()
        assert answer["passages"][0]["source"] == "ward7.txt"


def test_every_worker_asks_for_the_password_or_the_token(workers):
    body = {"question": QUESTION, "k": 1}
    first = workers.worker()
    # Two requests in a row reach both workers (the front hands stateless connections on in turn).
    for kwargs in ({}, {"auth": ("nhs", "wrong")}, {"headers": {"Authorization": "Bearer nope"}}):
        for _ in range(2):
            refused = workers.request("POST", "/api/v1/retrieve", json=body, **kwargs)
            assert refused.status_code == 401 and "QA_API_TOKEN" in refused.json()["error"], kwargs
            assert workers.request("GET", "/metrics", **kwargs).status_code == 401, kwargs
    for kwargs in ({"auth": LOGIN}, {"headers": READER}):
        for _ in range(2):
            assert workers.request("POST", "/api/v1/retrieve", json=body, **kwargs).status_code == 200, kwargs
            assert workers.request("GET", "/metrics", **kwargs).status_code == 200, kwargs
    assert workers.worker() != first  # 21 connections since `first`: the other worker's turn


def answered(text: str) -> float:
    """qa_questions_total{status="answered",via="api"} in a /metrics page."""
    found = re.search(r'^qa_questions_total\{status="answered",via="api"\} (\S+)$', text, re.MULTILINE)
    return float(found[1]) if found else 0.0


def test_metrics_on_either_worker_count_the_questions_of_both(workers):
    before = [answered(workers.request("GET", "/metrics", headers=READER).text) for _ in range(2)]
    assert before[0] == before[1]
    for _ in range(4):  # two questions answered by each worker
        assert workers.request("POST", "/api/v1/ask", json={"question": QUESTION}, headers=READER).json()["found"]
    after = [answered(workers.request("GET", "/metrics", headers=READER).text) for _ in range(2)]
    assert after == [before[0] + 4] * 2


def wait(workers: Workers, job: str, seconds: float = 180) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = workers.request("GET", f"/api/v1/jobs/{job}", headers=ADMIN).json()
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job} did not finish in {seconds}s")


def ran_in(workers: Workers, job: str) -> int:
    """The worker process that ran `job` (the job's state file, shared by the workers, says)."""
    return json.loads((workers.uploads / ".jobs" / f"{job}.json").read_text())["pid"]


def test_library_jobs_started_in_different_workers_both_complete(workers):
    routes = {"/huddles": Route(ARTICLE_PAGE.encode())}
    with serve(routes) as site:
        added = workers.request("POST", "/api/v1/documents", json={"urls": [f"{site.url}/huddles"]}, headers=ADMIN)
        job = added.json()["job"]
        assert wait(workers, job)["state"] == "done"
        first = ran_in(workers, job)  # adding documents stays with the worker that keeps the chat
        routes["/huddles"] = Route(ARTICLE_PAGE.replace("seven minutes", "eleven minutes").encode())
        while workers.worker() != first:  # so the refresh, which any worker takes, goes to the other
            pass
        refresh = workers.request("POST", "/api/v1/refresh", headers=ADMIN).json()["job"]
        with asking(workers) as failures:
            note = {"files": ("rotas.md", b"# Rotas\n\nThe rota is agreed six weeks ahead with the whole team.\n")}
            upload = workers.request("POST", "/api/v1/documents", files=note, headers=ADMIN).json()["job"]
            states = [wait(workers, refresh), wait(workers, upload)]
    assert [s["state"] for s in states] == ["done", "done"], states
    assert {ran_in(workers, refresh), ran_in(workers, upload)} == workers.pids
    assert not failures, failures[:5]  # questions asked of the server during both builds
    for _ in range(2):  # both workers serve both changes
        huddles = {"question": "How long did the safety huddles last on average?"}
        assert "eleven minutes" in workers.request("POST", "/api/v1/ask", json=huddles, headers=READER).json()["answer"]
        rota = {"question": "How far ahead is the rota agreed?"}
        assert "six weeks" in workers.request("POST", "/api/v1/ask", json=rota, headers=READER).json()["answer"]

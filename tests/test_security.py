"""Security of the web app on the real app: headers, question limits per client, admin lock-out,
the audit trail, 405 with Allow, and the admin token accepted wherever the API token is."""

from __future__ import annotations

import ipaddress
import json
import logging
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from qa.config import Settings
from qa.questionlog import AUDIT_CHARS, AuditEntry, QuestionLog
from tests.libraryserver import TOKEN, copy_index, serve_app
from tests.test_library import NOTE, wait
from ui.library import mount_library
from ui.security import Clients, Lockout, RateLimiter, SecurityHeaders
from ui.server import create_app

READER = "reader-token"
ADMIN = TOKEN  # the Library tests' own, so their `wait` for a job can be used here
QUESTION = "What is collective leadership?"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def guarded(article_index):
    """The whole app with both tokens, served by uvicorn; limit 2 questions a second per client."""
    app = create_app(article_index, api_token=READER, admin_token=ADMIN, rate_limit=2)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


# --- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "no_store", "scripts"),
    [
        ("GET", "/", False, "'self' 'unsafe-inline' 'unsafe-eval'"),  # Gradio needs both (ui/security.py)
        ("GET", "/library", True, "'self' 'unsafe-inline'"),
        ("GET", "/docs", False, "'self' 'unsafe-inline' 'unsafe-eval' https://cdn.jsdelivr.net"),
        ("GET", "/openapi.json", False, None),
        ("POST", "/api/v1/retrieve", True, None),
        ("GET", "/api/v1/documents", True, None),
        ("GET", "/api/v1/library", True, None),  # a refusal (403: not the admin's token) carries them too
        ("GET", "/metrics", True, None),
        ("GET", "/healthz", False, None),
    ],
)
def test_every_response_carries_the_security_headers(guarded, method, path, no_store, scripts):
    response = guarded.request(
        method, path, headers=bearer(READER), json={"question": QUESTION} if method == "POST" else None
    )
    assert response.status_code < 500
    headers = response.headers
    policy = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    assert policy["frame-ancestors"] == "'self'"
    if scripts is None:  # JSON and metrics: nothing may load
        assert policy == {"default-src": "'none'", "frame-ancestors": "'self'"}
    else:
        assert policy["script-src"] == scripts and policy["object-src"] == "'none'"
        assert policy["default-src"] == "'self'" and policy["form-action"] == "'self'"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"] and "microphone=()" in headers["permissions-policy"]
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "strict-transport-security" not in headers  # only with QA_HSTS=1
    assert ("no-store" in headers.get("cache-control", "")) == no_store


def test_frame_ancestors_and_hsts_follow_the_settings(monkeypatch):
    monkeypatch.setenv("QA_FRAME_ANCESTORS", "'self' https://intranet.example.nhs.uk")
    monkeypatch.setenv("QA_HSTS", "1")
    inner = FastAPI()
    inner.get("/")(lambda: {"ok": True})
    response = TestClient(SecurityHeaders(inner, Settings())).get("/")
    assert "frame-ancestors 'self' https://intranet.example.nhs.uk" in response.headers["content-security-policy"]
    assert response.headers["strict-transport-security"].startswith("max-age=")
    # X-Frame-Options cannot name another site: with one allowed, it is left to frame-ancestors.
    assert "x-frame-options" not in response.headers


# --- question limits ----------------------------------------------------------------------------


def limited_total(client: httpx.Client) -> float:
    for line in client.get("/metrics", headers=bearer(READER)).text.splitlines():
        if line.startswith('qa_rate_limited_total{via="api"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_rapid_client_is_limited_while_another_is_answered(guarded):
    before = limited_total(guarded)
    codes = []
    for _ in range(40):
        response = guarded.post("/api/v1/ask", json={"question": QUESTION}, headers=bearer(READER))
        codes.append(response.status_code)
        if response.status_code == 429:
            refused = response
    assert set(codes) == {200, 429} and codes[:5] == [200] * 5, codes  # a burst first (3 x 2, one maybe spent)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"].startswith("too many questions") and "\n" not in refused.json()["error"]
    # The other client (the admin's token: another bucket) is answered meanwhile.
    other = guarded.post("/api/v1/ask", json={"question": QUESTION}, headers=bearer(ADMIN))
    assert other.status_code == 200 and other.json()["found"] is True
    assert limited_total(guarded) - before == codes.count(429)
    time.sleep(3)
    assert guarded.post("/api/v1/ask", json={"question": QUESTION}, headers=bearer(READER)).status_code == 200


def gradio_call(url: str, endpoint: str, *data: object) -> str:
    """Call one of the chat's Gradio endpoints over its HTTP API; the event stream's text."""
    event = httpx.post(f"{url}/gradio_api/call/{endpoint}", json={"data": list(data)}).json()["event_id"]
    return httpx.get(f"{url}/gradio_api/call/{endpoint}/{event}", timeout=60).text


def test_the_chat_endpoints_and_the_api_share_one_limit_per_client(article_index):
    app = create_app(article_index, rate_limit=0.1)  # one question, then one every ten seconds
    with serve_app(app) as url:
        assert "event: complete" in gradio_call(url, "retrieve", QUESTION, 2)
        # Refused (over this HTTP API Gradio keeps the message to itself; the count below says why).
        assert "event: error" in gradio_call(url, "ask", QUESTION, 2, [])
        refused = httpx.post(f"{url}/api/v1/ask", json={"question": QUESTION})
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 10
        metrics = httpx.get(f"{url}/metrics").text
    assert 'qa_rate_limited_total{via="api"} 2.0' in metrics


def test_a_bucket_holds_three_seconds_of_questions_and_refills():
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert [limiter.wait("a") for _ in range(6)] == [0.0] * 6
    assert limiter.wait("a") == pytest.approx(0.5)
    assert limiter.wait("b") == 0.0  # each client has its own bucket
    clock.now += 0.5
    assert limiter.wait("a") == 0.0 and limiter.wait("a") > 0
    assert all(RateLimiter(0, clock=clock).wait("a") == 0.0 for _ in range(1000))  # 0: off
    small = RateLimiter(1, max_clients=10, clock=clock)
    for n in range(50):
        small.wait(f"client {n}")
        clock.now += 5  # each one's bucket is full again by the next: forgotten
    assert len(small._buckets) <= 11


def test_clients_are_told_apart_by_known_token_else_by_address():
    proxies = (ipaddress.ip_network("10.0.0.0/8"),)
    clients = Clients(tokens=(READER,), trusted_proxies=proxies)
    # Header names as the server passes them: lower case.
    by_token = clients.key("192.0.2.7", {"authorization": f"Bearer {READER}"})
    assert by_token.startswith("token:") and READER not in by_token
    assert by_token == clients.key("192.0.2.8", {"authorization": f"bearer {READER}"})
    # A made-up token is no new client: it is counted by its address.
    assert clients.key("192.0.2.7", {"authorization": "Bearer made-up"}) == "address:192.0.2.7"
    # X-Forwarded-For counts only when a trusted proxy sent it, and only its last untrusted hop.
    forwarded = {"x-forwarded-for": "203.0.113.9, 198.51.100.4, 10.1.1.1"}
    assert clients.key("10.0.0.2", forwarded) == "address:198.51.100.4"
    assert clients.key("192.0.2.7", forwarded) == "address:192.0.2.7"
    with pytest.raises(ValueError, match="QA_TRUSTED_PROXIES"):
        Clients.from_settings((), Settings(trusted_proxies=("not-an-address",)))


# --- the admin token, lock-outs and the audit trail -----------------------------------------------


def test_the_admin_token_is_accepted_wherever_the_api_token_is(guarded, article_index):
    for path in ("/api/v1/retrieve", "/api/v1/ask"):
        assert guarded.post(path, json={"question": "Who is accountable?"}, headers=bearer(ADMIN)).status_code == 200
        assert guarded.post(path, json={"question": "Who is accountable?"}, headers=bearer("wrong")).status_code == 401
    assert guarded.get("/metrics", headers=bearer(ADMIN)).status_code == 200
    # With only an admin token configured, the reader's API stays open as before.
    open_api = TestClient(create_app(article_index, admin_token=ADMIN))
    assert open_api.post("/api/v1/retrieve", json={"question": "Who?"}).status_code == 200


@pytest.fixture
def library(built_index: Path, tmp_path: Path):
    """The Library over a private index copy, its audit kept in a question log, its lock-out on a test clock."""
    index_path = copy_index(built_index, tmp_path / "copy")
    log = QuestionLog(tmp_path / "questions.db")
    clock = Clock()
    app = FastAPI()
    mount_library(
        app,
        index_path,
        admin_token=ADMIN,
        upload_dir=tmp_path / "uploads",
        question_log=log,
        lockout=Lockout(max_failures=3, seconds=60, clock=clock),
    )
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, log, clock


def test_wrong_admin_tokens_lock_the_client_out_for_a_while_and_are_audited(library):
    client, log, clock = library
    assert [client.get("/api/v1/library", headers=bearer("guess")).status_code for _ in range(3)] == [403] * 3
    locked = client.get("/api/v1/library", headers=bearer(ADMIN))  # even the right token waits now
    assert locked.status_code == 429 and locked.headers["retry-after"] == "60"
    assert "too many wrong admin tokens" in locked.json()["error"]
    clock.now += 61
    assert client.get("/api/v1/library", headers=bearer(ADMIN)).status_code == 200
    trail = log.audit_trail()
    assert [(e.action, e.target, e.result, e.client) for e in trail] == [
        ("token", "GET /api/v1/library", "refused: wrong admin token", "127.0.0.1")
    ] * 3


def test_each_admin_change_is_one_log_line_and_one_row_shown_with_the_jobs(library, caplog):
    client, log, _ = library
    caplog.set_level(logging.INFO, logger="ui.audit")
    added = client.post(
        "/api/v1/documents", files={"files": ("rotas.md", NOTE, "text/markdown")}, headers=bearer(ADMIN)
    )
    assert wait(client, added.json()["job"])["state"] == "done"
    removed = client.delete("/api/v1/documents/rotas.md", headers=bearer(ADMIN))
    assert wait(client, removed.json()["job"])["state"] == "done"
    gone = client.delete(
        "/api/v1/documents/michael-west-collective-leadership-for-culture-change.txt", headers=bearer(ADMIN)
    )
    assert wait(client, gone.json()["job"])["state"] == "failed"  # the last document cannot go

    listed = client.get("/api/v1/library", headers=bearer(ADMIN)).json()["audit"]
    assert [(a["action"], a["target"], a["result"].split(":")[0], a["client"]) for a in listed] == [
        ("remove", "michael-west-collective-leadership-for-culture-change.txt", "failed", "127.0.0.1"),
        ("remove", "rotas.md", "done", "127.0.0.1"),
        ("add", "rotas.md", "done", "127.0.0.1"),
    ]
    assert all(a["at"].endswith("Z") for a in listed)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ui.audit"]
    assert [(line["action"], line["target"]) for line in lines] == [
        (a["action"], a["target"]) for a in reversed(listed)
    ]
    assert listed == [dict(vars(entry)) for entry in log.audit_trail(20)]


# --- the contract's edges -------------------------------------------------------------------------


def test_a_method_a_route_lacks_gets_405_with_allow(guarded):
    for method, path, allow in (
        ("TRACE", "/api/v1/ask", "POST"),
        ("GET", "/api/v1/ask", "POST"),
        ("PUT", "/api/v1/documents/some.txt", "DELETE"),
        ("DELETE", "/healthz", "GET"),
    ):
        response = guarded.request(method, path, headers=bearer(READER))
        assert response.status_code == 405 and response.headers["allow"] == allow, (method, path, response.text)
        assert response.json()["error"] == f"{method} is not allowed here; use {allow}"
    assert guarded.get("/").status_code == 200  # the chat, mounted at "/", is untouched


def test_a_path_the_api_lacks_gets_404_as_an_error_object(guarded):
    # It fell through to the chat's mount and got {"detail": "Not Found"}, off the contract.
    for method, path in (("GET", "/api/v1/nope"), ("POST", "/api/v1/asks")):
        response = guarded.request(method, path, headers=bearer(READER))
        assert response.status_code == 404, (method, path, response.text)
        assert response.json() == {"error": f"no such endpoint: {path}; the API's endpoints are listed at /docs"}


def test_a_version_1_log_gains_the_audit_table_and_old_audit_rows_go_with_old_questions(tmp_path):
    db = tmp_path / "q.db"
    with sqlite3.connect(db) as connection:  # a log written before the audit trail existed
        connection.executescript(
            "CREATE TABLE questions (id INTEGER PRIMARY KEY, asked_at TEXT NOT NULL, question TEXT NOT NULL,"
            " status TEXT NOT NULL, top_source TEXT NOT NULL DEFAULT '', answer TEXT NOT NULL DEFAULT '',"
            " latency_ms REAL NOT NULL, channel TEXT NOT NULL DEFAULT '', helpful INTEGER, feedback_at TEXT);"
            "INSERT INTO questions (asked_at, question, status, latency_ms)"
            " VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'Kept?', 'related', 1);"
            "PRAGMA user_version = 1;"
        )
    log = QuestionLog(db, keep_days=30)
    assert log.count() == 1  # nothing lost in the upgrade
    assert log.audit(AuditEntry("2026-01-01T00:00:00Z", "add", "x" * 2000, "done", "10.0.0.1"))
    assert log.audit(AuditEntry(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "remove", "a.txt", "done", "::1"))
    assert [e.action for e in log.audit_trail()] == ["remove", "add"]
    assert len(log.audit_trail()[1].target) == AUDIT_CHARS  # a row is a record, not an archive
    log.close()
    reopened = QuestionLog(db, keep_days=30)  # older than the days kept: gone at the next start
    assert [(e.action, e.target, e.client) for e in reopened.audit_trail()] == [("remove", "a.txt", "::1")]
    reopened.close()

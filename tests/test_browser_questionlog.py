"""The question log and "Copy reference" in a real browser, on a real server with its own log.

The article is indexed with the metadata web fetching and the King's Fund cleaner give it
(publisher, address, fetch time), added to what the real reader returns.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import ARTICLE
from tests.test_browser import ANSWER_MS, ROOT, Server, ask, start_server, stop_server

pytestmark = pytest.mark.browser

WEB_METADATA = {
    "publisher": "The King's Fund",
    "url": "https://www.kingsfund.org.uk/insight-and-analysis/video/michael-west-collective-leadership",
    "fetched_at": "2026-11-28T06:40:11Z",
}
EXPECTED_REFERENCE = (
    "Michael West (2014) Michael West: collective leadership for culture change. The King's Fund. "
    f"Available at: {WEB_METADATA['url']} (Accessed: 28 November 2026)."
)
COVERED = "What is collective leadership?"
OFFTOPIC = "Who won the 2018 FIFA World Cup?"


@pytest.fixture(scope="module")
def web_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The article indexed as if fetched from the web: the real reader, plus web metadata."""
    builder = importlib.import_module("index.build")  # the module; `index.build` is also its function
    real_read = builder.read

    def read_from_the_web(*args, **kwargs):
        document = real_read(*args, **kwargs)
        return replace(document, metadata={**document.metadata, **WEB_METADATA})

    out = tmp_path_factory.mktemp("web-article") / "index"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builder, "read", read_from_the_web)
        builder.build([ARTICLE], out, progress=False)
    return out


@pytest.fixture(scope="module")
def logged_server(web_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("logged-ui")
    db = folder / "questions.db"
    server = start_server(web_index, folder / "server.log", {"QA_LOG": "1", "QA_LOG_DB": str(db)})
    yield server, db
    stop_server(server.process)
    assert "Traceback" not in server.log.read_text(), server.log.read_text()[-3000:]


@pytest.fixture
def page(browser, logged_server):
    server, _ = logged_server
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url)
    page.wait_for_selector("#qa-question textarea", timeout=ANSWER_MS)
    yield page
    context.close()
    assert errors == []


def report_rows(db: Path, index: Path) -> list[dict[str, str]]:
    """The report's rows; its unanswered questions asked again of `index` (the server's)."""
    env = {**os.environ, "QA_LOG": "1", "QA_LOG_DB": str(db), "QA_INDEX_DIR": str(index)}
    result = subprocess.run(
        [sys.executable, "-m", "qa", "report", "--csv"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def wait_for_report(db: Path, index: Path, condition, seconds: float = 20) -> list[dict[str, str]]:
    """The report once `condition(rows)` holds (feedback travels over the server's queue)."""
    deadline = time.monotonic() + seconds
    while True:
        rows = report_rows(db, index)
        if condition(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)


def test_thumbs_down_shows_in_the_unhelpful_list_and_unanswered_questions_are_counted(page, logged_server, web_index):
    _, db = logged_server
    ask(page, OFFTOPIC)
    ask(page, OFFTOPIC)
    reply = ask(page, COVERED)
    assert reply.locator(".qa-answer").count() == 1
    # The last reply's buttons are the chat's last ones (each reply has its own).
    page.locator("#qa-chat").get_by_label("Dislike", exact=True).last.click()

    def marked(rows):
        return any(r["list"] == "unhelpful" and r["question"] == COVERED for r in rows)

    rows = wait_for_report(db, web_index, marked)
    unhelpful = [(r["question"], r["count"]) for r in rows if r["list"] == "unhelpful"]
    assert unhelpful == [(COVERED, "1")]
    unanswered = {r["question"]: r["count"] for r in rows if r["list"] == "unanswered"}
    assert unanswered == {OFFTOPIC: "2"}
    # Withdrawing the thumbs down takes the answer off the list again.
    page.locator("#qa-chat").get_by_label("Disliked", exact=True).last.click()
    rows = wait_for_report(db, web_index, lambda rows: not any(r["list"] == "unhelpful" for r in rows))
    assert [r for r in rows if r["list"] == "unhelpful"] == []


def test_copy_reference_puts_the_harvard_reference_on_the_clipboard(page):
    reply = ask(page, COVERED)
    first = reply.locator(".qa-cite").first
    link = first.locator(".qa-title a")
    assert link.get_attribute("href") == WEB_METADATA["url"]
    first.locator(".qa-copy-ref").click()
    page.wait_for_function("() => document.querySelector('.qa-copy-ref').textContent === 'Copied'", timeout=5000)
    assert page.evaluate("() => navigator.clipboard.readText()") == EXPECTED_REFERENCE
    assert first.locator(".qa-ref-text").inner_text() == EXPECTED_REFERENCE  # shown once copied
    assert first.locator(".qa-ref-text i").inner_text() == "Michael West: collective leadership for culture change"


def test_two_servers_answering_200_questions_at_once_log_every_one(built_index, tmp_path):
    """Two `python -m ui` processes on one log, answering 200 questions at once over their API."""
    from gradio_client import Client

    db = tmp_path / "questions.db"
    # 200 questions from this one client: its question limit (test_security's) is off.
    env = {"QA_LOG": "1", "QA_LOG_DB": str(db), "QA_RATE_LIMIT": "0"}
    servers = [start_server(built_index, tmp_path / f"server{n}.log", env) for n in (1, 2)]
    # Eight readers per server, each asking its share in turn: 16 questions in flight at a time.
    # (One client with 100 jobs in flight loses its event stream on a crowded machine.)
    shares = [(s, reader) for s in (1, 2) for reader in range(8)]
    expected = {f"Question {n} from server {s}: who is accountable?" for n in range(100) for s in (1, 2)}

    def reader(share: tuple[int, int]) -> int:
        s, first = share
        client = Client(servers[s - 1].url, verbose=False)
        questions = [f"Question {n} from server {s}: who is accountable?" for n in range(first, 100, 8)]
        return sum(client.predict(q, 1, api_name="/ask")["question"] == q for q in questions)

    try:
        with ThreadPoolExecutor(len(shares)) as pool:
            assert sum(pool.map(reader, shares)) == 200
    finally:
        for server in servers:
            stop_server(server.process)
    logs = "".join(server.log.read_text() for server in servers)
    assert "locked" not in logs and "question log" not in logs, logs[-3000:]
    with sqlite3.connect(db) as connection:
        stored = [q for (q,) in connection.execute("SELECT question FROM questions WHERE channel = 'api'")]
    assert len(stored) == 200 and set(stored) == expected

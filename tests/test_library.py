"""The Library's admin API on a real FastAPI app served by uvicorn: access, uploads, web pages, jobs."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import qa
from qa import store
from qa.questionlog import QuestionLog
from qa.types import ANSWERED, NOT_COVERED
from tests.libraryserver import TOKEN, copy_index, make_docx_bomb, serve_app
from tests.test_formats import PDF_PAGES, make_pdf
from tests.webserver import ARTICLE_PAGE, Route, serve
from ui.jobs import DONE, FAILED, QUEUED, RUNNING, JobQueue, Outcome
from ui.library import mount_library
from ui.security import Lockout
from ui.uploads import Limits

ADMIN = {"Authorization": f"Bearer {TOKEN}"}
LIMITS = Limits(file_bytes=200_000, request_bytes=1_000_000, docx_unzipped_bytes=5_000_000)
NOTE = b"# Rotas\n\nThe rota is agreed four weeks ahead with every member of the team.\n"


@pytest.fixture
def index_copy(built_index: Path, tmp_path: Path) -> Path:
    """A private copy of the article's index (the session's own must not change)."""
    return copy_index(built_index, tmp_path / "library")


@pytest.fixture
def library(index_copy: Path, tmp_path: Path):
    app = FastAPI()
    # More wrong tokens than the tests here send before a lock-out (tests/test_security.py has its own).
    lockout = Lockout(max_failures=20)
    mount_library(app, index_copy, admin_token=TOKEN, upload_dir=tmp_path / "uploads", limits=LIMITS, lockout=lockout)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def wait(client: httpx.Client, job: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/jobs/{job}", headers=ADMIN).json()
        if state["state"] in (DONE, FAILED):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job} did not finish in {seconds}s")


def sources(client: httpx.Client) -> set[str]:
    return {d["source"] for d in client.get("/api/v1/library", headers=ADMIN).json()["documents"]}


def test_without_the_admin_token_nothing_changes(library, index_copy, tmp_path):
    before = store.resolve(index_copy)
    upload = {"files": ("note.md", NOTE, "text/markdown")}
    attempts = [
        ("POST", "/api/v1/documents", {"files": upload}),
        ("POST", "/api/v1/documents", {"json": {"urls": ["http://127.0.0.1:9/x"]}}),
        ("DELETE", "/api/v1/documents/michael-west-collective-leadership-for-culture-change.txt", {}),
        ("GET", "/api/v1/jobs/1-abc", {}),
        ("GET", "/api/v1/library", {}),
        ("POST", "/api/v1/refresh", {}),
    ]
    for method, path, body in attempts:
        for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 403), ({"Authorization": TOKEN}, 401)):
            response = library.request(method, path, headers=headers, **body)
            assert response.status_code == status, (method, path, headers, response.text)
            assert response.json()["error"]
    time.sleep(0.5)  # were a job started by mistake, it would have begun by now
    assert store.resolve(index_copy) == before and not (tmp_path / "uploads").exists()
    # The page itself is a login form: it shows nothing of the library without the token.
    page = library.get("/library")
    assert page.status_code == 200 and 'type="password"' in page.text and "michael-west" not in page.text

    # No token configured: the Library is off altogether.
    off = FastAPI()
    mount_library(off, index_copy, admin_token="", upload_dir=tmp_path / "uploads")
    with serve_app(off) as url:
        assert httpx.get(f"{url}/library").status_code == 404
        response = httpx.post(f"{url}/api/v1/documents", files=upload, headers=ADMIN)
        assert response.status_code == 404 and "QA_ADMIN_TOKEN" in response.json()["error"]


def test_unusable_uploads_are_refused_each_with_its_reason_and_the_rest_is_indexed(library, tmp_path):
    bomb = make_docx_bomb(tmp_path / "bomb.docx", inflated=20 << 20).read_bytes()
    assert len(bomb) < LIMITS.file_bytes  # small on the wire; only inflating it would hurt
    files = [
        ("files", ("../../x.txt", b"Escaped the upload folder.", "text/plain")),
        ("files", ("huge.txt", b"Far too long. " * 20_000, "text/plain")),
        ("files", ("bomb.docx", bomb, "application/octet-stream")),
        ("files", ("report.pdf", b"Only text, whatever the name says.", "application/pdf")),
        ("files", ("rotas.md", NOTE, "text/markdown")),
    ]
    response = library.post("/api/v1/documents", files=files, headers=ADMIN)
    assert response.status_code == 202, response.text
    reasons = {r["name"]: r["reason"] for r in response.json()["refused"]}
    assert "folder part" in reasons["../../x.txt"]
    assert "280,000 bytes is over the 200,000-byte limit per file" in reasons["huge.txt"]
    inflated = re.search(r"would inflate to ([\d,]+) bytes, over the 5,000,000-byte limit", reasons["bomb.docx"])
    assert inflated and int(inflated[1].replace(",", "")) > 20 << 20
    assert "named .pdf but its content is text" in reasons["report.pdf"]
    job = wait(library, response.json()["job"])
    assert job["state"] == DONE and job["progress"] == 1.0, job
    refused = [f for f in job["files"] if f["outcome"] == "refused"]
    assert len(refused) == 4 and {f["name"]: f["reason"] for f in refused} == reasons
    assert [f for f in job["files"] if f["outcome"] != "refused"] == [
        {"name": "rotas.md", "outcome": "added", "reason": "", "passages": 1, "pages": 0}
    ]
    assert "rotas.md" in sources(library)
    # Kept for later rebuilds, and nothing was written anywhere else.
    assert sorted(p.name for p in (tmp_path / "uploads").iterdir()) == [".incoming", ".jobs", "rotas.md"]
    assert not list((tmp_path / "uploads" / ".incoming").iterdir())
    assert not any(tmp_path.rglob("x.txt"))

    only_bad = library.post("/api/v1/documents", files=files[:2], headers=ADMIN)
    assert only_bad.status_code == 400 and "no file can be used" in only_bad.json()["error"]
    too_big = [("files", (f"n{i}.txt", b"Words. " * 25_000, "text/plain")) for i in range(6)]
    response = library.post("/api/v1/documents", files=too_big, headers=ADMIN)
    assert response.status_code == 413 and "1,000,000-byte limit per request" in response.json()["error"]


def test_a_file_replaced_and_a_web_page_added_then_removed(library, index_copy, tmp_path, allow_local_fetch):
    response = library.post("/api/v1/documents", files={"files": ("rotas.md", NOTE, "text/markdown")}, headers=ADMIN)
    assert wait(library, response.json()["job"])["state"] == DONE
    newer = NOTE.replace(b"four weeks", b"six weeks")
    response = library.post(
        "/api/v1/documents", files={"files": ("anything.md", newer)}, data={"replace": "rotas.md"}, headers=ADMIN
    )
    assert wait(library, response.json()["job"])["state"] == DONE
    upload = {"files": ("a.md", newer)}
    nothing = library.post("/api/v1/documents", files=upload, data={"replace": "no.md"}, headers=ADMIN)
    assert nothing.status_code == 404 and "nothing to replace" in nothing.json()["error"]
    assert "six weeks" in qa.Index.load(index_copy).ask("How far ahead is the rota agreed?").text
    assert (tmp_path / "uploads" / "rotas.md").read_bytes() == newer

    pdf = make_pdf(tmp_path / "report.pdf").read_bytes()
    routes = {"/huddles": Route(ARTICLE_PAGE.encode()), "/report": Route(pdf, content_type="application/pdf")}
    with serve(routes) as site:
        urls = [f"{site.url}/huddles", f"{site.url}/report", f"{site.url}/gone"]
        response = library.post("/api/v1/documents", json={"urls": urls}, headers=ADMIN)
        assert response.status_code == 202
        job = wait(library, response.json()["job"])
        assert job["state"] == DONE and job["warnings"] == []
        gone = {
            "name": f"{site.url}/gone",
            "outcome": "refused",
            "reason": "the server answered HTTP 404 Not Found",
            "passages": 0,
            "pages": 0,
        }
        assert job["files"][0] == gone and [f["outcome"] for f in job["files"][1:]] == ["added", "added"]
        pages = {f["name"]: f["pages"] for f in job["files"]}
        assert pages[f"{site.url}/huddles"] == 0 and pages[f"{site.url}/report"] == len(PDF_PAGES)
        assert job["summary"].startswith(f"2 web pages read ({len(PDF_PAGES)} pages), "), job["summary"]
        assert "the library now has 4 documents" in job["summary"]
        routes["/report"] = Route(status=503)
        response = library.post("/api/v1/refresh", headers=ADMIN)
        refreshed = wait(library, response.json()["job"])
    assert refreshed["summary"] == "2 web pages checked: none changed", refreshed
    unavailable = "the server answered HTTP 503 Service Unavailable; kept as indexed"
    assert refreshed["warnings"] == [f"{site.url}/report: {unavailable}"]
    listing = {d["source"]: d for d in library.get("/api/v1/library", headers=ADMIN).json()["documents"]}
    page = listing[f"{site.url}/huddles"]
    assert page["url"] == f"{site.url}/huddles" and page["publisher"] == "Care Journal" and page["passages"] > 0
    assert page["title"] == "Safety huddles on every ward" and page["author"] == "Priya Shah" and page["added"]

    bad = library.post("/api/v1/documents", json={"urls": ["file:///etc/passwd", f"{site.url}/huddles"]}, headers=ADMIN)
    assert bad.status_code == 400
    # The one wrong address, whole, and that the right one was not added either.
    assert bad.json()["error"] == (
        "only http and https addresses can be added, so none was: 'file:///etc/passwd'; correct or remove it"
    )

    encoded = urllib.parse.quote(f"{site.url}/huddles", safe="")
    response = library.delete(f"/api/v1/documents/{encoded}", headers=ADMIN)
    assert response.status_code == 202 and wait(library, response.json()["job"])["state"] == DONE
    with store.build_lock(index_copy):  # another process building the same index: the job waits its turn
        job = library.delete("/api/v1/documents/rotas.md", headers=ADMIN).json()["job"]
        deadline = time.monotonic() + 20
        while "Waiting for another build" not in library.get(f"/api/v1/jobs/{job}", headers=ADMIN).json()["stage"]:
            assert time.monotonic() < deadline, "the job did not wait for the build lock"
            time.sleep(0.1)
    assert wait(library, job)["state"] == DONE
    assert sources(library) == {"michael-west-collective-leadership-for-culture-change.txt", f"{site.url}/report"}
    assert not (tmp_path / "uploads" / "rotas.md").exists()
    missing = library.delete("/api/v1/documents/rotas.md", headers=ADMIN)
    assert missing.status_code == 404 and "not in the index" in missing.json()["error"]


def test_jobs_run_one_at_a_time_in_order_and_report_progress_and_failure():
    jobs = JobQueue()
    release = threading.Event()
    order: list[str] = []

    def slow(report):
        order.append("first")
        report("Embedding", 5, 10)
        release.wait(30)
        return Outcome("1 documents, 3 passages", ["a.txt: empty file"])

    def second(report):
        order.append("second")
        raise qa.BuildError("no usable document; the existing index is unchanged")

    def broken(report):
        raise RuntimeError("bug")

    first = jobs.submit("first", slow)
    queued = jobs.submit("second", second)
    third = jobs.submit("third", broken)
    deadline = time.monotonic() + 10
    while first.state != RUNNING and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert first.state == RUNNING and queued.state == QUEUED and third.state == QUEUED
    assert 0.3 < first.progress < 1 and first.stage == "Embedding 5/10"
    release.set()
    while third.state in (QUEUED, RUNNING) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert order == ["first", "second"]
    assert first.to_json()["state"] == DONE and first.to_json()["warnings"] == ["a.txt: empty file"]
    assert first.to_json()["summary"] == "1 documents, 3 passages" and first.to_json()["progress"] == 1.0
    assert queued.to_json()["state"] == FAILED and "no usable document" in queued.to_json()["error"]
    assert third.state == FAILED and third.error == "internal error (RuntimeError); the index is unchanged"
    assert [j.id for j in jobs.recent()] == [third.id, queued.id, first.id]


def test_every_worker_process_can_report_on_any_job(tmp_path):
    """Two queues sharing a folder stand for two server workers; a job of a dead process failed."""
    here, there = JobQueue(folder=tmp_path / "jobs"), JobQueue(folder=tmp_path / "jobs")
    release = threading.Event()

    def work(report):
        report("Embedding", 1, 2)
        release.wait(30)
        return Outcome("done here")

    job = here.submit("Add a.txt", work)
    deadline = time.monotonic() + 10
    while (there.describe(job.id) or {}).get("stage") != "Embedding 1/2":
        assert time.monotonic() < deadline, there.describe(job.id)
        time.sleep(0.05)
    assert there.describe(job.id)["state"] == RUNNING and [j["job"] for j in there.recent_json()] == [job.id]
    release.set()
    while (there.describe(job.id) or {}).get("state") != DONE:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert there.describe(job.id)["summary"] == "done here"
    assert there.describe("../../etc/passwd") is None and there.describe("9-00000000") is None

    orphan = {**there.describe(job.id), "job": "7-0123abcd", "state": RUNNING, "pid": 2**22 + 12345}
    (tmp_path / "jobs" / "7-0123abcd.json").write_text(json.dumps(orphan))
    died = there.describe("7-0123abcd")
    assert died["state"] == FAILED and "the server stopped during this change" in died["error"]


CAFE = "Café d'Été report.txt"
CAFE_TEXT = "The café on the ward opens at seven each morning for staff on the night shift.\n".encode()


def test_files_keep_their_names_as_uploaded_and_each_says_what_became_of_it(library, index_copy, tmp_path):
    files = [("files", (CAFE, CAFE_TEXT, "text/plain")), ("files", ("rotas.md", NOTE, "text/markdown"))]
    job = wait(library, library.post("/api/v1/documents", files=files, headers=ADMIN).json()["job"])
    assert job["state"] == DONE, job
    assert [(f["name"], f["outcome"], f["passages"]) for f in job["files"]] == [
        (CAFE, "added", 1),
        ("rotas.md", "added", 1),
    ]
    assert job["summary"] == "2 files read, 2 passages added; the library now has 3 documents, 21 passages"
    # Cited by the name it was uploaded under; kept under a safe one.
    answer = qa.Index.load(index_copy).ask("When does the café on the ward open?")
    assert answer.passages[0].source == CAFE and "seven each morning" in answer.text
    assert (tmp_path / "uploads" / "Café d_Été report.txt").read_bytes() == CAFE_TEXT

    # Replaced by its real name; a name that would share its stored file is refused, not overwritten.
    newer = CAFE_TEXT.replace(b"seven", b"six")
    response = library.post(
        "/api/v1/documents", files={"files": ("new.txt", newer)}, data={"replace": CAFE}, headers=ADMIN
    )
    job = wait(library, response.json()["job"])
    assert job["description"] == f"Replace {CAFE}" and job["files"] == [
        {"name": CAFE, "outcome": "replaced", "reason": "", "passages": 1, "pages": 0}
    ]
    files = [("files", ("rotas.md", NOTE, "text/markdown")), ("files", ("Café d_Été report.txt", b"Other text."))]
    job = wait(library, library.post("/api/v1/documents", files=files, headers=ADMIN).json()["job"])
    assert [(f["name"], f["outcome"]) for f in job["files"]] == [
        ("Café d_Été report.txt", "refused"),
        ("rotas.md", "unchanged"),
    ]
    assert f"too like the name of {CAFE!r}" in job["files"][0]["reason"]
    assert job["summary"].startswith("0 files read, 0 passages added")
    assert (tmp_path / "uploads" / "Café d_Été report.txt").read_bytes() == newer

    response = library.delete(f"/api/v1/documents/{urllib.parse.quote(CAFE)}", headers=ADMIN)
    assert wait(library, response.json()["job"])["summary"].startswith(f"{CAFE} removed; the library now has 2")
    assert CAFE not in sources(library) and not (tmp_path / "uploads" / "Café d_Été report.txt").exists()


def test_when_every_file_fails_the_job_error_says_why_for_each(library, index_copy):
    before = store.resolve(index_copy)
    empty_page = b"<html><head><title>Menu</title></head><body><nav></nav></body></html>"
    files = [("files", ("menu.html", empty_page, "text/html")), ("files", ("nav.htm", empty_page, "text/html"))]
    response = library.post("/api/v1/documents", files=files, headers=ADMIN)
    assert response.status_code == 202, response.text
    job = wait(library, response.json()["job"])
    assert job["state"] == FAILED, job
    assert "menu.html: no main text found in the page" in job["error"]
    assert "nav.htm: no main text found in the page" in job["error"]
    assert job["error"].endswith("the existing index is unchanged") and store.resolve(index_copy) == before


def test_changes_are_listed_newest_first_with_times_and_ids_unique_across_restarts(tmp_path):
    def finished(queue: JobQueue, description: str) -> str:
        job = queue.submit(description, lambda report: Outcome(description))
        deadline = time.monotonic() + 10
        while job.state != DONE:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return job.id

    first = JobQueue(folder=tmp_path / "jobs")
    ids = [finished(first, "one"), finished(first, "two")]
    restarted = JobQueue(folder=tmp_path / "jobs")  # the server started again: nothing in memory
    ids.append(finished(restarted, "three"))
    # Numbered on from before the restart (made from the time), never starting again.
    numbers = [int(i.split("-")[0]) for i in ids]
    assert len(set(ids)) == 3 and numbers[0] < numbers[1] < numbers[2], ids
    listed = restarted.recent_json()
    assert [j["job"] for j in listed] == ids[::-1] and [j["summary"] for j in listed] == ["three", "two", "one"]
    for job in listed:
        assert job["created_at"] <= job["started_at"] <= job["finished_at"], job


def test_a_killed_jobs_staging_files_are_removed_at_start_up_and_a_live_ones_kept(index_copy, tmp_path):
    incoming = tmp_path / "uploads" / ".incoming"
    folders = {
        "dead": incoming / f"{2**22 + 12345}-x1",  # above Linux's largest process id: no such process
        "this process's number, from before a restart": incoming / f"{os.getpid()}-x2",
        "made before folders were named": incoming / "tmpx3",
        "another live worker's": incoming / f"{os.getppid()}-x4",
    }
    for folder in folders.values():
        folder.mkdir(parents=True)
        (folder / "report.txt").write_text("Staged.")
    mount_library(FastAPI(), index_copy, admin_token=TOKEN, upload_dir=tmp_path / "uploads", limits=LIMITS)
    assert [p for p in incoming.iterdir()] == [folders["another live worker's"]]


def test_the_report_shows_a_question_answered_since_content_was_added(index_copy, tmp_path):
    log = QuestionLog(tmp_path / "questions.db")
    reader = qa.Index.load(index_copy)
    for question in ("When does the café on the ward open?", "Who won the 2018 FIFA World Cup?"):
        log.record(question, reader.ask(question), 0.01)  # as the chat records them: not answered
    app = FastAPI()
    mount_library(app, index_copy, admin_token=TOKEN, upload_dir=tmp_path / "uploads", limits=LIMITS, question_log=log)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        before = client.get("/api/v1/report", headers=ADMIN).json()
        assert [g["status_now"] for g in before["unanswered"]] == [NOT_COVERED, NOT_COVERED], before
        assert "Answered since" not in before["html"]
        upload = {"files": (CAFE, CAFE_TEXT, "text/plain")}
        assert (
            wait(client, client.post("/api/v1/documents", files=upload, headers=ADMIN).json()["job"])["state"] == DONE
        )
        after = client.get("/api/v1/report", headers=ADMIN).json()
    # Still listed (it was not answered when asked), now as answered, after those still unanswered.
    assert [(g["question"], g["status"], g["status_now"]) for g in after["unanswered"]] == [
        ("Who won the 2018 FIFA World Cup?", NOT_COVERED, NOT_COVERED),
        ("When does the café on the ward open?", NOT_COVERED, ANSWERED),
    ]
    rows = after["html"].split("<tr>")
    assert "Answered since" in next(r for r in rows if "café" in r) and "Not covered" in next(
        r for r in rows if "FIFA" in r
    )

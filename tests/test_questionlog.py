"""The question log: rows, feedback, the report (Python and `python -m qa report`), retention,
several processes writing at once, and the chat recording its questions on the real index."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from qa import questionlog
from qa.__main__ import main as qa_main
from qa.config import Settings
from qa.questionlog import QuestionGroup, QuestionLog, Report, group_questions, open_log
from qa.types import ANSWERED, NOT_COVERED, RELATED, UNSURE, Answer, Passage
from ui.api import make_endpoints
from ui.chat import ChatService
from ui.report import report_html

ROOT = Path(__file__).resolve().parent.parent
ONTOPIC = ROOT.parent / "shared" / "eval" / "seed-dev-ontopic.jsonl"
COVERED = "What is collective leadership?"


def answer(status: str, source: str = "article.txt") -> Answer:
    passage = Passage("Collective leadership is shared.", source, "Article", 0, 32)
    return Answer(status == ANSWERED, "Collective leadership is shared.", [passage], status=status)


def ontopic_questions() -> list[str]:
    lines = ONTOPIC.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def run_report(db: Path, *args: str, index: Path) -> subprocess.CompletedProcess:
    """`python -m qa report ARGS` over the log `db`, asking the unanswered questions again of `index`."""
    env = {**os.environ, "QA_LOG_DB": str(db), "QA_LOG": "1", "HF_HUB_OFFLINE": "1", "QA_INDEX_DIR": str(index)}
    return subprocess.run(
        [sys.executable, "-m", "qa", "report", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_report_lists_each_uncovered_question_with_its_count_and_not_the_covered_one(tmp_path, built_index):
    db = tmp_path / "questions.db"
    log = QuestionLog(db)
    uncovered = ontopic_questions()
    assert len(uncovered) >= 10
    for round_ in range(2):
        for n, question in enumerate(uncovered):
            # Both kinds of "no answer" count; which one the engine gives is its business.
            assert log.record(question, answer(RELATED if (n + round_) % 2 else NOT_COVERED), 0.01) is not None
    log.record(COVERED, answer(ANSWERED), 0.01)
    log.close()

    result = run_report(db, "--csv", index=built_index)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    listed = {row["question"]: int(row["count"]) for row in rows if row["list"] == "unanswered"}
    assert listed == dict.fromkeys(uncovered, 2)
    assert all(row["list"] == "unanswered" for row in rows)  # nothing was marked unhelpful

    text = run_report(db, index=built_index)
    assert text.returncode == 0, text.stderr
    assert f"Questions the content does not answer: {len(uncovered)}" in text.stdout
    assert COVERED not in text.stdout
    for question in uncovered:
        line = next(ln for ln in text.stdout.splitlines() if ln.endswith(question))
        assert line.split()[0] == "2"


def test_near_duplicates_are_grouped_most_asked_first_and_distinct_questions_are_not():
    rows = [
        ("What is a Freedom to Speak Up guardian?", "2026-11-01T10:00:00Z", RELATED, "a.txt", ""),
        ("what is a freedom to speak up guardian", "2026-11-02T10:00:00Z", RELATED, "a.txt", ""),
        ("What is a freedom to speak up guardain?", "2026-11-03T10:00:00Z", NOT_COVERED, "b.txt", ""),
        ("How many NHS trusts are there in England?", "2026-11-04T10:00:00Z", RELATED, "a.txt", ""),
        ("How many patients does the NHS treat each day?", "2026-11-05T10:00:00Z", RELATED, "a.txt", ""),
        ("How many patients does the NHS treat each day?", "2026-11-06T10:00:00Z", RELATED, "a.txt", ""),
    ]
    groups = group_questions(rows)
    assert [(g.question, g.count) for g in groups] == [
        ("What is a Freedom to Speak Up guardian?", 3),
        ("How many patients does the NHS treat each day?", 2),
        ("How many NHS trusts are there in England?", 1),
    ]
    guardian = groups[0]
    assert set(guardian.variants) == {
        "what is a freedom to speak up guardian",
        "What is a freedom to speak up guardain?",
    }
    # Status and source are those of the latest asking.
    assert (guardian.status, guardian.top_source, guardian.last_asked) == (NOT_COVERED, "b.txt", "2026-11-03T10:00:00Z")


def test_feedback_marks_answers_unhelpful_and_can_be_withdrawn(tmp_path):
    log = QuestionLog(tmp_path / "q.db")
    good = log.record(COVERED, answer(ANSWERED), 0.01)
    bad = log.record("Who is accountable?", answer(ANSWERED), 0.01)
    assert log.feedback(good, True) and log.feedback(bad, False)
    assert log.feedback(10_000, False) is False  # no such row: nothing changed
    unhelpful = log.unhelpful()
    assert [(g.question, g.count, g.answer) for g in unhelpful] == [
        ("Who is accountable?", 1, "Collective leadership is shared.")
    ]
    assert log.unanswered() == []  # answered questions are not "not answered", whatever the rating
    assert log.feedback(bad, None)
    assert log.unhelpful() == []


def test_a_row_holds_what_the_issue_names_and_nothing_about_the_reader(tmp_path):
    db = tmp_path / "q.db"
    log = QuestionLog(db)
    row = log.record("  What is a CCG?  ", answer(RELATED, "article.txt"), 0.0123, channel="api")
    log.close()
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        stored = dict(connection.execute("SELECT * FROM questions WHERE id = ?", (row,)).fetchone())
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert set(stored) == set(
        "id asked_at question status top_source answer latency_ms channel helpful feedback_at".split()
    )
    assert stored["question"] == "What is a CCG?" and stored["status"] == RELATED
    assert stored["top_source"] == "article.txt" and stored["answer"] == "" and stored["channel"] == "api"
    assert stored["latency_ms"] == pytest.approx(12.3) and stored["helpful"] is None
    assert stored["asked_at"].endswith("Z")


def test_rows_older_than_the_kept_days_are_gone_after_the_next_start(tmp_path):
    db = tmp_path / "q.db"
    log = QuestionLog(db, keep_days=30)
    recent = log.record("Asked today?", answer(RELATED), 0.01)
    log.close()
    with sqlite3.connect(db) as connection:
        for days_ago in (29, 31, 400):
            connection.execute(
                "INSERT INTO questions (asked_at, question, status, latency_ms)"
                " VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?), ?, 'related', 1)",
                (f"-{days_ago} days", f"Asked {days_ago} days ago?"),
            )
    reopened = QuestionLog(db, keep_days=30)
    kept = {g.question for g in reopened.unanswered()}
    assert kept == {"Asked today?", "Asked 29 days ago?"}
    assert {g.question for g in reopened.unanswered(since_days=1)} == {"Asked today?"}
    assert reopened.feedback(recent, False)
    reopened.close()


def test_a_running_log_removes_old_rows_once_a_day(tmp_path, monkeypatch):
    log = QuestionLog(tmp_path / "q.db", keep_days=30)
    log.record("Asked long ago?", answer(RELATED), 0.01)
    a_month_on = datetime.now(UTC) + timedelta(days=31)
    monkeypatch.setattr(questionlog, "_now", lambda: a_month_on)
    log.record("Asked a month on?", answer(RELATED), 0.01)
    log.close()
    with sqlite3.connect(tmp_path / "q.db") as connection:
        assert connection.execute("SELECT question FROM questions").fetchall() == [("Asked a month on?",)]


WRITER = textwrap.dedent(
    """
    import sys, time
    from concurrent.futures import ThreadPoolExecutor
    from qa.questionlog import QuestionLog
    from qa.types import Answer
    db, name, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    log = QuestionLog(db)
    time.sleep(max(0.0, start - time.time()))  # both processes start writing together
    def ask(n):
        row = log.record(f"{name} question {n}?", Answer(False, "not covered", [], status="not_covered"), 0.001)
        assert row is not None, "row not stored"
        assert log.feedback(row, n % 2 == 0), "feedback not stored"
    with ThreadPoolExecutor(4) as pool:  # as a server's worker threads would
        list(pool.map(ask, range(count)))
    print("ok")
    """
)


def test_two_processes_writing_at_once_lose_no_row_and_are_never_locked_out(tmp_path):
    db = tmp_path / "q.db"
    count = 200
    start = time.time() + 3  # time for both interpreters to import qa and open the log
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), name, str(count), str(start)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0 and out.strip() == "ok", err
        assert "locked" not in err and "WARNING" not in err, err
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT question, helpful FROM questions").fetchall()
    assert len(rows) == 2 * count
    assert {q for q, _ in rows} == {f"{name} question {n}?" for name in ("first", "second") for n in range(count)}
    assert sum(h == 0 for _, h in rows) == count  # every feedback stored too


def test_settings_turn_the_log_off_and_reject_bad_values(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_LOG", "0")
    assert open_log(Settings()) is None
    monkeypatch.setenv("QA_LOG", "1")
    monkeypatch.setenv("QA_LOG_DB", str(tmp_path / "here.db"))
    monkeypatch.setenv("QA_LOG_DAYS", "7")
    opened = open_log(Settings())
    assert opened is not None and opened.path == tmp_path / "here.db" and opened.keep_days == 7
    opened.close()
    monkeypatch.setenv("QA_LOG", "maybe")
    with pytest.raises(ValueError, match="QA_LOG"):
        Settings()
    with pytest.raises(ValueError, match="QA_LOG_DAYS"):
        QuestionLog(tmp_path / "x.db", keep_days=0)


def test_report_command_edges(tmp_path, built_index, capsys):
    result = run_report(tmp_path / "empty.db", index=built_index)
    assert result.returncode == 0 and "Questions the content does not answer: 0" in result.stdout
    assert run_report(tmp_path / "empty.db", "--since", "0", index=built_index).returncode == 2
    off = subprocess.run(
        [sys.executable, "-m", "qa", "report"],
        cwd=ROOT,
        env={**os.environ, "QA_LOG": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert off.returncode == 1 and "QA_LOG=0" in off.stderr
    # After "--", "report" is a question like any other.
    assert qa_main(["--index", str(built_index), "--json", "--", "report"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] in (RELATED, NOT_COVERED)


def test_chat_records_each_question_with_the_real_index(article_index, tmp_path):
    log = QuestionLog(tmp_path / "q.db")
    chat = ChatService(article_index, question_log=log)
    offtopic = chat.reply("Who won the 2018 FIFA World Cup?")
    covered = chat.reply(COVERED)
    empty = chat.reply("   ")
    assert offtopic.log_id is not None and covered.log_id is not None and empty.log_id is None
    assert [(g.question, g.count, g.status) for g in log.unanswered()] == [
        ("Who won the 2018 FIFA World Cup?", 1, NOT_COVERED)
    ]
    chat.feedback(covered.log_id, False)
    (unhelpful,) = log.unhelpful()
    assert unhelpful.question == COVERED and "all staff take responsibility" in unhelpful.answer
    assert unhelpful.top_source == "michael-west-collective-leadership-for-culture-change.txt"
    assert log.count() == 2


def test_the_api_ask_endpoint_records_its_questions_as_api(article_index, tmp_path):
    log = QuestionLog(tmp_path / "q.db")
    _, ask = make_endpoints(article_index, log)
    assert ask("Who won the 2018 FIFA World Cup?")["found"] is False
    with pytest.raises(Exception, match=r"(?i)empty|question"):
        ask("   ")  # refused: nothing to log
    log.close()
    with sqlite3.connect(tmp_path / "q.db") as connection:
        rows = connection.execute("SELECT question, status, channel FROM questions").fetchall()
    assert rows == [("Who won the 2018 FIFA World Cup?", NOT_COVERED, "api")]


def test_report_html_lists_both_and_escapes_what_readers_typed():
    hostile = "What is <img src=x onerror=alert(1)>?"
    report = Report(
        30,
        7,
        unanswered=[QuestionGroup(hostile, 3, "2026-11-28T07:00:00.0Z", "related", "a.txt", "", ("what is img",))],
        unhelpful=[QuestionGroup("Who is accountable?", 1, "2026-11-28T07:01:00.0Z", "answered", "a.txt", "All are.")],
    )
    html = report_html(report)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    unanswered, unhelpful = html.split('class="qa-unhelpful"')
    assert "Questions the content does not answer" in unanswered and ">3<" in unanswered and "Related" in unanswered
    assert "Also asked as: what is img" in unanswered
    assert "Who is accountable?" in unhelpful and "Answer given: <q>All are.</q>" in unhelpful
    assert "None yet." in report_html(Report(30, 0))


def test_unsure_questions_are_listed_apart_from_the_unanswered(tmp_path, built_index):
    log = QuestionLog(tmp_path / "questions.db")
    for _ in range(2):
        log.record("What did the midwives do?", answer(UNSURE), 0.01)
    log.record("What is a CCG?", answer(RELATED), 0.01)
    report = log.report()
    log.close()
    assert [(g.question, g.count) for g in report.unsure] == [("What did the midwives do?", 2)]
    assert [g.question for g in report.unanswered] == ["What is a CCG?"]
    html = report_html(report)
    assert "Questions the service was unsure of" in html.split('class="qa-unsure"')[1]
    assert "Unsure" in html.split('class="qa-unsure"')[1]
    csv_rows = run_report(tmp_path / "questions.db", "--csv", index=built_index).stdout
    assert "unsure,2,What did the midwives do?,unsure" in csv_rows


def test_report_asks_each_unanswered_question_again_and_shows_those_answered_since(tmp_path, built_index):
    db = tmp_path / "questions.db"
    log = QuestionLog(db)
    # Asked before the article was indexed: not covered then; the article answers it now.
    log.record(COVERED, answer(NOT_COVERED), 0.01)
    log.record("Who won the 2018 FIFA World Cup?", answer(NOT_COVERED), 0.01)
    log.close()

    text = run_report(db, index=built_index)
    assert text.returncode == 0, text.stderr
    assert "Questions the content does not answer: 2 (asked 2 times; 1 of them answered since)" in text.stdout
    lines = text.stdout.splitlines()
    assert "  answered since  " in next(ln for ln in lines if ln.endswith(COVERED))
    assert "  not covered  " in next(ln for ln in lines if ln.endswith("FIFA World Cup?"))
    table = list(csv.DictReader(io.StringIO(run_report(db, "--csv", index=built_index).stdout)))
    assert [(r["question"], r["status"], r["status_now"]) for r in table] == [
        ("Who won the 2018 FIFA World Cup?", NOT_COVERED, NOT_COVERED),
        (COVERED, NOT_COVERED, ANSWERED),
    ]
    # No index to ask: the report as judged when asked, and a warning saying so.
    unjudged = run_report(db, "--index", str(tmp_path / "no-index"), index=built_index)
    assert unjudged.returncode == 0 and "not asked again" in unjudged.stderr
    assert "answered since" not in unjudged.stdout and f"not covered     {COVERED}" in unjudged.stdout

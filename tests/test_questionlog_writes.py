"""Writing the question log: a write that fails never costs the reader the answer, and what is
stored is cut to its limits and keeps whichever of the four statuses the answer had."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from fastapi.testclient import TestClient

import qa
from qa import questionlog
from qa.questionlog import ANSWER_CHARS, QUESTION_CHARS, QuestionLog
from qa.types import ANSWERED, STATUSES, Answer
from ui.server import create_app

QUESTION = "What is collective leadership?"


def test_a_failed_write_is_a_warning_and_the_question_is_still_answered(article_index, tmp_path, monkeypatch, caplog):
    # Another process holds the log's write lock longer than a writer waits (shortened here from 10 s).
    monkeypatch.setattr(questionlog, "BUSY_SECONDS", 0.2)
    log = QuestionLog(tmp_path / "questions.db")
    holder = sqlite3.connect(tmp_path / "questions.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with TestClient(create_app(article_index, question_log=log)) as client:
        with caplog.at_level(logging.WARNING, logger="qa.questionlog"):
            response = client.post("/api/v1/ask", json={"question": QUESTION})
        assert response.status_code == 200 and response.json()["found"] is True
        assert "write failed: database is locked" in caplog.text
        holder.execute("ROLLBACK")
        assert log.count() == 0  # nothing half-written
        assert client.post("/api/v1/ask", json={"question": QUESTION}).status_code == 200
    assert log.count() == 1  # once the lock is released, the next question is stored
    holder.close()


def stored(log: QuestionLog) -> list[tuple[str, str, str]]:
    with sqlite3.connect(log.path) as db:
        return db.execute("SELECT question, status, answer FROM questions ORDER BY id").fetchall()


def test_question_and_answer_are_cut_to_their_limits(tmp_path):
    log = QuestionLog(tmp_path / "questions.db")
    long_question = "  " + "Why? " * 400  # 2,000 characters, padded
    quote = "Collective leadership is shared. " * 30
    assert log.record(long_question, Answer(found=True, text=quote, passages=[]), 0.01) is not None
    ((question, status, answer),) = stored(log)
    assert question == long_question.strip()[:QUESTION_CHARS] and len(question) == QUESTION_CHARS
    assert answer == quote[:ANSWER_CHARS] and len(answer) == ANSWER_CHARS and status == ANSWERED


@pytest.mark.parametrize("status", STATUSES)
def test_each_status_is_stored_as_it_was_and_only_an_answer_keeps_its_quote(tmp_path, status):
    log = QuestionLog(tmp_path / "questions.db")
    passage = qa.Passage(text="Culture is what is important to us here.", source="a.txt", title="A", start=0, end=40)
    answer = Answer(found=status == ANSWERED, text=passage.text, passages=[passage], status=status)
    log.record(QUESTION, answer, 0.01)
    assert stored(log) == [(QUESTION, status, passage.text if status == ANSWERED else "")]

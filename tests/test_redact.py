"""Redaction before storing: a question holding a patient's details is answered as asked, but the
question log (API and chat) and the access log keep it with markers in their place; the report
and the Library say so, and for how long questions are kept."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from qa.questionlog import QuestionLog
from qa.redact import nhs_number_valid, redact
from tests.libraryserver import serve_app
from ui.chat import ChatService
from ui.server import create_app

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "admin-s3cret"

# Each is redacted wherever it stands in a question.
IDENTIFIERS = {
    "9434765919": "[NHS number]",
    "943 476 5919": "[NHS number]",
    "401-023-2137": "[NHS number]",
    "jane.o'neil+ward7@nhs.net": "[email]",
    "J.Smith@Example-Trust.NHS.UK": "[email]",
    "07700 900123": "[phone]",
    "020 7946 0018": "[phone]",
    "(01632) 960001": "[phone]",
    "+44 (0)20 7946 0018": "[phone]",
    "+447700900123": "[phone]",
    "0044 7700 900 123": "[phone]",
    "SW1A 1AA": "[postcode]",
    "ls1 4ap": "[postcode]",
    "EC1A1BB": "[postcode]",
    "M60 1QD": "[postcode]",
}
DATES_OF_BIRTH = [
    ("DOB 12/03/1984", "DOB [date of birth]"),
    ("D.O.B.: 12-03-84", "D.O.B.: [date of birth]"),
    ("date of birth is 1984-03-12", "date of birth is [date of birth]"),
    ("born 3 March 1984", "born [date of birth]"),
    ("born on the 3rd of Mar 1984", "born on the [date of birth]"),
    ("Born: March 3, 1984", "Born: [date of birth]"),
    ("birthday 03.03.1984", "birthday [date of birth]"),
]
# Kept as typed: numbers that are not identifiers, and dates that are not said to be a birth.
KEPT = [
    "9434765918",  # ten digits failing the modulus 11 check
    "943 476 5918",
    "Is 1234567890 a reference number?",
    "What changed on 1 April 2023?",
    "Was the 12/03/1984 meeting minuted?",
    "How many of the 2019/20 starters were born abroad?",
    "Did falls drop by 23 per cent in 18 months, or 0.5 per cent?",
    "Take the A4 3rd exit",
    "Are band 5 nurses on ward B12 paid 2,500 more?",
    "What is collective leadership?",
]


@pytest.mark.parametrize("identifier, marker", IDENTIFIERS.items())
def test_each_identifier_is_replaced_by_its_marker_wherever_it_stands(identifier, marker):
    for question in (identifier, f"Patient {identifier}: what next?", f"Re {identifier}, please advise"):
        assert redact(question) == question.replace(identifier, marker)


@pytest.mark.parametrize("written, stored", DATES_OF_BIRTH)
def test_a_date_written_as_a_birth_date_is_replaced(written, stored):
    assert redact(f"Patient {written} has a fall risk") == f"Patient {stored} has a fall risk"


@pytest.mark.parametrize("question", KEPT)
def test_what_identifies_no_one_is_kept_as_typed(question):
    assert redact(question) == question


def test_the_nhs_number_check_is_the_modulus_11_check():
    # NHS numbers given as valid in NHS Digital's documentation and test data.
    for number in ("9434765919", "4010232137", "9990000018"):
        assert nhs_number_valid(number)
        # Any other last digit fails; and a check digit of 10 means no valid number.
        assert not any(nhs_number_valid(number[:9] + d) for d in "0123456789" if d != number[9])
    # 000000006: the weighted sum is 12, remainder 1, so the check digit would be 10.
    assert not any(nhs_number_valid(f"000000006{d}") for d in "0123456789")
    assert not nhs_number_valid("123456789") and not nhs_number_valid("94347659x9")


VALID, INVALID, EMAIL, PHONE, POSTCODE = "943 476 5919", "4010232138", "ward7.sister@nhs.net", "07700 900123", "LS1 4AP"


@pytest.fixture
def server(article_index, tmp_path):
    """The real app on 127.0.0.1, its question log on, question text allowed in the access log."""
    log = QuestionLog(tmp_path / "questions.db", keep_days=30)
    app = create_app(
        article_index,
        question_log=log,
        log_questions=True,
        admin_token=ADMIN_TOKEN,
        upload_dir=tmp_path / "uploads",
    )
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, log
    log.close()


def stored(log: QuestionLog) -> list[tuple[str, str]]:
    """The rows as written, read back from the file by another connection."""
    with sqlite3.connect(log.path) as connection:
        return connection.execute("SELECT question, channel FROM questions ORDER BY id").fetchall()


def test_a_question_is_answered_as_asked_and_stored_without_the_identifiers(server, article_index, caplog):
    client, log = server
    caplog.set_level(logging.INFO, logger="ui.access")
    question = (
        f"What is collective leadership? Asking for NHS {VALID} (ref {INVALID}), DOB 12/03/1984, "
        f"at {POSTCODE}: reply to {EMAIL} or {PHONE}"
    )
    response = client.post("/api/v1/ask", json={"question": question})
    assert response.status_code == 200, response.text
    answer = response.json()
    # Answered from the question as typed: searched as it is, the same answer as asking directly.
    assert answer["query"] == question
    assert answer["answer"] == article_index.ask(question).text

    (row,) = stored(log)
    assert row == (
        "What is collective leadership? Asking for NHS [NHS number] (ref 4010232138), DOB [date of birth], "
        "at [postcode]: reply to [email] or [phone]",
        "api",
    )
    for identifier in (VALID, "9434765919", "12/03/1984", POSTCODE, EMAIL, PHONE):
        assert identifier not in row[0]
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ui.access"]
    assert line["question"] == row[0]

    # Gradio's own API endpoint stores the same way, and so does the chat page's service.
    gradio_question = f"Who is accountable? My number is {PHONE}, NHS no. 9434765919"
    joined = client.post("/gradio_api/call/ask", json={"data": [gradio_question, 3, []]})
    assert joined.status_code == 200, joined.text
    assert "complete" in client.get(f"/gradio_api/call/ask/{joined.json()['event_id']}").text
    chat = ChatService(article_index, question_log=log)
    assert chat.reply(f"What is collective leadership? Email me at {EMAIL}").answered
    assert stored(log)[1:] == [
        ("Who is accountable? My number is [phone], NHS no. [NHS number]", "api"),
        ("What is collective leadership? Email me at [email]", "chat"),
    ]


def test_the_library_report_says_questions_are_redacted_and_how_long_they_are_kept(server):
    client, _ = server
    question = f"How do I book physiotherapy for the patient at {POSTCODE}, DOB 3 March 1984?"
    assert client.post("/api/v1/ask", json={"question": question}).json()["status"] != "answered"
    report = client.get("/api/v1/report", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert report["keep_days"] == 30
    html = report["html"]
    assert "How do I book physiotherapy for the patient at [postcode], DOB [date of birth]?" in html
    assert POSTCODE not in html and "1984" not in html
    assert "Stored questions have NHS numbers, e-mail addresses, phone numbers, postcodes and dates of birth" in html
    assert "kept for 30 days (QA_LOG_DAYS)" in html


def test_the_report_command_says_so_too(tmp_path):
    db = tmp_path / "questions.db"
    QuestionLog(db, keep_days=45).close()
    env = {**os.environ, "QA_LOG_DB": str(db), "QA_LOG": "1", "QA_LOG_DAYS": "45", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "qa", "report"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "replaced by markers, and are kept for 45 days (QA_LOG_DAYS)." in result.stdout

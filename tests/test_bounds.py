"""No request can break the service: long questions, long histories and odd k are answered or
refused with a one-line message, on the real model and index (no timing asserted here:
`python -m bench.bounds` times them)."""

from __future__ import annotations

import pytest

from qa.config import SETTINGS
from ui.api import make_endpoints
from ui.chat import ChatService

# The question pasted over and over: cut to QA_QUESTION_CHARS, it still asks what the article answers.
MEGABYTE_QUESTION = "What is collective leadership? " * 33_000
LONG_HISTORY = ["and why?"] * 10_000


def test_the_engine_answers_a_long_history_and_a_megabyte_question(article_index):
    answer = article_index.ask("and why?", history=LONG_HISTORY)
    assert answer.query.count("and why?") == SETTINGS.history_turns + 1
    answer = article_index.ask(MEGABYTE_QUESTION, history=[MEGABYTE_QUESTION] * 3)
    assert len(answer.question) == SETTINGS.question_chars and answer.found
    with pytest.raises(ValueError, match=r"k must be a whole number from 1 to 100, not 1000"):
        article_index.retrieve("What is collective leadership?", k=1000)
    with pytest.raises(ValueError, match=r"k must be a whole number from 1 to 100, not 0"):
        article_index.ask("What is collective leadership?", k=0)


def test_the_gradio_endpoints_bound_everything_a_client_sends(article_index):
    retrieve, ask = make_endpoints(article_index)
    answer = ask(MEGABYTE_QUESTION, 10**9, LONG_HISTORY)
    assert answer["found"] and len(answer["passages"]) == 10  # k clamped to the chat's maximum
    assert len(ask("and who is accountable?", 3, "What is collective leadership?")["passages"]) == 3
    assert len(retrieve("What is collective leadership?", "many")) == 3
    with pytest.raises(Exception, match=r"a question must be text, not int") as refused:
        ask(42, 3, None)
    assert refused.value.message == "a question must be text, not int"


def test_the_chat_answers_a_long_conversation_and_a_megabyte_question(article_index):
    turn = ChatService(article_index).reply(MEGABYTE_QUESTION, LONG_HISTORY, k=10**6)
    assert turn.answered and "qa-answer" in turn.html


def test_the_cli_refuses_an_out_of_range_k_in_one_line(capsys, built_index):
    from qa.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["What is collective leadership?", "--k", "1000", "--index", str(built_index)])
    assert exited.value.code == 2 and "--k must be from 1 to 100" in capsys.readouterr().err

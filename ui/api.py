"""The JSON side of the web app: named endpoints `retrieve` and `ask` for `gradio_client`.

Passages and answers become plain dicts (the keys of `python -m qa --json` plus the other
Passage fields, typed below so Gradio's API page documents them); a client needs neither qa nor
pickle to read them:

    from gradio_client import Client

    client = Client("http://127.0.0.1:7860")  # add auth=("nhs", password) if one is set
    passages = client.predict("What is collective leadership?", 5, api_name="/retrieve")
    answer = client.predict("What is collective leadership?", 3, [], api_name="/ask")
    print(answer["answer"], passages[0]["source"], passages[0]["highlight"])
"""

# No `from __future__ import annotations` here: Gradio reads the endpoints' type hints at run
# time to publish their schema, and cannot resolve them from strings.
import logging
import time
from collections.abc import Callable
from typing import Any

import gradio as gr
from typing_extensions import TypedDict  # pydantic (the REST schema) reads only this one on Python 3.11

from qa import QAError
from qa.questionlog import QuestionLog
from qa.types import Answer, Passage
from ui.chat import clamp_k
from ui.security import ClientLimit, too_many

log = logging.getLogger(__name__)


class PassageJSON(TypedDict):
    """A passage as both APIs return it; Gradio and the REST API publish these keys and types as the schema."""

    text: str
    source: str
    title: str
    start: int
    end: int
    paragraph: int
    page: int
    section: str
    related: bool
    metadata: dict[str, str]
    score: float
    similarity: float
    relevance: str
    highlight: str
    highlight_start: int
    highlight_end: int


class AnswerJSON(TypedDict):
    """An answer as the API returns it: the CLI's `--json` keys plus the question and query."""

    status: str
    found: bool
    answer: str
    question: str
    query: str
    passages: list[PassageJSON]


def passage_json(passage: Passage) -> PassageJSON:
    """A Passage as plain JSON values, field by field so the API's shape is stated, not implied."""
    return PassageJSON(
        text=passage.text,
        source=passage.source,
        title=passage.title,
        start=passage.start,
        end=passage.end,
        paragraph=passage.paragraph,
        page=passage.page,  # only paged documents (PDFs) have one; 0 otherwise
        section=passage.section,
        related=passage.related,
        metadata={str(k): str(v) for k, v in passage.metadata.items()},
        score=float(passage.score),
        similarity=float(passage.similarity),
        relevance=passage.relevance,
        highlight=passage.highlight,
        highlight_start=passage.highlight_start,
        highlight_end=passage.highlight_end,
    )


def answer_json(answer: Answer) -> AnswerJSON:
    """An Answer as plain JSON values."""
    return AnswerJSON(
        status=answer.status,
        found=answer.found,
        answer=answer.text,
        question=answer.question,
        query=answer.query,
        passages=[passage_json(p) for p in answer.passages],
    )


def _client_error(exc: Exception) -> gr.Error:
    """A short message for the client; the traceback, if any, goes only to our log.

    `print_exception=False` stops Gradio printing a traceback for a bad question, which is the
    client's mistake, not the service's.
    """
    if isinstance(exc, QAError | ValueError):
        lines = str(exc).strip().splitlines()
        return gr.Error(lines[0] if lines else "Bad request", print_exception=False)
    log.error("API call failed", exc_info=exc)
    return gr.Error("Internal error; the service's log has the details", print_exception=False)


def make_endpoints(
    index: Any, question_log: QuestionLog | None = None, limit: ClientLimit | None = None
) -> tuple[Callable[..., list[PassageJSON]], Callable[..., AnswerJSON]]:
    """The `retrieve` and `ask` functions for `gr.api`, bound to one index (a `qa.Index`).

    Questions to `ask` are stored in `question_log` when given; with a `limit`, a client over
    it gets an error saying when to try again. The functions' type hints are what Gradio
    publishes as the endpoint's schema, so they stay precise (Gradio hides the request).
    """

    def check(request: gr.Request | None) -> None:
        if limit is None or request is None:
            return
        if wait := limit.wait(request.client.host if request.client else None, request.headers, "api"):
            raise gr.Error(too_many(wait), print_exception=False)

    def retrieve(question: str, k: int = 5, request: gr.Request | None = None) -> list[PassageJSON]:
        """Passages for a question, best first, each with text, source, offsets and score."""
        check(request)
        try:
            return [passage_json(p) for p in index.retrieve(question, k=clamp_k(k))]
        except Exception as exc:
            raise _client_error(exc) from None

    def ask(
        question: str, k: int = 3, history: list[str] | None = None, request: gr.Request | None = None
    ) -> AnswerJSON:
        """The answer to a question: found, answer text, what was searched, and its passages.

        `history` is the conversation's earlier questions, for a follow-up such as "and who?";
        only the last few are used.
        """
        check(request)
        try:
            began = time.perf_counter()
            answer = index.ask(question, k=clamp_k(k), history=history or [])
        except Exception as exc:
            raise _client_error(exc) from None
        if question_log is not None:
            question_log.record(question, answer, time.perf_counter() - began, channel="api")
        return answer_json(answer)

    return retrieve, ask

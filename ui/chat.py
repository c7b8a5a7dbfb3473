"""One chat turn: ask the index, turn the answer (or the failure) into a message.

Kept free of Gradio so it can be tested with any object that has `ask` and `context`; the
Gradio wiring in `ui.app` only moves strings and lists in and out of this.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from qa import QAError
from qa.questionlog import QuestionLog
from qa.types import Answer, Passage
from ui import render

log = logging.getLogger(__name__)

# Bounds for the "passages to show" control; the UI slider uses the same numbers.
MIN_K, MAX_K, DEFAULT_K = 1, 10, 3

EMPTY_QUESTION = (
    "Type a question first, for example “What is collective leadership?”, or pick one of the example questions."
)
UNEXPECTED_ERROR = (
    "Sorry, something went wrong while answering. Please try again; "
    "if it keeps happening, tell whoever runs this service."
)


class Answerer(Protocol):
    """What the chat needs from `qa.Index` (and what a test double must provide)."""

    def ask(self, question: str, k: int = 3, history: Sequence[str] = ()) -> Answer: ...

    def context(self, passage: Passage, chars: int = 400) -> tuple[str, str]: ...


@dataclass(frozen=True)
class Turn:
    """The outcome of one question.

    `html` is the reply; `answered` says whether the question joins the conversation's history
    (refused or failed questions do not); `suggestions` are questions to offer as buttons;
    `log_id` is the question's row in the question log, for the reader's feedback on it.
    """

    html: str
    answered: bool
    suggestions: tuple[str, ...] = ()
    log_id: int | None = None


def clamp_k(k: object) -> int:
    """The number of passages to show, forced into range (the slider can send floats or None)."""
    try:
        value = int(float(k))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_K
    return max(MIN_K, min(MAX_K, value))


def _one_line(message: object) -> str:
    """The first line of an error message: qa's messages are one line; others might not be."""
    lines = str(message).strip().splitlines()
    return lines[0] if lines else ""


class ChatService:
    """Answers chat questions from one index, never letting an exception reach the page."""

    def __init__(
        self,
        index: Answerer,
        examples: Sequence[str] = (),
        context_chars: int = 400,
        suggest_as_buttons: bool = True,
        question_log: QuestionLog | None = None,
    ):
        self.index = index
        self.question_log = question_log
        self.examples = tuple(examples)
        self.context_chars = context_chars
        # True when the caller shows `Turn.suggestions` as buttons, so the HTML need not list them.
        self.suggest_as_buttons = suggest_as_buttons

    def _context(self, source: Answerer, passage: Passage) -> tuple[str, str] | None:
        # Surrounding text is a convenience: if it cannot be had, the citation still stands.
        try:
            return source.context(passage, chars=self.context_chars)
        except Exception:
            log.warning("no surrounding text for %s@%d", passage.source, passage.start, exc_info=True)
            return None

    def reply(self, question: str, earlier: Sequence[str] = (), k: object = DEFAULT_K) -> Turn:
        """Answer `question`, searching with the `earlier` questions of this conversation."""
        if not isinstance(question, str) or not question.strip():
            return Turn(render.notice_html(EMPTY_QUESTION), False, self.examples)
        # A `qa.Index` answers from one view of itself: the passages and their surrounding text
        # then come from the same build, even if a rebuild is published in between.
        view = getattr(self.index, "view", None)
        source = view() if callable(view) else self.index
        try:
            began = time.perf_counter()
            answer = source.ask(question, k=clamp_k(k), history=list(earlier))
            log_id = self._record(question, answer, time.perf_counter() - began)
            contexts = [self._context(source, p) for p in answer.passages]
            html = render.reply_html(answer, contexts, self.examples, self.suggest_as_buttons)
        except QAError as exc:
            # qa's errors are written for people ("no index at X; build one with ...").
            log.warning("question failed: %s", exc)
            return Turn(render.notice_html(_one_line(exc), "error"), answered=False)
        except ValueError as exc:
            log.info("question refused: %s", exc)
            return Turn(render.notice_html(_one_line(exc) or EMPTY_QUESTION, "error"), False)
        except Exception:
            # The traceback goes to the log for the operator, never to the page.
            log.exception("unexpected error answering %r", question[:200])
            return Turn(render.notice_html(UNEXPECTED_ERROR, "error"), answered=False)
        return Turn(html, answered=True, suggestions=() if answer.found else self.examples, log_id=log_id)

    def _record(self, question: str, answer: Answer, latency: float) -> int | None:
        return self.question_log.record(question, answer, latency, channel="chat") if self.question_log else None

    def feedback(self, log_id: int, helpful: bool | None) -> None:
        """The reader's thumbs up (True), down (False) or its withdrawal (None) on an answer."""
        if self.question_log is not None:
            self.question_log.feedback(log_id, helpful)

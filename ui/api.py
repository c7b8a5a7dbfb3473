"""The JSON side of the web app: named endpoints `retrieve` and `ask` for `gradio_client`.

Passages and answers become plain dicts (the same keys as `python -m qa --json`, plus every
other Passage field), so a client needs neither qa nor pickle to read them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from qa.types import Answer, Passage
from ui.chat import Answerer, clamp_k

log = logging.getLogger(__name__)


def passage_json(passage: Passage) -> dict[str, Any]:
    """Every field of a Passage as JSON-able values, plus `related` (from a teaser section)."""
    data = dataclasses.asdict(passage)
    data["metadata"] = dict(passage.metadata)
    data["related"] = passage.related
    return data


def answer_json(answer: Answer) -> dict[str, Any]:
    """An Answer as the CLI's `--json` shape, plus the question and what was searched."""
    return {
        "found": answer.found,
        "answer": answer.text,
        "question": answer.question,
        "query": answer.query,
        "passages": [passage_json(p) for p in answer.passages],
    }


def _client_error(exc: Exception) -> gr.Error:
    """A short message the client sees; Gradio hides other exceptions' text (show_error=False)."""
    from qa import QAError

    if isinstance(exc, QAError | ValueError):
        return gr.Error(str(exc).strip().splitlines()[0] if str(exc).strip() else "Bad request")
    log.exception("API call failed")
    return gr.Error("Internal error; the service's log has the details")


def make_endpoints(
    index: Any,
) -> tuple[Callable[[str, int], list[dict[str, Any]]], Callable[[str, int], dict[str, Any]]]:
    """The `retrieve` and `ask` functions for `gr.api`, bound to one index.

    Their type hints are what Gradio publishes as the endpoint's schema, so they stay precise.
    """
    answerer: Answerer = index

    def retrieve(question: str, k: int = 5) -> list[dict[str, Any]]:
        """Passages for a question, best first, each with text, source, offsets and score."""
        try:
            return [passage_json(p) for p in index.retrieve(question, k=clamp_k(k))]
        except Exception as exc:
            raise _client_error(exc) from None

    def ask(question: str, k: int = 3) -> dict[str, Any]:
        """The answer to a question: found, answer text, what was searched, and its passages."""
        try:
            return answer_json(answerer.ask(question, k=clamp_k(k)))
        except Exception as exc:
            raise _client_error(exc) from None

    return retrieve, ask

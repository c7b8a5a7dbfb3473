"""Prometheus metrics for the web app: questions by status, their latency, errors, the index served.

With several worker processes (`python -m ui --workers N`) each process writes its figures to
files in `PROMETHEUS_MULTIPROC_DIR` and `/metrics` adds them up, so a scrape that lands on any
worker sees the whole server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from qa.types import Answer, Passage
from ui.slots import Slots

# The `*_created` series double the output and no dashboard here reads them.
disable_created_metrics()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A question costs ~10 ms of search; the upper buckets show queueing under load.
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    """The app's metrics, in a registry of its own (several apps can live in one test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "qa_questions", "Questions asked, by answer status and way in", ["status", "via"], registry=self.registry
        )
        self.latency = Histogram(
            "qa_question_seconds",
            "Time to answer a question (embedding, waiting for a slot, search and judgement; not the HTTP round trip)",
            ["via"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.wait = Histogram(
            "qa_question_wait_seconds",
            "Time a question waited for a free answering slot (QA_QUESTION_SLOTS) before it was answered",
            ["via"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "qa_http_errors", "HTTP responses with an error code, by code", ["code"], registry=self.registry
        )
        self.limited = Counter(
            "qa_rate_limited",
            "Questions refused because their client was over QA_RATE_LIMIT, by way in",
            ["via"],
            registry=self.registry,
        )
        self.passages = Gauge(
            "qa_passages_indexed",
            "Passages in the index being served",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.built = Gauge(
            "qa_index_built_timestamp_seconds",
            "When the index being served was built (Unix time)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )

    def render(self, passages: int, built_at: str) -> bytes:
        """The metrics in Prometheus' text format, the index gauges set from what is served now."""
        self.passages.set(passages)
        self.built.set(_timestamp(built_at))
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def _timestamp(built_at: str) -> float:
    """Unix time of a manifest's `built_at` ("2026-11-28T06:43:01+0000"); 0 if unreadable."""
    try:
        return datetime.strptime(built_at, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return 0.0


class MeteredIndex:
    """A `qa.Index` whose questions are counted and timed under the label `via` ("api", "chat"),
    each searched and judged in one of the server's `slots` (ui.slots), which every way in shares.

    Everything else (info, context, path) is the index's own.
    """

    def __init__(self, index: Any, metrics: Metrics, via: str, slots: Slots) -> None:
        self._index = index
        self._metrics = metrics
        self._via = via
        self._slots = slots

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    def view(self) -> MeteredIndex:
        """One pinned build (`Index.view`), its questions counted like this index's.

        The chat answers from a view, so without this its questions would go uncounted.
        """
        return MeteredIndex(self._index.view(), self._metrics, self._via, self._slots)

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """Wait for a free answering slot (timed as `qa_question_wait_seconds`) and hold it."""
        waited = time.perf_counter()
        with self._slots:
            self._metrics.wait.labels(self._via).observe(time.perf_counter() - waited)
            yield

    def ask(self, question: str, k: int = 3, history: Sequence[str] = ()) -> Answer:
        """`Index.ask` in a slot, counted by the answer's status."""
        began = time.perf_counter()
        answer = self._index.ask(question, k=k, history=history, gate=self._slot())
        self._metrics.latency.labels(self._via).observe(time.perf_counter() - began)
        self._metrics.questions.labels(answer.status, self._via).inc()
        return answer

    def retrieve(self, question: str, k: int = 5) -> list[Passage]:
        """`Index.retrieve` in a slot, counted with the status "retrieved" (there is no judgement)."""
        began = time.perf_counter()
        passages = self._index.retrieve(question, k=k, gate=self._slot())
        self._metrics.latency.labels(self._via).observe(time.perf_counter() - began)
        self._metrics.questions.labels("retrieved", self._via).inc()
        return passages

"""Background jobs for the Library: one at a time, in the order asked, each with its progress.

Index changes run on a single worker thread, so two never race for the index's build lock and
a second change waits its turn ("queued") instead of failing. A job reports its stage and how
far it is; the chat keeps answering from the published index meanwhile (a build publishes
atomically, and `qa.Index` picks up the new one before its next question).
"""

from __future__ import annotations

import itertools
import logging
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from qa.errors import QAError

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

# Share of a job's bar each stage of a build fills, in order: embedding is most of the work.
_STAGES = {"Fetching": (0.0, 0.15), "Reading": (0.15, 0.15), "Embedding": (0.3, 0.65), "Saving": (0.95, 0.05)}

Report = Callable[[str, int, int], None]  # (stage, done, total)
Work = Callable[[Report], "Outcome"]  # does the job


@dataclass(frozen=True)
class Outcome:
    """How a job ended: one line for people ("indexed 4 documents ..."), and what was skipped and why."""

    summary: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class Job:
    """One change to the index and how it is going; `warnings` name what was skipped and why."""

    id: str
    description: str
    state: str = QUEUED
    stage: str = ""
    progress: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    summary: str = ""
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.id,
            "description": self.description,
            "state": self.state,
            "stage": self.stage,
            "progress": round(self.progress, 3),
            "warnings": list(self.warnings),
            "error": self.error or None,
            "summary": self.summary,
            "created_at": _iso(self.created_at),
            "finished_at": _iso(self.finished_at) if self.finished_at else None,
        }


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class JobQueue:
    """Runs submitted work one job at a time on a daemon thread; remembers the last `keep` jobs."""

    def __init__(self, keep: int = 200) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pending: queue.Queue[tuple[Job, Work]] = queue.Queue()
        self._lock = threading.Lock()
        self._keep = keep
        self._counter = itertools.count(1)
        self._worker: threading.Thread | None = None

    def submit(self, description: str, work: Work, warnings: list[str] | None = None) -> Job:
        """Queue `work`; the returned job's state says when it runs and how it ended."""
        job = Job(id=f"{next(self._counter)}-{secrets.token_hex(4)}", description=description)
        job.warnings = list(warnings or [])
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs.values()))
                if oldest.state in (QUEUED, RUNNING):
                    break
                self._jobs.popitem(last=False)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="library-jobs", daemon=True)
                self._worker.start()
        self._pending.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        """The jobs remembered, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    def _run(self) -> None:
        while True:
            job, work = self._pending.get()
            job.state = RUNNING
            try:
                outcome = work(partial(_advance, job))
                job.summary = outcome.summary
                job.warnings += outcome.warnings
                job.progress, job.stage, job.state = 1.0, "Done", DONE
            except QAError as exc:
                job.error, job.state = str(exc), FAILED
            except Exception as exc:  # a bug must not kill the worker, nor show a traceback to the admin
                log.exception("library job %s failed", job.id)
                job.error, job.state = f"internal error ({type(exc).__name__}); the index is unchanged", FAILED
            finally:
                job.finished_at = time.time()
                self._pending.task_done()


def _advance(job: Job, stage: str, done: int, total: int) -> None:
    start, span = _STAGES.get(stage, (job.progress, 0.0))
    job.stage = f"{stage} {done}/{total}" if total else stage
    job.progress = max(job.progress, start + span * (done / total if total else 0.0))

"""Background jobs for the Library: one at a time, in the order asked, each with its progress.

Index changes run on a single worker thread, so two never race for the index's build lock and
a second change waits its turn ("queued") instead of failing. A job reports its stage and how
far it is; the chat keeps answering from the published index meanwhile (a build publishes
atomically, and `qa.Index` picks up the new one before its next question).

With a `folder`, each job's state is also written there (atomically, a few times a second at
most), so every worker process of the server can answer for any job; a job whose process died
while it ran reads as failed, since nothing was published.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from qa.errors import QAError

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

# Share of a job's bar each stage of a build fills, in order: embedding is most of the work.
_STAGES = {"Fetching": (0.0, 0.15), "Reading": (0.15, 0.15), "Embedding": (0.3, 0.65), "Saving": (0.95, 0.05)}

_ID = re.compile(r"\d+-[0-9a-f]{8}")
_SAVE_EVERY = 0.25  # seconds between writes of a running job's progress

Report = Callable[[str, int, int], None]  # (stage, done, total)
Work = Callable[[Report], "Outcome"]  # does the job


# What became of one file (or web page) of a job, in a content owner's words.
ADDED, REPLACED, UNCHANGED, REFUSED = "added", "replaced", "unchanged", "refused"


@dataclass(frozen=True)
class FileResult:
    """One file of a job: its name as cited, what became of it, why (when refused), its passages
    now, and its pages (a PDF's; 0 for a document without pages)."""

    name: str
    outcome: str
    reason: str = ""
    passages: int = 0
    pages: int = 0


@dataclass(frozen=True)
class Outcome:
    """How a job ended: one line for people ("2 files read, 12 passages added ..."), what became of
    each file, and what else was skipped and why."""

    summary: str
    warnings: list[str] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)


@dataclass
class Job:
    """One change to the index and how it is going; `warnings` name what was skipped and why."""

    id: str
    description: str
    state: str = QUEUED
    stage: str = ""
    progress: float = 0.0
    warnings: list[str] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)
    error: str = ""
    summary: str = ""
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    saved: float = field(default=0.0, repr=False, compare=False)  # when its state was last written

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.id,
            "description": self.description,
            "state": self.state,
            "stage": self.stage,
            "progress": round(self.progress, 3),
            "warnings": list(self.warnings),
            "files": [asdict(f) for f in self.files],
            "error": self.error or None,
            "summary": self.summary,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at) if self.started_at else None,
            "finished_at": _iso(self.finished_at) if self.finished_at else None,
        }


def _new_id() -> str:
    """A job id unique across restarts and server processes: when it was made (to the
    millisecond, so ids sort in the order jobs were made), and chance."""
    now = time.time()
    return f"{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}{int(now * 1000) % 1000:03d}-{secrets.token_hex(4)}"


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class JobQueue:
    """Runs submitted work one job at a time on a daemon thread; remembers the last `keep` jobs."""

    def __init__(self, keep: int = 200, folder: Path | None = None) -> None:
        self._folder = folder
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pending: queue.Queue[tuple[Job, Work]] = queue.Queue()
        self._lock = threading.Lock()
        self._keep = keep
        self._worker: threading.Thread | None = None

    def submit(self, description: str, work: Work, files: list[FileResult] | None = None) -> Job:
        """Queue `work`; the returned job's state says when it runs and how it ended.

        `files` are results known before the work runs (uploads refused on arrival).
        """
        job = Job(id=_new_id(), description=description, files=list(files or []))
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
        self._save(job, prune=True)
        self._pending.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        """The jobs remembered, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    def describe(self, job_id: str) -> dict[str, Any] | None:
        """The job's JSON, from this process or, with a folder, from whichever process runs it."""
        job = self.get(job_id)
        if job is not None:
            return job.to_json()
        if self._folder is None or not _ID.fullmatch(job_id):
            return None
        return _load(self._folder / f"{job_id}.json")

    def recent_json(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest jobs' JSON, of every process sharing the folder (or of this one), newest first."""
        if self._folder is None:
            return [j.to_json() for j in self.recent()[:limit]]
        files = sorted(self._folder.glob("*.json"), key=_mtime, reverse=True)
        found = {j["job"]: j for j in map(_load, files[: limit * 2]) if j}
        found.update({j.id: j.to_json() for j in self.recent()[:limit]})
        return sorted(found.values(), key=lambda j: (j["created_at"], j["job"]), reverse=True)[:limit]

    def _save(self, job: Job, force: bool = True, prune: bool = False) -> None:
        if self._folder is None or (not force and time.monotonic() - job.saved < _SAVE_EVERY):
            return
        job.saved = time.monotonic()
        target = self._folder / f"{job.id}.json"
        partial_file = target.with_name(f".{job.id}.{os.getpid()}.tmp")
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            partial_file.write_text(json.dumps({**job.to_json(), "pid": os.getpid()}), encoding="utf-8")
            os.replace(partial_file, target)
            if prune:
                files = sorted(self._folder.glob("*.json"), key=_mtime, reverse=True)
                for old in files[self._keep :]:
                    old.unlink(missing_ok=True)
        except OSError as exc:  # other workers see less; the job itself goes on
            log.warning("cannot record job %s in %s: %s", job.id, self._folder, exc)

    def _run(self) -> None:
        while True:
            job, work = self._pending.get()
            job.state, job.started_at = RUNNING, time.time()
            self._save(job)
            try:
                outcome = work(partial(self._advance, job))
                job.summary = outcome.summary
                job.warnings += outcome.warnings
                job.files += outcome.files
                job.progress, job.stage, job.state = 1.0, "Done", DONE
            except QAError as exc:
                job.error, job.state = str(exc), FAILED
            except Exception as exc:  # a bug must not kill the worker, nor show a traceback to the admin
                log.exception("library job %s failed", job.id)
                job.error, job.state = f"internal error ({type(exc).__name__}); the index is unchanged", FAILED
            finally:
                job.finished_at = time.time()
                self._save(job)
                self._pending.task_done()

    def _advance(self, job: Job, stage: str, done: int, total: int) -> None:
        start, span = _STAGES.get(stage, (job.progress, 0.0))
        new_stage = not job.stage.startswith(stage)
        job.stage = f"{stage} {done}/{total}" if total else stage
        job.progress = max(job.progress, start + span * (done / total if total else 0.0))
        self._save(job, force=new_stage)  # every new stage is written; steps within one a few times a second


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # pruned by another worker meanwhile
        return 0.0


def _load(path: Path) -> dict[str, Any] | None:
    """A job's JSON as written by `_save`; one whose process is gone mid-job reads as failed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = data.pop("pid", None)
    if data.get("state") in (QUEUED, RUNNING) and isinstance(pid, int) and not alive(pid):
        data["state"] = FAILED
        data["error"] = "the server stopped during this change; the index is as it was before it"
    return data


def alive(pid: int) -> bool:
    """Whether a process `pid` runs on this machine (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

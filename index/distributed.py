"""Builds on a Ray cluster: reading, cleaning, splitting and embedding run as Ray tasks.

    python -m index build SOURCE ... --ray [ADDRESS]   (no ADDRESS: a local cluster on this machine)

The driver (this process) plans the build as a local build does (content hashes, what can be
reused), sends each file to be read and split as one task, and the texts to embed in chunks of
`CHUNK` as tasks; then it builds BM25 and FAISS and publishes the index itself, under the same
lock. The result is the local build's: the same documents and passages (the same code reads and
splits them), vectors equal to float rounding (the same ONNX graph; only the batches differ).

Every node must see the SOURCE files at the same paths (a shared folder) and have this project
and its requirements installed at the same path as the driver; the driver passes its QA_*
settings to the tasks so every node splits and embeds alike. Ray is an optional extra:
`pip install -r requirements-ray.txt`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from qa.config import PROJECT_ROOT, SETTINGS
from qa.embed import DIMENSION
from qa.sources import SourceFile

log = logging.getLogger(__name__)

# Texts per embedding task: large enough that a task's overhead (~ms) is lost in its ~2 s of
# work on one core, small enough to spread a document-sized build over a few nodes.
CHUNK = 256


def _task_env() -> dict[str, str]:
    """The environment every task runs with: this project importable, this build's settings."""
    env = {name: value for name, value in os.environ.items() if name.startswith("QA_")}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])),
            "QA_CACHE_DIR": str(SETTINGS.cache_dir.absolute()),
            "HF_HUB_OFFLINE": "1",
            # One core per task: Ray schedules tasks, not threads.
            "OMP_NUM_THREADS": "1",
        }
    )
    return env


@lru_cache(maxsize=1)
def _tasks() -> tuple[Any, Any]:
    """The Ray remote functions (made on first use, so importing this module needs no Ray)."""
    import ray

    @ray.remote(num_cpus=1)
    def read_task(file: SourceFile, digest: str, max_bytes: int, now: str) -> Any:
        from index.build import read_part

        return read_part(file, digest, max_bytes, now)

    @ray.remote(num_cpus=1)
    def encode_task(texts: list[str]) -> np.ndarray:
        from qa.embed import get_embedder

        return get_embedder(1, bulk=True).encode(texts)

    return read_task, encode_task


class RayEngine:
    """An `index.build.Engine` running on the Ray cluster at `address` (None or "": start a local one).

    Use as a context manager: the connection (and a cluster it started) ends on leaving.
    """

    def __init__(self, address: str | None = None) -> None:
        import ray

        self._ray = ray
        options: dict[str, Any] = {
            "runtime_env": {"env_vars": _task_env()},
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(include_dashboard=False, **options)
        self.workers = int(ray.cluster_resources().get("CPU", 1))
        log.info("Ray cluster: %d CPUs on %d nodes", self.workers, len([n for n in ray.nodes() if n["Alive"]]))

    def __enter__(self) -> RayEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self._ray.shutdown()

    def _gather(self, refs: list[Any], bar: Any, sizes: Sequence[int]) -> list[Any]:
        """Results of `refs` in order, the bar moved by `sizes[i]` as each finishes."""
        index_of = {ref: i for i, ref in enumerate(refs)}
        results: list[Any] = [None] * len(refs)
        pending = list(refs)
        while pending:
            done, pending = self._ray.wait(pending, num_returns=1)
            for ref in done:
                i = index_of[ref]
                results[i] = self._ray.get(ref)
                if bar is not None:
                    bar.update(sizes[i])
        return results

    def read(self, files: Sequence[tuple[SourceFile, str]], max_bytes: int, now: str, progress: Any) -> list[Any]:
        """See `index.build.Engine.read`: one task per file."""
        read_task, _ = _tasks()
        refs = [read_task.remote(file, digest, max_bytes, now) for file, digest in files]
        return self._gather(refs, progress, [1] * len(refs))

    def encode(self, texts: Sequence[str], progress: Any) -> np.ndarray:
        """See `index.build.Engine.encode`: texts sorted by length (as a local build batches
        them, so little padding), cut into chunks of `CHUNK`, one task each."""
        _, encode_task = _tasks()
        order = np.argsort([len(t) for t in texts], kind="stable")
        chunks = [order[i : i + CHUNK] for i in range(0, len(order), CHUNK)]
        refs = [encode_task.remote([texts[j] for j in chunk]) for chunk in chunks]
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for chunk, vectors in zip(chunks, self._gather(refs, progress, [len(c) for c in chunks]), strict=True):
            out[chunk] = vectors
        return out

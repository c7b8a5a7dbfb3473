"""The default index: built from the corpus folder on first use, rebuilt when it is stale.

`qa` does not import the builder (dependencies point `qa <- index`); it runs
`python -m index build` in a child process, which also keeps torch (needed only to export the
model once) out of the serving process.

Several processes may start at once on a missing or stale default index (a server with
workers, or several servers): they take turns on an OS file lock beside the index, so the first
builds and the others wait for it (at most `QA_BUILD_WAIT` seconds), find the index current
and load it. A build someone started by hand is waited for in the same way.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qa import store
from qa.config import PROJECT_ROOT, SETTINGS
from qa.embed import model_id
from qa.errors import BuildError
from qa.sources import fingerprint

log = logging.getLogger(__name__)
_lock = threading.Lock()
_POLL_SECONDS = 0.2


def stale_reason() -> str:
    """Why the default index must be (re)built, or "" if it is current."""
    manifest = store.read_manifest(SETTINGS.index_dir)
    if manifest is None:
        return f"no index at {SETTINGS.index_dir}"
    if manifest.get("format_version") != store.FORMAT_VERSION:
        return "the index format changed"
    if manifest.get("model") != model_id():
        return "the model changed"
    if manifest.get("settings") != SETTINGS.splitter_id():
        return "the splitter settings changed"
    if manifest.get("inputs") != fingerprint([SETTINGS.corpus_dir]):
        return f"the documents in {SETTINGS.corpus_dir} changed"
    return ""


@contextmanager
def _file_lock(path: Path, deadline: float, waiting: str) -> Iterator[None]:
    """Hold the OS lock on `path`, waiting for another holder until `deadline` (monotonic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        said = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise BuildError(
                    f"gave up after {SETTINGS.build_wait_seconds}s waiting for {waiting} (QA_BUILD_WAIT); "
                    "try again when it has finished"
                )
            if not said:
                log.warning("waiting for %s ...", waiting)
                said = True
            time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_default_index() -> None:
    """Build the default index from the corpus folder if it is missing or stale.

    One process builds; others starting at the same time wait for that build, then use it.
    """
    out = Path(SETTINGS.index_dir)
    deadline = time.monotonic() + SETTINGS.build_wait_seconds
    with _lock:
        if not stale_reason():
            return  # the common case: no lock file touched
        turn = out.parent / f".{out.name}.default.lock"
        with _file_lock(turn, deadline, f"another process's build of the default index at {out}"):
            reason = stale_reason()  # it may have been built while we waited
            if not reason:
                return
            # A build started by hand holds the index's own lock: let it finish, then look again.
            with _file_lock(store.lock_path(out), deadline, f"the build of {out} running now"):
                pass
            reason = stale_reason()
            if not reason:
                return
            log.warning("building the default index (%s) ...", reason)
            command = [sys.executable, "-m", "index", "build", str(SETTINGS.corpus_dir), "--out", str(out)]
            # The child's report goes to stderr: our stdout may be JSON that a script parses.
            result = subprocess.run(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=sys.stderr)
            if result.returncode != 0:
                raise BuildError(
                    f"building the default index failed (exit {result.returncode}); run `{' '.join(command)}`"
                )

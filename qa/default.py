"""The default index: built from the corpus folder on first use, rebuilt when it is stale.

`qa` does not import the builder (dependencies point `qa <- index`); it runs
`python -m index build` in a child process, which also keeps torch (needed only to export the
model once) out of the serving process.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

from qa import store
from qa.config import PROJECT_ROOT, SETTINGS
from qa.embed import model_id
from qa.errors import BuildError
from qa.sources import fingerprint

log = logging.getLogger(__name__)
_lock = threading.Lock()


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


def ensure_default_index() -> None:
    """Build the default index from the corpus folder if it is missing or stale."""
    with _lock:
        reason = stale_reason()
        if not reason:
            return
        log.warning("building the default index (%s) ...", reason)
        command = [sys.executable, "-m", "index", "build", str(SETTINGS.corpus_dir), "--out", str(SETTINGS.index_dir)]
        # The child's report goes to stderr: our stdout may be JSON that a script parses.
        result = subprocess.run(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=sys.stderr)
        if result.returncode != 0:
            raise BuildError(f"building the default index failed (exit {result.returncode}); run `{' '.join(command)}`")

"""Several servers starting at once on a missing default index: one builds, all serve it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.test_browser import free_port

ROOT = Path(__file__).resolve().parent.parent
SERVERS = 4
STARTUP_SECONDS = 300


def _up(url: str) -> bool:
    """Whether the server at `url` serves its index: 200 from /readyz; 503 or no answer yet, not yet.

    Any other answer (a 500 above all) is a failure at once, not a server that is up.
    """
    try:
        with urllib.request.urlopen(f"{url}readyz", timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:
        assert error.code == 503, f"{url}readyz answered {error.code}: {error.read()[:300]!r}"
        return False
    except OSError:
        return False


def test_four_servers_at_once_on_a_missing_default_index_make_one_build(tmp_path):
    index = tmp_path / "var" / "index"
    env = {k: v for k, v in os.environ.items() if k not in ("QA_UI_PASSWORD", "QA_UI_USER")}
    env.update({"QA_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"})
    env["PYTHONUNBUFFERED"] = "1"
    servers = []
    try:
        for n in range(SERVERS):
            port = free_port()
            log = tmp_path / f"server{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "ui", "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            servers.append((process, f"http://127.0.0.1:{port}/", log))
        deadline = time.monotonic() + STARTUP_SECONDS
        waiting = list(servers)
        while waiting and time.monotonic() < deadline:
            for server in list(waiting):
                process, url, log = server
                assert process.poll() is None, f"a server exited ({process.returncode}):\n{log.read_text()[-3000:]}"
                if _up(url):
                    waiting.remove(server)
            time.sleep(0.5)
        assert not waiting, f"{len(waiting)} of {SERVERS} servers not ready in {STARTUP_SECONDS}s"
        logs = [log.read_text() for _, _, log in servers]
        assert sum("building the default index" in text for text in logs) == 1
        builds = [p for p in (index.parent / ".index.builds").iterdir() if not p.name.endswith(".partial")]
        assert len(builds) == 1 and index.resolve() == builds[0].resolve()
        assert not any("Traceback" in text for text in logs)
    finally:
        for process, _, _ in servers:
            process.terminate()
        for process, _, _ in servers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)

"""`python -m ui --workers 2` as an operator runs it: both workers answer, the chat stays whole,
and a build published under them is served by both from their next request, without a failed
request while it runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.load import free_port
from index import build
from tests.conftest import ARTICLE

ROOT = Path(__file__).resolve().parent.parent
NEW_DOCUMENT = "Falls on ward 7\n\nWard 7 reduced falls by 40 percent after nurses began hourly rounding.\n"


def call(url: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict]:
    """One request on a new connection (so the front hands each to the next worker)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def gradio_ask(url: str, question: str) -> str:
    """The chat's `ask` through Gradio's queue: a question posted, its answer streamed back."""
    _, joined = call(f"{url}/gradio_api/call/ask", {"data": [question, 3, []]})
    with urllib.request.urlopen(f"{url}/gradio_api/call/ask/{joined['event_id']}", timeout=60) as stream:
        return stream.read().decode()


def test_two_workers_answer_share_the_chat_and_switch_to_a_rebuilt_index(tmp_path):
    source = tmp_path / "docs"
    source.mkdir()
    shutil.copy(ARTICLE, source)
    out = tmp_path / "index"
    build([source], out, progress=False)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("QA_UI_PASSWORD", None)
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "ui", "--index", str(out), "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                if call(f"{url}/readyz", timeout=5)[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)

        # Connections go to the workers in turn: two processes, each answering.
        workers = [call(f"{url}/readyz")[1]["worker"] for _ in range(4)]
        assert workers[0] != workers[1] and workers == workers[:2] * 2 and server.pid not in workers
        for _ in range(2):
            status, answer = call(f"{url}/api/v1/ask", {"question": "What is collective leadership?"})
            assert status == 200 and answer["found"] is True
        # The chat (Gradio's queue: question and streamed answer on two connections) stays whole.
        for _ in range(3):
            assert "Collective leadership is a leadership" in gradio_ask(url, "What is collective leadership?")

        # A build published while questions keep coming: none fails, both workers switch.
        failures: list[str] = []
        stop = threading.Event()

        def keep_asking() -> None:
            while not stop.is_set():
                for route, body in (("/readyz", None), ("/api/v1/ask", {"question": "Who is accountable?"})):
                    try:
                        status, reply = call(url + route, body)
                    except OSError as exc:
                        failures.append(f"{route}: {exc}")
                        continue
                    if status != 200:
                        failures.append(f"{route}: {status} {reply}")

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            (source / "ward7.txt").write_text(NEW_DOCUMENT)
            rebuilt = build([source], out, progress=False)
            deadline = time.monotonic() + 30
            passages: dict[int, int] = {}
            while len(passages) < 2 or set(passages.values()) != {rebuilt.passages}:
                assert time.monotonic() < deadline, passages
                _, ready = call(f"{url}/readyz")
                passages[ready["worker"]] = ready["passages"]
        finally:
            stop.set()
            asker.join(timeout=60)
        assert not failures, failures[:5]
        for _ in range(2):
            _, answer = call(f"{url}/api/v1/ask", {"question": "By how much did Ward 7 reduce falls?"})
            assert answer["passages"][0]["source"] == "ward7.txt"
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0
    for pid in set(workers):  # the workers were stopped with the front
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert "Traceback" not in log.read_text()

"""Hostile requests, timed: `python -m bench.bounds [--index DIR] [--no-server]`.

Sends a question with 10,000 history turns, a 1 MB question, and a k of a billion: to
`qa.Index.ask` in this process, to the chat's `ChatService.reply`, and (unless --no-server) over
HTTP to the `/ask` endpoint of a real `python -m ui` started on 127.0.0.1. Prints, for each,
the seconds it took and the first line of what came back (an answer or a refusal).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import qa
from bench.common import report
from index import build
from qa.config import SETTINGS
from ui.chat import ChatService

CASES: dict[str, tuple[str, Any, list[str]]] = {
    "history_10000_turns": ("and why?", 3, ["and why?"] * 10_000),
    "question_1MB": ("What is collective leadership? " + "x" * 1_000_000, 3, []),
    "k_1e9": ("What is collective leadership?", 10**9, []),
}


def _timed(call: Callable[[], Any]) -> tuple[float, str]:
    began = time.perf_counter()
    try:
        result = call()
        outcome = "answered: " + str(result)[:60].replace("\n", " ")
    except Exception as exc:  # what a client would see, as one line
        outcome = f"refused: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return time.perf_counter() - began, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, help="an index already built (default: the corpus, built here)")
    parser.add_argument("--no-server", action="store_true", help="skip the HTTP requests to a real server")
    args = parser.parse_args()
    figures: dict[str, float | int | str] = {}
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        path = args.index or build([SETTINGS.corpus_dir], Path(tmp) / "index", progress=False).path
        index = qa.Index.load(path)
        index.ask("warm up")
        chat = ChatService(index)
        for name, (question, k, history) in CASES.items():
            for where, call in (
                ("engine", lambda q=question, k=k, h=history: index.ask(q, k=min(k, SETTINGS.max_k), history=h).text),
                ("chat", lambda q=question, k=k, h=history: chat.reply(q, h, k).answered),
            ):
                seconds, outcome = _timed(call)
                figures[f"{where}_{name}_s"] = seconds
                outcomes.append(f"{where} {name}: {outcome}")
        if not args.no_server:
            from bench.load import client, start_server

            server = start_server(Path(path), Path(tmp) / "server.log")
            try:
                api = client(server.url)
                api.predict("warm up", 3, [], api_name="/ask")
                for name, (question, k, history) in CASES.items():
                    seconds, outcome = _timed(lambda q=question, k=k, h=history: api.predict(q, k, h, api_name="/ask"))
                    figures[f"http_{name}_s"] = seconds
                    outcomes.append(f"http {name}: {outcome}")
            finally:
                server.stop()
    report("hostile requests (seconds each)", figures)
    for line in outcomes:
        print(" ", line)


if __name__ == "__main__":
    main()

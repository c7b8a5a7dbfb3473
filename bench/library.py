"""Questions while the Library changes the index: `python -m bench.library [--articles N]`.

Builds an index of the article, serves the Library (a FastAPI app on 127.0.0.1, uvicorn in a
thread), uploads N SQuAD dev articles (default 6) through `POST /api/v1/documents`, and keeps
asking a `qa.Index` of the same index questions (`--rate` a second) until the job is done. Prints the job's time,
question latency idle and during the job (p50/p95: the build shares the 2 cores), how many
answers during the job came from the index as it was (all of them should), and whether the first
search after the job finds a new document; and, as a baseline in the same run, the same files
added with `index.add` directly while nothing else runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

import qa
from bench.common import report
from bench.incremental import write_articles
from index import add, build
from qa.config import PROJECT_ROOT
from ui.library import mount_library

ARTICLE = PROJECT_ROOT / "corpus" / "michael-west-collective-leadership-for-culture-change.txt"
QUESTION = "What is collective leadership?"
TOKEN = "bench-admin-token"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=6, help="SQuAD dev articles uploaded in one job")
    parser.add_argument("--rate", type=float, default=10, help="questions a second during the job")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-bench-library-") as tmp:
        folder = Path(tmp)
        out = folder / "index"
        build([ARTICLE], out, progress=False)
        (folder / "articles").mkdir()
        uploads = write_articles(folder / "articles", args.articles)
        app = FastAPI()
        mount_library(app, out, admin_token=TOKEN, upload_dir=folder / "uploads")
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        reader = qa.Index.load(out)
        topic = uploads[0].read_text(encoding="utf-8").split("\n", 1)[0]  # the first upload's title
        idle = []
        for _ in range(50):
            began = time.perf_counter()
            reader.ask(QUESTION)
            idle.append((time.perf_counter() - began) * 1000)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as client:
            files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in uploads]
            began_job = time.perf_counter()
            job = client.post("/api/v1/documents", files=files).json()["job"]
            during, old = [], 0
            building = 0  # questions answered while the job was still reading or embedding
            while (state := client.get(f"/api/v1/jobs/{job}").json())["state"] not in ("done", "failed"):
                began = time.perf_counter()
                reader.ask(QUESTION)
                during.append((time.perf_counter() - began) * 1000)
                unchanged = all(p.source == ARTICLE.name for p in reader.retrieve(topic, k=3))
                # Still reading or embedding afterwards: the new index cannot have been published yet.
                if client.get(f"/api/v1/jobs/{job}").json()["stage"].startswith(("Reading", "Embedding")):
                    building += 1
                    old += unchanged
                time.sleep(max(0.0, 1 / args.rate - (time.perf_counter() - began)))
            job_seconds = time.perf_counter() - began_job
        after = reader.retrieve(topic, k=1)
        server.should_exit = True
        thread.join(timeout=15)
        # Baseline in the same run: the same add straight through the Python API, no questions.
        baseline = folder / "baseline"
        build([ARTICLE], baseline, progress=False)
        began = time.perf_counter()
        add(uploads, baseline, progress=False)
        direct_seconds = time.perf_counter() - began
    report(
        "library",
        {
            "articles uploaded": args.articles,
            "job state": state["state"],
            "job summary": state.get("summary") or state.get("error") or "",
            "job seconds (upload to published)": job_seconds,
            "index.add of the same files, no questions, seconds": direct_seconds,
            "job / direct add": job_seconds / direct_seconds,
            "ask p50 idle ms": statistics.median(idle),
            "ask p95 idle ms": percentile(idle, 0.95),
            "questions during the job": len(during),
            "ask p50 during job ms": statistics.median(during) if during else 0.0,
            "ask p95 during job ms": percentile(during, 0.95) if during else 0.0,
            "answered from the index as it was (while building)": f"{old}/{building}",
            "first search after the job finds the new document": after[0].source == uploads[0].name,
        },
    )


if __name__ == "__main__":
    main()

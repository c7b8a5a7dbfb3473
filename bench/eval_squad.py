"""SQuAD v1.1 dev as new content: `python -m bench.eval_squad [--sample N] [--index DIR]`.

Writes the 48 articles as text documents (title, then paragraphs separated by blank lines),
builds one index of them with `python -m index build`, asks the questions, and prints hit@1,
hit@5 and hit@20: one of the first k passages holds a human answer span (over all questions,
and over the odd articles' alone, which no fitting saw). `--sample 2000` (the
default) draws the fixed sample the README's peer figures use; `--sample 0` asks all 10,570.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import qa
from bench.common import SHARED, contains_any, report

SQUAD = SHARED / "bench" / "squad-dev-v1.1.jsonl"
CUTS = (1, 5, 20)


def load_articles(path: Path = SQUAD) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_documents(articles: list[dict], folder: Path) -> None:
    """One .txt document per article: its title line, then its paragraphs."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, article in enumerate(articles):
        body = "\n\n".join([article["title"].replace("_", " "), *article["paragraphs"]])
        (folder / f"{n:02d}-{article['title'][:40]}.txt").write_text(body + "\n", encoding="utf-8")


def questions(articles: list[dict], sample: int) -> list[dict]:
    """All questions in file order, or a fixed random sample of them (seed 0), each with its
    article's position in the file (`article`)."""
    every = [{**qa_, "article": n} for n, article in enumerate(articles) for qa_ in article["qas"]]
    return random.Random(0).sample(every, sample) if 0 < sample < len(every) else every


def evaluate(index: qa.Index, asked: list[dict]) -> dict[str, float | int]:
    """hit@k over all `asked`, and over the odd articles' alone: what is fitted (the reader, the
    judgement) is fitted on the even articles' questions, so only the odd ones' figures are free of it."""
    first = []  # per question, the rank of the first passage holding an answer (max(CUTS) if none)
    found = 0
    began = time.monotonic()
    for q in asked:
        passages = index.retrieve(q["question"], k=max(CUTS))
        first.append(next((i for i, p in enumerate(passages) if contains_any(p.text, q["answers"])), max(CUTS)))
        found += passages[0].relevance in ("high", "medium")
    seconds = time.monotonic() - began
    ranks = np.array(first)
    odd = np.array([q["article"] % 2 == 1 for q in asked], dtype=bool)
    return {
        "questions": len(asked),
        **{f"hit@{cut}": float((ranks < cut).mean()) for cut in CUTS},
        "odd_questions": int(odd.sum()),
        **{f"odd_hit@{cut}": float((ranks[odd] < cut).mean()) for cut in CUTS},
        "found_rate": found / len(asked),
        "ms_per_question": 1000 * seconds / len(asked),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=2000, help="questions to ask (0: all)")
    parser.add_argument("--index", type=Path, help="an index already built by this command (reused)")
    args = parser.parse_args()
    articles = load_articles()
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index or Path(tmp) / "index"
        if args.index is None or not (index_dir / "manifest.json").exists():
            write_documents(articles, Path(tmp) / "docs")
            command = [sys.executable, "-m", "index", "build", str(Path(tmp) / "docs"), "--out", str(index_dir)]
            subprocess.run(command, check=True)
        index = qa.Index.load(index_dir)
        figures = evaluate(index, questions(articles, args.sample))
        report("SQuAD v1.1 dev, 48 articles in one index", {"passages": index.info.passages, **figures})


if __name__ == "__main__":
    main()

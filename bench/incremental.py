"""Adding one document vs building all: `python -m bench.incremental [--articles N]`.

Writes the first N (default 13) SQuAD dev articles as text documents (title line, blank line,
paragraphs separated by blank lines) into a temporary folder, then times a fresh build of all N
against an `add` of the last one to an index of the other N-1. The model is loaded before
either is timed, so both measure building, not start-up. Target: add / fresh <= 0.5.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

from bench.common import SHARED, report
from index import add, build
from qa.config import SETTINGS
from qa.embed import get_embedder

TARGET = 0.5


def write_articles(folder: Path, count: int) -> list[Path]:
    """The first `count` SQuAD dev articles as .txt files in `folder`, in file order."""
    paths = []
    lines = (SHARED / "bench" / "squad-dev-v1.1.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines[:count], start=1):
        article = json.loads(line)
        title = article["title"].replace("_", " ")
        path = folder / f"{number:02d}-{re.sub(r'[^A-Za-z0-9]+', '-', title).strip('-').lower()}.txt"
        path.write_text(title + "\n\n" + "\n\n".join(article["paragraphs"]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=13, help="documents in the index (default: %(default)s)")
    args = parser.parse_args()
    # Load (and if need be export) the model before timing.
    get_embedder(SETTINGS.build_threads, bulk=True).encode(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        articles = root / "articles"
        articles.mkdir()
        paths = write_articles(articles, args.articles)

        began = time.perf_counter()
        fresh = build([articles], root / "fresh", progress=False)
        fresh_seconds = time.perf_counter() - began

        base = build(paths[:-1], root / "incremental", progress=False)
        began = time.perf_counter()
        added = add(paths[-1:], root / "incremental", progress=False)
        add_seconds = time.perf_counter() - began

    assert added.passages == fresh.passages, "the incremental index differs from the fresh one"
    ratio = add_seconds / fresh_seconds
    report(
        "incremental add vs fresh build (SQuAD dev)",
        {
            "documents": fresh.documents,
            "passages": fresh.passages,
            "fresh_build_seconds": fresh_seconds,
            "base_build_seconds": base.seconds,
            "add_seconds": add_seconds,
            "add_passages_embedded": added.embedded,
            "add_passages_reused": added.reused,
            "ratio": ratio,
            "target": TARGET,
            "meets_target": str(ratio <= TARGET).lower(),
        },
    )


if __name__ == "__main__":
    main()

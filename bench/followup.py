"""Standalone questions stay standalone: `python -m bench.followup [--questions FILE] [--index DIR]`.

Each question of the set is asked alone, then after each of the set's unrelated questions (those
the article does not cover) and after the question before it in the file (another topic of the
article), as the next turn of a conversation. Prints how many asked after another question
changed their top passage (should be 0: a question with its own subject is searched alone),
and how many were treated as follow-ups. The set's own follow-up-shaped questions are listed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import qa
from bench.common import SHARED, report
from index import build
from qa.config import SETTINGS
from qa.followup import is_follow_up


def measure(questions: list[str], unrelated: list[str], index: qa.Index) -> dict[str, float | int]:
    """Ask each of `questions` alone and after each unrelated question and its predecessor."""
    changed = asked = searched_with_history = 0
    for n, question in enumerate(questions):
        alone = index.ask(question, k=1)
        before = [*unrelated, questions[n - 1]] if n else unrelated
        for earlier in before:
            answer = index.ask(question, k=1, history=[earlier])
            asked += 1
            searched_with_history += answer.query != alone.query  # not its framing cut, which alone has too
            top = (answer.passages[0].source, answer.passages[0].start) if answer.passages else None
            alone_top = (alone.passages[0].source, alone.passages[0].start) if alone.passages else None
            changed += top != alone_top
    return {
        "questions": len(questions),
        "asked_after_another": asked,
        "top_passage_changed": changed,
        "searched_as_follow_up": searched_with_history,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=SHARED / "eval" / "seed-dev.jsonl")
    parser.add_argument("--index", type=Path, help="an index already built from the corpus")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    covered = [r["question"] for r in rows if r["answers"]]
    unrelated = [r["question"] for r in rows if not r["answers"]]
    with tempfile.TemporaryDirectory() as tmp:
        path = args.index or build([SETTINGS.corpus_dir], Path(tmp) / "index", progress=False).path
        figures = measure(covered, unrelated, qa.Index.load(path))
    report(f"covered questions of {args.questions.name} asked after another question", figures)
    shaped = [q for q in covered if is_follow_up(q)]
    print(f"  follow-up-shaped questions in the set: {shaped}")


if __name__ == "__main__":
    main()

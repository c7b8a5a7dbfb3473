"""Score the article questions: `python -m bench.eval_seed [--questions FILE] [--index DIR] [--frame F] [--slips]`.

hit@k: one of the first k passages of `qa.retrieve` holds a gold span; answer@1: the first
passage's highlight holds one; over covered questions, the share answered (found), answered with
a gold span in the quoted passage (right) and told "unsure"; rejection rate over the questions
the article does not cover (shared/eval/README.md). `--frame` asks each question as readers also
put it, e.g. `--frame "{question}, according to the article?"` ({question} without its "?");
`--slips` with one typing slip each (`slip`).
Without --index, the corpus is built into a temporary folder with the project's own builder.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import zlib
from pathlib import Path

import qa
from bench.common import SHARED, contains_any, report
from index import build
from qa.config import SETTINGS
from qa.spelling import english
from qa.types import UNSURE


def slip(question: str) -> str:
    """`question` with one typing slip: in one of its lower-case words of five letters or more, a
    letter dropped, doubled or swapped with the next, so that it is no English word. The same
    question always gets the same slip.

    >>> slip("What is collective leadership?") != "What is collective leadership?"
    True
    """
    chance = random.Random(zlib.crc32(question.encode("utf-8")))
    words = [m for m in re.finditer(r"\b[a-z]{5,}\b", question)]
    for _ in range(100):
        if not words:
            break
        word = chance.choice(words)
        text, at = word.group(0), chance.randrange(1, len(word.group(0)) - 1)
        dropped, doubled = text[:at] + text[at + 1 :], text[:at] + text[at] + text[at:]
        slipped = chance.choice([dropped, doubled, text[:at] + text[at + 1] + text[at] + text[at + 2 :]])
        if slipped not in english():
            return question[: word.start()] + slipped + question[word.end() :]
    return question


def evaluate(
    questions: list[dict], index: qa.Index, verbose: bool = False, frame: str = "{question}?", slips: bool = False
) -> dict[str, float | int]:
    covered = [q for q in questions if q["answers"]]
    uncovered = [q for q in questions if not q["answers"]]
    hit1 = hit3 = answer1 = found = right = unsure = rejected = 0
    covered_relevance, uncovered_relevance = [], []
    for q in questions:
        asked = frame.format(question=q["question"].rstrip("?"))
        answer = index.ask(slip(asked) if slips else asked, k=3)
        (covered_relevance if q["answers"] else uncovered_relevance).append(answer.passages[0].similarity)
        if q["answers"]:
            ranks = [i for i, p in enumerate(answer.passages) if contains_any(p.text, q["answers"])]
            hit1 += bool(ranks) and ranks[0] == 0
            hit3 += bool(ranks)
            answer1 += contains_any(answer.passages[0].highlight, q["answers"])
            found += answer.found
            ok = bool(ranks) and ranks[0] == 0 and answer.found
            right += ok
            unsure += answer.status == UNSURE
        else:
            rejected += not answer.found
            ok = not answer.found
        if verbose and not ok:
            top = answer.passages[0]
            print(f"MISS {q['id']} {q['question']!r} found={answer.found} sim={top.similarity:.3f}")
            print(f"     gold={q['answers']} top={top.highlight[:120]!r}")

    def share(count: int, of: list[dict]) -> float:  # NaN for a file without such questions
        return count / len(of) if of else float("nan")

    return {
        "questions": len(questions),
        "hit@1": share(hit1, covered),
        "hit@3": share(hit3, covered),
        "answer@1": share(answer1, covered),
        "found_rate": share(found, covered),
        "right_rate": share(right, covered),
        "unsure_rate": share(unsure, covered),
        "rejection_rate": share(rejected, uncovered),
        # The margin the found threshold sits in: lowest covered and highest uncovered relevance.
        "min_relevance_covered": min(covered_relevance, default=float("nan")),
        "max_relevance_uncovered": max(uncovered_relevance, default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, default=SHARED / "eval" / "seed-dev.jsonl")
    parser.add_argument("--index", type=Path, help="an index already built from the corpus")
    parser.add_argument("--verbose", action="store_true", help="print each miss")
    parser.add_argument("--frame", default="{question}?", help='e.g. "{question}, according to the article?"')
    parser.add_argument("--slips", action="store_true", help="ask each question with one typing slip")
    args = parser.parse_args()
    if "{question}" not in args.frame:
        parser.error("--frame must hold {question}, where each question goes (without its question mark)")
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        path = args.index or build([SETTINGS.corpus_dir], Path(tmp) / "index", progress=False).path
        figures = evaluate(questions, qa.Index.load(path), args.verbose, args.frame, args.slips)
        report(f"article ({args.questions.stem})", {"frame": args.frame, "slips": args.slips, **figures})


if __name__ == "__main__":
    main()

"""`python -m qa "question" [--k N] [--index DIR] [--json]`: ask the index from the command line."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap

from qa import ask
from qa.errors import QAError
from qa.types import RELATED, Answer

_PASSAGE_FIELDS = ("text", "score", "source", "title", "start", "end", "highlight")


def to_json(answer: Answer) -> dict:
    """The JSON shape DESIGN.md promises: status, found, answer, passages[text, score, source, ...]."""
    return {
        "status": answer.status,
        "found": answer.found,
        "answer": answer.text,
        "passages": [{key: getattr(p, key) for key in _PASSAGE_FIELDS} for p in answer.passages],
    }


def _readable(answer: Answer) -> str:
    lines = [f"“{answer.text}”" if answer.found else answer.text, ""]
    if answer.status == RELATED and answer.passages:
        lines += ["Related, does not answer:", ""]
    for n, p in enumerate(answer.passages, start=1):
        page = f"page {p.page}, " if p.page else ""
        where = f"{p.title} ({p.source}, {page}paragraph {p.paragraph}{', ' + p.section if p.section else ''})"
        lines.append(f"[{n}] {where}  relevance: {p.relevance}")
        marked = p.text[: p.highlight_start] + "»" + p.highlight + "«" + p.text[p.highlight_end :]
        lines += textwrap.wrap(marked, width=100, initial_indent="    ", subsequent_indent="    ")
        lines.append("")
    return "\n".join(lines).rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa", description=__doc__)
    parser.add_argument("question")
    parser.add_argument("--k", type=int, default=3, help="passages to show (default: %(default)s)")
    parser.add_argument("--index", metavar="DIR", help="index folder (default: QA_INDEX_DIR or var/index)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if args.k < 1:
        parser.error("--k must be at least 1")
    try:
        answer = ask(args.question, k=args.k, index=args.index)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(to_json(answer), ensure_ascii=False, indent=2) if args.json else _readable(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())

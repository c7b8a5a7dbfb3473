"""Ask the index from the command line, or see what readers asked that it does not answer.

python -m qa "question" [--k N] [--index DIR] [--json]
python -m qa report [--since DAYS] [--csv] [--index DIR]
python -m qa -- report          (asks the question "report")
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import textwrap
from typing import TextIO

from qa import ask, get_index
from qa.config import SETTINGS
from qa.errors import QAError
from qa.questionlog import Judge, QuestionGroup, Report, open_log, storage_note
from qa.types import RELATED, UNSURE, Answer

# As the REST API (ui.api) has them: `section` names the part of the page a passage is from
# ("Related content" for a teaser of another page; "" for the body), `related` says if it is one.
_PASSAGE_FIELDS = ("text", "score", "source", "title", "start", "end", "highlight", "section", "related")


def to_json(answer: Answer) -> dict:
    """The JSON shape DESIGN.md promises: status, found, answer, passages[text, score, source, ...,
    section, related]."""
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
    elif answer.status == UNSURE and answer.passages:
        lines += ["Closest passages, the likeliest sentence marked »thus«; they may or may not answer:", ""]
    for n, p in enumerate(answer.passages, start=1):
        page = f"page {p.page}, " if p.page else ""
        where = f"{p.title} ({p.source}, {page}paragraph {p.paragraph}{', ' + p.section if p.section else ''})"
        lines.append(f"[{n}] {where}" + f"  relevance: {p.relevance}" * bool(p.relevance))  # unrated: an opening
        marked = p.text[: p.highlight_start] + "»" + p.highlight + "«" + p.text[p.highlight_end :]
        lines += textwrap.wrap(marked, width=100, initial_indent="    ", subsequent_indent="    ")
        lines.append("")
    return "\n".join(lines).rstrip()


_CSV_FIELDS = ("list", "count", "question", "status", "last_asked", "top_source", "answer", "variants", "status_now")


def _group_lines(group: QuestionGroup, with_answer: bool) -> list[str]:
    when = group.last_asked[:16].replace("T", " ")
    lines = [f"{group.count:>6}  {when}  {group.outcome:<14}  {group.question}"]
    indent = " " * 42
    if with_answer and group.answer:
        lines += textwrap.wrap(f"answer: “{group.answer}”", 100, initial_indent=indent, subsequent_indent=indent + "  ")
    if group.top_source:
        lines.append(f"{indent}top source: {group.top_source}")
    if group.variants:
        also = "; ".join(f"“{v}”" for v in group.variants[:5]) + (" ..." if len(group.variants) > 5 else "")
        lines += textwrap.wrap(f"also asked as: {also}", 100, initial_indent=indent, subsequent_indent=indent + "  ")
    return lines


def _times(count: float, word: str) -> str:
    shown = f"{int(count):,}" if float(count).is_integer() else f"{count:g}"
    return f"{shown} {word}{'' if count == 1 else 's'}"


def report_text(report: Report) -> str:
    """The report as people read it: three lists, most asked first, with counts."""
    lines = [
        f"{_times(report.questions, 'question')} asked in the last {_times(report.since_days, 'day')}.",
        storage_note(report.keep_days),
        "",
    ]
    header = f"{'count':>6}  {'last asked (UTC)':<16}  {'status':<14}  question"
    for title, groups, verb, with_answer in (
        ("Questions the content does not answer", report.unanswered, "asked", False),
        ("Answers marked unhelpful", report.unhelpful, "marked", True),
        ("Questions the service was unsure of (a reader had to judge)", report.unsure, "asked", False),
    ):
        since = sum(g.answered_since for g in groups)
        answered = f"; {since} of them answered since" if since else ""
        lines.append(f"{title}: {len(groups)} ({verb} {_times(sum(g.count for g in groups), 'time')}{answered})")
        if groups:
            lines.append(header)
            for group in groups:
                lines += _group_lines(group, with_answer)
        else:
            lines.append("  none")
        lines.append("")
    return "\n".join(lines).rstrip()


def write_report_csv(report: Report, out: TextIO) -> None:
    """The report as CSV: one row per group, `list` saying which list ("unanswered", "unhelpful", "unsure")."""
    writer = csv.writer(out)
    writer.writerow(_CSV_FIELDS)
    for name, groups in (("unanswered", report.unanswered), ("unhelpful", report.unhelpful), ("unsure", report.unsure)):
        for g in groups:
            variants = " | ".join(g.variants)
            writer.writerow(
                (name, g.count, g.question, g.status, g.last_asked, g.top_source, g.answer, variants, g.status_now)
            )


def report_main(argv: list[str]) -> int:
    """`python -m qa report [--since DAYS] [--csv]`."""
    parser = argparse.ArgumentParser(
        prog="python -m qa report",
        description="Questions readers asked that the content does not answer, and answers they marked "
        'unhelpful, from the question log (QA_LOG_DB). To ask the question "report": python -m qa -- report',
    )
    parser.add_argument("--since", type=float, metavar="DAYS", help="only the last DAYS days (default: all kept)")
    parser.add_argument("--csv", action="store_true", help="print CSV, one row per question group")
    parser.add_argument(
        "--index", metavar="DIR", help="index the unanswered questions are asked again (default: QA_INDEX_DIR)"
    )
    args = parser.parse_args(argv)
    if args.since is not None and not args.since > 0:
        parser.error("--since must be a number of days above 0")
    try:
        question_log = open_log()
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if question_log is None:
        print("error: the question log is off (QA_LOG=0); unset QA_LOG to keep one", file=sys.stderr)
        return 1
    try:
        report = question_log.report(args.since, _judge(args.index))
    finally:
        question_log.close()
    if args.csv:
        write_report_csv(report, sys.stdout)
    else:
        print(f"Question log: {SETTINGS.log_db}")
        print(report_text(report))
    return 0


def _judge(index_dir: str | None) -> Judge | None:
    """Asks a question of the index now, for its status; None (with a warning) if it cannot be loaded."""
    try:
        index = get_index(index_dir)
    except QAError as exc:
        print(f"warning: the unanswered questions are not asked again: {exc}", file=sys.stderr)
        return None
    return lambda question: index.ask(question).status


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        return report_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m qa", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("question")
    parser.add_argument("--k", type=int, default=3, help="passages to show (default: %(default)s)")
    parser.add_argument("--index", metavar="DIR", help=f"index folder (default: {SETTINGS.index_dir})")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    if not 1 <= args.k <= SETTINGS.max_k:
        parser.error(f"--k must be from 1 to {SETTINGS.max_k}")
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

"""The question-log report as HTML, for the Library page: what readers asked that the content
does not answer (those answered since they were asked marked so), the answers they marked
unhelpful, and where the service was unsure (it showed the closest passages and left the judgement
to the reader). All text is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from qa.questionlog import QuestionGroup, Report, storage_note
from ui.render import text


def _rows(groups: Sequence[QuestionGroup], with_answer: bool) -> str:
    rows = []
    for g in groups:
        also = f'<div class="qa-variants">Also asked as: {text("; ".join(g.variants))}</div>' if g.variants else ""
        answer = (
            f'<div class="qa-given">Answer given: <q>{text(g.answer)}</q></div>' if with_answer and g.answer else ""
        )
        rows.append(
            f'<tr><td class="qa-num-cell">{g.count:,}</td><td>{text(g.question)}{also}{answer}</td>'
            f"<td>{text(g.outcome.capitalize())}</td><td>{text(g.top_source) or '—'}</td>"
            f"<td>{text(g.last_asked[:16].replace('T', ' '))}</td></tr>"
        )
    return "".join(rows)


def _table(title: str, groups: Sequence[QuestionGroup], with_answer: bool, css: str) -> str:
    if not groups:
        return f'<section class="{css}"><h3>{text(title)}</h3><p>None yet.</p></section>'
    return (
        # Focusable and named: on a phone the table scrolls sideways in its box, and a keyboard
        # user can only scroll a box that takes focus (WCAG 2.1.1).
        f'<section class="{css}"><h3>{text(title)}</h3>'
        f'<div class="qa-table-wrap" tabindex="0" role="region" aria-label="{text(title)}"><table class="qa-report">'
        '<thead><tr><th class="qa-num-cell">Times</th><th>Question</th><th>Outcome</th><th>Top source</th>'
        f"<th>Last (UTC)</th></tr></thead><tbody>{_rows(groups, with_answer)}</tbody></table></div></section>"
    )


def report_html(report: Report) -> str:
    """The lists of `QuestionLog.report()`, most asked first, near-duplicates folded together."""
    days = f"{report.since_days:g}"
    return (
        f'<div class="qa-question-report"><p>{report.questions:,} questions asked in the last {days} days.</p>'
        f'<p class="qa-stored">{text(storage_note(report.keep_days))}</p>'
        f"{_table('Questions the content does not answer', report.unanswered, False, 'qa-unanswered')}"
        f"{_table('Answers marked unhelpful', report.unhelpful, True, 'qa-unhelpful')}"
        f"{_table('Questions the service was unsure of (a reader had to judge)', report.unsure, False, 'qa-unsure')}"
        "</div>"
    )

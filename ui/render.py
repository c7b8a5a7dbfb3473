"""Pure functions that turn qa objects into the HTML the chat shows.

Every piece of user or document text goes through `html.escape` before it is placed in markup,
so a question or a passage holding `<script>` or `<img onerror=...>` is shown as text and never
runs. The chat's own sanitiser is a second line of defence, not the first.

The output is one line of HTML per message: the chat renders messages as Markdown, and an HTML
block only stays raw HTML while it has no blank line in it (a blank line would hand the rest to
the Markdown parser). Newlines in text therefore become `<br>` or spaces here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from qa.config import ARTICLE_SITE_TITLE
from qa.reference import reference_of, web_address
from qa.types import ANSWERED, NOT_COVERED, RELATED, UNSURE, Answer, Passage

if TYPE_CHECKING:  # only for annotations: the UI reads these objects, it never builds them
    from qa import IndexInfo

# How much of a very long question the chat echoes back; qa cuts what it searches on its own.
QUESTION_DISPLAY_CHARS = 1000
_WORDS = re.compile(r"\w+")

# Relevance labels qa gives, in the order of the bar's fill (1, 2 or 3 segments).
_RELEVANCE_LEVELS = {"low": 1, "medium": 2, "high": 3}

# Each reply opens with its outcome in words and an icon (the icon is not read out: the words say
# it), so no outcome is told by colour or layout alone; the words also open the reply's
# announcement (ui.a11y's ANNOUNCE_JS).
OUTCOME_WORDS = {ANSWERED: "Answer", UNSURE: "Not sure", RELATED: "Not answered", NOT_COVERED: "Not covered"}
_OUTCOME_ICONS = {ANSWERED: "✓", UNSURE: "?", RELATED: "✗", NOT_COVERED: "–"}

# Metadata keys that may carry the author or the date, in order of preference.
_AUTHOR_KEYS = ("author", "authors", "byline")
_DATE_KEYS = ("date", "published", "publication_date")

_BLANK_LINES = re.compile(r"\n\s*\n")


def text(value: object) -> str:
    """Escape any value for use as HTML text or attribute content; newlines become spaces.

    Collapsing newlines keeps each message a single HTML block (see the module docstring).
    """
    return html.escape(str(value), quote=True).replace("\r", "").replace("\n", " ")


def multiline(value: str) -> str:
    """Escape text whose line breaks matter (a typed question), keeping them as `<br>`."""
    escaped = html.escape(value, quote=True).replace("\r", "")
    return _BLANK_LINES.sub("<br><br>", escaped).replace("\n", "<br>")


def question_html(question: str) -> str:
    """The user's question as the chat echoes it: literal text, long ones shortened."""
    shown = question.strip()
    if len(shown) > QUESTION_DISPLAY_CHARS:
        shown = shown[:QUESTION_DISPLAY_CHARS].rstrip() + " …"
    return f'<div class="qa-question">{multiline(shown)}</div>'


def notice_html(message: str, kind: str = "info") -> str:
    """A short message from the service itself (empty question, an error), not an answer."""
    return f'<div class="qa-notice qa-notice-{text(kind)}" role="status">{text(message)}</div>'


def highlighted_passage(passage: Passage) -> str:
    """The passage text with its answering sentence(s) wrapped in `<mark>`.

    Uses the character offsets qa supplies; when they do not point at `highlight` (an older
    index, or no highlight at all) it falls back to finding the highlight text, then to no mark.
    """
    body = passage.text
    start, end = passage.highlight_start, passage.highlight_end
    if passage.highlight and body[start:end] != passage.highlight:
        found = body.find(passage.highlight)
        start, end = (found, found + len(passage.highlight)) if found >= 0 else (0, 0)
    if not passage.highlight or end <= start:
        return text(body)
    return f"{text(body[:start])}<mark>{text(body[start:end])}</mark>{text(body[end:])}"


def _first(metadata: Mapping[str, object], keys: Sequence[str]) -> str:
    for key in keys:
        value = metadata.get(key)
        if value:
            return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    return ""


def shown_date(metadata: Mapping[str, object]) -> str:
    """The date shown beside a document: the one it declares, or else the day its web server says it
    last changed, labelled so ("updated 21 October 2015"), never as a publication date; "" if neither.

    >>> shown_date({"date": "4 June 2014", "updated": "2020-01-02"}), shown_date({"updated": "2015-10-21"})
    ('4 June 2014', 'updated 21 October 2015')
    """
    declared = _first(metadata, _DATE_KEYS)
    if declared:
        return format_date(declared)
    updated = _first(metadata, ("updated",))
    return f"updated {format_date(updated)}" if updated else ""


def format_date(value: str) -> str:
    """An ISO date or time as people read it ("4 June 2014"); other text is returned as is."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    return f"{parsed.day} {parsed:%B %Y}"


def format_time(value: str) -> str:
    """An ISO timestamp as a readable date and minute, keeping the zone when there is one."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    zone = f" {parsed.tzname()}" if parsed.tzinfo else ""
    return f"{parsed.day} {parsed:%b %Y, %H:%M}{zone}"


def relevance_html(label: str) -> str:
    """The relevance label in words plus a three-segment bar; unknown labels show words only."""
    level = _RELEVANCE_LEVELS.get(label.lower(), 0)
    words = f"{label.capitalize()} relevance" if label else "Relevance not rated"
    bar = ""
    if level:
        segments = "".join(f'<span class="qa-seg{" qa-seg-on" if i < level else ""}"></span>' for i in range(3))
        bar = f'<span class="qa-bar" aria-hidden="true">{segments}</span>'
    css = text(label.lower()) if level else "none"
    return f'<span class="qa-rel qa-rel-{css}">{bar}{text(words)}</span>'


def citation_meta(passage: Passage) -> str:
    """The line naming where a passage comes from: title, author, date, paragraph, section.

    The title links to the document's web address ("url" metadata) when it has one.

    A passage from a related-content section (a teaser for another page) is labelled as such
    and not given the page's author and date, which belong to the page's own text, not to it.
    """
    parts = []
    if passage.section:
        parts.append(f'<span class="qa-section">{text(passage.section)}</span>')
    title = text(passage.title or passage.source)
    url = web_address(passage.metadata)
    if url:  # a web document: its title links to the original page
        title = f'<a href="{text(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    parts.append(f'<cite class="qa-title">{title}</cite>')
    if not passage.section:
        author = _first(passage.metadata, _AUTHOR_KEYS)
        date = shown_date(passage.metadata)
        if author:
            parts.append(f'<span class="qa-author">{text(author)}</span>')
        if date:
            parts.append(f'<span class="qa-date">{text(date)}</span>')
    if passage.page:  # set only for paged documents (PDFs)
        parts.append(f'<span class="qa-page">page {passage.page}</span>')
    if passage.paragraph:
        parts.append(f'<span class="qa-para">paragraph {passage.paragraph}</span>')
    return '<span class="qa-sep"> · </span>'.join(parts)


def context_html(passage: Passage, context: tuple[str, str] | None) -> str:
    """The collapsed "surrounding text": document text before and after, passage in between.

    `context` is `Index.context(passage)`, which already marks cut ends with "…". Line breaks
    are kept (as `<br>`) because there they separate the document's paragraphs.
    """
    if context is None:
        return ""
    before, after = (part.strip() for part in context)
    if not before and not after:
        return ""
    # qa trims the white space at the passage's edges, so a space stands in for it.
    before_html = f"{multiline(before)} " if before else ""
    after_html = f" {multiline(after)}" if after else ""
    return (
        '<details class="qa-context"><summary>Show surrounding text</summary>'
        f'<p>{before_html}<span class="qa-current">{highlighted_passage(passage)}</span>'
        f"{after_html}</p></details>"
    )


def reference_html(passage: Passage) -> str:
    """The "Copy reference" button and the Harvard reference it copies (a teaser's own, for a teaser).

    The reference sits hidden beside the button (title in `<i>`, all text escaped); a page-level
    script in `ui.app` copies it on click, since the chat's sanitiser drops inline handlers.
    """
    reference = reference_of(passage)
    return (
        '<div class="qa-reference"><button type="button" class="qa-copy-ref">Copy reference</button>'
        f'<span class="qa-ref-text">{reference.html}</span></div>'
    )


def citation_html(number: int, passage: Passage, context: tuple[str, str] | None = None) -> str:
    """One numbered citation: where it is from, how relevant, the passage with its mark."""
    return (
        f'<li class="qa-cite" value="{number}">'
        f'<div class="qa-cite-head"><span class="qa-num">[{number}]</span> {citation_meta(passage)}'
        f"</div>{relevance_html(passage.relevance)}"
        f'<blockquote class="qa-passage">{highlighted_passage(passage)}</blockquote>'
        f"{context_html(passage, context)}{reference_html(passage)}</li>"
    )


def citations_html(passages: Sequence[Passage], contexts: Sequence[tuple[str, str] | None] = ()) -> str:
    """The numbered list of citations, in the order qa ranked them."""
    items = "".join(
        citation_html(i, p, contexts[i - 1] if i - 1 < len(contexts) else None) for i, p in enumerate(passages, start=1)
    )
    return f'<ol class="qa-citations">{items}</ol>'


def _answer_source(answer: Answer) -> int:
    """The number of the citation the quoted answer comes from (1-based), or 0 if none holds it."""
    quote = answer.text.strip()
    for number, passage in enumerate(answer.passages, start=1):
        if quote and (quote in passage.text or (passage.highlight and passage.highlight in quote)):
            return number
    return 0


def searched_html(answer: Answer) -> str:
    """Say what was searched when it holds words the question does not: a follow-up's context, a
    mended slip ("colective" searched as "collective"). Words only cut ("Can you tell me") need no word.

    >>> searched_html(Answer(False, "", [], question="Who wrote this article?", query="Who wrote?"))
    ''
    """
    query, question = answer.query.strip(), answer.question.strip()
    if not query or set(_WORDS.findall(query.casefold())) <= set(_WORDS.findall(question.casefold())):
        return ""
    return f'<p class="qa-searched">Searched for: <q>{text(query)}</q></p>'


def suggestions_html(examples: Sequence[str], as_buttons: bool = False) -> str:
    """Questions the content can answer, offered after a "not covered" reply.

    With `as_buttons` only the lead-in is written: the chat shows the questions themselves as
    clickable options under the message (see `ui.app`).
    """
    if not examples:
        return ""
    label = '<p class="qa-suggest-label">Questions it can answer:</p>'
    if as_buttons:
        return label
    items = "".join(f"<li>{text(e)}</li>" for e in examples)
    return f'{label}<ul class="qa-suggest">{items}</ul>'


def outcome_html(status: str, said: str = "") -> str:
    """The outcome's icon and words, then what is `said` of it, as one paragraph.

    >>> outcome_html("unsure", "It may.").split("</span>", 1)[1]
    '<strong class="qa-outcome-words">Not sure</strong>. <span class="qa-outcome-text">It may.</span></p>'
    """
    icon = f'<span class="qa-icon" aria-hidden="true">{_OUTCOME_ICONS[status]}</span>'
    words = f'<strong class="qa-outcome-words">{OUTCOME_WORDS[status]}</strong>.'
    told = f' <span class="qa-outcome-text">{text(said)}</span>' if said else ""
    return f'<p class="qa-outcome">{icon}{words}{told}</p>'


def answer_html(
    answer: Answer,
    contexts: Sequence[tuple[str, str] | None] = (),
    examples: Sequence[str] = (),
    examples_as_buttons: bool = False,
) -> str:
    """The whole reply to a question, as one HTML block, opening with its outcome in words.

    Answer: the quoted answer with its citation number, then the numbered citations.
    Not sure: the service cannot tell whether the content answers, so it says only that the
    closest passage may answer, and shows the closest passages open, the likeliest sentence marked.
    Not answered (on the content's topic, confidently not answered by it): a plain statement that
    the content does not answer, then the closest passages shown open, labelled "related, does not
    answer". Not covered: a plain statement, the closest passages collapsed and labelled as not
    answering. The last two end with suggested questions (last, so buttons the chat adds follow them).
    `contexts[i]` is the (before, after) text for `answer.passages[i]`; `examples_as_buttons`
    says the chat shows `examples` as buttons after the message, so they are not listed here.
    """
    searched = searched_html(answer)
    if answer.found:
        source = _answer_source(answer)
        ref = f' <span class="qa-ref">[{source}]</span>' if source else ""
        return (
            f'<div class="qa-reply qa-found">{searched}{outcome_html(answer.status)}'
            f'<blockquote class="qa-answer"><p>{text(answer.text)}{ref}</p></blockquote>'
            f'<p class="qa-sources-label">Sources</p>{citations_html(answer.passages, contexts)}'
            "</div>"
        )
    if answer.status == UNSURE:
        return (
            f'<div class="qa-reply qa-unsure">{searched}'
            f"{outcome_html(answer.status, answer.text)}"
            '<p class="qa-sources-label qa-unsure-label">Closest passages, likeliest sentence marked</p>'
            f"{citations_html(answer.passages, contexts)}</div>"
        )
    suggestions = suggestions_html(examples, examples_as_buttons)
    if answer.status == RELATED:
        related = ""
        if answer.passages:
            related = (
                '<p class="qa-sources-label qa-related-label">Related, does not answer</p>'
                f"{citations_html(answer.passages, contexts)}"
            )
        return (
            f'<div class="qa-reply qa-related">{searched}'
            f"{outcome_html(answer.status, answer.text)}"
            f"{related}{suggestions}</div>"
        )
    closest = ""
    if answer.passages:
        closest = (
            '<details class="qa-closest"><summary>Closest passages (they do not answer the '
            f"question)</summary>{citations_html(answer.passages, contexts)}</details>"
        )
    return (
        f'<div class="qa-reply qa-not-found">{searched}'
        f"{outcome_html(answer.status, answer.text)}"
        f"{closest}{suggestions}</div>"
    )


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def index_summary(info: IndexInfo) -> str:
    """One plain-text line on what is loaded, e.g. "1 document, 14 passages, built 26 Nov ..."."""
    return (
        f"{_plural(len(info.documents), 'document')}, {_plural(info.passages, 'passage')}, "
        f"built {format_time(info.built_at)}"
    )


def header_html(info: IndexInfo, title: str = ARTICLE_SITE_TITLE) -> str:
    """The title (see `ui.site`) and one line saying which content the answers are quoted from."""
    titles = [d.title or d.source for d in info.documents]
    if len(titles) == 1:
        loaded = f"<cite>{text(titles[0])}</cite>"
    elif titles:
        loaded = f"<cite>{text(titles[0])}</cite> and {_plural(len(titles) - 1, 'other document')}"
    else:
        loaded = "no documents yet"
    return (
        f'<header class="qa-header"><h1>{text(title)}</h1>'
        f"<p>Every answer is a quotation, with its source, from {loaded}.</p>"
        f'<p class="qa-loaded">Indexed: {text(index_summary(info))}.</p></header>'
    )


def index_info_html(info: IndexInfo) -> str:
    """The "what is indexed" panel: each document with author, date and passage count."""
    rows = []
    for doc in info.documents:
        author = _first(doc.metadata, _AUTHOR_KEYS)
        date = shown_date(doc.metadata)
        rows.append(
            f"<tr><td><cite>{text(doc.title or doc.source)}</cite>"
            f'<div class="qa-doc-source">{text(doc.source)}</div></td>'
            f"<td>{text(author) or '—'}</td><td>{text(date) or '—'}</td>"
            f'<td class="qa-num-cell">{doc.passages:,}</td></tr>'
        )
    table = (
        # Focusable and named: on a phone the table scrolls sideways in its box, and a keyboard
        # user can only scroll a box that takes focus (WCAG 2.1.1).
        '<div class="qa-table-wrap" tabindex="0" role="region" aria-label="Indexed documents">'
        '<table class="qa-docs"><thead><tr><th>Document</th>'
        '<th>Author</th><th>Date</th><th class="qa-num-cell">Passages</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return (
        f'<div class="qa-info">{table}<p class="qa-info-foot">'
        f"{text(index_summary(info))}. Model: <code>{text(info.model)}</code>.</p></div>"
    )

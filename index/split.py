"""Document text -> sentences -> passages: readable units of whole sentences, with offsets.

Cleaned document text separates paragraphs by a blank line; a single line break inside a
paragraph is a hard break (a list item, a field of a teaser) and ends a sentence. A passage never
crosses a paragraph, so related-content teasers (each its own paragraph) never merge into the
article. Within a paragraph, sentences are packed greedily up to `max_chars`; a single longer
sentence stands alone, up to `sentence_chars`. A sentence longer than that (a line without full
stops) is cut into pieces within it, at its last clause mark (comma, semicolon, colon, dash) far
enough in, else at its last space, else (a run with no space at all) at the limit; each piece
counts as a sentence, so no passage and no highlight is ever longer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.types import Document

# Common abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft ave rd vs etc e.g i.e viz cf al approx dept est fig figs inc
    ltd co corp bros univ assn no nos vol vols p pp ch sec art op ed eds rev gen col lt maj sgt capt
    cmdr adm gov pres supt det insp sen rep hon messrs jan feb mar apr jun jul aug sep sept oct nov
    dec ca c""".split()
)
# After a dotted acronym ("U.S.", "D.C.") a full stop ends a sentence only if a word that often
# opens one follows: "in the U.S. The next ..." splits, "the U.S. Army" does not.
_DOTTED_ACRONYM = re.compile(r"(?:[A-Za-z]\.){2,}$")
_OPENERS = frozenset(
    """the a an in on at as by for from with after before during since until when while it its he
    she they we i you this that these those there here his her their our however but and or so yet
    although though because if then thus also both each many most some several one two three other
    another such no not""".split()
)
_NEXT_WORD = re.compile(r"""["'“‘(\[]?([A-Za-z]+)""")
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and an opening
# capital, digit, quote or bracket.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# Where an over-long sentence may be cut: after a clause mark and the space that follows it.
_CLAUSE_MARK = re.compile(r"(?:[,;:]|\s[-–—])\s+")
# A clause cut is taken only this far into the allowed length: earlier ones leave crumbs.
_CLAUSE_REACH = 0.5
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Span:
    """A half-open character range `[start, end)` of a document's text."""

    start: int
    end: int


def _full_stop_ends_sentence(before: str, after: str) -> bool:
    """Whether the full stop ending `before` ends a sentence, given the text `after` it."""
    last = before.rsplit(None, 1)[-1].lstrip("\"'“‘([") if before.strip() else ""
    word = last[:-1].lower()
    # Abbreviations and single capital initials ("J. K. Rowling") do not end sentences.
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    if _DOTTED_ACRONYM.search(last):
        following = _NEXT_WORD.match(after)
        return bool(following) and following.group(1).lower() in _OPENERS
    return True


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of `text[start:end]`, stripped of surrounding white space.

    >>> t = "Dr. Smith works for the U.S. Army. He likes it in the U.S. The pay is good."
    >>> [t[s.start:s.end] for s in sentences(t)]
    ['Dr. Smith works for the U.S. Army.', 'He likes it in the U.S.', 'The pay is good.']
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    for line in _LINE.finditer(text, start, end):
        begin = line.start()
        for match in _BOUNDARY.finditer(text, line.start(), line.end()):
            if match.group().startswith(".") and not _full_stop_ends_sentence(
                text[begin : match.start() + 1], text[match.end() : line.end()]
            ):
                continue
            _append_stripped(spans, text, begin, match.end())
            begin = match.end()
        _append_stripped(spans, text, begin, line.end())
    return spans


def _append_stripped(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Span(start, end))


def paragraphs(text: str) -> list[Span]:
    """Spans of the blank-line-separated blocks of `text`."""
    spans: list[Span] = []
    begin = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        _append_stripped(spans, text, begin, match.start())
        begin = match.end()
    _append_stripped(spans, text, begin, len(text))
    return spans


@dataclass(frozen=True)
class Chunk:
    """A passage before embedding: its span, paragraph number and sentence spans."""

    span: Span
    paragraph: int
    sentences: tuple[Span, ...]


def chunk(document: Document, max_chars: int, sentence_chars: int | None = None) -> list[Chunk]:
    """Split a document into passages of whole sentences, at most `max_chars` long each, or a
    single sentence up to `sentence_chars` (default `max_chars`), longer ones cut in pieces.

    Every chunk satisfies `document.text[c.span.start:c.span.end]` == the passage text; the
    paragraph number (1-based) says where in the document it stands, for citations.
    """
    longest = max(sentence_chars or 0, max_chars)
    chunks: list[Chunk] = []
    for number, para in enumerate(paragraphs(document.text), start=1):
        group: list[Span] = []
        for sentence in _within(document.text, sentences(document.text, para.start, para.end), longest):
            if group and sentence.end - group[0].start > max_chars:
                chunks.append(_chunk(group, number))
                group = []
            group.append(sentence)
        if group:
            chunks.append(_chunk(group, number))
    return chunks


def _within(text: str, spans: list[Span], max_chars: int) -> list[Span]:
    """`spans` with each one longer than `max_chars` cut into pieces within it (see the module's docstring).

    >>> t = "Alpha beta gamma, delta epsilon zeta eta theta"
    >>> [t[s.start : s.end] for s in _within(t, [Span(0, len(t))], 30)]
    ['Alpha beta gamma,', 'delta epsilon zeta eta theta']
    """
    pieces: list[Span] = []
    for span in spans:
        start = span.start
        while span.end - start > max_chars:
            cut = _cut(text, start, max_chars)
            _append_stripped(pieces, text, start, cut)
            start = cut
        _append_stripped(pieces, text, start, span.end)
    return pieces


def _cut(text: str, start: int, max_chars: int) -> int:
    """Where to end a piece of `text[start:]` at most `max_chars` long: a clause mark, a space, the limit."""
    limit = start + max_chars
    clause = [m.end() for m in _CLAUSE_MARK.finditer(text, start + int(max_chars * _CLAUSE_REACH), limit)]
    if clause:
        return clause[-1]
    space = max(text.rfind(" ", start + 1, limit + 1), text.rfind("\t", start + 1, limit + 1))
    return space if space > start else limit


def _chunk(group: list[Span], paragraph: int) -> Chunk:
    return Chunk(Span(group[0].start, group[-1].end), paragraph, tuple(group))

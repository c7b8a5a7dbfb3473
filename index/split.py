"""Document text -> sentences -> passages: readable units of whole sentences, with offsets.

Cleaned document text separates paragraphs by a blank line; a single line break inside a
paragraph is a hard break (a list item, a field of a teaser) and ends a sentence. A passage never
crosses a paragraph, so related-content teasers (each its own paragraph) never merge into the
article. Within a paragraph, sentences are packed greedily up to `max_chars`; a single longer
sentence stands alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.types import Document

# Common abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft vs etc e.g i.e cf al approx dept est fig inc ltd co corp no
    nos vol p pp ed eds rev gen col lt sgt capt cmdr adm gov sen rep hon jan feb mar apr jun jul
    aug sep sept oct nov dec u.s u.k u.n a.m p.m b.c a.d ca c""".split()
)
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and an opening
# capital, digit, quote or bracket.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])""")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Span:
    """A half-open character range `[start, end)` of a document's text."""

    start: int
    end: int


def _ends_with_abbreviation(text: str) -> bool:
    word = text.rsplit(None, 1)[-1].rstrip(".").lower() if text.strip() else ""
    # Single capital initials ("J. Smith") do not end sentences either.
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans of `text[start:end]`, stripped of surrounding white space.

    >>> t = "Dr. Smith works at the U.S. office. He likes it."
    >>> [t[s.start:s.end] for s in sentences(t)]
    ['Dr. Smith works at the U.S. office.', 'He likes it.']
    """
    end = len(text) if end is None else end
    spans: list[Span] = []
    for line in _LINE.finditer(text, start, end):
        begin = line.start()
        for match in _BOUNDARY.finditer(text, line.start(), line.end()):
            if match.group().startswith(".") and _ends_with_abbreviation(text[begin : match.start() + 1]):
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


def chunk(document: Document, max_chars: int) -> list[Chunk]:
    """Split a document into passages of whole sentences, at most `max_chars` long each.

    Every chunk satisfies `document.text[c.span.start:c.span.end]` == the passage text; the
    paragraph number (1-based) says where in the document it stands, for citations.
    """
    chunks: list[Chunk] = []
    for number, para in enumerate(paragraphs(document.text), start=1):
        group: list[Span] = []
        for sentence in sentences(document.text, para.start, para.end):
            if group and sentence.end - group[0].start > max_chars:
                chunks.append(_chunk(group, number))
                group = []
            group.append(sentence)
        if group:
            chunks.append(_chunk(group, number))
    return chunks


def _chunk(group: list[Span], paragraph: int) -> Chunk:
    return Chunk(Span(group[0].start, group[-1].end), paragraph, tuple(group))

"""Raw page text -> a clean `Document`: content kept, page furniture gone, metadata lifted out.

Pages saved from web sites (the King's Fund article is one) carry furniture: an age banner,
"Watch video" buttons, lone bullet dashes, a date line, an empty "Authors" header and, at the
end, teasers for related content. Cleaning keeps every sentence of the content, makes the title,
author and date metadata (and a searchable header), and keeps each teaser as its own paragraph
in a "Related content" section, so it is searchable but never merged into the article.

The cleaned text separates paragraphs with a blank line; a line break inside a paragraph is a
hard break (see `index.split`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.types import Document, Section

RELATED = "Related content"

_FURNITURE = re.compile(
    r"^(this content is more than \w+ years? old|watch video|listen|share( this)?( page)?|print|authors?|"
    r"[-–—•*]*)$",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"^\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}$"
)
# A teaser starts with its kind as a bullet; scraped pages sometimes glue the next field on
# ("EventStart date: 29 May 2025").
_TEASER_KIND = re.compile(
    r"^(Blog|Event|Press release|Long read|Report|News|Podcast|Video|Article|Briefing|Explainer|"
    r"Consultation response|Evidence|Publication|Interview)(?=$|[A-Z])"
)
_BULLET = re.compile(r"^[-–—•*]\s+")
# "Name Surname: topic" titles name the speaker or author (interviews, videos, blogs).
_NAMED_TITLE = re.compile(r"^((?:[A-Z][\w'’.-]+ ){1,3}[A-Z][\w'’-]+): ")
# A lone page number left between two words by a PDF-to-text conversion ("in 2 order that").
_STRAY_NUMBER = re.compile(r"\b(in|on|at|of|to|for|with|by|from|the|a|an|and|or|that) (\d{1,3}) ([a-z]+)\b")


@dataclass
class _Page:
    title: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    teasers: list[list[str]] = field(default_factory=list)


def clean_page(raw: str, source: str, fallback_title: str = "") -> Document:
    """Clean the text of a saved web page (one paragraph or list item per line).

    >>> doc = clean_page("My title\\n- 4 June 2014\\nWatch video\\nBody text.", "page.txt")
    >>> doc.title, doc.metadata["date"], doc.text.splitlines()[-1]
    ('My title', '4 June 2014', 'Body text.')
    """
    page = _parse(raw.replace("\r\n", "\n").replace("\r", "\n"))
    title = page.title or fallback_title
    metadata = {"title": title, **page.metadata}
    blocks = ["\n".join(byline(metadata.get("author", ""), metadata.get("date", "")) + page.body[:1]), *page.body[1:]]
    text = repair_stray_numbers("\n\n".join(blocks))
    sections = []
    for teaser in page.teasers:
        text += "\n\n"
        start = len(text)
        text += "\n".join(teaser)
        sections.append(Section(start, len(text), RELATED))
    return Document(source=source, title=title, text=text, metadata=metadata, sections=tuple(sections))


def byline(author: str, date: str) -> list[str]:
    """The lines that lead a document's first paragraph, so "who wrote it / when" is answered.

    The title is not among them: it is metadata, shown with every citation and indexed with
    every passage; repeated in the text it would pull questions naming the subject to the top.
    """
    return [f"By {author}"] * bool(author) + [f"Published {date}"] * bool(date)


def _parse(raw: str) -> _Page:
    page = _Page()
    lines = [line.strip() for line in raw.split("\n")]
    for line in lines:
        if not line or _FURNITURE.match(line):
            continue
        item = _BULLET.sub("", line)
        is_bullet = item != line
        if is_bullet and _TEASER_KIND.match(item) and page.body:
            page.teasers.append([])
        if page.teasers:
            _add_teaser_line(page.teasers[-1], item, is_bullet)
        elif not page.title:
            page.title = item
        elif _DATE.match(item) and not page.body and "date" not in page.metadata:
            page.metadata["date"] = item
        else:
            page.body.append(item)
    author = _NAMED_TITLE.match(page.title)
    if author and author.group(1) in raw[len(page.title) :]:
        page.metadata["author"] = author.group(1)
    page.teasers = [_format_teaser(t) for t in page.teasers]
    return page


def _add_teaser_line(teaser: list[str], item: str, is_bullet: bool) -> None:
    kind = _TEASER_KIND.match(item) if is_bullet else None
    if kind and len(item) > kind.end():
        teaser.extend([f"- {kind.group()}", f"- {item[kind.end() :].strip()}"])
    else:
        teaser.append(f"- {item}" if is_bullet else item)


def _format_teaser(lines: list[str]) -> list[str]:
    """Title and summary first, then the teaser's tags (kind, author, topics, date) on one line."""
    prose = [line for line in lines if not line.startswith("- ")]
    tags = [line[2:] for line in lines if line.startswith("- ")]
    return prose + ([" · ".join(tags)] if tags else [])


def repair_stray_numbers(text: str) -> str:
    """Remove page numbers stranded between two words by text extraction.

    A number after a preposition, article or conjunction and before a lowercase word is taken
    for a page number only when the two words also stand side by side elsewhere in the text and
    the next word is not a plural (so "in 2 order that" is repaired, given "in order" elsewhere,
    while "have 2 children" and "in 2 weeks" are kept).
    """

    def fix(match: re.Match[str]) -> str:
        before, _, after = match.groups()
        joined = f"{before} {after}"
        if not after.endswith("s") and text.count(joined) > 0:
            return joined
        return match.group()

    return _STRAY_NUMBER.sub(fix, text)

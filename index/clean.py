"""The King's Fund page layout: recognised, then its furniture dropped and its metadata lifted out.

Pages saved as text from The King's Fund's site (the bundled article is one) carry furniture: an
age banner, "Watch video" buttons, lone bullet dashes, a date line, an empty "Authors" header
and, at the end, teasers for related content. These rules were written for that layout, so they
run only on a page recognised as having it (`is_kings_fund_page`); every other text goes
through the plain readers in `index.read`, which drop nothing. Cleaning keeps every sentence of
the content, word for word and number for number; makes the title, author and date metadata
(and a searchable header); and keeps each teaser as its own paragraph in a "Related content"
section, so it is searchable but never merged into the article. Each kind of furniture dropped
is logged with its count.

The cleaned text separates paragraphs with a blank line; a line break inside a paragraph is a
hard break (see `index.split`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field

from qa.reference import TEASER_TAGS
from qa.types import Document, Section, byline

log = logging.getLogger(__name__)

PUBLISHER = "The King's Fund"
RELATED = "Related content"

# Each kind of furniture, named for the log: text the page's author did not write.
_FURNITURE = {
    "age banner": re.compile(r"^this content is more than \w+ years? old$", re.IGNORECASE),
    "'Watch video' / 'Listen' button": re.compile(r"^(watch video|listen)$", re.IGNORECASE),
    "share / print link": re.compile(r"^(share( this)?( page)?|print)$", re.IGNORECASE),
    "empty 'Authors' header": re.compile(r"^authors?$", re.IGNORECASE),
    "lone bullet": re.compile(r"^[-–—•*]+$"),
}
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
# How far into a page its layout is looked for: the banner, title, date and "Authors" come first.
_HEAD_LINES = 6


def is_kings_fund_page(raw: str) -> bool:
    """Whether `raw` is a page saved from The King's Fund's site, as its opening lines show.

    Recognised by the age banner ("This content is more than five years old"), or by a bulleted
    date line together with an "Authors" header among the first lines; a note, a report or any
    other text has neither, so the layout's rules never touch it.

    >>> is_kings_fund_page("Huddles\\n- 4 June 2014\\nAuthors\\nText."), is_kings_fund_page("Huddles\\n\\nText.")
    (True, False)
    """
    head = [line.strip() for line in raw.split("\n") if line.strip()][:_HEAD_LINES]
    if any(_FURNITURE["age banner"].match(line) for line in head):
        return True
    dated = any(_BULLET.match(line) and _DATE.match(_BULLET.sub("", line)) for line in head)
    return dated and any(_FURNITURE["empty 'Authors' header"].match(line) for line in head)


@dataclass
class _Page:
    title: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    body: list[str] = field(default_factory=list)
    teasers: list[list[str]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)


def clean_page(raw: str, source: str, fallback_title: str = "") -> Document:
    """Clean the text of a page in The King's Fund's layout (one paragraph or list item per line).

    Call it only on a page `is_kings_fund_page` recognises.

    >>> doc = clean_page("My title\\n- 4 June 2014\\nAuthors\\nWatch video\\nBody text.", "page.txt")
    >>> doc.title, doc.metadata["date"], doc.metadata["publisher"], doc.text.splitlines()[-1]
    ('My title', '4 June 2014', "The King's Fund", 'Body text.')
    """
    page = _parse(raw.replace("\r\n", "\n").replace("\r", "\n"))
    if page.dropped:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(page.dropped.items()))
        log.info("%s: The King's Fund page layout; dropped page furniture: %s", source, kinds)
    title = page.title or fallback_title
    metadata = {"title": title, **page.metadata, "publisher": PUBLISHER}
    blocks = ["\n".join(byline(metadata.get("author", ""), metadata.get("date", "")) + page.body[:1]), *page.body[1:]]
    text = "\n\n".join(blocks)
    sections = []
    for teaser in page.teasers:
        text += "\n\n"
        start = len(text)
        text += "\n".join(teaser)
        sections.append(Section(start, len(text), RELATED))
    return Document(source=source, title=title, text=text, metadata=metadata, sections=tuple(sections))


# How readers ask for the byline ("Who wrote this?", "Who is the author?"): "By <author>" holds none
# of these words and "by" is a stop word, so BM25 indexes the line with them as well.
AUTHOR_WORDS = "author writer wrote written"


def byline_words(text: str, author: str) -> str:
    """`AUTHOR_WORDS` on a line of their own where `text` holds the "By <author>" line, else "".

    For the lexical index only: the words are never shown or quoted.

    >>> byline_words("By Ann Lee\\nPublished 4 June 2014", "Ann Lee"), byline_words("Ann Lee said so.", "Ann Lee")
    ('\\nauthor writer wrote written', '')
    """
    lines = byline(author, "")
    return f"\n{AUTHOR_WORDS}" if lines and lines[0] in text.split("\n") else ""


def _parse(raw: str) -> _Page:
    page = _Page()
    lines = [line.strip() for line in raw.split("\n")]
    for line in lines:
        kind = next((name for name, rule in _FURNITURE.items() if rule.match(line)), None)
        if kind:
            page.dropped[kind] += 1
        if not line or kind:
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
    return prose + ([TEASER_TAGS.join(tags)] if tags else [])

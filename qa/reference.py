"""Harvard references built from a document's metadata, ready to paste.

    Author (Year) *Title*. Publisher. Available at: URL (Accessed: date).

Parts the metadata lacks are left out, as the Harvard (Cite Them Right) rules say: no author
puts the publisher in its place (an organisation as author) or, with no publisher either, the
title first; no date gives "(no date)"; no address drops "Available at"; the access date is the
day the page was fetched ("fetched_at"). Pure functions, no I/O.

A passage from a page's related-content teasers (`reference_of`) is referenced as the teaser
lists the other page: its own title, author, type and date, "as listed on" the page that shows
it; never with the page's own author and date. Only what the teaser lists is used.

>>> meta = {"author": "Michael West", "date": "4 June 2014", "publisher": "The King's Fund",
...         "url": "https://www.kingsfund.org.uk/insight-and-analysis/videos/michael-west",
...         "fetched_at": "2026-11-28T06:40:11Z"}
>>> print(harvard(meta, "Michael West: collective leadership for culture change").text)
Michael West (2014) Michael West: collective leadership for culture change. The King's Fund. \
Available at: https://www.kingsfund.org.uk/insight-and-analysis/videos/michael-west (Accessed: 28 November 2026).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from qa.types import Passage

_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
_WEB_ADDRESS = re.compile(r"^https?://\S+$", re.IGNORECASE)
# How `index.clean` writes a teaser: its title and summary, then its tags on the last line, the
# first tag its type ("Blog"), then, for a blog or the like, its author's name, then topics.
TEASER_TAGS = " · "
_DAY = r"\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"
# A tag that dates the teaser: "28 April 2025", or an event's "Start date: 29 May 2025".
_TEASER_DATE = re.compile(rf"^(?:(?P<label>[A-Z][a-z]+(?: [a-z]+)*): )?(?P<day>{_DAY})$")
# A person's name as teasers list authors: capitalised words (topics are in sentence case).
_PERSON = re.compile(r"^(?:[A-Z][\w'’.-]+ ){1,3}[A-Z][\w'’-]+$")


@dataclass(frozen=True)
class Reference:
    """A reference as (text, italic) segments, so it can be pasted as plain text or with italics."""

    segments: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        """Plain text: what most places people paste into can take."""
        return "".join(part for part, _ in self.segments)

    @property
    def html(self) -> str:
        """HTML with the title in italics, for word processors; all text escaped."""
        return "".join(f"<i>{html.escape(part)}</i>" if italic else html.escape(part) for part, italic in self.segments)


def year_of(date: str) -> str:
    """The year a date mentions, or "no date".

    >>> year_of("4 June 2014"), year_of("2019-03-01T10:00:00Z"), year_of("")
    ('2014', '2019', 'no date')
    """
    found = _YEAR.search(date or "")
    return found.group(1) if found else "no date"


def day_of(timestamp: str) -> str:
    """An ISO-8601 date or time as a day ("28 November 2026"); other text is returned as is.

    >>> day_of("2026-11-28T06:40:11+00:00"), day_of("yesterday")
    ('28 November 2026', 'yesterday')
    """
    try:
        moment = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return timestamp.strip()
    return f"{moment.day} {moment:%B %Y}"


def web_address(metadata: Mapping[str, str]) -> str:
    """The document's http(s) address, or "" (anything else, e.g. `javascript:`, is not one).

    >>> web_address({"url": "javascript:alert(1)"}), web_address({"url": " https://a.org/x "})
    ('', 'https://a.org/x')
    """
    url = str(metadata.get("url", "")).strip()
    return url if _WEB_ADDRESS.match(url) else ""


def _sentence(text: str) -> str:
    """`text` ending as a sentence: a full stop unless it already ends with one (or ? or !)."""
    return text if text.endswith((".", "?", "!")) else text + "."


def harvard(metadata: Mapping[str, str], title: str = "", source: str = "") -> Reference:
    """The Harvard reference of a document from its metadata ("author", "date", "title",
    "publisher", "url", "fetched_at"); `title` and then `source` stand in for a missing title.

    >>> harvard({"publisher": "NHS England", "date": "2019"}, "The NHS Long Term Plan").text
    'NHS England (2019) The NHS Long Term Plan.'
    >>> harvard({}, source="notes.txt").text
    'notes.txt (no date).'
    >>> harvard({"author": "A. Writer"}, "Why?").html
    'A. Writer (no date) <i>Why?</i>'
    """
    author = str(metadata.get("author", "")).strip()
    publisher = str(metadata.get("publisher", "")).strip()
    name = str(metadata.get("title", "")).strip() or title.strip() or source.strip()
    year = f"({year_of(str(metadata.get('date', '')))})"
    url = web_address(metadata)

    creator = author or publisher
    if creator:
        segments = [(f"{creator} {year} ", False), (name, True)]
        tail = [publisher] if author and publisher else []
    else:  # no one to name: the title leads
        segments = [(name, True), (f" {year}", False)]
        tail = []
    if url:
        tail.append(_available(metadata, url))
    if _sentence(segments[-1][0]) != segments[-1][0]:
        segments.append((".", False))
    segments += [(f" {_sentence(part)}", False) for part in tail]
    return Reference(tuple(segments))


def _available(metadata: Mapping[str, str], url: str) -> str:
    fetched = str(metadata.get("fetched_at", "")).strip()
    return f"Available at: {url}" + (f" (Accessed: {day_of(fetched)})" if fetched else "")


@dataclass(frozen=True)
class Teaser:
    """What a related-content teaser lists about the page it leads to ("" where it lists nothing)."""

    title: str
    kind: str
    author: str = ""
    date: str = ""  # the day as listed ("28 April 2025")
    dated: str = ""  # the day with the teaser's label for it, if any ("Start date: 29 May 2025")


def teaser_of(text: str) -> Teaser | None:
    """The teaser a related-content passage's `text` is, as `index.clean` writes it; None if it is not one.

    >>> teaser_of("Why teams work\\nA summary.\\nBlog · Jo Bloggs · Leadership and workforce · 28 April 2025")
    Teaser(title='Why teams work', kind='Blog', author='Jo Bloggs', date='28 April 2025', dated='28 April 2025')
    >>> teaser_of("Team coaching\\nEvent · Start date: 29 May 2025 · Free event").dated
    'Start date: 29 May 2025'
    """
    lines = text.strip().split("\n")
    if len(lines) < 2:
        return None
    kind, *tags = lines[-1].split(TEASER_TAGS)
    author = tags[0] if tags and _PERSON.match(tags[0]) else ""
    dates = [m for m in map(_TEASER_DATE.match, tags) if m]
    date, dated = (dates[0]["day"], dates[0].group()) if dates else ("", "")
    return Teaser(title=lines[0].strip(), kind=kind.strip(), author=author, date=date, dated=dated)


def teaser_reference(teaser: Teaser, page: Mapping[str, str], page_title: str = "") -> Reference:
    """The reference of the page a teaser leads to, from what the teaser lists, as listed on `page`
    (the metadata of the page showing the teaser: its title, publisher, address).

    >>> page = {"title": "Michael West: collective leadership", "publisher": "The King's Fund"}
    >>> teaser_reference(Teaser("Why teams work", "Blog", "Jo Bloggs", "28 April 2025", "28 April 2025"), page).text
    "Jo Bloggs (2025) Why teams work. Blog, 28 April 2025. As listed on: Michael West: collective leadership. \
The King's Fund."
    """
    own = harvard({"author": teaser.author, "date": teaser.date}, teaser.title)
    listed = ", ".join(part for part in (teaser.kind, teaser.dated) if part)
    segments = [*own.segments, (f" {_sentence(listed)}", False)] if listed else list(own.segments)
    title = str(page.get("title", "")).strip() or page_title.strip()
    segments += [(" As listed on: ", False), (title, True), (_sentence(title)[len(title) :], False)]
    publisher = str(page.get("publisher", "")).strip()
    url = web_address(page)
    segments += [
        (f" {_sentence(part)}", False)
        for part in ([publisher] if publisher else []) + ([_available(page, url)] if url else [])
    ]
    return Reference(tuple(segments))


def reference_of(passage: Passage) -> Reference:
    """The reference to copy for a passage: its document's, or for a teaser, the teaser's own."""
    teaser = teaser_of(passage.text) if passage.related else None
    if teaser is not None:
        return teaser_reference(teaser, passage.metadata, passage.title)
    return harvard(passage.metadata, passage.title, passage.source)

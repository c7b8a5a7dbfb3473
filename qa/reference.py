"""Harvard references built from a document's metadata, ready to paste.

    Author (Year) *Title*. Publisher. Available at: URL (Accessed: date).

Parts the metadata lacks are left out, as the Harvard (Cite Them Right) rules say: no author
puts the publisher in its place (an organisation as author) or, with no publisher either, the
title first; no date gives "(no date)"; no address drops "Available at"; the access date is the
day the page was fetched ("fetched_at"). Pure functions, no I/O.

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

_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
_WEB_ADDRESS = re.compile(r"^https?://\S+$", re.IGNORECASE)


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
        fetched = str(metadata.get("fetched_at", "")).strip()
        tail.append(f"Available at: {url}" + (f" (Accessed: {day_of(fetched)})" if fetched else ""))
    if _sentence(segments[-1][0]) != segments[-1][0]:
        segments.append((".", False))
    segments += [(f" {_sentence(part)}", False) for part in tail]
    return Reference(tuple(segments))

"""The typed objects that cross every boundary: documents in, passages and answers out."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

ANSWERED, UNSURE, RELATED, NOT_COVERED = "answered", "unsure", "related", "not_covered"
STATUSES = (ANSWERED, UNSURE, RELATED, NOT_COVERED)


@dataclass(frozen=True)
class Section:
    """A labelled span of a document's text, e.g. the related-content teasers at its end."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Document:
    """One source file after cleaning.

    `text` is what passages quote: every passage is `text[start:end]`. `metadata` holds what the
    page says about itself (author, date, ...); `sections` marks spans that are not the main body.
    `pages` holds, for a paged document (a PDF), the offset in `text` where each page starts;
    pages end paragraphs, so no passage crosses a page.
    """

    source: str
    title: str
    text: str
    metadata: dict[str, str] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    pages: tuple[int, ...] = ()

    def section_at(self, offset: int) -> str:
        """The label of the section holding `offset`, or "" for the main body."""
        for section in self.sections:
            if section.start <= offset < section.end:
                return section.label
        return ""

    def page_at(self, offset: int) -> int:
        """The 1-based page holding `offset`, or 0 for a document without pages.

        >>> Document("a.pdf", "A", "one\\n\\ntwo", pages=(0, 5)).page_at(5)
        2
        """
        return bisect_right(self.pages, offset)


def byline(author: str, date: str) -> list[str]:
    """The lines that lead a document's text where it declares them, so "who wrote it / when" is answered.

    The title is not among them: it is metadata, shown with every citation and indexed with
    every passage; repeated in the text it would pull questions naming the subject to the top.
    """
    return [f"By {author}"] * bool(author) + [f"Published {date}"] * bool(date)


@dataclass(frozen=True)
class Passage:
    """A readable unit of a document (whole sentences) and, once retrieved, how well it answers.

    `start`/`end` are character offsets of `text` in its document's text; `page` is the page it
    is on in a paged document (a PDF), 0 otherwise. `highlight` is the sentence(s) of `text` that
    best answer the question, at `text[highlight_start:highlight_end]`.
    `score` orders the results of one question; `similarity` says how well the passage answers
    in a way comparable across questions (best sentence cosine plus lexical coverage, see
    `qa.search`), and `relevance` is its label for people ("high", "medium", "low").
    """

    text: str
    source: str
    title: str
    start: int
    end: int
    paragraph: int = 0
    section: str = ""
    page: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    score: float = 0.0
    similarity: float = 0.0
    relevance: str = ""
    highlight: str = ""
    highlight_start: int = 0
    highlight_end: int = 0

    @property
    def related(self) -> bool:
        """True for passages from a page's related-content teasers rather than its body."""
        return bool(self.section)


@dataclass(frozen=True)
class Answer:
    """The reply to a question: quoted sentence(s) and the passages they come from, best first.

    `status` is one of `STATUSES`: "answered" (`text` quotes the answer), "unsure" (the closest
    passages may answer it: the likeliest sentence is marked, with no claim either way), "related"
    (on the content's topic, but confidently not answered by it) or "not_covered" (off topic);
    `found` is True for "answered" only, and `text` otherwise says plainly what is known.
    `query` is the text that was actually searched: a follow-up question expanded with the
    conversation, less the words that only frame it, its typing slips mended (qa.engine).
    """

    found: bool
    text: str
    passages: list[Passage]
    question: str = ""
    query: str = ""
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:  # derived from `found` when the caller does not say
            object.__setattr__(self, "status", ANSWERED if self.found else NOT_COVERED)
        if self.status not in STATUSES or self.found != (self.status == ANSWERED):
            raise ValueError(f"inconsistent answer: status {self.status!r} with found={self.found}")

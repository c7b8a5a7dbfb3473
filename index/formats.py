"""Readers of structured formats (HTML, PDF, DOCX), and the one layout every such reader shares.

Each reader turns a file's bytes into `Block`s (paragraphs and headings, page by page for a PDF)
and what the file says about itself (title, author, date); `compose` lays them out as a
`Document` whose text separates paragraphs with a blank line (see `index.split`):

- "By author" and "Published date" lead the first paragraph (`index.clean.byline`, as for saved
  web pages), so the opening passage answers "who wrote it, and when"; the title is metadata,
  and a first block repeating it is dropped;
- a heading leads the paragraph under it, on a line of its own (a hard break ends a sentence),
  so it reads as the section's title and gives the passage its topic, but is never a passage
  alone: a three-word passage would match questions by their wording and answer nothing;
- each page of a PDF ends its paragraphs, so no passage crosses a page and the page a passage
  is on (`Document.pages`, `Passage.page`) can be cited. A sentence running over a page break
  is cut in two: the price of exact page numbers.

The libraries are imported when a file of their format is read, so a build of plain text does
not pay for them.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from index.clean import byline
from qa.sources import SourceFile
from qa.types import Document


class Unusable(Exception):
    """A file that cannot be indexed; the message says why (empty, binary, too large ...)."""


@dataclass(frozen=True)
class Block:
    """A paragraph of a source document (lines inside it are hard breaks), or a heading."""

    text: str
    heading: bool = False


def compose(
    source: str,
    title: str,
    pages: Sequence[Sequence[Block]],
    *,
    author: str = "",
    published: str = "",
    paged: bool = False,
) -> Document:
    """Lay out `pages` of blocks as a cleaned `Document` (see the module's docstring).

    `paged` records where each page starts (for a PDF); otherwise pass all blocks as one page.

    >>> doc = compose("a.html", "Huddles", [[Block("Huddles", True), Block("Why", True), Block("Ten minutes.")]])
    >>> doc.text
    'Why\\nTen minutes.'
    """
    metadata = {"title": title}
    if author:
        metadata["author"] = author
    if published:
        metadata["date"] = published
    leading = byline(author, published)
    paragraphs: list[str] = []
    starts: list[int] = []
    at = 0  # where the next paragraph starts in the joined text
    first = True
    for page in pages:
        page_start = None
        for block in page:
            text = _tidy(block.text)
            if not text:
                continue
            if first and _same(text, title):
                first = False
                continue  # the title is metadata, not text
            first = False
            leading.append(text)
            if block.heading:
                continue
            if page_start is None:
                page_start = at
            paragraph = "\n".join(leading)
            paragraphs.append(paragraph)
            at += len(paragraph) + 2
            leading = []
        if leading and paged and page_start is not None:
            # Headings at the foot of a page stay on it rather than lead the next page's text.
            paragraphs.append("\n".join(leading))
            at += len(paragraphs[-1]) + 2
            leading = []
        starts.append(at if page_start is None else page_start)
    if leading:
        paragraphs.append("\n".join(leading))
    text = "\n\n".join(paragraphs)
    # An empty page starts where the next text does; past the end, at the end.
    pages_at = tuple(min(s, len(text)) for s in starts) if paged else ()
    return Document(source=source, title=title, text=text, metadata=metadata, pages=pages_at)


def _tidy(text: str) -> str:
    """White space collapsed within lines, empty lines dropped (a blank line would split a paragraph)."""
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _same(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def readable_date(value: date | str | None) -> str:
    """A date as pages print it ("4 June 2014"); text that is not an ISO date is kept as it is.

    >>> readable_date("2023-05-04"), readable_date(datetime(2021, 7, 9, 10, 30)), readable_date("Spring 2020")
    ('4 May 2023', '9 July 2021', 'Spring 2020')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value.strip()
    return f"{value.day} {value:%B %Y}"


def title_from_name(path: Path) -> str:
    """A title made from a file name, for documents that do not state one.

    >>> title_from_name(Path("team_huddles-2023.pdf"))
    'Team huddles 2023'
    """
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()


def check_text(data: bytes) -> None:
    """Refuse bytes that are not text (a NUL byte in the first 8 KiB), as `read_text` does."""
    if b"\x00" in data[:8192]:
        raise Unusable("binary file")


# --- HTML -------------------------------------------------------------------------------------


def read_html(file: SourceFile, data: bytes) -> Document:
    """An HTML page's main text (trafilatura drops navigation, footers, comments and the like).

    Headings, paragraphs, list items, quotes and table rows keep their structure; title,
    author and date come from the page's metadata.
    """
    import trafilatura

    check_text(data)
    # Bytes, not text: trafilatura reads the page's declared or detected character set.
    extracted = trafilatura.bare_extraction(
        data, with_metadata=True, include_comments=False, include_tables=True, config=_trafilatura_config()
    )
    if extracted is None or extracted.body is None:
        raise Unusable("no main text found in the page")
    blocks = [_html_block(element) for element in extracted.body]
    if not any(b.text.strip() and not b.heading for b in blocks):
        raise Unusable("no main text found in the page")
    return compose(
        file.name,
        (extracted.title or "").strip() or title_from_name(file.path),
        [blocks],
        author=(extracted.author or "").strip(),
        published=readable_date(extracted.date),
    )


@cache
def _trafilatura_config():
    """trafilatura's settings, but a short page's main text is taken as found.

    By default a main text under 250 characters sends trafilatura to its fallbacks, whose last
    resort takes the whole page as one paragraph, navigation included, every paragraph merged.
    """
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


def _html_block(element) -> Block:
    """One element of trafilatura's body (head, p, list, table, quote, code ...) as a block."""
    if element.tag == "head":
        return Block(_text_of(element), heading=True)
    if element.tag == "list":
        return Block("\n".join(_text_of(item) for item in element.iter("item")))
    if element.tag == "table":
        rows = (" | ".join(_text_of(cell) for cell in row.iter("cell")) for row in element.iter("row"))
        return Block("\n".join(rows))
    return Block(_text_of(element))


def _text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


# --- PDF --------------------------------------------------------------------------------------

# A line that is only a page number ("12", "Page 3", "3 of 10", "- 4 -").
_PAGE_NUMBER = re.compile(r"^[-–\s]*(page\s*)?\d{1,4}(\s*(of|/)\s*\d{1,4})?[-–\s]*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"""[.!?:;…"'”’)\]]$""")
# A line of a wrapped paragraph is at least this share of the document's usual full line.
_FULL_LINE = 0.75


def read_pdf(file: SourceFile, data: bytes) -> Document:
    """A PDF's text layer, page by page, with lines rejoined into paragraphs.

    Running headers and footers (the same line at the top or bottom of most pages) and lone page
    numbers are dropped. Title, author and date come from the PDF's document information.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unusable("encrypted PDF (it needs a password)")
        texts = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = (info.title or "").strip() if info else ""
        author = (info.author or "").strip() if info else ""
        created = _pdf_date(info)
    except Unusable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise Unusable(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from None
    pages = _reflow(texts)
    if not any(pages):
        raise Unusable("no text in the PDF (a scan without a text layer?)")
    if not title:
        title = next((b.text for page in pages for b in page if b.heading), "") or title_from_name(file.path)
    return compose(file.name, title, pages, author=author, published=readable_date(created), paged=True)


def _pdf_date(info) -> datetime | None:
    try:
        return info.creation_date if info else None
    except ValueError:  # a malformed date string is no reason to refuse the document
        return None


def _reflow(texts: Sequence[str]) -> list[list[Block]]:
    """Rejoin the wrapped lines of each page's text into paragraphs and headings.

    pypdf gives one line per printed line. A line noticeably shorter than the document's usual
    full line ends its paragraph; such a line standing alone without closing punctuation is a
    heading. A word hyphenated at a line end is joined again.
    """
    pages = [[line.strip() for line in text.split("\n")] for text in texts]
    lengths = sorted(len(line) for lines in pages for line in lines if line)
    full = lengths[int(len(lengths) * 0.9)] if lengths else 0
    furniture = _running_lines(pages, full)
    result = []
    for lines in pages:
        lines = _strip_furniture(lines, furniture)
        blocks: list[Block] = []
        paragraph = ""
        for line in lines:
            if not line:
                if paragraph:
                    blocks.append(Block(paragraph))
                paragraph = ""
                continue
            if paragraph.endswith("-") and paragraph[-2:-1].isalpha() and line[:1].islower():
                paragraph = paragraph[:-1] + line
            else:
                paragraph = f"{paragraph} {line}" if paragraph else line
            if len(line) < _FULL_LINE * full:
                blocks.append(Block(paragraph, heading=paragraph == line and not _SENTENCE_END.search(line)))
                paragraph = ""
        if paragraph:
            blocks.append(Block(paragraph))
        result.append(blocks)
    return result


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", line.casefold())


def _running_lines(pages: list[list[str]], full: int) -> set[str]:
    """Shapes of the short lines that head, or foot, most pages ("Page 3", "Page 4": digits ignored).

    Full-length lines are never furniture: they are wrapped text, whatever they repeat.
    """
    if len(pages) < 3:
        return set()
    tops: Counter[str] = Counter()
    bottoms: Counter[str] = Counter()
    for lines in pages:
        text = [line for line in lines if line and len(line) < _FULL_LINE * full]
        tops.update({_shape(line) for line in text[:2]})
        bottoms.update({_shape(line) for line in text[-2:]})
    least = max(3, len(pages) / 2)
    return {shape for counts in (tops, bottoms) for shape, n in counts.items() if n >= least}


def _strip_furniture(lines: list[str], furniture: set[str]) -> list[str]:
    """`lines` without running headers/footers and page numbers among their first and last two."""
    text = [i for i, line in enumerate(lines) if line]
    edge = text[:2] + text[-2:]
    drop = {i for i in edge if _shape(lines[i]) in furniture or _PAGE_NUMBER.match(lines[i])}
    return [line for i, line in enumerate(lines) if i not in drop]


# --- DOCX -------------------------------------------------------------------------------------


def read_docx(file: SourceFile, data: bytes) -> Document:
    """A Word document's paragraphs, headings, lists and tables, in order.

    Title, author and date come from its core properties; without a title, the first paragraph
    styled "Title" names the document.
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[Block] = []
        items: list[str] = []  # consecutive list paragraphs make one block, one item per line
        title = ""
        for part in document.iter_inner_content():
            if isinstance(part, Table):
                rows = (" | ".join(_unique(cell.text.strip() for cell in row.cells)) for row in part.rows)
                block = Block("\n".join(rows))
            else:
                style = part.style.name if part.style is not None else ""
                if style.startswith("List"):
                    items.append(part.text)
                    continue
                if style == "Title" and not title:
                    title = part.text.strip()
                block = Block(part.text, heading=style == "Title" or style.startswith("Heading"))
            if items:
                blocks.append(Block("\n".join(items)))
                items = []
            blocks.append(block)
        if items:
            blocks.append(Block("\n".join(items)))
        properties = document.core_properties
        title = (properties.title or "").strip() or title or title_from_name(file.path)
        author = (properties.author or "").strip()
        created = properties.created
    # A damaged package fails as a bad zip, a missing part or malformed XML (a SyntaxError).
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError, OSError) as exc:
        raise Unusable(f"corrupt or unreadable DOCX ({type(exc).__name__}: {exc})") from None
    if not any(b.text.strip() and not b.heading for b in blocks):
        raise Unusable("no text in the document")
    return compose(file.name, title, [blocks], author=author, published=readable_date(created))


def _unique(cells) -> list[str]:
    """Cell texts with repeats side by side dropped (python-docx repeats a merged cell)."""
    out: list[str] = []
    for text in cells:
        if text and (not out or out[-1] != text):
            out.append(text)
    return out

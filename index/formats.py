"""Readers of structured formats (HTML, PDF, DOCX), and the one layout every such reader shares.

Each reader turns a file's bytes into `Block`s (paragraphs and headings, page by page for a PDF)
and what the file says about itself (title, author, date); `compose` lays them out as a
`Document` whose text separates paragraphs with a blank line (see `index.split`):

- "By author" and "Published date" (only a date the document declares) lead the first paragraph
  (`qa.types.byline`, as for saved web pages), so the opening passage answers "who wrote it,
  and when"; the title is metadata, and a first block repeating it is dropped;
- a heading leads the paragraph under it, on a line of its own (a hard break ends a sentence),
  so it reads as the section's title and gives the passage its topic, but is never a passage
  alone: a three-word passage would match questions by their wording and answer nothing;
- each page of a PDF ends its paragraphs, so no passage crosses a page and the page a passage
  is on (`Document.pages`, `Passage.page`) can be cited. A sentence running over a page break
  is cut in two: the price of exact page numbers. Short lines at the foot of a page close its
  last paragraph;
- a table's header row is repeated above each share of its rows that fits in a passage.

The libraries are imported when a file of their format is read, so a build of plain text does
not pay for them.
"""

from __future__ import annotations

import codecs
import io
import json
import logging
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from qa.config import SETTINGS
from qa.sources import SourceFile
from qa.types import Document, byline

log = logging.getLogger(__name__)


class Unusable(Exception):
    """A file that cannot be indexed; the message says why (empty, binary, too large ...)."""


@dataclass(frozen=True)
class Block:
    """A paragraph of a source document (lines inside it are hard breaks), or a heading.

    A table is one block, a row a line, its first row the header that `compose` repeats above
    each share of the rows that fits in a passage.
    """

    text: str
    heading: bool = False
    table: bool = False


def compose(
    source: str,
    title: str,
    pages: Sequence[Sequence[Block]],
    *,
    author: str = "",
    published: str = "",
    file_date: str = "",
    paged: bool = False,
    max_chars: int = SETTINGS.passage_chars,
) -> Document:
    """Lay out `pages` of blocks as a cleaned `Document` (see the module's docstring).

    `paged` records where each page starts (for a PDF); otherwise pass all blocks as one page.
    `published` is a date the document declares as its publication (it leads the text);
    `file_date` when the file was made, kept in the metadata only, never shown as publication.
    A table longer than `max_chars` becomes paragraphs that each fit in a passage and each
    start with its header row, so every row is quoted under its column names.

    >>> doc = compose("a.html", "Huddles", [[Block("Huddles", True), Block("Why", True), Block("Ten minutes.")]])
    >>> doc.text
    'Why\\nTen minutes.'
    """
    metadata = {"title": title}
    if author:
        metadata["author"] = author
    if published:
        metadata["date"] = published
    if file_date:
        metadata["file_date"] = file_date
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
            if block.heading:
                leading.append(text)
                continue
            if page_start is None:
                page_start = at
            for paragraph in _table_shares(leading, text, max_chars) if block.table else ["\n".join([*leading, text])]:
                paragraphs.append(paragraph)
                at += len(paragraph) + 2
            leading = []
        if leading and paged and page_start is not None:
            # Short lines at the foot of a page (a figure, a note: "Admissions: 1,203") close the
            # page's last paragraph rather than stand alone or lead the next page's text.
            tail = "\n" + "\n".join(leading)
            paragraphs[-1] += tail
            at += len(tail)
            leading = []
        starts.append(at if page_start is None else page_start)
    if leading:
        paragraphs.append("\n".join(leading))
    text = "\n\n".join(paragraphs)
    # An empty page starts where the next text does; past the end, at the end.
    pages_at = tuple(min(s, len(text)) for s in starts) if paged else ()
    return Document(source=source, title=title, text=text, metadata=metadata, pages=pages_at)


def _table_shares(leading: list[str], table: str, max_chars: int) -> list[str]:
    """The rows of `table` in paragraphs of at most `max_chars`, each led by the header row
    (the first, after `leading` lines such as headings).

    >>> _table_shares(["Beds"], "Ward | Beds\\nAsh | 9\\nElm | 12", 24)
    ['Beds\\nWard | Beds\\nAsh | 9', 'Ward | Beds\\nElm | 12']
    """
    header, *rows = table.split("\n")
    shares: list[list[str]] = []
    share, held = [*leading, header], 0
    for row in rows:
        # A share holds at least one row; a row too long for any passage is left to the splitter.
        if held and len("\n".join([*share, row])) > max_chars:
            shares.append(share)
            share, held = [header], 0
        share.append(row)
        held += 1
    shares.append(share)
    return ["\n".join(lines) for lines in shares]


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


# Byte-order marks, longest first: UTF-32's little-endian mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def marked_text(data: bytes) -> str | None:
    """The text of bytes that open with a byte-order mark (UTF-8, UTF-16, UTF-32), else None.

    Notepad's "Unicode" is UTF-16 with a mark: two bytes a character, so NUL bytes throughout.

    >>> marked_text("Café".encode("utf-16")), marked_text(b"plain")
    ('Café', None)
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise Unusable(f"starts as {encoding.upper()} text but is not valid {encoding.upper()}") from None
    return None


def decode_text(data: bytes) -> str:
    """Text in any common encoding: UTF-8 with or without its mark, UTF-16 or UTF-32 with one,
    else Windows-1252; line ends made "\\n". Bytes that are none of these are refused.
    """
    text = marked_text(data)
    if text is None:
        check_text(data)
        for encoding in ("utf-8", "cp1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise Unusable("not UTF-8, UTF-16, UTF-32 or Windows-1252 text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_text(data: bytes) -> None:
    """Refuse bytes that are not text (a NUL byte in the first 8 KiB) unless a byte-order mark says
    they are UTF-16 or UTF-32, whose characters hold NUL bytes."""
    if b"\x00" in data[:8192] and not any(data.startswith(bom) for bom, _ in _BOMS):
        raise Unusable("binary file")


# --- HTML -------------------------------------------------------------------------------------


def read_html(file: SourceFile, data: bytes) -> Document:
    """An HTML page's main text (trafilatura drops navigation, footers, comments and the like).

    Headings, paragraphs, list items, quotes and table rows keep their structure; title and
    author come from the page's metadata, the date only from a declared publication date
    (`declared_date`), never one guessed from the text.
    """
    import trafilatura

    check_text(data)
    # Bytes, not text, unless a byte-order mark settles it: trafilatura reads the page's declared
    # or detected character set, which a UTF-16 page cannot declare in bytes it can read.
    page = marked_text(data)
    extracted = trafilatura.bare_extraction(
        data if page is None else page,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        config=_trafilatura_config(),
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
        published=readable_date(declared_date(data if page is None else page)),
    )


# <meta> names and properties that declare a page's publication date (Open Graph, schema.org
# microdata, Dublin Core, Highwire/Google Scholar, and common plain names), lower case.
_DATE_META = frozenset(
    """article:published_time og:published_time datepublished dc.date.issued dcterms.issued dc.date
    dcterms.date citation_publication_date citation_date pubdate publishdate publish-date publish_date
    publication_date date""".split()
)


def declared_date(page: bytes | str) -> str:
    """The publication date a page declares, as written there, or "" when it declares none.

    Looked for in <meta> tags (`_DATE_META`), JSON-LD `datePublished`, and a <time> marked as
    the publication (`itemprop="datePublished"` or `pubdate`). Dates in the body text are not
    declarations: a page mentioning "opened in 2019" was not published then.

    >>> declared_date('<html><head><meta property="article:published_time" content="2023-05-04T09:00"></head></html>')
    '2023-05-04T09:00'
    >>> declared_date("<html><body><p>The ward opened in 2019.</p></body></html>")
    ''
    """
    import lxml.html
    from lxml.etree import ParserError

    try:
        tree = lxml.html.document_fromstring(page)
    except (ParserError, ValueError):
        return ""
    for meta in tree.iter("meta"):
        names = {(meta.get(a) or "").strip().lower() for a in ("name", "property", "itemprop")}
        if names & _DATE_META and (meta.get("content") or "").strip():
            return meta.get("content").strip()
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() == "application/ld+json":
            found = _json_ld_date(script.text or "")
            if found:
                return found
    for time in tree.iter("time"):
        if (time.get("itemprop") or "").lower() == "datepublished" or time.get("pubdate") is not None:
            value = (time.get("datetime") or time.text_content() or "").strip()
            if value:
                return value
    return ""


def _json_ld_date(text: str) -> str:
    """The first `datePublished` in a JSON-LD script, however nested (@graph, lists)."""
    try:
        pending = [json.loads(text)]
    except ValueError:
        return ""
    while pending:
        item = pending.pop(0)
        if isinstance(item, dict):
            value = item.get("datePublished")
            if isinstance(value, str) and value.strip():
                return value.strip()
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return ""


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
        return Block("\n".join(rows), table=True)
    return Block(_text_of(element))


def _text_of(element) -> str:
    return " ".join("".join(element.itertext()).split())


# --- PDF --------------------------------------------------------------------------------------

# A line that is only a page number ("12", "Page 3", "3 of 10", "- 4 -").
_PAGE_NUMBER = re.compile(r"^[-–\s]*(page\s*)?(\d{1,4})(\s*(of|/)\s*\d{1,4})?[-–\s]*$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"""[.!?:;…"'”’)\]]$""")
# A line of a wrapped paragraph is at least this share of the document's usual full line.
_FULL_LINE = 0.75
# Lines looked at for furniture at each end of a page.
_EDGE_LINES = 2
# A step down the page this much longer than the document's usual one between lines is the space
# between two paragraphs, even after a full-length line.
_PARAGRAPH_GAP = 1.3
# The characters pypdf takes for right-to-left letters (Hebrew, Arabic, Syriac, Thaana, N'Ko and
# their presentation forms) and turns round as it reads them; it counts U+FEFF among them.
_PYPDF_RTL = "".join(map(chr, [*range(0x0590, 0x0900), *range(0xFB1D, 0xFE00), *range(0xFE70, 0xFF00)]))
_RTL = re.compile(f"[{re.escape(_PYPDF_RTL)}]")
# Digits, with the separators inside a number ("1,203", "47.650").
_NUMBER = re.compile(r"\d+(?:[.,:٫٬]\d+)*")
# A hyphen or dash ending a line, after the word or number it follows.
_LINE_END_DASH = re.compile(r"(\w+)[-‐‑–—]$")
_FIRST_WORD = re.compile(r"\w+")
_WORD = re.compile(r"\w+(?:-\w+)*")
# A hyphen suspended before a conjunction ("English- and German-speaking") keeps its space.
_SUSPENDED = re.compile(r"(?:and|or|nor|to)\s")


def read_pdf(file: SourceFile, data: bytes) -> Document:
    """A PDF's text layer, page by page, with lines rejoined into paragraphs.

    Running headers and footers are dropped only on evidence (`_furniture`), each counted in the
    log. Title and author come from the PDF's document information; its creation date is when
    the file was made, not a publication date, so it is kept only as "file_date".
    """
    from pypdf import PdfReader
    from pypdf._text_extraction import set_custom_rtl
    from pypdf.errors import PyPdfError

    # pypdf turns right-to-left runs round with the spaces and marks after them, gluing the next
    # word on ("سياسيislām"), and U+FEFF with them; kept as drawn, `_reading_order` turns them.
    set_custom_rtl(None, None, _PYPDF_RTL)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unusable("encrypted PDF (it needs a password)")
        texts = _paragraph_gaps([_page_lines(page) for page in reader.pages])
        info = reader.metadata
        title = (info.title or "").strip() if info else ""
        author = (info.author or "").strip() if info else ""
        created = _pdf_date(info)
    except Unusable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise Unusable(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from None
    pages, dropped = _reflow(texts)
    if dropped:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(dropped.items()))
        log.info("%s: dropped page furniture: %s", file.name, kinds)
    if not any(pages):
        raise Unusable("no text in the PDF (a scan without a text layer?)")
    if not title:
        title = next((b.text for page in pages for b in page if b.heading), "") or title_from_name(file.path)
    return compose(file.name, title, pages, author=author, file_date=readable_date(created), paged=True)


def _pdf_date(info) -> datetime | None:
    try:
        return info.creation_date if info else None
    except ValueError:  # a malformed date string is no reason to refuse the document
        return None


def _reflow(texts: Sequence[str]) -> tuple[list[list[Block]], Counter[str]]:
    """Rejoin the wrapped lines of each page's text into paragraphs and headings, furniture dropped.

    pypdf gives one line per printed line. A blank line (see `_paragraph_gaps`), or a line
    noticeably shorter than the document's usual full line, ends its paragraph; a line standing
    alone without closing punctuation is a heading. A line ending in a hyphen goes on as `_join`
    says. Returns the pages' blocks and the count of furniture lines dropped, by kind.
    """
    pages = [[line.strip() for line in text.split("\n")] for text in texts]
    lengths = sorted(len(line) for lines in pages for line in lines if line)
    full = lengths[int(len(lengths) * 0.9)] if lengths else 0
    drop, dropped = _furniture(pages, full)
    words = {word.casefold() for text in texts for word in _WORD.findall(text)}
    result = []
    for number, lines in enumerate(pages):
        lines = [line for i, line in enumerate(lines) if (number, i) not in drop]
        blocks: list[Block] = []
        paragraph = last = ""
        for line in [*lines, ""]:  # the page's end ends its last paragraph
            if line:
                paragraph, last = _join(paragraph, line, words), line
            if paragraph and (not line or len(line) < _FULL_LINE * full):
                blocks.append(Block(paragraph, heading=paragraph == last and not _SENTENCE_END.search(last)))
                paragraph = ""
        result.append(blocks)
    return result, dropped


def _join(paragraph: str, line: str, words: set[str]) -> str:
    """`paragraph` going on with its next `line`, after a space unless it ends in a hyphen or dash.

    A hyphen at a line end is the writer's ("well-known", "1990–1995"), unless the document's
    `words` (casefolded) have the word whole and not hyphenated: then a typesetter broke it
    ("treat-", "ment"). Before "and", "or", "nor" or "to" it is suspended, and keeps its space.

    >>> [_join(a, b, {"treatment"}) for a, b in [("the treat-", "ment"), ("a well-", "known ward"),
    ...     ("in 1990–", "1995"), ("in English-", "and German-speaking")]]
    ['the treatment', 'a well-known ward', 'in 1990–1995', 'in English- and German-speaking']
    """
    if not paragraph:
        return line
    end = _LINE_END_DASH.search(paragraph)
    if not end:
        return f"{paragraph} {line}"
    hyphen = paragraph[-1] in "-‐"
    head = _FIRST_WORD.match(line)
    if hyphen and head and line[:1].islower() and end[1][-1].isalpha():
        whole, split = f"{end[1]}{head[0]}".casefold(), f"{end[1]}-{head[0]}".casefold()
        if whole in words and split not in words:
            return paragraph[:-1] + line
    if hyphen and _SUSPENDED.match(line):
        return f"{paragraph} {line}"
    return paragraph + line


def _page_lines(page) -> tuple[list[str], list[float | None]]:
    """A page's lines of text in reading order (`_reading_order`), and the height of each one's
    baseline on the page (None for an empty line, or all None if pypdf's pieces do not add up)."""
    pieces: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        pieces.append((text, tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

    text = page.extract_text(visitor_text=visit) or ""
    lines = text.split("\n")
    if "".join(piece for piece, _ in pieces) != text:
        return [_reading_order(line) for line in lines], [None] * len(lines)
    return [_reading_order(line) for line in lines], _baselines(pieces, len(lines))


def _baselines(pieces: Sequence[tuple[str, float]], count: int) -> list[float | None]:
    """Of `count` lines made of `pieces` (text, baseline), each one's baseline: that of most of its
    characters, so a superscript does not move it."""
    weights: list[Counter[float]] = [Counter() for _ in range(count)]
    line = 0
    for text, height in pieces:
        for n, part in enumerate(text.split("\n")):
            line += n > 0
            weights[line][round(height, 1)] += len(part.strip())
    return [(+weight).most_common(1)[0][0] if +weight else None for weight in weights]


def _paragraph_gaps(pages: Sequence[tuple[list[str], list[float | None]]]) -> list[str]:
    """Each page's text with a blank line where the step down from one line to the next is
    `_PARAGRAPH_GAP` times the document's usual step or more: space between paragraphs, which
    is all that ends a paragraph whose last line is full-length.

    >>> _paragraph_gaps([(["a", "b", "c", "d"], [700.0, 686.0, 672.0, 650.0])])
    ['a\\nb\\nc\\n\\nd']
    """
    steps = [_steps(heights) for _, heights in pages]
    usual = Counter(round(step, 1) for page in steps for step in page if step and step > 0)
    pitch = usual.most_common(1)[0][0] if usual else 0
    texts = []
    for (lines, _), page in zip(pages, steps, strict=True):
        spaced: list[str] = []
        for line, step in zip(lines, page, strict=True):
            if pitch and step and step >= _PARAGRAPH_GAP * pitch:
                spaced.append("")
            spaced.append(line)
        texts.append("\n".join(spaced))
    return texts


def _steps(heights: Sequence[float | None]) -> list[float | None]:
    """How far each line's baseline is below the last one above it with text (None for the first)."""
    steps: list[float | None] = []
    last = None
    for height in heights:
        steps.append(last - height if last is not None and height is not None else None)
        last = height if height is not None else last
    return steps


def _reading_order(line: str) -> str:
    """A line of a PDF's text layer, drawn left to right, in the order it is read.

    A typesetter draws right-to-left script in display order. In a left-to-right line each run
    of it (its letters, what lies between them and numbers against them) is turned round, its
    numbers kept as drawn; a line mostly in it is read from its right end, its left-to-right
    words and numbers kept as drawn.

    >>> _reading_order("Islam (Arabic: يسايس مالسإ\u200e islām) was 1,203 دمحم")
    'Islam (Arabic: إسلام سياسي\u200e islām) was 1,203 محمد'
    >>> _reading_order("دعبو 21دمحم")
    'محمد21 وبعد'
    """
    if not _RTL.search(line):
        return line
    kinds = "".join(_direction(c) for c in line)
    if kinds.count("R") <= kinds.count("L"):
        return _turn(line, kinds, r"N*R(?:[^L]*R)?N*", keep_numbers=True)
    return _turn(line[::-1], kinds[::-1], r"[LN](?:[^R]*[LN])?", keep_numbers=False)


def _direction(character: str) -> str:
    """ "R" (right to left), "L" (left to right), "N" (a digit) or "." (neither) for a character."""
    kind = unicodedata.bidirectional(character)
    return "R" if kind in ("R", "AL") else "L" if kind == "L" else "N" if kind in ("EN", "AN") else "."


def _turn(text: str, kinds: str, run: str, keep_numbers: bool) -> str:
    """`text` with each `run` (a pattern over `kinds`, one a character) turned round, and the
    numbers in it turned back if `keep_numbers`."""
    out: list[str] = []
    at = 0
    for match in re.finditer(run, kinds):
        turned = text[match.start() : match.end()][::-1]
        if keep_numbers:
            turned = _NUMBER.sub(lambda number: number[0][::-1], turned)
        out += [text[at : match.start()], turned]
        at = match.end()
    return "".join([*out, text[at:]])


def _furniture(pages: list[list[str]], full: int) -> tuple[set[tuple[int, int]], Counter[str]]:
    """The (page, line) places of running headers and footers, and their count by kind.

    Only the first and last two lines of a page are looked at, and only short ones: full-length
    lines are wrapped text, whatever they repeat. Such a line is furniture on evidence only: the
    same text heads (or foots) at least half the pages (and 3), or lines that differ only by the
    page's own number do: one number that runs with the page's position ("Page 3", "Page 4" on
    pages 3 and 4; or 5, 6, 7 on pages 1, 2, 3), every other word and number the same. "Admissions: 1,203" and
    "Admissions: 987" on two pages differ in a number that does not follow the pages: body text.
    A lone page number ("12", "Page 3 of 9") is dropped from a short document too when it is the
    page's position.
    """
    edges: dict[tuple[int, int], str] = {}
    for number, lines in enumerate(pages):
        text = [i for i, line in enumerate(lines) if line]
        for i in text[:_EDGE_LINES] + text[-_EDGE_LINES:]:
            if len(lines[i]) < _FULL_LINE * full:
                edges[(number, i)] = " ".join(lines[i].casefold().split())
    pages_with: dict[tuple, set[int]] = {}
    for (number, _), line in edges.items():
        for key in _evidence(line, number):
            pages_with.setdefault(key, set()).add(number)
    least = max(3, len(pages) / 2)
    drop: set[tuple[int, int]] = set()
    dropped: Counter[str] = Counter()
    for (number, i), line in edges.items():
        lone = _PAGE_NUMBER.match(line)
        if lone and int(lone.group(2)) == number + 1:
            kind = "page number"
        elif any(len(pages_with[key]) >= least for key in _evidence(line, number)):
            kind = "page number" if lone else "running header/footer"
        else:
            continue
        drop.add((number, i))
        dropped[kind] += 1
    return drop, dropped


def _evidence(line: str, page: int) -> list[tuple]:
    """Keys that lines of furniture share across pages: the text itself, and, for each number in
    it, the rest of the line with that number's distance from the page's position.

    >>> _evidence("page 3 of 9", 2)[1:]
    [('page # of #', 0, ('9',), 1), ('page # of #', 1, ('3',), 7)]
    """
    numbers = _DIGITS.findall(line)
    shape = _DIGITS.sub("#", line)
    keys: list[tuple] = [(line,)]
    for j, value in enumerate(numbers):
        keys.append((shape, j, tuple(numbers[:j] + numbers[j + 1 :]), int(value) - page))
    return keys


# --- DOCX -------------------------------------------------------------------------------------


def read_docx(file: SourceFile, data: bytes) -> Document:
    """A Word document's paragraphs, headings, lists and tables, in order.

    Title and author come from its core properties (their creation date only as "file_date");
    without a title, the first paragraph styled "Title" names the document.
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
                rows = (" | ".join(cells) for cells in map(_cells, part.rows) if any(cells))
                block = Block("\n".join(rows), table=True)
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
    # "Created" is when the file (or the template it came from) was made, not a publication date.
    return compose(file.name, title, [blocks], author=author, file_date=readable_date(created))


def _cells(row) -> list[str]:
    """A table row's cell texts, a merged cell once (python-docx repeats it for each column it
    spans); equal values in separate cells are both kept, and empty cells keep their column.
    """
    out: list[str] = []
    previous = None
    for cell in row.cells:
        if previous is not None and cell._tc is previous:
            continue
        previous = cell._tc
        out.append(cell.text.strip())
    return out

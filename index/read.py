"""Source files -> `Document`s, one reader per format; unusable files are refused with a reason.

Plain text and Markdown are read here; HTML, PDF and DOCX in `index.formats`. Nothing a user
wrote is dropped: every line of a text file is in the document, word for word. Only a page in
The King's Fund's saved-page layout, when recognised, goes through that layout's cleaner
(`index.clean`), which drops its page furniture by named rules.

A document's title comes from its own metadata (Markdown front matter, a Markdown heading that
opens it) or, for plain text, from a first line only when that line is a heading: short, with no
closing punctuation, and followed by a blank line. Otherwise the file's name gives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from index.clean import clean_page, is_kings_fund_page
from index.formats import (
    Block,
    Unusable,
    compose,
    decode_text,
    read_docx,
    read_html,
    read_pdf,
    readable_date,
    title_from_name,
)
from qa.sources import SourceFile
from qa.types import Document

__all__ = ["READERS", "Unusable", "read"]

# A heading line: at most this long, and not ending as a sentence ends.
_HEADING_CHARS = 100
_CLOSING = re.compile(r"""[.!?…:;,]["'”’)\]]*$""")
# A line that starts a list item: it keeps its own line, so an item without a full stop still
# ends where it ends (a line break is a hard break in `index.split`).
_LIST_ITEM = re.compile(r"^\s*([-–•*+]|\d{1,3}[.)])\s+")
_BLANK = re.compile(r"\n[ \t]*\n")


def is_heading(line: str) -> bool:
    """A line that reads as a heading: one short line with no closing punctuation.

    >>> is_heading("Why huddles work"), is_heading("Ward 7 reduced falls by 40 percent."), is_heading("- Apples")
    (True, False, False)
    """
    line = line.strip()
    return (
        bool(line)
        and "\n" not in line
        and len(line) <= _HEADING_CHARS
        and not _CLOSING.search(line)
        and not _LIST_ITEM.match(line)
    )


def _paragraph(lines: list[str]) -> str:
    """The lines of one blank-line paragraph: soft wraps joined, list items kept on their own lines."""
    out: list[str] = []
    for line in lines:
        if out and not _LIST_ITEM.match(line):
            out[-1] += " " + line.strip()
        else:
            out.append(line.strip())
    return "\n".join(out)


def text_blocks(text: str) -> list[Block]:
    """Paragraphs of plain text: blank-line separated (lines inside one are soft wraps), or, in a
    text with no blank line, one paragraph per line. A one-line paragraph that reads as a
    heading (`is_heading`) is a heading, shown above the paragraph after it.
    """
    if not _BLANK.search(text.strip()):
        return [Block(line.strip()) for line in text.split("\n") if line.strip()]
    blocks = []
    for chunk in _BLANK.split(text):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if lines:
            blocks.append(Block(_paragraph(lines), heading=len(lines) == 1 and is_heading(lines[0])))
    return blocks


def _titled(file: SourceFile, blocks: list[Block], title: str = "", **metadata: str) -> Document:
    """Compose `blocks`: the title given, else an opening heading followed by more text, else the file name."""
    if not title and len(blocks) > 1 and blocks[0].heading:
        title = blocks[0].text  # `compose` drops the opening block that repeats the title
    return compose(file.name, title or title_from_name(file.path), [blocks], **metadata)


def read_text(file: SourceFile, data: bytes) -> Document:
    """A plain-text file: paragraphs separated by blank lines, or one paragraph per line."""
    text = decode_text(data)
    if is_kings_fund_page(text):
        return clean_page(text, file.name, title_from_name(file.path))
    return _titled(file, text_blocks(text))


_MD_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# Strong emphasis marks, code spans (paired backticks: a lone one is a quote mark) and links.
_MD_MARKUP = re.compile(r"\*\*|__|`([^`\n]+)`|!?\[([^\]]*)\]\([^)]*\)")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(---|\.\.\.)\n", re.DOTALL)
_FRONT_FIELD = re.compile(r"^(title|author|date):\s*(.+?)\s*$", re.MULTILINE | re.IGNORECASE)


def _plain(line: str) -> str:
    """A Markdown line without emphasis and link markup, the words and link texts kept."""
    return _MD_MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", line)


def read_markdown(file: SourceFile, data: bytes) -> Document:
    """Markdown: headings lead the paragraph under them, links and emphasis become plain text.

    Title, author and date come from YAML-style front matter; without a title there, a heading
    that opens the document is its title.
    """
    text = decode_text(data)
    fields: dict[str, str] = {}
    front = _FRONT_MATTER.match(text)
    if front:
        fields = {k.lower(): v.strip("\"'") for k, v in _FRONT_FIELD.findall(front.group(1))}
        text = text[front.end() :]
    blocks: list[Block] = []
    pending: list[str] = []  # lines of the paragraph being read
    code: list[str] | None = None  # lines of the fenced code block being read, kept as they are

    def flush() -> None:
        if pending:
            blocks.append(Block(_paragraph(pending)))
            pending.clear()

    for line in text.split("\n"):
        if _MD_FENCE.match(line):
            flush()
            if code:
                blocks.append(Block("\n".join(code)))
            code = None if code is not None else []
        elif code is not None:
            code.append(line)
        elif heading := _MD_HEADING.match(line):
            flush()
            blocks.append(Block(_plain(heading.group(1)), heading=True))
        elif line.strip():
            pending.append(_plain(line))
        else:
            flush()
    if code:
        blocks.append(Block("\n".join(code)))
    flush()
    return _titled(
        file,
        blocks,
        fields.get("title", ""),
        author=fields.get("author", ""),
        published=readable_date(fields.get("date")),
    )


READERS: dict[str, Callable[[SourceFile, bytes], Document]] = {
    ".txt": read_text,
    ".text": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}


def read(file: SourceFile, max_bytes: int) -> Document:
    """Read one source file; raise `Unusable` with a reason a person can act on."""
    reader = READERS.get(file.path.suffix.lower())
    if reader is None:
        raise Unusable(f"unsupported format {file.path.suffix or '(no extension)'!r}; supported: {', '.join(READERS)}")
    try:
        size = file.path.stat().st_size
        if size > max_bytes:
            raise Unusable(f"{size:,} bytes is over the {max_bytes:,}-byte limit (QA_MAX_FILE_BYTES)")
        data = file.path.read_bytes()
    except OSError as exc:
        raise Unusable(f"cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise Unusable("empty file")
    document = reader(file, data)
    if not document.text.strip():
        raise Unusable("no text left after cleaning")
    if file.metadata:
        document = replace(document, metadata={**file.metadata, **document.metadata})
    return document

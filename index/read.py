"""Source files -> `Document`s, one reader per format; unusable files are refused with a reason.

Plain text and Markdown are read here; HTML, PDF and DOCX in `index.formats`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from index.clean import clean_page
from index.formats import Unusable, check_text, read_docx, read_html, read_pdf, title_from_name
from qa.sources import SourceFile
from qa.types import Document

__all__ = ["READERS", "Unusable", "read"]


def _decode(data: bytes) -> str:
    check_text(data)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unusable("not UTF-8 or Windows-1252 text")


def read_text(file: SourceFile, data: bytes) -> Document:
    """A plain-text page: one paragraph per line, or paragraphs separated by blank lines."""
    return _page(file, _decode(data))


def _page(file: SourceFile, text: str) -> Document:
    if "\n\n" in text.strip():
        # Blank-line paragraphs: lines inside one are soft wraps, joined into one line.
        text = "\n".join(" ".join(block.split("\n")) for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")))
    return clean_page(text, file.name, title_from_name(file.path))


_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
_MD_MARKUP = re.compile(r"(\*\*|__|`|!?\[([^\]]*)\]\([^)]*\))")


def read_markdown(file: SourceFile, data: bytes) -> Document:
    """Markdown: headings become paragraphs of their own, links and emphasis become plain text."""
    text = _decode(data)
    text = _MD_MARKUP.sub(lambda m: m.group(2) or "", text)
    text = _MD_HEADING.sub(lambda m: f"\n{m.group(1)}\n", text)
    return _page(file, text)


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

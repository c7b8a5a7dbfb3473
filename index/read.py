"""Source files -> `Document`s, one reader per format; unusable files are refused with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from index.clean import clean_page
from qa.sources import SourceFile
from qa.types import Document


class Unusable(Exception):
    """A file that cannot be indexed; the message says why (empty, binary, too large ...)."""


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise Unusable("binary file")
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
    return clean_page(text, file.name, _title_from_name(file.path))


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
}


def read(file: SourceFile, max_bytes: int) -> Document:
    """Read one source file; raise `Unusable` with a reason a person can act on."""
    reader = READERS.get(file.path.suffix.lower())
    if reader is None:
        raise Unusable(f"unsupported format {file.path.suffix or '(no extension)'!r}; supported: {', '.join(READERS)}")
    size = file.path.stat().st_size
    if size > max_bytes:
        raise Unusable(f"{size:,} bytes is over the {max_bytes:,}-byte limit (QA_MAX_FILE_BYTES)")
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        raise Unusable(f"cannot be read ({exc.strerror})") from None
    if not data.strip():
        raise Unusable("empty file")
    document = reader(file, data)
    if not document.text.strip():
        raise Unusable("no text left after cleaning")
    return document

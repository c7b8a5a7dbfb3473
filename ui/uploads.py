"""Checks on a file uploaded to the Library, before anything is written or read.

The name must be a plain file name (no folder part, so nothing lands outside the upload folder).
It is kept as uploaded (apostrophes, accents) for citing the document and replacing it by name;
the file itself is stored under a safe name, cleaned of characters that are awkward in a file
system or a shell. The type is decided by the content and must agree with the name's extension;
the size is capped; a .docx (a zip) is refused when its parts would inflate past a limit, before
any part is inflated.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

# Extension -> the kind its content must be.
KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "text",
    ".htm": "text",
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
}
_NAMES = {"pdf": "a PDF", "docx": "a Word (.docx) document", "text": "text", "zip": "a zip archive", "binary": "binary"}
_UNSAFE = re.compile(r"[^\w .()+,=@-]+")
_MAX_NAME = 120
_MAX_ZIP_PARTS = 2000


class Refused(Exception):
    """An upload that cannot be used; the message says why, in words an admin can act on."""


@dataclass(frozen=True)
class Limits:
    """Per file, per request, and what a .docx may inflate to."""

    file_bytes: int
    request_bytes: int
    docx_unzipped_bytes: int


def cited_name(raw: str) -> str:
    """The name an upload is cited by: as uploaded, or Refused if it names a folder (`../x`, `a/b`, `C:\\x`).

    Unicode is normalised (NFC), so one name typed on two systems is one document; control
    characters are dropped and an over-long name is shortened, keeping its extension.

    >>> cited_name("  Café d'Été report.txt ")
    "Café d'Été report.txt"
    """
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise Refused("the file has no name")
    if "/" in name or "\\" in name or name in (".", "..") or re.match(r"^[A-Za-z]:", name):
        raise Refused("the name has a folder part; upload the file itself, named without a path")
    if name.startswith("."):
        raise Refused("hidden file names (starting with '.') are not taken")
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    stem, dot, ext = name.rpartition(".")
    if len(name) > _MAX_NAME:
        name = f"{stem[: _MAX_NAME - len(ext) - 1]}.{ext}" if dot else name[:_MAX_NAME]
    return name


def stored_name(cited: str) -> str:
    """The safe file name an upload cited as `cited` (see `cited_name`) is stored under.

    >>> stored_name("Ward rounds: guide?.docx"), stored_name("Café d'Été report.txt")
    ('Ward rounds_ guide_.docx', 'Café d_Été report.txt')
    """
    return _UNSAFE.sub("_", cited)


def sniff(data: bytes) -> str:
    """What the bytes are: "pdf", "docx", "zip" (another archive), "binary" or "text"."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return "binary"
        return "docx" if "word/document.xml" in names and "[Content_Types].xml" in names else "zip"
    if b"\x00" in data[:8192]:
        return "binary"
    return "text"


def check(raw_name: str, data: bytes, limits: Limits, size: int | None = None) -> str:
    """The cited name (`cited_name`) of an upload that can be indexed; raise Refused with the reason otherwise.

    `size` is the upload's whole size when only its first `limits.file_bytes + 1` bytes were read.
    """
    name = cited_name(raw_name)
    extension = "." + name.rpartition(".")[2].lower() if "." in name else ""
    expected = KINDS.get(extension)
    if expected is None:
        raise Refused(f"unsupported type {extension or '(no extension)'!r}; the Library takes {', '.join(KINDS)}")
    size = max(len(data), size or 0)
    if size > limits.file_bytes:
        raise Refused(f"{size:,} bytes is over the {limits.file_bytes:,}-byte limit per file")
    if not data.strip():
        raise Refused("the file is empty")
    found = sniff(data)
    if found != expected:
        raise Refused(f"named {extension} but its content is {_NAMES[found]}")
    if found == "docx":
        _check_inflation(data, limits.docx_unzipped_bytes)
    return name


def _check_inflation(data: bytes, limit: int) -> None:
    """Refuse a .docx whose parts would inflate past `limit` (read from the zip's directory).

    Python's zipfile never inflates a part past the size its directory declares, so checking
    the declared sizes bounds what reading the document can inflate.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = archive.infolist()
        if len(parts) > _MAX_ZIP_PARTS:
            raise Refused(f"the .docx has {len(parts):,} parts, over the {_MAX_ZIP_PARTS:,} a document may have")
        inflated = sum(p.file_size for p in parts)
    if inflated > limit:
        raise Refused(
            f"the .docx would inflate to {inflated:,} bytes, over the {limit:,}-byte limit "
            "(QA_DOCX_MAX_UNZIPPED_BYTES): a zip bomb, or a document too large to index"
        )

"""Which files a build reads, and their fingerprints.

Shared by the builder (which reads them) and by `qa` (which checks whether the default index is
stale), so both agree on what "the corpus" is.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SourceFile:
    """A file to index: where it is, the name it is cited by (relative to its root), what else is known."""

    path: Path
    name: str
    # What is known about the file besides its content (a web page's "url", "fetched_at",
    # "publisher"); the document's own metadata wins where both say something.
    metadata: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def discover(sources: Iterable[Path], roots: Sequence[Path] = ()) -> list[SourceFile]:
    """Every regular, non-hidden file named by `sources` (files, or folders searched recursively).

    A file is cited by its path relative to the folder given, or by its name if given itself;
    but a file inside one of the folders `roots` (those an index was built from) is cited
    relative to that folder, as a build of the folder cites it, so adding it to that index later
    replaces the same document. Symbolic links to folders are not followed, so a link loop cannot
    hang a build. Raises FileNotFoundError naming the first source that does not exist.
    """
    found: dict[Path, SourceFile] = {}
    for source in sources:
        source = Path(source)
        if not source.exists():
            raise FileNotFoundError(f"source {str(source)!r} does not exist")
        if source.is_file():
            found.setdefault(source.resolve(), SourceFile(source, source.name))
            continue
        for folder, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if not name.startswith(".") and path.is_file():
                    found.setdefault(path.resolve(), SourceFile(path, path.relative_to(source).as_posix()))
    folders = [root.resolve() for root in map(Path, roots) if root.is_dir()]
    for resolved, file in found.items():
        root = next((r for r in folders if resolved.is_relative_to(r)), None)
        if root is not None:
            found[resolved] = SourceFile(file.path, resolved.relative_to(root).as_posix())
    return sorted(found.values(), key=lambda f: f.name)


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of a document's content."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(sources: Iterable[Path]) -> dict[str, str]:
    """{cited name: content hash} for every file the sources name."""
    return {f.name: file_hash(f.path) for f in discover(sources)}

"""Refresh the web documents of an index: fetch each again, re-embed only those that changed.

A page counts as changed when what would be indexed differs (its cleaned text, title or what it
says about itself), not when its bytes do: pages carry timestamps and tokens that change on
every visit. Unchanged pages keep their passages, vectors and "fetched_at"; a page that cannot be
fetched (or read) now keeps its indexed version and is reported.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from index.build import BuildReport, OnProgress, add
from index.fetch import fetch_all
from index.read import Unusable, read
from qa import store
from qa.config import SETTINGS
from qa.errors import BuildError
from qa.types import Document

# Metadata that changes with every fetch, so is no sign of a changed page.
_VOLATILE = ("fetched_at",)


@dataclass
class RefreshReport:
    """What a refresh did: pages checked, those changed (re-embedded), those that failed and why."""

    checked: int = 0
    changed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    build: BuildReport | None = None  # None when nothing changed (the index is untouched)


def web_documents(out: Path) -> list[str]:
    """The cited names (addresses) of the documents of the index at `out` that came from the web."""
    return [d["source"] for d in store.load(out).manifest["documents"] if d.get("metadata", {}).get("url")]


def refresh(out: Path | None = None, progress: bool = True, *, on_progress: OnProgress | None = None) -> RefreshReport:
    """Fetch every web document of the index at `out` again and re-embed those that changed.

    Raises BuildError if the index has no web document; IndexNotFoundError/IndexCorruptError
    as `store.load` does.
    """
    out = Path(out or SETTINGS.index_dir)
    data = store.load(out)
    urls = web_documents(out)
    if not urls:
        raise BuildError(f"the index at {str(out)!r} has no web documents; add one with `python -m index add URL`")
    report = RefreshReport(checked=len(urls))
    with tempfile.TemporaryDirectory(prefix="qa-refresh-") as folder:
        files, report.failed = fetch_all(urls, Path(folder), on_progress)
        changed = []
        for file in files:
            try:
                document = read(file, SETTINGS.max_file_bytes)
            except Unusable as exc:
                report.failed[file.name] = f"cannot be read now ({exc}); the indexed version is kept"
                continue
            if _differs(document, data.documents.get(file.name)):
                changed.append(file)
        report.changed = [f.name for f in changed]
        if changed:
            report.build = add(changed, out, progress, on_progress=on_progress)
    return report


def _differs(document: Document, indexed: Document | None) -> bool:
    if indexed is None:
        return True

    def stable(metadata: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in metadata.items() if k not in _VOLATILE}

    return (document.text, document.title, stable(document.metadata)) != (
        indexed.text,
        indexed.title,
        stable(indexed.metadata),
    )

"""The index on disk: plain files only (JSON, JSON lines, .npy, a FAISS index), never pickle.

Layout of one build directory:

    manifest.json        format version, model, settings, documents and their hashes, counts,
                         build time, and the byte size of every other file (truncation check)
    documents.jsonl      one cleaned document per line (text, title, metadata, sections)
    passages.jsonl       one passage per line, with its sentences' offsets
    arrays/NAME.npy      passage and sentence vectors, lexical index arrays
    dense.faiss          FAISS index over the passage vectors

The name a user gives (`--out DIR`, `QA_INDEX_DIR`) is a symbolic link to the current build
directory, kept in a sibling folder `.NAME.builds/`. Publishing a build is one atomic rename of
that link, so a reader sees the old index or the new one, never a mixture; a build that dies
midway leaves only an unlinked folder that the next build removes.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import shlex
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import BuildError, IndexBusyError, IndexCorruptError, IndexNotFoundError
from qa.types import Document, Passage, Section

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_KEEP_BUILDS = 2  # the current build and the one before, for readers still on it


@dataclass(frozen=True)
class IndexData:
    """Everything one build directory holds, loaded.

    `sentences` has one row per sentence: (passage row, start, end), offsets into the passage's
    document text, in passage order; `first_sentence[i]:first_sentence[i+1]` are passage i's.
    """

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    sentences: np.ndarray
    first_sentence: np.ndarray
    arrays: dict[str, np.ndarray]
    dense: Any  # faiss.Index


def builds_dir(out: Path) -> Path:
    """The folder holding the build directories behind the link `out`."""
    return out.parent / f".{out.name}.builds"


def resolve(path: Path) -> Path:
    """The build directory that `path` (a link made by `publish`, or a plain copy) stands for."""
    path = Path(path)
    resolved = path.resolve()
    if not (resolved / MANIFEST).is_file():
        raise IndexNotFoundError(f"no index at {str(path)!r}: build one with `python -m index build --out {path}`")
    return resolved


def save(
    directory: Path,
    *,
    manifest: dict[str, Any],
    documents: Sequence[Document],
    passages: Sequence[Passage],
    sentences: Sequence[Sequence[tuple[int, int]]],
    arrays: dict[str, np.ndarray],
    dense: Any,
) -> None:
    """Write a complete build into the empty folder `directory` (not yet visible to readers)."""
    import faiss

    (directory / "arrays").mkdir(parents=True)
    with (directory / "documents.jsonl").open("w", encoding="utf-8") as f:
        for doc in documents:
            f.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")
    with (directory / "passages.jsonl").open("w", encoding="utf-8") as f:
        for passage, spans in zip(passages, sentences, strict=True):
            row = {
                "text": passage.text,
                "source": passage.source,
                "start": passage.start,
                "end": passage.end,
                "paragraph": passage.paragraph,
                "section": passage.section,
                "page": passage.page,
                "sentences": [list(s) for s in spans],
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    for name, array in arrays.items():
        np.save(directory / "arrays" / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
    faiss.write_index(dense, str(directory / "dense.faiss"))
    files = {p.relative_to(directory).as_posix(): p.stat().st_size for p in sorted(directory.rglob("*")) if p.is_file()}
    manifest = {**manifest, "format_version": FORMAT_VERSION, "files": files}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    _fsync_tree(directory)


def rebuild_hint(path: Path) -> str:
    """How to rebuild the index at `path` from what it was built from: its manifest's sources,
    where the manifest can still be read. Never from the default corpus instead, which would
    replace the index's own documents with the bundled article."""
    manifest = read_manifest(Path(path).resolve())
    sources = manifest.get("sources") if isinstance(manifest, dict) else None
    given = " ".join(shlex.quote(s) for s in sources if isinstance(s, str)) if isinstance(sources, list) else ""
    given = given or "SOURCE ..."
    return f"rebuild it with `python -m index build {given} --out {shlex.quote(str(path))}`"


def _damaged(path: Path, exc: Exception) -> IndexCorruptError:
    return IndexCorruptError(f"index at {str(path)!r} is damaged ({type(exc).__name__}: {exc}): {rebuild_hint(path)}")


def check(path: Path) -> tuple[Path, dict[str, Any]]:
    """The build directory the index at `path` stands for, and its manifest, once the manifest
    reads, is of this format, and lists only files that are there whole. A stat a file: cheap
    enough for a readiness probe (ui.server's /readyz), which so knows a restart would load it.
    Raises IndexNotFoundError or IndexCorruptError (one line each)."""
    directory = resolve(path)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexCorruptError(
                f"index at {str(path)!r} has format {manifest.get('format_version')!r}, "
                f"this version reads {FORMAT_VERSION}: {rebuild_hint(path)}"
            )
        for name, size in manifest["files"].items():
            actual = (directory / name).stat().st_size if (directory / name).is_file() else -1
            if actual != size:
                raise IndexCorruptError(
                    f"index at {str(path)!r} is damaged ({name} is missing or truncated): {rebuild_hint(path)}"
                )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _damaged(path, exc) from exc
    return directory, manifest


def load(path: Path) -> IndexData:
    """Load the index at `path`; raise IndexNotFoundError or IndexCorruptError (one line each)."""
    import faiss

    directory, manifest = check(path)
    try:
        documents = {}
        for line in _lines(directory / "documents.jsonl"):
            row = json.loads(line)
            row["sections"] = tuple(Section(**s) for s in row["sections"])
            row["pages"] = tuple(row.get("pages", ()))  # absent in indexes built before PDFs were read
            documents[row["source"]] = Document(**row)
        passages, sentences, first = [], [], [0]
        for i, line in enumerate(_lines(directory / "passages.jsonl")):
            row = json.loads(line)
            doc = documents[row["source"]]
            spans = row.pop("sentences")
            passages.append(Passage(title=doc.title, metadata=doc.metadata, **row))
            sentences.extend((i, s, e) for s, e in spans)
            first.append(len(sentences))
        # Memory-mapped (shared between processes), seen as plain arrays: slicing a np.memmap
        # costs a Python call each time, and BM25 slices per query term.
        arrays = {
            p.stem: np.asarray(np.load(p, mmap_mode="r", allow_pickle=False))
            for p in sorted((directory / "arrays").glob("*.npy"))
        }
        # MMAP_IFC maps every index kind in place (IO_FLAG_MMAP copies flat and HNSW indexes into
        # private memory), so all server processes share one page-cache copy (bench/scale.py).
        dense = faiss.read_index(str(directory / "dense.faiss"), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise _damaged(path, exc) from exc
    counts = manifest.get("counts", {})
    if (
        len(passages) != counts.get("passages")
        or dense.ntotal != len(passages)
        or len(sentences) != counts.get("sentences")
    ):
        raise IndexCorruptError(f"index at {str(path)!r} is inconsistent (counts differ): {rebuild_hint(path)}")
    return IndexData(
        path=directory,
        manifest=manifest,
        documents=documents,
        passages=passages,
        sentences=np.asarray(sentences, dtype=np.int64).reshape(-1, 3),
        first_sentence=np.asarray(first, dtype=np.int64),
        arrays=arrays,
        dense=dense,
    )


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of the index at `path`, or None if there is no readable one."""
    try:
        return json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        yield from (line for line in f if line.strip())


def lock_path(out: Path) -> Path:
    """The file whose OS lock a build of the index `out` holds."""
    return out.parent / f".{out.name}.lock"


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold the single-writer lock of the index `out`; refuse at once if another build holds it.

    The lock is an OS file lock, so a build that is killed releases it. An `out` that can never
    become the index is refused here, before any work, not when the finished build is published.
    """
    if out.exists() and not out.is_dir():
        raise BuildError(f"--out {str(out)!r} is a file, not an index folder: choose another --out")
    if out.is_dir() and not out.is_symlink() and not (out / MANIFEST).exists() and any(out.iterdir()):
        raise BuildError(f"--out {str(out)!r} is a folder that holds no index: choose another --out or empty it")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path(out), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise IndexBusyError(
                    f"another build of {str(out)!r} is running; wait for it to finish and try again"
                ) from None
            raise
        yield


def new_build_dir(out: Path) -> Path:
    """A fresh, empty, unpublished folder for a build of `out` (call under `build_lock`)."""
    root = builds_dir(out)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("*.partial"):  # left by builds that died; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    # Names sort in build order (publish keeps the newest), even for builds within one second.
    seconds, nanoseconds = divmod(time.time_ns(), 10**9)
    stamp = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(seconds))}-{nanoseconds:09d}"
    directory = root / f"{stamp}-{os.getpid()}.partial"
    directory.mkdir()
    return directory


def publish(directory: Path, out: Path) -> Path:
    """Make the complete build `directory` the index `out`, atomically; return its final path."""
    final = directory.with_suffix("")
    os.rename(directory, final)
    if out.exists() and not out.is_symlink():
        _adopt_plain_directory(out)
    link = out.parent / f".{out.name}.link-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    os.symlink(os.path.relpath(final, out.parent), link)
    os.replace(link, out)  # the atomic step
    _fsync_tree(out.parent, recursive=False)
    builds = sorted((p for p in builds_dir(out).iterdir() if not p.name.endswith(".partial")), key=lambda p: p.name)
    for old in builds[:-_KEEP_BUILDS]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _adopt_plain_directory(out: Path) -> None:
    """Move a plain index folder at `out` (copied in by hand) aside so a link can take its place."""
    if any(out.iterdir()) and not (out / MANIFEST).exists():
        raise FileExistsError(f"{str(out)!r} exists and is not an index; choose another --out or remove it")
    if any(out.iterdir()):
        out.rename(builds_dir(out) / f"00000000-adopted-{os.getpid()}")
    else:
        out.rmdir()


def _fsync_tree(directory: Path, recursive: bool = True) -> None:
    paths = [p for p in directory.rglob("*") if p.is_file()] if recursive else []
    for path in [*paths, directory]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Build an index: read sources, clean, split, embed, store, publish atomically.

Incremental: a document whose content hash, model, splitter settings and reader version match
the index being replaced keeps its passages and vectors (and is not even read again); only new
or changed documents are embedded. A change of model, splitter or readers rebuilds everything
and says why. `add` and `remove` change some documents of an index without naming the others;
build, add and remove all publish through `_make`, under the index's single-writer lock.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from index.clean import byline_words
from index.read import Unusable, read
from index.split import chunk
from qa import store
from qa.config import SETTINGS
from qa.embed import DIMENSION, get_embedder, model_id
from qa.errors import BuildError, IndexCorruptError, IndexNotFoundError
from qa.lexical import BM25, indexed_text
from qa.search import make_dense
from qa.sources import SourceFile, discover, file_hash
from qa.types import Document, Passage, byline

log = logging.getLogger(__name__)

# Told of long work as it goes: (stage, done, total), e.g. ("Embedding", 120, 400).
OnProgress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    """What a build (or an add or a remove) did, for the command line and for tests.

    `read` counts the documents read from files (new or changed); `embedded` and `reused` count
    passages; `removed` names the documents that were taken out.
    """

    path: Path
    documents: int = 0
    passages: int = 0
    read: int = 0
    embedded: int = 0
    reused: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    full_rebuild_reason: str = ""
    seconds: float = 0.0


@dataclass
class _Part:
    """One document's share of the index: its passages, their sentences and vectors."""

    document: Document
    digest: str
    passages: list[Passage]
    sentences: list[list[tuple[int, int]]]
    indexed_at: str
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None


@dataclass(frozen=True)
class _Previous:
    """The index being replaced: its data if it loads, and whether its vectors can be reused."""

    data: store.IndexData | None
    reusable: bool
    reason: str  # why it cannot be reused ("" when it can, or when there is none)
    damaged: bool = False
    rows: dict[str, list[int]] = field(default_factory=dict)  # each document's passage rows
    documents: dict[str, dict] = field(default_factory=dict)  # each document's manifest entry


@dataclass
class _Plan:
    """What the new index is made of: files to read, plus documents carried over unchanged."""

    files: list[SourceFile]
    carried: list[str]  # cited names of the previous index's documents kept as they are
    inputs: dict[str, str]  # cited name -> content hash, of the files the index is made from
    sources: list[str]  # the folders and files it was built from (resolved)
    describe: str  # what was asked for, for the "no usable document in ..." message
    # Names of the `SourceFile`s given as they are (web pages, uploads): not files of `sources`,
    # so kept out of `inputs`, which the default index compares with its corpus folder.
    given: frozenset[str] = frozenset()


class Engine(Protocol):
    """Where a build reads, splits and embeds: in this process (`LocalEngine`) or on a Ray cluster
    (`index.distributed.RayEngine`). Both give the same parts; vectors agree to float rounding.
    """

    def read(self, files: Sequence[tuple[SourceFile, str]], max_bytes: int, now: str, progress: Any) -> list[Any]:
        """For each (file, content hash): its `_Part`, or the reason (str) it cannot be used; in order.

        `progress` is a tqdm bar to update per file."""
        ...

    def encode(self, texts: Sequence[str], progress: Any) -> np.ndarray:
        """Unit vectors for `texts`, in order; `progress` is a tqdm bar to update per text."""
        ...


def read_part(file: SourceFile, digest: str, max_bytes: int, now: str) -> _Part | str:
    """One file read, cleaned and split into its `_Part`, or the reason it cannot be used."""
    try:
        document = read(file, max_bytes)
    except Unusable as exc:
        return str(exc)
    return _split(document, digest, now)


class LocalEngine:
    """Reads files one after another and embeds on this machine's cores."""

    def read(self, files: Sequence[tuple[SourceFile, str]], max_bytes: int, now: str, progress: Any) -> list[Any]:
        """See `Engine.read`."""
        results = []
        for file, digest in files:
            results.append(read_part(file, digest, max_bytes, now))
            progress.update()
        return results

    def encode(self, texts: Sequence[str], progress: Any) -> np.ndarray:
        """See `Engine.encode`."""
        return get_embedder(SETTINGS.build_threads, bulk=True).encode(texts, progress=progress)


def sentence_embedding_texts(document: Document, spans: Sequence[tuple[int, int]]) -> list[str]:
    """The texts embedded for a document's sentences: the title gives a lone sentence its topic.

    Passages are embedded as they are (they carry their topic); measured on SQuAD and the
    article, titled sentences and plain passages beat every other combination. One exception:
    the byline's "Published <date>" line (made from the date the document declares) is about
    when, not about the topic. Titled, it read as the title itself (cosine 0.68 with "What is
    culture, according to Michael West?") and matched "When was the article published?" less
    (0.25 against 0.59 plain); plain, it matches only questions about the date. The
    "By <author>" line stays titled: plain, it is a bare name that outscores the sentences saying
    who the author is ("Who is Michael West?": 0.60 against 0.41).
    """
    dated = set(byline("", document.metadata.get("date", "")))
    texts = [document.text[start:end] for start, end in spans]
    return [text if text in dated or not document.title else f"{document.title}: {text}" for text in texts]


def build(
    sources: Sequence[Path | SourceFile] | None = None,
    out: Path | None = None,
    progress: bool = True,
    *,
    max_file_bytes: int | None = None,
    engine: Engine | None = None,
    on_progress: OnProgress | None = None,
) -> BuildReport:
    """Build the index of `sources` (default: the corpus folder) at `out` (default index location).

    `sources` are files or folders, or `SourceFile`s taken as they are (a fetched web page).

    Files that cannot be used (or over `max_file_bytes`, default QA_MAX_FILE_BYTES) are skipped
    with a warning naming each; a build with no usable document raises BuildError and leaves any
    index at `out` untouched. Documents whose content is unchanged since the index at `out` was
    built keep their passages and vectors; documents no longer in `sources` disappear. `engine`
    says where reading and embedding run (default: here; `index.distributed.RayEngine`: a cluster).

    E.g. `build([Path("corpus")], Path("/tmp/idx")).passages` is 19, the article's passages.
    """
    items = sources or [SETTINGS.corpus_dir]
    files, paths = _gather(items)
    out = Path(out or SETTINGS.index_dir)
    with store.build_lock(out):
        previous = _previous(out)
        plan = _Plan(
            files=files,
            carried=[],
            inputs={},
            sources=[str(p.resolve()) for p in paths],
            describe=_describe(items),
            given=_given(items),
        )
        return _make(out, previous, plan, progress, max_file_bytes, engine, on_progress)


def add(
    paths: Sequence[Path | SourceFile],
    out: Path | None = None,
    progress: bool = True,
    *,
    max_file_bytes: int | None = None,
    engine: Engine | None = None,
    on_progress: OnProgress | None = None,
) -> BuildReport:
    """Add the files named by `paths` (files or folders) to the index at `out`, or replace them.

    A file is cited as a build of the index's own source folders would cite it, so adding a
    changed file from one of them replaces its document. Every other document is kept with its
    vectors; only the files added are read and embedded. With no index at `out`, this builds
    one of `paths`. A `SourceFile` (a fetched web page, an upload) is taken as it is, under its
    own name. Raises BuildError if none of the files is usable, IndexCorruptError if the
    index at `out` is damaged or was built another way (another model, splitter or readers).
    """
    out = Path(out or SETTINGS.index_dir)
    with store.build_lock(out):
        previous = _previous(out)
        exists = previous.data is not None or previous.damaged
        manifest = _editable(previous, out, "add to").manifest if exists else {}
        files, found = _gather(paths, roots=[Path(s) for s in manifest.get("sources", [])])
        names = {f.name for f in files}
        recorded = manifest.get("sources", [])
        plan = _Plan(
            files=files,
            carried=[d["source"] for d in manifest.get("documents", []) if d["source"] not in names],
            inputs={n: h for n, h in manifest.get("inputs", {}).items() if n not in names},
            sources=recorded + [str(p.resolve()) for p in found if not _within(p, recorded)],
            describe=_describe(paths),
            given=_given(paths),
        )
        return _make(out, previous, plan, progress, max_file_bytes, engine, on_progress)


def remove(
    names: Sequence[str], out: Path | None = None, progress: bool = True, *, on_progress: OnProgress | None = None
) -> BuildReport:
    """Remove the documents cited as `names` from the index at `out`; the others keep their vectors.

    Raises BuildError, leaving the index as it is, if a name is not in the index or if nothing
    would be left; IndexNotFoundError if there is no index; IndexCorruptError if it is damaged.
    """
    out = Path(out or SETTINGS.index_dir)
    with store.build_lock(out):
        previous = _previous(out)
        if previous.data is None and not previous.damaged:
            raise IndexNotFoundError(f"no index at {str(out)!r}: build one with `python -m index build --out {out}`")
        manifest = _editable(previous, out, "remove from").manifest
        documents = [d["source"] for d in manifest["documents"]]
        inputs = manifest.get("inputs", {})
        unknown = [n for n in names if n not in documents and n not in inputs]
        if unknown:
            raise BuildError(
                f"not in the index at {str(out)!r}: {', '.join(unknown)} "
                f"(`python -m index list --out {out}` shows the names); nothing was removed"
            )
        carried = [n for n in documents if n not in names]
        if not carried:
            raise BuildError(f"removing {', '.join(names)} would leave no document; the index is unchanged")
        plan = _Plan(
            files=[],
            carried=carried,
            inputs={n: h for n, h in inputs.items() if n not in names},
            sources=manifest.get("sources", []),
            describe="",
        )
        report = _make(out, previous, plan, progress, None, None, on_progress)
        report.removed = [n for n in documents if n in names]
        return report


def _gather(items: Sequence[Path | SourceFile], roots: Sequence[Path] = ()) -> tuple[list[SourceFile], list[Path]]:
    """The files to read: those the paths name (see `discover`) plus the `SourceFile`s given; and the paths."""
    given = [i for i in items if isinstance(i, SourceFile)]
    paths = [Path(i) for i in items if not isinstance(i, SourceFile)]
    files = discover(paths, roots) if paths else []
    return sorted(files + given, key=lambda f: f.name), paths


def _given(items: Sequence[Path | SourceFile]) -> frozenset[str]:
    return frozenset(i.name for i in items if isinstance(i, SourceFile))


def _describe(items: Sequence[Path | SourceFile]) -> str:
    return ", ".join(i.name if isinstance(i, SourceFile) else str(i) for i in items)


def _within(path: Path, folders: Sequence[str]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder) for folder in folders)


def _editable(previous: _Previous, out: Path, action: str) -> store.IndexData:
    """The previous index, if documents can be added to or removed from it as it is."""
    if previous.damaged or not previous.reusable:
        why = "it is damaged" if previous.damaged else previous.reason
        raise IndexCorruptError(f"cannot {action} the index at {str(out)!r}: {why}; {store.rebuild_hint(out)}")
    assert previous.data is not None  # reusable implies loaded
    return previous.data


def _make(
    out: Path,
    previous: _Previous,
    plan: _Plan,
    progress: bool,
    max_file_bytes: int | None,
    engine: Engine | None,
    on_progress: OnProgress | None = None,
) -> BuildReport:
    """Read the plan's files, carry its kept documents over, embed what is new, save, publish.

    The one path by which build, add and remove write an index; call it under the build lock.
    """
    began = time.monotonic()
    clashes = sorted(name for name, n in Counter(f.name for f in plan.files).items() if n > 1)
    if clashes:
        # Documents are known by their cited name: two files under one name would be one document.
        paths = ", ".join(str(f.path) for f in plan.files if f.name in clashes)
        raise BuildError(f"more than one file would be cited as {', '.join(clashes)} ({paths}); rename one")
    max_bytes = SETTINGS.max_file_bytes if max_file_bytes is None else max_file_bytes
    report = BuildReport(path=out, full_rebuild_reason=previous.reason)
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    parts = [_reuse(previous, name) for name in plan.carried]
    carried = len(parts)
    inputs = dict(plan.inputs)
    engine = engine or LocalEngine()
    to_read: list[tuple[SourceFile, str]] = []
    for file in plan.files:
        try:
            digest = file_hash(file.path)
        except OSError as exc:
            _skip(file, f"cannot be read ({exc.strerror})", report)
            continue
        if file.name not in plan.given:
            inputs[file.name] = digest
        if previous.reusable and _digest(previous, file.name) == digest:
            parts.append(_reuse(previous, file.name))  # unchanged: not even read again
        else:
            to_read.append((file, digest))
    with _Bar(on_progress, "Reading", total=len(to_read), unit="doc", disable=not progress or not to_read) as bar:
        results = engine.read(to_read, max_bytes, now, bar)
    for (file, _), result in zip(to_read, results, strict=True):
        if isinstance(result, str):
            _skip(file, result, report)
        else:
            report.read += 1
            parts.append(result)
    if (plan.files and len(parts) == carried) or not parts:
        # Each file's reason, by the name it would be cited by: the one place the person who
        # added them sees why (a server's log is not theirs to read).
        reasons = [f"{f.name}: {report.skipped[str(f.path)]}" for f in plan.files if str(f.path) in report.skipped]
        raise BuildError(
            f"no usable document in {plan.describe}"
            + (f" ({'; '.join(reasons)})" if reasons else "")
            + (
                "; the existing index is unchanged"
                if previous.data is not None or previous.damaged
                else "; no index was written"
            )
        )
    parts.sort(key=lambda p: p.document.source)
    fresh = [p for p in parts if p.passage_vectors is None]
    _embed(fresh, report, progress, engine, on_progress)
    report.reused = sum(len(p.passages) for p in parts) - report.embedded
    if on_progress:
        on_progress("Saving", 0, 1)
    directory = store.new_build_dir(out)
    _save(directory, parts, inputs, plan.sources)
    report.path = store.publish(directory, out)
    report.documents = len(parts)
    report.passages = sum(len(p.passages) for p in parts)
    report.seconds = time.monotonic() - began
    return report


def _skip(file: SourceFile, reason: str, report: BuildReport) -> None:
    log.warning("skipped %s: %s", file.path, reason)
    report.skipped[str(file.path)] = reason


def _previous(out: Path) -> _Previous:
    """The index being replaced, and whether its passages and vectors can be reused."""
    try:
        data = store.load(out)
    except IndexNotFoundError:
        return _Previous(None, False, "")
    except IndexCorruptError as exc:
        log.warning("the existing index cannot be reused (%s)", exc)
        return _Previous(None, False, "the existing index is damaged", damaged=True)
    manifest = data.manifest
    if manifest.get("model") != model_id():
        return _Previous(data, False, f"the model changed ({manifest.get('model')} -> {model_id()})")
    if manifest.get("settings") != SETTINGS.splitter_id():
        return _Previous(
            data, False, f"the splitter settings changed ({manifest.get('settings')} -> {SETTINGS.splitter_id()})"
        )
    rows: dict[str, list[int]] = {}
    for i, passage in enumerate(data.passages):
        rows.setdefault(passage.source, []).append(i)
    documents = {d["source"]: d for d in manifest["documents"]}
    return _Previous(data, True, "", rows=rows, documents=documents)


def _digest(previous: _Previous, name: str) -> str | None:
    return previous.documents.get(name, {}).get("sha256")


def _reuse(previous: _Previous, name: str) -> _Part:
    """The document `name` of the previous index, with its passages, sentences and vectors."""
    data = previous.data
    assert data is not None and previous.reusable
    meta = previous.documents[name]
    rows = previous.rows[name]
    sentence_rows = np.concatenate([np.arange(data.first_sentence[i], data.first_sentence[i + 1]) for i in rows])
    return _Part(
        document=data.documents[name],
        digest=meta["sha256"],
        passages=[data.passages[i] for i in rows],
        sentences=[
            [(int(s), int(e)) for _, s, e in data.sentences[data.first_sentence[i] : data.first_sentence[i + 1]]]
            for i in rows
        ],
        indexed_at=meta.get("indexed_at", data.manifest["built_at"]),
        passage_vectors=np.asarray(data.arrays["passage_vectors"][rows]),
        sentence_vectors=np.asarray(data.arrays["sentence_vectors"][sentence_rows]),
    )


def _split(document: Document, digest: str, indexed_at: str) -> _Part:
    chunks = chunk(document, SETTINGS.passage_chars, SETTINGS.sentence_chars)
    passages = [
        Passage(
            text=document.text[c.span.start : c.span.end],
            source=document.source,
            title=document.title,
            start=c.span.start,
            end=c.span.end,
            paragraph=c.paragraph,
            section=document.section_at(c.span.start),
            page=document.page_at(c.span.start),
            metadata=document.metadata,
        )
        for c in chunks
    ]
    sentences = [[(s.start, s.end) for s in c.sentences] for c in chunks]
    return _Part(document, digest, passages, sentences, indexed_at)


class _Bar(tqdm):
    """A tqdm bar that also tells `on_progress` (a background job's progress) of each step."""

    def __init__(self, on_progress: OnProgress | None, stage: str, desc: str = "", **kwargs) -> None:
        self._on_progress, self._stage, self._done = on_progress, stage, 0
        super().__init__(desc=desc or stage, **kwargs)
        if on_progress:
            on_progress(stage, 0, self.total or 0)

    def update(self, n: float | None = 1) -> bool | None:
        self._done += int(n or 0)
        if self._on_progress:
            self._on_progress(self._stage, self._done, self.total or 0)
        return super().update(n)


def _embed(
    parts: list[_Part], report: BuildReport, progress: bool, engine: Engine, on_progress: OnProgress | None = None
) -> None:
    """Embed the passages and sentences of `parts` in one pass (one model call per batch)."""
    texts: list[str] = []
    for part in parts:
        doc = part.document
        texts += [p.text for p in part.passages]
        texts += sentence_embedding_texts(doc, [span for spans in part.sentences for span in spans])
    if not texts:
        return
    passages = sum(len(part.passages) for part in parts)
    desc = f"Embedding {passages} passages and {len(texts) - passages} sentences"
    with _Bar(on_progress, "Embedding", total=len(texts), desc=desc, unit="text", disable=not progress) as bar:
        vectors = engine.encode(texts, bar)
    at = 0
    for part in parts:
        n_passages = len(part.passages)
        n_sentences = sum(len(s) for s in part.sentences)
        part.passage_vectors = vectors[at : at + n_passages]
        part.sentence_vectors = vectors[at + n_passages : at + n_passages + n_sentences]
        at += n_passages + n_sentences
        report.embedded += n_passages


def _save(directory: Path, parts: list[_Part], inputs: dict[str, str], sources: Sequence[str]) -> None:
    passages = [p for part in parts for p in part.passages]
    passage_vectors = np.concatenate([p.passage_vectors for p in parts]).astype(np.float32)
    sentence_vectors = np.concatenate([p.sentence_vectors for p in parts]).astype(np.float32)
    lexical = BM25.build([indexed_text(p) + byline_words(p.text, p.metadata.get("author", "")) for p in passages])
    # Sentence-level BM25 picks the answering sentence inside a passage.
    sentence_lexical = BM25.build(
        [
            text + byline_words(text, part.document.metadata.get("author", ""))
            for part in parts
            for spans in part.sentences
            for text in (part.document.text[s:e] for s, e in spans)
        ]
    )
    dense, dense_kind = make_dense(passage_vectors)
    manifest = {
        "model": model_id(),
        "dimension": DIMENSION,
        "settings": SETTINGS.splitter_id(),
        "dense_index": dense_kind,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sources": list(sources),
        "inputs": inputs,
        "documents": [
            {
                "source": part.document.source,
                "title": part.document.title,
                "sha256": part.digest,
                "passages": len(part.passages),
                "pages": len(part.document.pages),  # 0 for a document without pages (all but PDFs)
                "indexed_at": part.indexed_at,
                "metadata": part.document.metadata,
            }
            for part in parts
        ],
        "counts": {
            "documents": len(parts),
            "passages": len(passages),
            "sentences": len(sentence_vectors),
        },
    }
    store.save(
        directory,
        manifest=manifest,
        documents=[p.document for p in parts],
        passages=passages,
        sentences=[s for part in parts for s in part.sentences],
        arrays={
            "passage_vectors": passage_vectors,
            "sentence_vectors": sentence_vectors,
            **lexical.to_arrays("bm25"),
            **sentence_lexical.to_arrays("sentence_bm25"),
        },
        dense=dense,
    )

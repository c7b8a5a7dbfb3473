"""Build an index: read sources, clean, split, embed, store, publish atomically.

Incremental: a document whose content hash, model and splitter settings match the index being
replaced keeps its passages and vectors; only new or changed documents are embedded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.read import Unusable, read
from index.split import chunk
from qa import store
from qa.config import SETTINGS
from qa.embed import DIMENSION, get_embedder, model_id
from qa.errors import BuildError, IndexCorruptError, IndexNotFoundError
from qa.lexical import BM25
from qa.search import make_dense
from qa.sources import discover, file_hash
from qa.types import Document, Passage

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    """What a build did, for the command line and for tests."""

    path: Path
    documents: int = 0
    passages: int = 0
    embedded: int = 0
    reused: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    full_rebuild_reason: str = ""
    seconds: float = 0.0


@dataclass
class _Part:
    """One document's share of the index: its passages, their sentences and vectors."""

    document: Document
    digest: str
    passages: list[Passage]
    sentences: list[list[tuple[int, int]]]
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None


def embedding_text(passage: Passage) -> str:
    """The text embedded for a passage: its document title gives the model the topic."""
    return f"{passage.title}. {passage.text}"


def build(sources: Sequence[Path] | None = None, out: Path | None = None, progress: bool = True) -> BuildReport:
    """Build the index of `sources` (default: the corpus folder) at `out` (default index location).

    Files that cannot be used are skipped with a warning naming each; a build with no usable
    document raises BuildError and leaves any index at `out` untouched.

    >>> report = build([Path("corpus")], Path("/tmp/idx"))  # doctest: +SKIP
    >>> report.passages  # doctest: +SKIP
    18
    """
    began = time.monotonic()
    sources = list(sources or [SETTINGS.corpus_dir])
    out = Path(out or SETTINGS.index_dir)
    files = discover(sources)
    report = BuildReport(path=out)
    with store.build_lock(out):
        previous, report.full_rebuild_reason = _previous(out)
        parts, inputs = [], {}
        for file in tqdm(files, desc="Reading", unit="file", disable=not progress or len(files) < 20):
            digest = file_hash(file.path)
            inputs[file.name] = digest
            try:
                document = read(file, SETTINGS.max_file_bytes)
            except Unusable as exc:
                log.warning("skipped %s: %s", file.path, exc)
                report.skipped[str(file.path)] = str(exc)
                continue
            parts.append(_reuse(previous, document, digest) or _split(document, digest))
        if not parts:
            raise BuildError(
                f"no usable document in {', '.join(map(str, sources))}"
                + (f" ({len(report.skipped)} skipped)" if report.skipped else "")
                + "; the existing index is unchanged"
            )
        _embed([p for p in parts if p.passage_vectors is None], report, progress)
        report.reused = sum(len(p.passages) for p in parts) - report.embedded
        directory = store.new_build_dir(out)
        _save(directory, parts, inputs, sources)
        report.path = store.publish(directory, out)
    report.documents = len(parts)
    report.passages = sum(len(p.passages) for p in parts)
    report.seconds = time.monotonic() - began
    return report


def _previous(out: Path) -> tuple[store.IndexData | None, str]:
    """The index being replaced, if its passages can be reused; else why not."""
    try:
        previous = store.load(out)
    except IndexNotFoundError:
        return None, ""
    except IndexCorruptError as exc:
        log.warning("the existing index cannot be reused (%s); building from scratch", exc)
        return None, "the existing index is damaged"
    manifest = previous.manifest
    if manifest.get("model") != model_id():
        return None, f"the model changed ({manifest.get('model')} -> {model_id()})"
    if manifest.get("settings") != SETTINGS.splitter_id():
        return None, f"the splitter settings changed ({manifest.get('settings')} -> {SETTINGS.splitter_id()})"
    return previous, ""


def _reuse(previous: store.IndexData | None, document: Document, digest: str) -> _Part | None:
    if previous is None:
        return None
    meta = next((d for d in previous.manifest["documents"] if d["source"] == document.source), None)
    if meta is None or meta["sha256"] != digest:
        return None
    rows = [i for i, p in enumerate(previous.passages) if p.source == document.source]
    sentence_rows = np.concatenate(
        [np.arange(previous.first_sentence[i], previous.first_sentence[i + 1]) for i in rows]
    )
    return _Part(
        document=document,
        digest=digest,
        passages=[previous.passages[i] for i in rows],
        sentences=[
            [
                (int(s), int(e))
                for _, s, e in previous.sentences[previous.first_sentence[i] : previous.first_sentence[i + 1]]
            ]
            for i in rows
        ],
        passage_vectors=np.asarray(previous.arrays["passage_vectors"][rows]),
        sentence_vectors=np.asarray(previous.arrays["sentence_vectors"][sentence_rows]),
    )


def _split(document: Document, digest: str) -> _Part:
    chunks = chunk(document, SETTINGS.passage_chars)
    passages = [
        Passage(
            text=document.text[c.span.start : c.span.end],
            source=document.source,
            title=document.title,
            start=c.span.start,
            end=c.span.end,
            paragraph=c.paragraph,
            section=document.section_at(c.span.start),
            metadata=document.metadata,
        )
        for c in chunks
    ]
    sentences = [[(s.start, s.end) for s in c.sentences] for c in chunks]
    return _Part(document, digest, passages, sentences)


def _embed(parts: list[_Part], report: BuildReport, progress: bool) -> None:
    """Embed the passages and sentences of `parts` in one pass (one model call per batch)."""
    texts: list[str] = []
    for part in parts:
        texts += [embedding_text(p) for p in part.passages]
        texts += [part.document.text[s:e] for spans in part.sentences for s, e in spans]
    if not texts:
        return
    with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress) as bar:
        vectors = get_embedder().encode(texts, progress=bar)
    at = 0
    for part in parts:
        n_passages = len(part.passages)
        n_sentences = sum(len(s) for s in part.sentences)
        part.passage_vectors = vectors[at : at + n_passages]
        part.sentence_vectors = vectors[at + n_passages : at + n_passages + n_sentences]
        at += n_passages + n_sentences
        report.embedded += n_passages


def _save(directory: Path, parts: list[_Part], inputs: dict[str, str], sources: Sequence[Path]) -> None:
    passages = [p for part in parts for p in part.passages]
    passage_vectors = np.concatenate([p.passage_vectors for p in parts]).astype(np.float32)
    sentence_vectors = np.concatenate([p.sentence_vectors for p in parts]).astype(np.float32)
    lexical = BM25.build([embedding_text(p) for p in passages])
    dense, dense_kind = make_dense(passage_vectors)
    manifest = {
        "model": model_id(),
        "dimension": DIMENSION,
        "settings": SETTINGS.splitter_id(),
        "dense_index": dense_kind,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "sources": [str(Path(s).resolve()) for s in sources],
        "inputs": inputs,
        "documents": [
            {
                "source": part.document.source,
                "title": part.document.title,
                "sha256": part.digest,
                "passages": len(part.passages),
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
        arrays={"passage_vectors": passage_vectors, "sentence_vectors": sentence_vectors, **lexical.to_arrays("bm25")},
        dense=dense,
    )

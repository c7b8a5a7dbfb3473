"""`Index`: a loaded index that answers questions, and picks up rebuilds without a restart."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from qa import store
from qa.answerable import Evidence, Model, features, model
from qa.config import SETTINGS
from qa.embed import get_embedder, model_id
from qa.errors import IndexCorruptError
from qa.followup import contextualize
from qa.lexical import BM25, tokenize
from qa.search import Corpus, Hit, rank
from qa.types import ANSWERED, NOT_COVERED, RELATED, Answer, Passage

log = logging.getLogger(__name__)

# Relevance (see qa.search) under which the best passage is off the content's topic, and above
# which it is labelled "high". On the article's questions, off-topic ones score at most 0.15 and
# covered ones at least 0.48; 0.32 splits the gap (bench/eval_seed.py, eval_squad.py). On topic,
# whether the content answers is the judgement's call (qa.answerable).
TOPIC_THRESHOLD = 0.32
HIGH_THRESHOLD = 0.60
NOT_COVERED_TEXT = "The indexed content does not cover this question."
RELATED_TEXT = (
    "The indexed content does not answer this question. It has passages on the same topic, shown below, "
    "but none of them says what was asked."
)


@dataclass(frozen=True)
class Judgement:
    """One search and the verdict on it: the passages, the status and why.

    `probability` is the judgement's P(answered) (qa.answerable); `features` what it read.
    """

    status: str
    probability: float
    features: np.ndarray
    passages: list[Passage]


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document, as the manifest describes it."""

    source: str
    title: str
    passages: int
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds and when it was built."""

    path: Path
    documents: list[DocumentInfo]
    passages: int
    built_at: str
    model: str


def normalize_question(question: str) -> str:
    """White space collapsed and length capped; ValueError if nothing is left.

    >>> normalize_question("  What is\\n collective   leadership? ")
    'What is collective leadership?'
    """
    if not isinstance(question, str):
        raise ValueError(f"a question must be text, not {type(question).__name__}")
    text = re.sub(r"\s+", " ", question).strip()
    if not text:
        raise ValueError("the question is empty: ask something, e.g. 'What is collective leadership?'")
    return text[: SETTINGS.question_chars]


class _Loaded:
    """One build directory in memory, with the search structures derived from it."""

    def __init__(self, data: store.IndexData, stamp: tuple[str, int]) -> None:
        self.data = data
        self.stamp = stamp
        arrays = data.arrays
        self.corpus = Corpus.from_texts(
            [p.text for p in data.passages],
            dense=data.dense,
            passage_vectors=arrays["passage_vectors"],
            sentence_vectors=arrays["sentence_vectors"],
            first_sentence=data.first_sentence,
            sentence_spans=data.sentences[:, 1:],
            lexical=BM25.from_arrays(arrays, "bm25", len(data.passages)),
            sentence_lexical=BM25.from_arrays(arrays, "sentence_bm25", len(data.sentences)),
        )


class Index:
    """A searchable index on disk.

    >>> index = Index.load("var/index")  # doctest: +SKIP
    >>> index.ask("What is collective leadership?").text  # doctest: +SKIP
    'Collective leadership is a leadership in which all staff take responsibility ...'
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._loaded = self._load()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Index:
        """Load the index at `path`; raises IndexNotFoundError or IndexCorruptError."""
        return cls(Path(path))

    def _stamp(self) -> tuple[str, int]:
        # Resolving the link and one stat: cheap enough to do before every question.
        directory = store.resolve(self.path)
        return str(directory), (directory / store.MANIFEST).stat().st_mtime_ns

    def _load(self) -> _Loaded:
        stamp = self._stamp()
        data = store.load(self.path)
        if data.manifest.get("model") != model_id():
            raise IndexCorruptError(
                f"index at {str(self.path)!r} was built with another model ({data.manifest.get('model')}): "
                f"rebuild it with `python -m index build --out {self.path}`"
            )
        log.info("loaded index %s (%d passages)", data.path, len(data.passages))
        return _Loaded(data, stamp)

    def _current(self) -> _Loaded:
        """The loaded index, reloaded first if a build has published a new one since."""
        try:
            stamp = self._stamp()
        except (OSError, store.IndexNotFoundError):
            return self._loaded  # removed under us: keep serving what we have
        if stamp != self._loaded.stamp:
            with self._lock:
                if stamp != self._loaded.stamp:
                    try:
                        self._loaded = self._load()
                    except IndexCorruptError as exc:
                        log.error("not reloading %s: %s", self.path, exc)
        return self._loaded

    @property
    def info(self) -> IndexInfo:
        """The documents, passage count and build time of the index now serving."""
        manifest = self._current().data.manifest
        return IndexInfo(
            path=self.path,
            documents=[
                DocumentInfo(d["source"], d["title"], d["passages"], d.get("metadata", {}))
                for d in manifest["documents"]
            ],
            passages=manifest["counts"]["passages"],
            built_at=manifest["built_at"],
            model=manifest["model"],
        )

    def retrieve(self, question: str, k: int = 5) -> list[Passage]:
        """The `k` passages that best answer `question`, best first, each with its highlight."""
        loaded = self._current()
        return self._retrieve(loaded, normalize_question(question), k)

    def _retrieve(self, loaded: _Loaded, query: str, k: int) -> list[Passage]:
        vector = get_embedder(SETTINGS.query_threads).encode([query])[0]
        return [self._passage(loaded.data, hit) for hit in rank(loaded.corpus, vector, query, k)]

    @staticmethod
    def _passage(data: store.IndexData, hit: Hit) -> Passage:
        passage = data.passages[hit.row]
        start = int(data.sentences[hit.first, 1]) - passage.start
        end = int(data.sentences[hit.last, 2]) - passage.start
        if hit.relevance >= HIGH_THRESHOLD:
            relevance = "high"
        elif hit.relevance >= TOPIC_THRESHOLD:
            relevance = "medium"
        else:
            relevance = "low"
        return replace(
            passage,
            score=hit.score,
            similarity=hit.relevance,
            relevance=relevance,
            highlight=passage.text[start:end],
            highlight_start=start,
            highlight_end=end,
        )

    def ask(self, question: str, k: int = 3, history: Sequence[str] = ()) -> Answer:
        """Answer `question` with quoted sentence(s) and the passages they come from.

        `history` holds the conversation's earlier questions: a follow-up ("and who should do
        that?") is searched together with them; `Answer.query` says what was searched.
        """
        question = normalize_question(question)
        query = normalize_question(contextualize(question, [h for h in history if h and h.strip()]))
        judgement = self._judge(self._current(), query, k)
        status, passages = judgement.status, judgement.passages
        text = {ANSWERED: passages[0].highlight if passages else "", RELATED: RELATED_TEXT}.get(
            status, NOT_COVERED_TEXT
        )
        return Answer(
            found=status == ANSWERED, text=text, passages=passages, question=question, query=query, status=status
        )

    def judge(self, question: str, k: int = 3, judge: Model | None = None) -> Judgement:
        """Search `question` and judge whether the content answers it, is only related, or neither.

        What `ask` decides its status with, for benchmarks and diagnostics; `judge` replaces the
        shipped model (qa/answerable.json) with another, e.g. one being fitted.
        """
        return self._judge(self._current(), normalize_question(question), k, judge)

    def _judge(self, loaded: _Loaded, query: str, k: int, judge: Model | None = None) -> Judgement:
        vector = get_embedder(SETTINGS.query_threads).encode([query])[0]
        hits = rank(loaded.corpus, vector, query, max(k, 2))  # the second passage gives the gaps
        passages = [self._passage(loaded.data, hit) for hit in hits[:k]]
        if not hits:
            return Judgement(NOT_COVERED, 0.0, np.zeros(0), passages)
        top, best = hits[0], self._passage(loaded.data, hits[0])
        first_sentence = loaded.corpus.first_sentence
        evidence = Evidence(
            question=query,
            terms=tokenize(query),
            sentence_cos=[h.sentence_cos for h in hits],
            scores=[h.score for h in hits],
            passage_cos=top.passage_cos,
            highlight_cos=top.highlight_cos,
            passage_row=top.row,
            sentence_rows=range(int(first_sentence[top.row]), int(first_sentence[top.row + 1])),
            highlight_rows=range(top.first, top.last + 1),
            highlight=best.highlight,
            passage_text=f"{best.title}\n{best.text}",
        )
        x = features(evidence, loaded.corpus.lexical, loaded.corpus.sentence_lexical)
        judge = judge or model()
        probability = float(judge.probability(x))
        if top.relevance < TOPIC_THRESHOLD:
            status = NOT_COVERED
        else:
            status = ANSWERED if probability >= judge.threshold else RELATED
        return Judgement(status, probability, x, passages)

    def context(self, passage: Passage, chars: int = 400) -> tuple[str, str]:
        """Up to `chars` characters of the document before and after `passage`, cut at words."""
        document = self._current().data.documents.get(passage.source)
        if document is None:
            return "", ""
        before = document.text[max(0, passage.start - chars) : passage.start]
        after = document.text[passage.end : passage.end + chars]
        if passage.start > chars:
            before = "…" + before.split(" ", 1)[-1]
        if passage.end + chars < len(document.text):
            after = after.rsplit(" ", 1)[0] + "…"
        return before.strip(), after.strip()

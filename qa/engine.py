"""`Index`: a loaded index that answers questions, and picks up rebuilds without a restart."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from qa import store
from qa.answerable import Evidence, Judge, features, mentions_only, teaser_answers
from qa.answerable import judge as shipped_judge
from qa.config import SETTINGS
from qa.crossencoder import get_cross_encoder
from qa.embed import model_id, question_batcher
from qa.errors import IndexCorruptError, IndexNotFoundError
from qa.followup import contextualize
from qa.framing import about_the_content, asks_nothing, attributed, what_is_asked
from qa.lexical import BM25, tokenize
from qa.search import Corpus, Hit, rank
from qa.spelling import english, mend
from qa.types import ANSWERED, NOT_COVERED, RELATED, UNSURE, Answer, Document, Passage, byline

log = logging.getLogger(__name__)

# Relevance (see qa.search) under which the best passage is off the content's topic, and above
# which it is labelled "high". On the article's questions, off-topic ones score at most 0.15 and
# covered ones at least 0.48; 0.32 splits the gap (bench/eval_seed.py, eval_squad.py). On topic,
# whether the content answers is the judgement's call (qa.answerable).
TOPIC_THRESHOLD = 0.32
HIGH_THRESHOLD = 0.60
# After a failed reload, wait this long before trying again (doubling up to the maximum), so a
# broken index costs one attempt and one log line per interval, not one per question.
RELOAD_BACKOFF_SECONDS = 5.0
RELOAD_BACKOFF_MAX_SECONDS = 300.0

NOT_COVERED_TEXT = "The indexed content does not cover this question."
NOTHING_ASKED_TEXT = "There is no question in this to answer from the content: ask about what it says."
# True whether or not the passage answers: said where the judgement cannot tell (qa.answerable).
UNSURE_TEXT = "The closest passage may answer this question; check the marked sentence."
# Said instead where that passage is a related-content teaser lacking a word the question asks
# with (qa.answerable.teaser_answers): the page it sums up is where an answer would be.
UNSURE_TEASER_TEXT = (
    "The closest passage sums up another page, which may answer this question; check the marked sentence."
)
RELATED_TEXT = (
    "The indexed content does not answer this question. It has passages on the same topic, shown below, "
    "but none of them says what was asked."
)


@dataclass(frozen=True)
class Judgement:
    """One search and the verdict on it: the passages, the status and why.

    `probability` is the judgement's P(answered) (qa.answerable), zero off topic, NaN for a
    question about what the content is about (no judgement is made); `features` what it read:
    the search's features, then the reader's logit (NaN where it did not run), none for those.
    """

    status: str
    probability: float
    features: np.ndarray
    passages: list[Passage]
    teaser_lacks: bool = False  # the first passage is a teaser lacking a word asked (qa.answerable)
    mentions_only: bool = False  # the first passage only mentions what is asked about (qa.answerable)
    nothing_asked: bool = False  # a greeting or thanks alone (qa.framing.asks_nothing): not searched


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
    """White space and control characters collapsed to one space, length capped; ValueError if
    nothing is left.

    >>> normalize_question("  What is\\n collective   leadership? "), normalize_question("\\x00What is culture?")
    ('What is collective leadership?', 'What is culture?')
    >>> normalize_question("What is caf\\udce9 culture?")  # a byte that was not UTF-8, as argv decodes it
    'What is caf\ufffd culture?'
    """
    if not isinstance(question, str):
        raise ValueError(f"a question must be text, not {type(question).__name__}")
    # Cut before collapsing white space, so a megabyte of question costs no more than a page. A
    # control character (a NUL pasted from a binary file) is no word, and was echoed back as one.
    text = re.sub(r"[\s\x00-\x1f\x7f]+", " ", question[: 4 * SETTINGS.question_chars]).strip()
    # A lone surrogate (a byte that was not UTF-8, decoded from argv or JSON's "\ud800") is no
    # character: the tokenizer refused the whole question with a TypeError.
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    if not text:
        raise ValueError("the question is empty: ask something, e.g. 'What is collective leadership?'")
    return text[: SETTINGS.question_chars]


def check_k(k: object) -> int:
    """`k` as a count of passages, or ValueError saying what is allowed.

    >>> check_k(3)
    3
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= SETTINGS.max_k:
        raise ValueError(f"k must be a whole number from 1 to {SETTINGS.max_k}, not {k!r}")
    return k


class _Loaded:
    """One build directory in memory, with the search structures derived from it."""

    def __init__(self, data: store.IndexData, stamp: tuple[str, int]) -> None:
        self.data = data
        self.stamp = stamp
        arrays = data.arrays
        self.corpus = Corpus.from_passages(
            data.passages,
            dense=data.dense,
            passage_vectors=arrays["passage_vectors"],
            sentence_vectors=arrays["sentence_vectors"],
            first_sentence=data.first_sentence,
            sentence_spans=data.sentences[:, 1:],
            lexical=BM25.from_arrays(arrays, "bm25", len(data.passages)),
            sentence_lexical=BM25.from_arrays(arrays, "sentence_bm25", len(data.sentences)),
        )
        # The one author who wrote all of the content, if there is one (qa.framing).
        authors = {str(d.metadata.get("author", "")).strip() for d in data.documents.values()}
        self.speaker = authors.pop() if len(authors) == 1 else ""
        self.openings = _openings(data)


def _openings(data: store.IndexData) -> list[tuple[int, int]]:
    """Each document's opening sentence, as (passage row, sentence row), in the manifest's order.

    That is its first body sentence of five words or more, not a byline line (qa.types.byline):
    a heading or a name alone says nothing about the document.
    """
    declared = {
        source: byline(d.metadata.get("author", ""), d.metadata.get("date", "")) for source, d in data.documents.items()
    }
    found: dict[str, tuple[int, int]] = {}
    for row, (at, start, end) in enumerate(data.sentences.tolist()):
        passage = data.passages[at]
        if passage.source in found or passage.related:
            continue
        sentence = data.documents[passage.source].text[start:end].strip()
        if len(sentence.split()) >= 5 and sentence not in declared[passage.source]:
            found[passage.source] = (at, row)
            if len(found) == len(data.documents):
                break
    return [found[d["source"]] for d in data.manifest["documents"] if d["source"] in found]


class Index:
    """A searchable index on disk.

    E.g. `Index.load("var/index").ask("What is collective leadership?").text` begins "Collective
    leadership is a leadership in which all staff take responsibility".
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._loaded = self._load()
        # The build that last failed to load, when to try it again, and the wait after that.
        self._failed: tuple[tuple[str, int], float, float] | None = None

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
                f"{store.rebuild_hint(self.path)}"
            )
        built, now = data.manifest.get("settings") or {}, SETTINGS.splitter_id()
        if changed := [key for key in SETTINGS.QUESTION_READING if built.get(key) != now[key]]:
            # It still answers, so it keeps serving: its passages' words are only read the old way.
            log.warning(
                "index at %s was built before the %s changed, so questions and passages are read differently: %s",
                self.path,
                " and ".join(changed),
                store.rebuild_hint(self.path),
            )
        log.info("loaded index %s (%d passages)", data.path, len(data.passages))
        return _Loaded(data, stamp)

    def _current(self) -> _Loaded:
        """The loaded index, reloaded first if a build has published a new one since.

        A reload that fails keeps the loaded index serving; it is logged once and tried again
        after a back-off (or at once, should yet another build be published).
        """
        try:
            stamp = self._stamp()
        except (OSError, IndexNotFoundError):
            return self._loaded  # removed under us: keep serving what we have
        if stamp == self._loaded.stamp or self._waiting(stamp):
            return self._loaded
        with self._lock:
            if stamp != self._loaded.stamp and not self._waiting(stamp):
                try:
                    self._loaded = self._load()
                    self._failed = None
                except (IndexCorruptError, IndexNotFoundError, OSError) as exc:
                    wait = RELOAD_BACKOFF_SECONDS
                    if self._failed is not None and self._failed[0] == stamp:
                        wait = min(2 * self._failed[2], RELOAD_BACKOFF_MAX_SECONDS)
                    else:
                        log.error("not reloading %s, still serving the index loaded before: %s", self.path, exc)
                    self._failed = (stamp, time.monotonic() + wait, wait)
        return self._loaded

    def _waiting(self, stamp: tuple[str, int]) -> bool:
        """Whether `stamp` failed to load and its back-off has not run out."""
        failed = self._failed
        return failed is not None and failed[0] == stamp and time.monotonic() < failed[1]

    def warm(self) -> None:
        """Load the model, the reader the judgement runs on doubtful questions (0.9 s, 28 MB;
        qa.answerable) and the English words slips are mended against (0.9 s, 33 MB; qa.spelling)
        now, so a server's first question (and first health probe) does not wait."""
        self.retrieve("warm up", k=1)
        get_cross_encoder()
        english()

    def view(self) -> IndexView:
        """The index as loaded now: questions and surrounding text asked of it stay consistent.

        A rebuild published later does not change a view, so a passage it returned is always
        cut from, and shown in, the document text its offsets belong to.
        """
        return IndexView(self, self._current())

    @property
    def info(self) -> IndexInfo:
        """The documents, passage count and build time of the index now serving."""
        return self._info(self._current())

    def document(self, source: str) -> Document | None:
        """The indexed document named `source` (its whole text, as passages quote it), or None."""
        return self._current().data.documents.get(source)

    def _info(self, loaded: _Loaded) -> IndexInfo:
        manifest = loaded.data.manifest
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

    def retrieve(
        self, question: str, k: int = 5, *, view: IndexView | None = None, gate: AbstractContextManager | None = None
    ) -> list[Passage]:
        """The `k` passages that best answer `question`, best first, each with its highlight.

        `gate` as in `ask`.
        """
        loaded, query, _ = self._asked(view, normalize_question(question))
        embedded = self._submit(query, k)
        with gate or nullcontext():
            return [self._passage(loaded.data, hit) for hit in rank(loaded.corpus, embedded(), query, k)]

    def _of(self, view: IndexView | None) -> _Loaded:
        return view.loaded if view is not None else self._current()

    def _asked(self, view: IndexView | None, question: str, history: Sequence[str] = ()) -> tuple[_Loaded, str, bool]:
        """The loaded index to answer from, what `question` asks of it, and whether it asks for
        what the content's one author says.

        What it asks is the question, with the conversation's earlier questions it follows
        (`history`, qa.followup), its typing slips mended to the index's words (qa.spelling), less
        the words that only frame it (qa.framing; naming the author as the one who says it among
        them, "Micheal West" once mended): what is embedded, searched, judged and read.
        """
        loaded = self._of(view)
        query = normalize_question(contextualize(question, history, loaded.speaker))
        mended = mend(query, loaded.corpus.lexical)
        return loaded, what_is_asked(mended, loaded.speaker), attributed(mended, loaded.speaker)

    @staticmethod
    def _submit(query: str, k: int) -> Callable[[], np.ndarray]:
        """`query` queued to be embedded (`QuestionBatcher.submit`), after checking the `k` a caller asked for."""
        check_k(k)
        return question_batcher().submit(query)

    @staticmethod
    def _marked(data: store.IndexData, row: int, first: int, last: int) -> Passage:
        """Passage `row` with its sentences `first` to `last` (rows of `data.sentences`) as its highlight."""
        passage = data.passages[row]
        start = int(data.sentences[first, 1]) - passage.start
        end = int(data.sentences[last, 2]) - passage.start
        return replace(passage, highlight=passage.text[start:end], highlight_start=start, highlight_end=end)

    @classmethod
    def _passage(cls, data: store.IndexData, hit: Hit) -> Passage:
        if hit.relevance >= HIGH_THRESHOLD:
            relevance = "high"
        elif hit.relevance >= TOPIC_THRESHOLD:
            relevance = "medium"
        else:
            relevance = "low"
        marked = cls._marked(data, hit.row, hit.first, hit.last)
        return replace(marked, score=hit.score, similarity=hit.relevance, relevance=relevance)

    def ask(
        self,
        question: str,
        k: int = 3,
        history: Sequence[str] = (),
        *,
        view: IndexView | None = None,
        gate: AbstractContextManager | None = None,
    ) -> Answer:
        """Answer `question` with quoted sentence(s) and the passages they come from.

        `history` holds the conversation's earlier questions: a follow-up ("and who should do
        that?") is searched together with the last few (`QA_HISTORY_TURNS`); `Answer.query` says
        what was searched. `view` (from `view()`) pins the loaded index to answer from. `gate`,
        if given, is entered once the question is queued to be embedded, and held while it is
        embedded, searched and judged: a server's answering slots (ui.slots). The question whose
        turn comes embeds those waiting behind it in the same run (qa.embed.QuestionBatcher).
        """
        question = normalize_question(question)
        loaded, asked, authors_words = self._asked(view, question, history)
        judgement = self._judged(loaded, asked, k, gate=gate, authors_words=authors_words)
        status, passages = judgement.status, judgement.passages
        text = {
            ANSWERED: passages[0].highlight if passages else "",
            UNSURE: UNSURE_TEASER_TEXT if judgement.teaser_lacks else UNSURE_TEXT,
            RELATED: RELATED_TEXT,
        }.get(status, NOTHING_ASKED_TEXT if judgement.nothing_asked else NOT_COVERED_TEXT)
        return Answer(
            found=status == ANSWERED, text=text, passages=passages, question=question, query=asked, status=status
        )

    def judge(self, question: str, k: int = 3, judge: Judge | None = None) -> Judgement:
        """Search `question` and judge whether the content answers it, may answer it, is only related, or neither.

        What `ask` decides its status with, for benchmarks and diagnostics; `judge` replaces the
        shipped judgement (qa/answerable.json) with another, e.g. one being fitted.
        """
        loaded, query, authors_words = self._asked(None, normalize_question(question))
        return self._judged(loaded, query, k, judge, authors_words=authors_words)

    def _judged(
        self,
        loaded: _Loaded,
        query: str,
        k: int,
        judge: Judge | None = None,
        gate: AbstractContextManager | None = None,
        *,
        authors_words: bool = False,
    ) -> Judgement:
        """`query` embedded, searched and judged (`_judge`; `gate` as in `ask`), or, asking what the
        content is about, answered from the documents' openings (`_about`), which needs neither.
        `authors_words`: the question asks for what the content's author says (`_asked`)."""
        if about_the_content(query):
            return self._about(loaded, check_k(k))
        if asks_nothing(query):  # a greeting or thanks: no passage answers it ("Thank you very much indeed.")
            return Judgement(NOT_COVERED, 0.0, np.zeros(0), [], nothing_asked=True)
        embedded = self._submit(query, k)
        with gate or nullcontext():
            return self._judge(loaded, query, embedded(), k, judge, authors_words=authors_words)

    def _judge(
        self,
        loaded: _Loaded,
        query: str,
        vector: np.ndarray,
        k: int,
        judge: Judge | None = None,
        *,
        authors_words: bool = False,
    ) -> Judgement:
        hits = rank(loaded.corpus, vector, query, max(k, 2))  # the second passage gives the gaps
        passages = [self._passage(loaded.data, hit) for hit in hits[:k]]
        if not hits:
            return Judgement(NOT_COVERED, 0.0, np.zeros(0), passages)
        top, best = hits[0], passages[0]  # k >= 1 (checked)
        first_sentence = loaded.corpus.first_sentence
        highlighted = range(top.first, top.last + 1)
        evidence = Evidence(
            question=query,
            terms=tokenize(query),
            sentence_cos=[h.sentence_cos for h in hits],
            scores=[h.score for h in hits],
            passage_cos=top.passage_cos,
            highlight_cos=top.highlight_cos,
            passage_row=top.row,
            sentence_rows=range(int(first_sentence[top.row]), int(first_sentence[top.row + 1])),
            highlight_rows=highlighted,
            highlight=best.highlight,
            passage_text=f"{best.title}\n{best.text}",
        )
        x = features(evidence, loaded.corpus.lexical, loaded.corpus.sentence_lexical)
        if top.relevance < TOPIC_THRESHOLD:
            return Judgement(NOT_COVERED, 0.0, np.append(x, np.nan), passages)

        def read() -> float:
            return float(get_cross_encoder().score(query, self._sentences(loaded, top.row, highlighted)).max())

        # A teaser sums up another page: never what the author says, whatever words it holds.
        lacks = best.related and (authors_words or not teaser_answers(query, evidence.terms, best.text, best.highlight))
        mentions = mentions_only(query, evidence.terms, best.text, best.highlight)
        verdict = (judge or shipped_judge()).decide(x, read, unquotable=lacks or mentions)
        return Judgement(verdict.status, verdict.probability, np.append(x, verdict.reader), passages, lacks, mentions)

    def _about(self, loaded: _Loaded, k: int) -> Judgement:
        """What the content says it is about: each document's opening sentence, marked in its passage.

        No passage says what its document is about, and the search found none that did ("What is
        this article about?" was told "not answered"); a document's opening does, in its own
        words. From one document, that is the answer; from several, which one was meant is not
        known, so the first `k` are shown as "unsure". The judgement makes no call: NaN.
        """
        passages = [self._marked(loaded.data, row, sentence, sentence) for row, sentence in loaded.openings[:k]]
        status = ANSWERED if len(loaded.openings) == 1 else UNSURE if passages else NOT_COVERED
        return Judgement(status, float("nan"), np.zeros(0), passages)

    @staticmethod
    def _sentences(loaded: _Loaded, row: int, rows: range) -> list[str]:
        """The text of sentence `rows` of passage `row`."""
        passage = loaded.data.passages[row]
        spans = loaded.corpus.sentence_spans[rows.start : rows.stop] - passage.start
        return [passage.text[int(start) : int(end)] for start, end in spans]

    def context(self, passage: Passage, chars: int = 400, *, view: IndexView | None = None) -> tuple[str, str]:
        """Up to `chars` characters of the document before and after `passage`, cut at words.

        Pass the `view` the passage came from; without it, the text is taken from the index now
        loaded only if the passage still stands there word for word (else nothing is shown).
        """
        document = self._of(view).data.documents.get(passage.source)
        if document is None or document.text[passage.start : passage.end] != passage.text:
            return "", ""
        before = document.text[max(0, passage.start - chars) : passage.start]
        after = document.text[passage.end : passage.end + chars]
        if passage.start > chars:
            before = "…" + before.split(" ", 1)[-1]
        if passage.end + chars < len(document.text):
            after = after.rsplit(" ", 1)[0] + "…"
        return before.strip(), after.strip()


@dataclass(frozen=True)
class IndexView:
    """One loaded build of an `Index`: what `ask`, `retrieve`, `context` and `info` read.

    Get one with `Index.view()`; it keeps answering from that build after a rebuild.
    """

    index: Index
    loaded: _Loaded

    @property
    def info(self) -> IndexInfo:
        """The documents, passage count and build time of this build."""
        return self.index._info(self.loaded)

    def retrieve(self, question: str, k: int = 5, *, gate: AbstractContextManager | None = None) -> list[Passage]:
        """As `Index.retrieve`, from this build."""
        return self.index.retrieve(question, k, view=self, gate=gate)

    def ask(
        self, question: str, k: int = 3, history: Sequence[str] = (), *, gate: AbstractContextManager | None = None
    ) -> Answer:
        """As `Index.ask`, from this build."""
        return self.index.ask(question, k, history, view=self, gate=gate)

    def context(self, passage: Passage, chars: int = 400) -> tuple[str, str]:
        """As `Index.context`, from this build."""
        return self.index.context(passage, chars, view=self)

"""Question -> ranked passages with their answering sentences, and how relevant the best one is.

1. Candidates: the `POOL` nearest passages in the FAISS index, and the `POOL` best by BM25.
2. Each candidate gets a dense score, 0.3 x its passage cosine + 0.7 x the best cosine among
   its sentences (embedded with the document title, at build time), and its BM25 score.
3. Both scores are z-normalised over the candidates and fused 0.6 / 0.4. Fragments (fewer
   than 8 words and no closing full stop, question or exclamation mark: a stray heading, date
   or tag line) rank after all other passages; a related-content teaser, which sums up another
   page, 0.2 below its fused score, so that of two that fit about as well the document's own
   words come first.
4. The best 20 are reordered by their fused score plus the share of the question's adjacent
   word pairs that they repeat (`pair_coverage`): words shared one by one are common on a topic,
   a shared phrase is what an answer repeats. Neither BM25 nor the embedding sees word order.
5. The highlight is the passage's sentence with the best 0.5 x cosine + 0.5 x its sentence-BM25
   share, or the first after it saying a word the question does not (one that only repeats the
   question's words cannot answer it: "By Michael West" for "Who is Michael West?"); a short one
   (under 150 characters) is joined by the next sentence.
6. Relevance: the best sentence cosine of a passage plus 0.2 x the idf-weighted share of the
   question's terms that the passage (with its title) contains. Unlike fused scores, this is
   comparable across questions, so it decides whether a question is answered at all.

Every number here was measured with `python -m bench.eval_squad` and `python -m bench.eval_seed`;
the README's "How well it answers" gives the figures and what each stage adds. Measured and not
kept: long sentences split at semicolons, as sentences of their own (seed-dev hit@1 0.96 -> 0.88,
paraphrase hit@3 0.70 -> 0.60) or as extra vectors a sentence's cosine takes the best of
(paraphrase hit@3 0.70 -> 0.60); the BM25 query widened by the indexed words whose own vectors
lie near a question word's (cosine 0.6 or 0.7: seed-dev hit@1 0.96 -> 0.92, paraphrase hit@3
unchanged, as most neighbours are the question's words in other forms, "leader" for "leadership").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qa.config import SETTINGS
from qa.lexical import BM25, indexed_text, pair_coverage, tokenize, word_count
from qa.types import Passage

POOL = 100
PASSAGE_WEIGHT = 0.3  # of the passage cosine against the best sentence cosine
DENSE_WEIGHT = 0.6  # of z(dense) against z(BM25)
SHORT_WORDS = 8
HIGHLIGHT_DENSE_WEIGHT = 0.5
HIGHLIGHT_MIN_CHARS = 150
COVERAGE_WEIGHT = 0.2
PHRASE_DEPTH = 20  # passages reordered by phrase matches (step 4)
PHRASE_WEIGHT = 1.0  # of the pair coverage, added to the fused score
# Taken off a teaser's fused score (step 3). A teaser shares the names and the topic of questions
# about the body: "What did West experience in the NHS?" found the Staff Survey teaser, level with
# the passage on his children's births, and "What is the future of NHS leadership?" was quoted
# Sally Hulks's. From 0.1 to 0.5 the dev sets and article-more are told what they were
# (`bench.eval_seed`; SQuAD has no teasers); at 0.5, of 561 questions asked by hand, some that the
# body answers loosely went from "unsure" to "not answered", at 0.2 none.
TEASER_PENALTY = 0.2


def make_dense(vectors: np.ndarray) -> tuple[object, str]:
    """A FAISS inner-product index over unit `vectors`: exact when small, HNSW when large."""
    import faiss

    dimension = vectors.shape[1]
    if len(vectors) <= SETTINGS.exact_search_limit:
        index, kind = faiss.IndexFlatIP(dimension), "flat"
    else:
        index, kind = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT), "hnsw"
        index.hnsw.efConstruction = 80
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


@dataclass(frozen=True)
class Corpus:
    """The search structures of one index, as `rank` needs them: the passages, for their text
    (step 4), and arrays derived from them.

    `first_sentence[i]:first_sentence[i+1]` are passage i's rows in the sentence arrays;
    `sentence_spans` holds each sentence's (start, end) in its document's text.
    """

    passages: Sequence[Passage]
    dense: object  # faiss.Index over passage vectors
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    first_sentence: np.ndarray
    sentence_spans: np.ndarray
    lexical: BM25  # over each passage's title and text
    sentence_lexical: BM25
    fragment: np.ndarray  # True for passages that are no sentence (see `is_fragment`)
    related: np.ndarray  # True for related-content teasers (`Passage.related`)

    @classmethod
    def from_passages(cls, passages: Sequence[Passage], **arrays: object) -> Corpus:
        """Derive the per-passage flags from the passages' texts and labels."""
        fragment = np.array([is_fragment(p.text) for p in passages], dtype=bool)
        related = np.array([p.related for p in passages], dtype=bool)
        return cls(passages=passages, fragment=fragment, related=related, **arrays)


def is_fragment(text: str) -> bool:
    """A passage that is no sentence: a few words without closing punctuation.

    >>> is_fragment("Getting started"), is_fragment("A huddle lasts ten minutes.")
    (True, False)
    """
    return word_count(text) < SHORT_WORDS and not text.rstrip("\"'”’)] ").endswith((".", "!", "?"))


@dataclass(frozen=True)
class Hit:
    """A ranked passage: its row, fused score, relevance and highlighted sentence rows."""

    row: int
    score: float
    relevance: float
    first: int  # sentence rows of the highlight, inclusive
    last: int
    sentence_cos: float = 0.0  # best cosine among the passage's sentences
    passage_cos: float = 0.0
    highlight_cos: float = 0.0  # best cosine among the highlighted sentences


def _z(values: np.ndarray) -> np.ndarray:
    deviation = values.std()
    return (values - values.mean()) / deviation if deviation > 1e-9 else np.zeros_like(values)


def _candidates(corpus: Corpus, vector: np.ndarray, lexical_scores: np.ndarray) -> np.ndarray:
    n = len(corpus.fragment)
    pool = min(n, POOL)
    if hasattr(corpus.dense, "hnsw"):
        corpus.dense.hnsw.efSearch = max(64, pool)
    _, dense_rows = corpus.dense.search(vector[None, :], pool)
    lexical_rows = np.argpartition(-lexical_scores, pool - 1)[:pool] if pool < n else np.arange(n)
    return np.union1d(dense_rows[0][dense_rows[0] >= 0], lexical_rows)


def _sentence_rows(corpus: Corpus, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All sentence rows of the passages `rows`, in order, and where each passage's begin."""
    starts, counts = corpus.first_sentence[rows], np.diff(corpus.first_sentence)[rows]
    segments = np.cumsum(counts) - counts
    sentence_rows = np.repeat(starts - segments, counts) + np.arange(counts.sum())
    return sentence_rows, segments


def rank(corpus: Corpus, vector: np.ndarray, question: str, k: int) -> list[Hit]:
    """The `k` best passages for `question` (embedded as `vector`), best first.

    `question` is what is asked, its framing cut (qa.framing), as `qa.engine` hands it over.
    """
    if len(corpus.fragment) == 0 or k <= 0:
        return []
    terms = tokenize(question)  # once: both BM25 indexes and the coverage use them
    lexical_scores = corpus.lexical.scores(terms)
    rows = _candidates(corpus, vector, lexical_scores)
    sentence_rows, segments = _sentence_rows(corpus, rows)
    sentence_sims = np.asarray(corpus.sentence_vectors[sentence_rows]) @ vector
    best_sentence = np.maximum.reduceat(sentence_sims, segments)
    passage_cos = np.asarray(corpus.passage_vectors[rows]) @ vector
    dense = PASSAGE_WEIGHT * passage_cos + (1 - PASSAGE_WEIGHT) * best_sentence
    fused = DENSE_WEIGHT * _z(dense) + (1 - DENSE_WEIGHT) * _z(lexical_scores[rows])
    fused -= TEASER_PENALTY * corpus.related[rows]
    # Fragments go after every other passage: sort on (fragment, -fused).
    order = np.lexsort((-fused, corpus.fragment[rows]))
    head = order[:PHRASE_DEPTH]
    fused[head] += PHRASE_WEIGHT * np.array(
        [pair_coverage(terms, indexed_text(corpus.passages[rows[i]])) for i in head]
    )
    order[: len(head)] = head[np.lexsort((-fused[head], corpus.fragment[rows[head]]))]
    order = order[:k]

    sentence_lexical = corpus.sentence_lexical.scores(terms)
    asked = set(terms)
    hits = []
    for i in order:
        row = int(rows[i])
        lo, hi = int(corpus.first_sentence[row]), int(corpus.first_sentence[row + 1])
        sims = sentence_sims[segments[i] : segments[i] + hi - lo]
        echo = _echo(corpus, row, lo, asked)
        first, last = highlight(sims, sentence_lexical[lo:hi], corpus.sentence_spans[lo:hi], echo)
        coverage = corpus.lexical.coverage(terms, row)
        relevance = float(best_sentence[i]) + COVERAGE_WEIGHT * coverage
        hits.append(
            Hit(
                row,
                float(fused[i]),
                relevance,
                lo + first,
                lo + last,
                sentence_cos=float(best_sentence[i]),
                passage_cos=float(passage_cos[i]),
                highlight_cos=float(sims[first : last + 1].max()),
            )
        )
    return hits


def _echo(corpus: Corpus, row: int, lo: int, asked: set[str]) -> Callable[[int], bool]:
    """Whether sentence i of passage `row` (its first is sentence `lo`) holds no term outside `asked`.

    Asked of the best sentence only, so one is tokenized per passage, not all of them.
    """
    passage = corpus.passages[row]

    def echo(i: int) -> bool:
        start, end = corpus.sentence_spans[lo + i] - passage.start
        return _terms(passage.text[int(start) : int(end)]) <= asked

    return echo


@lru_cache(maxsize=8192)
def _terms(sentence: str) -> frozenset[str]:
    """A sentence's terms: the same sentences are the best of many questions."""
    return frozenset(tokenize(sentence))


def highlight(
    sims: np.ndarray, lexical: np.ndarray, spans: np.ndarray, echo: Callable[[int], bool] | None = None
) -> tuple[int, int]:
    """The first and last (inclusive) of a passage's sentences that answer best.

    `echo(i)` says whether sentence i holds no word the question does not. One cannot answer it,
    so where the best is one, the highlight moves on to the sentence after it: what follows a
    byline's name or a heading that repeats the question is what says something of it.

    >>> spans = np.array([[0, 9], [10, 40], [41, 300]])
    >>> highlight(np.array([0.2, 0.9, 0.1]), np.array([0.0, 1.0, 0.0]), spans)
    (1, 2)
    >>> highlight(np.array([0.2, 0.9, 0.1]), np.array([0.0, 1.0, 0.0]), spans, lambda i: i == 1)
    (2, 2)
    """
    top = float(lexical.max()) if len(lexical) else 0.0
    share = lexical / top if top > 0 else np.zeros_like(lexical)
    best = int(np.argmax(HIGHLIGHT_DENSE_WEIGHT * sims + (1 - HIGHLIGHT_DENSE_WEIGHT) * share))
    while echo is not None and best + 1 < len(spans) and echo(best):
        best += 1
    short = spans[best][1] - spans[best][0] < HIGHLIGHT_MIN_CHARS
    return best, best + 1 if short and best + 1 < len(spans) else best

"""Question -> ranked passages: dense and lexical candidates, fused, with the answering sentence.

Candidates come from the FAISS index (passage vectors) and from BM25; each candidate is then
scored on three signals: the cosine of its passage vector, the best cosine among its sentences'
vectors (precomputed at build time) and its BM25 score. Each signal is scaled by its spread over
the candidates, and the weighted sum orders them. The best-scoring sentence of a passage is its
highlight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.config import SETTINGS
from qa.lexical import BM25

# Fusion weights and pool size; measured on SQuAD dev and the article questions (bench/).
DENSE_WEIGHT = 0.35
SENTENCE_WEIGHT = 0.35
LEXICAL_WEIGHT = 0.30
POOL = 100


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
class Hit:
    """A ranked passage row with its best sentence row and the signals behind its score."""

    row: int
    score: float
    similarity: float  # best sentence cosine: calibrated enough to judge relevance
    sentence: int


def _spread_scaled(values: np.ndarray) -> np.ndarray:
    spread = values.max() - values.min()
    return (values - values.min()) / spread if spread > 1e-9 else np.zeros_like(values)


def best_sentences(
    rows: np.ndarray, first_sentence: np.ndarray, sentence_vectors: np.ndarray, question_vector: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each passage row: the row of its sentence most similar to the question, and that cosine.

    One matrix product over all the candidates' sentences, then a maximum per passage.
    """
    starts, ends = first_sentence[rows], first_sentence[rows + 1]
    counts = ends - starts
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    sims = np.asarray(sentence_vectors[offsets]) @ question_vector
    segment = np.cumsum(counts) - counts
    best = np.maximum.reduceat(sims, segment)
    # The first sentence in each passage that reaches its maximum.
    hits = np.flatnonzero(sims == np.repeat(best, counts))
    owner = np.searchsorted(segment, hits, side="right") - 1
    first_hit = hits[np.unique(owner, return_index=True)[1]]
    return offsets[first_hit], best.astype(np.float32)


def rank(
    question_vector: np.ndarray,
    question: str,
    *,
    dense: object,
    lexical: BM25,
    passage_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    first_sentence: np.ndarray,
    k: int,
) -> list[Hit]:
    """The `k` best passages for a question, best first, with each one's best sentence."""
    n = len(first_sentence) - 1
    if n == 0 or k <= 0:
        return []
    pool = min(n, max(POOL, k))
    if hasattr(dense, "hnsw"):
        dense.hnsw.efSearch = max(64, pool)
    _, dense_rows = dense.search(question_vector[None, :], pool)
    lexical_scores = lexical.scores(question)
    lexical_rows = np.argpartition(-lexical_scores, pool - 1)[:pool] if pool < n else np.arange(n)
    rows = np.union1d(dense_rows[0][dense_rows[0] >= 0], lexical_rows)

    passage_sim = np.asarray(passage_vectors[rows]) @ question_vector
    best_sentence, sentence_sim = best_sentences(rows, first_sentence, sentence_vectors, question_vector)
    fused = (
        DENSE_WEIGHT * _spread_scaled(passage_sim)
        + SENTENCE_WEIGHT * _spread_scaled(sentence_sim)
        + LEXICAL_WEIGHT * _spread_scaled(lexical_scores[rows])
    )
    order = np.argsort(-fused, kind="stable")[:k]
    return [
        Hit(row=int(rows[i]), score=float(fused[i]), similarity=float(sentence_sim[i]), sentence=int(best_sentence[i]))
        for i in order
    ]

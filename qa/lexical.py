"""BM25 over passages, stored as plain arrays (term postings), scored with numpy alone.

The dense model misses rare names and exact phrases; BM25 catches them. Both the build and the
query use `tokenize` from here, so they always agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does doing for from had has have
    having he her hers him his how i if in into is it its itself me my no nor not of on or our ours
    she so than that the their theirs them then there these they this those to too us was we were
    what when where which while who whom why will with would you your yours""".split()
)


def _stem(word: str) -> str:
    # A light, predictable suffix stripper: plurals and possessives only. Stronger stemmers merge
    # words people keep apart ("organisation"/"organ").
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed content words of `text`.

    >>> tokenize("Who commented on the NHS Staff Surveys?")
    ['commented', 'nhs', 'staff', 'survey']
    """
    text = unicodedata.normalize("NFKD", text).casefold().replace("’", "'")
    return [_stem(w) for w in _WORD.findall(text) if w not in _STOPWORDS]


@dataclass(frozen=True)
class BM25:
    """Term -> postings (row, weight), weights precomputed so a query is a few array adds."""

    vocab: dict[str, int]
    indptr: np.ndarray  # postings of term t are [indptr[t], indptr[t+1])
    rows: np.ndarray
    weights: np.ndarray
    size: int

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> BM25:
        """Index `texts` (one row each) with Okapi BM25 parameters `k1` and `b`."""
        counts = [Counter(tokenize(t)) for t in texts]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
        average = float(lengths.mean()) if len(texts) and lengths.mean() > 0 else 1.0
        postings: dict[str, list[tuple[int, int]]] = {}
        for row, counter in enumerate(counts):
            for term, tf in counter.items():
                postings.setdefault(term, []).append((row, tf))
        vocab = {term: i for i, term in enumerate(sorted(postings))}
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        rows, weights = [], []
        for term, i in vocab.items():
            plist = postings[term]
            idf = np.log(1 + (len(texts) - len(plist) + 0.5) / (len(plist) + 0.5))
            r = np.array([p[0] for p in plist], dtype=np.int32)
            tf = np.array([p[1] for p in plist], dtype=np.float32)
            norm = tf + k1 * (1 - b + b * lengths[r] / average)
            rows.append(r)
            weights.append((idf * tf * (k1 + 1) / norm).astype(np.float32))
            indptr[i + 1] = indptr[i] + len(plist)
        return cls(
            vocab=vocab,
            indptr=indptr,
            rows=np.concatenate(rows) if rows else np.zeros(0, np.int32),
            weights=np.concatenate(weights) if weights else np.zeros(0, np.float32),
            size=len(texts),
        )

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for `query` (zeros where no term matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term in tokenize(query):
            t = self.vocab.get(term)
            if t is not None:
                lo, hi = self.indptr[t], self.indptr[t + 1]
                out[self.rows[lo:hi]] += self.weights[lo:hi]
        return out

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Plain arrays for `qa.store` (no pickle): vocabulary as a unicode array."""
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        return {
            f"{prefix}_vocab": np.array(terms, dtype=str),
            f"{prefix}_indptr": self.indptr,
            f"{prefix}_rows": self.rows,
            f"{prefix}_weights": self.weights,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, size: int) -> BM25:
        """The inverse of `to_arrays`."""
        terms = arrays[f"{prefix}_vocab"].tolist()
        return cls(
            vocab={t: i for i, t in enumerate(terms)},
            indptr=arrays[f"{prefix}_indptr"],
            rows=arrays[f"{prefix}_rows"],
            weights=arrays[f"{prefix}_weights"],
            size=size,
        )

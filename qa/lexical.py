"""BM25, stored as plain arrays (term postings), scored with numpy alone.

The dense model misses rare names and exact phrases; BM25 catches them. Both the build and the
query use `tokenize` from here, so they always agree.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qa.glossary import glossary
from qa.types import Passage

_WORD = re.compile(r"\w+")
# A capitalised word inside a sentence, not at its start (nor after a colon): a name, most likely.
CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'’-]+")
# A standard English stop list; the measured gain over keeping them is +0.8 points of SQuAD hit@1.
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s t d ll m re ve""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    import Stemmer  # PyStemmer: the Snowball English stemmer, in C

    return Stemmer.Stemmer("english").stemWord


# American spellings read as British ones, the content's (NHS pages write "behaviour",
# "prioritise", "paediatric"), in text and question alike, so either finds the other: one rule per
# family of words. Left out, because they would merge different words or names: -er/-re ("the
# Center for ..." is not the content's "Centre of ...") and a doubled l ("filled" is not "filed").
_BRITISH = [
    (re.compile(r"(?<=\w{3})iz(e|es|ed|ing|er|ers|ation|ations|ational|able)$"), r"is\1"),  # organize
    (re.compile(r"(?<=\w)yz(e|es|ed|ing|er|ers)$"), r"ys\1"),  # analyze
    (
        re.compile(r"^(behavi|col|fav|flav|hon|hum|lab|neighb|rum|vig|harb|endeav|od|arm|rig|tum|val|vap)or(?!ous)"),
        r"\1our",  # behavior, tumor; not humorous
    ),
    (re.compile(r"^(defen|offen|licen|preten)se(s?)$"), r"\1ce\2"),  # defense
    (re.compile(r"^(catal|dial|anal)og(s?)$"), r"\1ogue\2"),  # catalog
    (re.compile(r"^program(s?)$"), r"programme\1"),
    (re.compile(r"dgment"), "dgement"),  # judgment
    (re.compile(r"^aging$"), "ageing"),
]
# Medicine's ae and oe, by the start of the word (a rule on every "e" would reach "pedestrian").
_MEDICAL = {
    "pediatr": "paediatr",
    "hemat": "haemat",
    "hemo": "haemo",
    "anesth": "anaesth",
    "anemi": "anaemi",
    "gynec": "gynaec",
    "orthoped": "orthopaed",
    "leukem": "leukaem",
    "ischem": "ischaem",
    "septicem": "septicaem",
    "diarrhe": "diarrhoe",
    "esophag": "oesophag",
    "estrogen": "oestrogen",
    "edema": "oedema",
    "etiolog": "aetiolog",
    "fetus": "foetus",
    "fetal": "foetal",
    "celiac": "coeliac",
    "cesarean": "caesarean",
}
_MEDICAL_START = re.compile("^(" + "|".join(_MEDICAL) + ")")


@lru_cache(maxsize=1 << 16)  # words recur: every text and question is read through it
def british(word: str) -> str:
    """A lower-case word in British spelling, where a rule knows its American one.

    >>> [british(w) for w in ("organizational", "behaviors", "pediatrics", "humorous", "size", "center")]
    ['organisational', 'behaviours', 'paediatrics', 'humorous', 'size', 'center']
    """
    for pattern, replacement in _BRITISH:
        word = pattern.sub(replacement, word)
    return _MEDICAL_START.sub(lambda m: _MEDICAL[m.group(1)], word)


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A lower-case word's term: its Snowball stem, in British spelling, a noun in -sion or -tion
    and its adjective as one.

    Snowball cuts "compassion" to "compass" but "compassionate" to "compassion" (its last step
    takes one suffix), so the article's "compassionate care" never matched a question's
    "compassion". Stemmed again, such a stem loses its "-ion" as the noun did; a word whose
    "-ion" Snowball keeps ("passion", "question") keeps it again.

    >>> [_stem(w) for w in ("compassion", "compassionate", "professional", "profession", "passionate", "passion")]
    ['compass', 'compass', 'profess', 'profess', 'passion', 'passion']
    """
    stemmed = _stemmer()(british(word))
    return _stemmer()(stemmed) if stemmed.endswith(("sion", "tion")) else stemmed


def _stems(text: str) -> list[str]:
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold().replace("’", "'"))
    return [_stem(w) for w in words if w not in _STOPWORDS]


@dataclass(frozen=True)
class _Glossary:
    """qa/glossary.json as terms: one term per profession, and what each phrase is read as."""

    same: dict[str, str]  # stem -> its profession's one term
    phrases: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]  # first term -> (phrase, read as), longest first


@lru_cache(maxsize=1)
def _glossary() -> _Glossary:
    same: dict[str, str] = {}
    for words in glossary().same_words:
        stems = [s for word in words for s in _stems(word)]
        same.update(dict.fromkeys(stems, stems[0]))

    def terms(text: str) -> tuple[str, ...]:
        return tuple(same.get(s, s) for s in _stems(text))

    phrases: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for abbreviation, spelled_out in glossary().abbreviations.items():
        short, forms = terms(abbreviation), [terms(form) for form in spelled_out]
        # The abbreviation (or its plural, "GPs") is read as itself and its first spelled-out
        # form; each spelled-out form as itself and the abbreviation.
        readings = [(short, short + forms[0]), (terms(abbreviation + "s"), short + forms[0])]
        for phrase, reading in readings + [(form, form + short) for form in forms]:
            phrases.setdefault(phrase[0], []).append((phrase, reading))
    for rules in phrases.values():
        rules.sort(key=lambda rule: -len(rule[0]))
    return _Glossary(same, phrases)


def tokenize(text: str) -> list[str]:
    """Lower-cased, Snowball-stemmed content words of `text`, read through the glossary (qa.glossary).

    >>> tokenize("Who commented on the NHS Staff Surveys?")
    ['comment', 'nhs', 'staff', 'survey']
    >>> tokenize("BME surgeons"), tokenize("black and minority ethnic surgical staff")
    (['bme', 'black', 'minor', 'ethnic', 'surgeon'], ['black', 'minor', 'ethnic', 'bme', 'surgeon', 'staff'])
    """
    known = _glossary()
    stems = [known.same.get(s, s) for s in _stems(text)]
    out: list[str] = []
    i = 0
    while i < len(stems):
        for phrase, reading in known.phrases.get(stems[i], ()):
            if tuple(stems[i : i + len(phrase)]) == phrase:
                out += reading
                i += len(phrase)
                break
        else:
            out.append(stems[i])
            i += 1
    return out


def indexed_text(passage: Passage) -> str:
    """The text BM25 indexes for a passage: its title's words match questions naming the subject."""
    return f"{passage.title}\n{passage.text}"


def pair_coverage(terms: Sequence[str], text: str) -> float:
    """The share of a question's adjacent `terms` pairs (from `tokenize`) adjacent in `text` too.

    Words shared one by one are common on a topic; shared phrases are what an answer repeats. A
    question of one term has no pairs: every text holds all of them (1.0).

    >>> pair_coverage(tokenize("Who leads the staff survey?"), "The staff survey is led by Ann.")
    0.5
    """
    pairs = set(itertools.pairwise(terms))
    if not pairs:
        return 1.0
    return len(pairs & _text_pairs(text)) / len(pairs)


# Each question reads the pairs of its best 20 passages (qa.search), and questions on one topic
# meet the same passages again: tokenizing them every time was 5-7% of a server's CPU per
# question. An entry is about 9 KB (a passage of 370 characters), so the cache holds about 10 MB
# at most.
@lru_cache(maxsize=1024)
def _text_pairs(text: str) -> frozenset[tuple[str, str]]:
    """The adjacent pairs of `text`'s terms (`tokenize`)."""
    return frozenset(itertools.pairwise(tokenize(text)))


def word_count(text: str) -> int:
    """Number of words in `text`, stop words included."""
    return len(_WORD.findall(text))


@dataclass(frozen=True)
class BM25:
    """Term -> postings (row, weight), weights precomputed so a query is a few array adds."""

    vocab: dict[str, int]
    indptr: np.ndarray  # postings of term t are [indptr[t], indptr[t+1])
    rows: np.ndarray
    weights: np.ndarray
    size: int

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 0.6, b: float = 0.3) -> BM25:
        """Index `texts` (one row each) with Okapi BM25 parameters `k1` and `b`.

        Low k1 and b (saturate term frequency early, normalise length little) measured best on
        passages of at most 600 characters: +1.1 points of SQuAD hit@1 over the usual 1.2/0.75.
        """
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

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every row for a query's `terms` (from `tokenize`; zeros where none match)."""
        out = np.zeros(self.size, dtype=np.float32)
        for term, count in Counter(terms).items():
            t = self.vocab.get(term)
            if t is not None:
                lo, hi = self.indptr[t], self.indptr[t + 1]
                out[self.rows[lo:hi]] += count * self.weights[lo:hi]
        return out

    def idf(self, term: str) -> float:
        """Inverse document frequency of a (tokenized) term; an unseen term gets the highest."""
        t = self.vocab.get(term)
        df = 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    def coverage(self, terms: Sequence[str], row: int) -> float:
        """The idf-weighted share of a question's distinct `terms` that occur in `row`.

        Read off the postings (each term's rows are stored in ascending order), so no text is
        tokenized again at question time.

        >>> BM25.build(["staff survey", "bread"]).coverage(tokenize("Who did the staff survey?"), 0)
        1.0
        """
        total = present = 0.0
        for term in set(terms):
            weight = self.idf(term)
            total += weight
            present += weight if self.contains(term, row) else 0.0
        return present / total if total > 0 else 0.0

    def rows_of(self, term: str) -> np.ndarray:
        """The rows holding the (tokenized) `term`, ascending; none for a term no row holds."""
        t = self.vocab.get(term)
        return self.rows[self.indptr[t] : self.indptr[t + 1]] if t is not None else self.rows[:0]

    def contains(self, term: str, row: int) -> bool:
        """True when `row` holds the (tokenized) `term`: a binary search of its postings."""
        rows = self.rows_of(term)
        at = int(np.searchsorted(rows, row))
        return at < len(rows) and rows[at] == row

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

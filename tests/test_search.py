"""Ranking and highlighting on small hand-made corpora (vectors chosen by hand, no model)."""

import numpy as np

from qa import search
from qa.lexical import BM25
from qa.search import Corpus, _sentence_rows, highlight, make_dense, rank
from qa.types import Passage


def _corpus(passages: list[list[str]], sentence_vectors: np.ndarray, passage_vectors: np.ndarray) -> Corpus:
    sentences = [s for p in passages for s in p]
    first = np.cumsum([0] + [len(p) for p in passages])
    texts = [" ".join(p) for p in passages]
    spans, at = [], 0
    for s in sentences:
        spans.append((at, at + len(s)))
        at += len(s) + 1
    return Corpus.from_passages(
        [Passage(text=t, source="test", title="", start=0, end=len(t)) for t in texts],
        dense=make_dense(passage_vectors)[0],
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
        first_sentence=first,
        sentence_spans=np.array(spans),
        lexical=BM25.build(texts),
        sentence_lexical=BM25.build(sentences),
    )


def _unit(*rows):
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_sentence_rows_gathers_each_passages_sentences_in_order():
    corpus_first = np.array([0, 2, 5, 6, 9])

    class C:
        first_sentence = corpus_first

    rows, segments = _sentence_rows(C, np.array([3, 0, 2]))
    assert rows.tolist() == [6, 7, 8, 0, 1, 5]
    assert segments.tolist() == [0, 3, 5]


def test_highlight_prefers_dense_and_lexical_agreement_and_extends_short_sentences():
    spans = np.array([[0, 200], [201, 240], [241, 500]])
    assert highlight(np.array([0.9, 0.1, 0.1]), np.array([1.0, 0.0, 0.0]), spans) == (0, 0)
    # A short best sentence is joined by the next one.
    assert highlight(np.array([0.1, 0.9, 0.1]), np.array([0.0, 2.0, 0.0]), spans) == (1, 2)
    # The last sentence has no next one to join.
    assert highlight(np.array([0.1, 0.1, 0.9]), np.array([0.0, 0.0, 0.0]), spans[[0, 1, 1]]) == (2, 2)


def test_rank_fuses_dense_and_lexical_and_puts_fragments_last():
    passages = [
        ["Team huddles last ten minutes every morning on the ward.", "They help staff plan the day."],
        ["Huddles"],  # a lone heading: a fragment
        ["Bread is baked with flour, water, salt and a little yeast at home."],
    ]
    sentence_vectors = _unit([1, 0.1, 0], [0.8, 0.2, 0], [1, 0, 0], [0, 0, 1])
    passage_vectors = _unit([1, 0.1, 0], [1, 0, 0], [0, 0, 1])
    corpus = _corpus(passages, sentence_vectors, passage_vectors)
    hits = rank(corpus, _unit([1, 0, 0])[0], "How long do huddles last?", k=3)
    assert [h.row for h in hits] == [0, 2, 1]
    assert hits[0].first == 0 and hits[0].relevance > hits[1].relevance
    assert rank(corpus, _unit([1, 0, 0])[0], "huddles", k=0) == []


def test_rank_puts_the_passage_repeating_the_questions_phrase_first(monkeypatch):
    passages = [
        ["Results of the survey reach staff within a week of it closing."],  # the words, not the phrase
        ["The staff survey results are published every March."],  # the words, in the question's order
        ["Bread is baked with flour, water, salt and a little yeast at home."],
    ]
    # The embedding prefers the first; BM25 scores the two alike.
    vectors = _unit([1, 0.3, 0], [1, 0.8, 0], [0, 0, 1])
    corpus = _corpus(passages, vectors, vectors)
    question, text = _unit([1, 0.3, 0])[0], "What do the staff survey results show?"
    assert [h.row for h in rank(corpus, question, text, k=3)] == [1, 0, 2]
    monkeypatch.setattr(search, "PHRASE_WEIGHT", 0.0)  # without the phrase step, the embedding decides
    assert [h.row for h in rank(corpus, question, text, k=3)] == [0, 1, 2]

import numpy as np

from qa.search import best_sentences


def test_best_sentences_matches_a_plain_loop():
    rng = np.random.default_rng(0)
    first_sentence = np.array([0, 2, 5, 6, 9, 13])
    vectors = rng.standard_normal((13, 8)).astype(np.float32)
    question = rng.standard_normal(8).astype(np.float32)
    rows = np.array([3, 0, 4, 2])
    best, sims = best_sentences(rows, first_sentence, vectors, question)
    for row, b, s in zip(rows, best, sims, strict=True):
        own = vectors[first_sentence[row] : first_sentence[row + 1]] @ question
        assert b == first_sentence[row] + int(np.argmax(own))
        assert np.isclose(s, own.max())

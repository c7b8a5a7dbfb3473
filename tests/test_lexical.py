import numpy as np

from qa.lexical import BM25, tokenize


def test_tokenize_drops_stopwords_and_stems():
    assert tokenize("The leaders’ values and the Leader's value") == ["leader", "valu", "leader", "valu"]
    assert tokenize("Organisations organising") == ["organis", "organis"]


def test_bm25_ranks_the_matching_row_first_and_round_trips():
    texts = ["collective leadership in the NHS", "bread baking at home", "leadership of teams and teams"]
    bm25 = BM25.build(texts)
    scores = bm25.scores(tokenize("how do I bake bread"))
    assert int(np.argmax(scores)) == 1
    assert scores[0] == 0 and scores[2] == 0
    again = BM25.from_arrays(bm25.to_arrays("x"), "x", len(texts))
    query = tokenize("collective leadership")
    assert np.allclose(again.scores(query), bm25.scores(query))
    assert not again.scores(tokenize("unknownword")).any()

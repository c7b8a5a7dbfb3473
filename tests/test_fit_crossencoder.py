"""The reader's training pairs from SQuAD 2.0: negatives from the unanswerable questions only."""

from bench.fit_crossencoder import squad2_articles, unanswerable_pairs

ARTICLE = {
    "title": "Ward 7",
    "paragraphs": [
        "Ward 7 cut falls by 40 percent in 2019. Nurses began hourly rounding that spring. The ward has 28 beds.",
    ],
    "qas": [
        {"question": "By how much did ward 7 cut falls?", "answers": ["40 percent"], "paragraph": 0},
        {"question": "When did ward 7 open?", "answers": [], "paragraph": 0},
    ],
}


def test_each_unanswerable_question_gets_its_paragraphs_closest_sentences_as_negatives():
    pairs = unanswerable_pairs(ARTICLE, 2)
    assert [p.question for p in pairs] == ["When did ward 7 open?"] * 2  # the answerable one gives none
    assert all(p.label == 0.0 for p in pairs)
    paragraph = ARTICLE["paragraphs"][0]
    assert len({p.sentence for p in pairs}) == 2 and all(p.sentence in paragraph for p in pairs)
    assert pairs[0].sentence.startswith("Ward 7")  # the closest first: it names what the question names
    assert unanswerable_pairs(ARTICLE, 0) == []


def test_squad2_articles_are_chosen_by_title_from_the_shared_file():
    chosen = squad2_articles({"1973 oil crisis", "No such article"})
    assert [a["title"] for a in chosen] == ["1973 oil crisis"]
    assert any(not q["answers"] for q in chosen[0]["qas"])

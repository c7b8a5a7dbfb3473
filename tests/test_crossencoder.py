"""The cross-encoder the judgement reads: how it encodes pairs, and the shipped model itself."""

import hashlib

import numpy as np
import pytest

from qa import crossencoder
from qa.crossencoder import MAX_TOKENS, CrossEncoder, feed, get_cross_encoder


def test_pairs_are_encoded_as_question_then_sentence_padded_and_cut():
    inputs = feed([("Who leads?", "The board chair leads."), ("Why?", "word " * 500)])
    ids, mask, types = inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]
    assert ids.shape == (2, MAX_TOKENS)  # the long sentence is cut, the short pair padded to it
    tokens = crossencoder.pair_tokenizer().id_to_token
    short = [tokens(int(i)) for i in ids[0, : mask[0].sum()]]
    assert short[0] == "[CLS]" and short.count("[SEP]") == 2 and short[-1] == "[SEP]"
    assert types[0, : short.index("[SEP]") + 1].sum() == 0 and types[0, mask[0].sum() - 1] == 1
    assert mask[0, mask[0].sum() :].sum() == 0 and mask[1].all()


def test_shipped_model_is_small_and_is_the_one_its_record_describes():
    data = crossencoder.WEIGHTS.read_bytes()
    assert len(data) <= 25_000_000
    record = crossencoder.record()
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["command"].startswith("python -m bench.fit_crossencoder")


@pytest.mark.parametrize(
    ("question", "answers", "on_topic"),
    [
        (
            "How many nurses does the trust employ?",
            "The hospital trust employs 4,200 nurses across its three sites.",
            "The trust's nurses rate their ward managers highly in the staff survey.",
        ),
        (
            "Why do teams work better with clear objectives?",
            "Teams with clear objectives work better because every member knows what to prioritise.",
            "Teams in the trust have objectives set each year.",
        ),
        (
            "How many people work in the NHS?",
            "The NHS employs 1.3 million people.",
            "NHS staff work long shifts in every region of England.",
        ),
        (
            "When did the trust open its new maternity unit?",
            "The new maternity unit opened in March 2019.",
            "The maternity unit is the trust's busiest department.",
        ),
    ],
)
def test_an_answering_sentence_outscores_one_only_on_its_topic(question, answers, on_topic):
    scores = get_cross_encoder().score(question, [answers, on_topic])
    assert scores.shape == (2,) and scores.dtype == np.float32
    assert scores[0] > 0 > scores[1]


def test_no_sentences_score_nothing_and_a_missing_model_says_how_to_get_it(tmp_path):
    assert get_cross_encoder().score("Anything?", []).shape == (0,)
    with pytest.raises(FileNotFoundError, match=r"bench\.fit_crossencoder"):
        CrossEncoder(tmp_path / "gone.onnx")

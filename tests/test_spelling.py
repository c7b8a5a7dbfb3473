import pytest

from qa.lexical import BM25
from qa.spelling import english, mend
from ui.render import searched_html

# "Stations" is one letter from "statins", which the general list lacks.
CONTENT = BM25.build(["Collective leadership means all staff are accountable.", "Caring staff speak up at stations."])


def test_slips_are_mended_to_the_words_the_content_holds():
    assert mend("Who is acountable under colective leadreship?", CONTENT) == (
        "Who is accountable under collective leadership?"
    )
    # "carring" is a letter from "caring" and "carrying": the content's word wins over the more used one.
    assert english()["carrying"] > english()["caring"]
    assert mend("Who is carring for patients?", CONTENT) == "Who is caring for patients?"
    assert mend("Who is carring for patients?", BM25.build(["Carrying loads."])) == "Who is carrying for patients?"


def test_a_word_the_content_lacks_becomes_the_most_used_english_word():
    # The content lacks it either way; the question is embedded and read as it was meant.
    assert mend("What is a Freedom to Speak Up gaurdian?", CONTENT) == "What is a Freedom to Speak Up guardian?"


@pytest.mark.parametrize(
    "question",
    [
        "Who was the defector?",  # a real word one letter from "detector": never changed
        "Which opioids are prescribed?",  # the list has "opioid" only: a plural of a word is a word
        "Who takes statins after covid?",  # words the list lacks, named in the glossary
        "When did Luther waken?",
        "Who is Colective Ltd?",  # capitalised: may be a name
        "Is the staf safe?",  # short words are a letter from too many others
        "Why couldn't staff speak up?",  # not "couldn" of "couldn't"
        "What is xqzvbnm?",  # nothing near it
    ],
)
def test_real_words_names_short_words_and_unknown_ones_are_left_as_written(question):
    assert mend(question, CONTENT) == question


NAMES = BM25.build(["By Michael West", "Suzie Bailey comments on the survey.", "Michaels and Wests"])


@pytest.mark.parametrize(
    ("question", "mended"),
    [
        ("Who is Micheal West?", "Who is Michael West?"),  # "micheal" is in the English list
        ("What did Suzie Baily say?", "What did Suzie Bailey say?"),
        ("Who is Micheal Westt?", "Who is Micheal Westt?"),  # no word of the name held beside it
        ("Who is Micheal?", "Who is Micheal?"),  # a name alone: may be another person
        ("Who is Micheal Bailey?", "Who is Micheal Bailey?"),  # no passage holds Michael and Bailey
    ],
)
def test_a_misspelt_name_is_mended_only_to_the_contents_beside_another_word_of_it(question, mended):
    assert mend(question, NAMES) == mended


def test_the_contents_own_spelling_is_kept_though_no_dictionary_has_it():
    assert "organisational" not in english()
    british = BM25.build(["Organisational culture matters."])
    assert mend("Is organisational culture kind?", british) == "Is organisational culture kind?"


def test_a_slip_no_longer_turns_an_answer_into_not_answered(article_index):
    # "colective" was read as the rarest fact the passage lacks: "not answered" (0.04).
    plain = article_index.judge("What is collective leadership?")
    slipped = article_index.judge("What is colective leadreship?")
    assert slipped.status == plain.status == "answered"
    assert slipped.probability == pytest.approx(plain.probability)
    answer = article_index.ask("Who is acountable under collective leadership?")
    assert answer.found and "all are accountable" in answer.text


def test_the_reader_is_shown_what_was_searched(article_index):
    answer = article_index.ask("What is colective leadership?")
    assert answer.question == "What is colective leadership?"
    assert answer.query == "What is collective leadership?"  # the text actually searched
    assert "Searched for: <q>What is collective leadership?</q>" in searched_html(answer)
    # Words only cut are not worth a line: the reader sees their question answered.
    assert searched_html(article_index.ask("Can you tell me what collective leadership is? Thanks")) == ""

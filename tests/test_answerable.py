"""The answerability judgement: its features and the shipped weights on hand-made cases that only
the feature under test tells apart, and the four outcomes through the Python API and the command line
on the real article index, for questions written here (no fitting saw them)."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

import qa
from qa import answerable
from qa.answerable import FEATURES, Evidence, Judge, Model, Verdict, features, fit, judge
from qa.lexical import BM25, tokenize
from qa.types import ANSWERED, NOT_COVERED, RELATED, UNSURE

# A small made-up content: one passage per sentence, so passage and sentence rows coincide.
TEXTS = [
    "The hospital trust employs 4,200 nurses across its three sites.",
    "Ward managers meet each morning to plan the day's staffing.",
    "The board chair, Dr Amara Okafor, leads the quarterly review of patient safety.",
    "Staff surveys ask whether people feel able to raise concerns.",
]
PASSAGES = BM25.build(TEXTS)


def evidence(question: str, row: int, cos: float, second: float = 0.3) -> Evidence:
    return Evidence(
        question=question,
        terms=tokenize(question),
        sentence_cos=[cos, second],
        scores=[2.0, 1.0],
        passage_cos=cos - 0.05,
        highlight_cos=cos,
        passage_row=row,
        sentence_rows=range(row, row + 1),
        highlight_rows=range(row, row + 1),
        highlight=TEXTS[row],
        passage_text=TEXTS[row],
    )


def test_features_read_coverage_missing_terms_and_answer_type():
    has = dict(
        zip(
            FEATURES,
            features(evidence("How many nurses does the trust employ?", 0, 0.7), PASSAGES, PASSAGES),
            strict=True,
        )
    )
    assert has["wants_number"] and not has["number_missing"]

    lacks = dict(
        zip(
            FEATURES,
            features(evidence("How many midwives does the trust employ?", 2, 0.5), PASSAGES, PASSAGES),
            strict=True,
        )
    )
    assert lacks["passage_coverage"] < has["passage_coverage"]
    assert lacks["passage_missing_idf"] == 1.0 > has["passage_missing_idf"]  # "midwives": never seen
    assert lacks["number_missing"] and lacks["pair_coverage"] < has["pair_coverage"]

    who = dict(zip(FEATURES, features(evidence("Who chairs the board?", 2, 0.6), PASSAGES, PASSAGES), strict=True))
    assert who["wants_name"] and not who["name_missing"]  # "Amara Okafor", not in the question


@pytest.mark.parametrize(
    ("text", "says_who"),
    [
        ("The board chair, Dr Amara Okafor, leads the review.", True),
        ("All staff are accountable.", True),  # "Who is accountable?": people, by what they are
        ("It is led by clinicians and their teams.", True),
        ("The review is held every quarter.", False),
        ("Reviews are led by the board.", False),  # "board" only repeats the question
    ],
)
def test_who_is_answered_by_a_name_or_by_words_for_people(text, says_who):
    shown = replace(evidence("Who leads the board's review?", 0, 0.6), highlight=text, passage_text=text)
    who = dict(zip(FEATURES, features(shown, PASSAGES, PASSAGES), strict=True))
    assert who["wants_name"] and who["name_missing"] == (not says_who)


@pytest.mark.parametrize(
    ("question", "number", "name"),
    [
        ("In what year did the trust open?", True, False),
        ("The trust opened when?", True, False),
        ("Whose review is quarterly?", False, True),
        # A question word after the first joins a clause: no date or name is asked for.
        ("What do ward managers plan when they meet?", False, False),
        ("What does the board chair who leads the review check?", False, False),
        ("How do staff raise concerns?", False, False),
    ],
)
def test_the_kind_of_answer_asked_for_is_read_from_the_first_question_word(question, number, name):
    row = 1
    has = dict(zip(FEATURES, features(evidence(question, row, 0.6), PASSAGES, PASSAGES), strict=True))
    assert (has["wants_number"], has["wants_name"]) == (number, name)
    # The row holds no number: missing where one is asked for ("when they meet" once made it lack a date).
    assert has["number_missing"] == number


@pytest.mark.parametrize(
    "framed",
    [
        "According to the trust, how many nurses does it employ?",
        "In the trust's words, how many nurses does it employ?",
        "What does the trust say about how many nurses it employs?",
    ],
)
def test_words_that_frame_the_question_are_not_read_as_what_it_asks_for(framed):
    # "words", "according" and "say" are nowhere in the content: read as asked-for terms they
    # would be the rarest fact the passage lacks, and an answering passage would look unrelated.
    plain, asked = (
        dict(zip(FEATURES, features(evidence(question, 0, 0.7), PASSAGES, PASSAGES), strict=True))
        for question in ("How many nurses does the trust employ?", framed)
    )
    assert asked["passage_missing_idf"] < 1.0
    assert asked["passage_coverage"] > 0.9 * plain["passage_coverage"]


def test_names_match_across_spelling_apostrophes_and_possessives():
    def read(question: str, text: str) -> dict[str, float]:
        one = BM25.build([text])
        x = features(replace(evidence(question, 0, 0.6), highlight=text, passage_text=text), one, one)
        return dict(zip(FEATURES, x, strict=True))

    # The question's own name, spelt another way, is no answer to "who" ...
    who = "Who founded the Center for Creative Leadership?"
    spelt = read(who, "Working with the Centre for Creative Leadership, we built the programme.")
    assert spelt["wants_name"] and spelt["name_missing"]
    assert not read(who, "The Centre was founded by Joan Smith.")["name_missing"]
    # ... and a straight apostrophe in the question finds the curly one in the text.
    assert (
        read("When did the King's Fund start the programme?", "The King’s Fund began it in 2014.")["names_missing"] == 0
    )


# How much each verdict claims: a twin lacking what decides must get a weaker one.
STRENGTH = {RELATED: 0, UNSURE: 1, ANSWERED: 2}


def judged(question: str, text: str) -> tuple[dict[str, float], Verdict]:
    """The features and shipped verdict of `text` found for `question`, at fixed cosines and reader.

    The cosines (0.35 to the best sentence, 0.3 to the next passage's) and the reader's logit (0,
    undecided) are the same for every case, so only the lexical and answer-type features differ.
    """
    one = BM25.build([text])
    base = evidence(question, 0, 0.35)
    x = features(
        replace(base, sentence_cos=[0.35, 0.3], scores=[2.0, 1.9], highlight=text, passage_text=text), one, one
    )
    return dict(zip(FEATURES, x, strict=True)), judge().decide(x, lambda: 0.0)


@pytest.mark.parametrize(
    ("asked", "answering", "lacking", "decides", "flips"),
    [
        # Answer type: the same words, with and without the number "how many" asks for.
        (
            "How many nurses does the trust employ?",
            "The trust employs 4,200 nurses.",
            "The trust employs nurses.",
            {"number_missing"},
            True,
        ),
        # Answer type: the same sentence, saying who chairs it or not (the probability falls by
        # about half; both may stay between the cuts, "unsure"). "A retired doctor" says who.
        (
            "Who chairs the board of the trust?",
            "The board of the trust is chaired by Dr Amara Okafor.",
            "The board of the trust is chaired every quarter.",
            {"name_missing"},
            False,
        ),
    ],
)
def test_the_answer_type_alone_decides_between_hand_made_twins(asked, answering, lacking, decides, flips):
    has, yes = judged(asked, answering)
    lacks, no = judged(asked, lacking)
    assert {name for name in FEATURES if has[name] != lacks[name]} == decides
    assert yes.status != RELATED and no.probability < 0.6 * yes.probability
    if flips:
        assert STRENGTH[no.status] < STRENGTH[yes.status]


# The features that read which of the question's terms the text holds.
TERM_FEATURES = {
    "passage_coverage",
    "highlight_coverage",
    "passage_missing_idf",
    "highlight_missing_idf",
    "sentence_x_coverage",
    "best_sentence_coverage",
    "pair_coverage",
}


def test_a_term_the_text_never_mentions_alone_decides():
    text = "The hospital trust employs 4,200 nurses across its three sites."
    has, yes = judged("How many nurses does the trust employ?", text)
    lacks, no = judged("How many midwives does the trust employ?", text)  # "midwives": nowhere in the text
    differing = {name for name in FEATURES if has[name] != lacks[name]}
    assert differing <= TERM_FEATURES and "passage_missing_idf" in differing
    assert lacks["passage_missing_idf"] == 1.0 > has["passage_missing_idf"]
    assert yes.status != RELATED and STRENGTH[no.status] < STRENGTH[yes.status]


def test_the_reader_runs_only_inside_the_band_and_then_decides():
    blank = Model(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), np.zeros(len(FEATURES)), 0.0)
    reads = Model(np.zeros(len(FEATURES) + 1), np.ones(len(FEATURES) + 1), np.eye(len(FEATURES) + 1)[-1], 0.0)
    x = np.zeros(len(FEATURES))  # the screen says 0.5 for anything

    def never() -> float:
        raise AssertionError("the reader ran outside the band")

    assert Judge(blank, reads, 0.5, 0.5, (0.0, 0.4)).decide(x, never).status == ANSWERED  # above the band
    assert Judge(blank, reads, 0.5, 0.5, (0.6, 0.9)).decide(x, never).status == RELATED  # below it
    inside = Judge(blank, reads, 0.8, 0.2, (0.4, 0.6))
    yes, maybe, no = (inside.decide(x, lambda logit=logit: logit) for logit in (3.0, 0.0, -3.0))
    assert yes.status == ANSWERED and yes.reader == 3.0 and yes.probability > 0.9
    assert maybe.status == UNSURE and maybe.probability == 0.5  # between the floor and the threshold
    assert no.status == RELATED and no.probability < 0.1


def test_an_unquotable_passage_is_unsure_where_it_would_be_quoted():
    blank = Model(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), np.zeros(len(FEATURES)), 0.0)
    reads = Model(np.zeros(len(FEATURES) + 1), np.ones(len(FEATURES) + 1), np.eye(len(FEATURES) + 1)[-1], 0.0)
    x = np.zeros(len(FEATURES))
    above, inside = Judge(blank, reads, 0.5, 0.5, (0.0, 0.4)), Judge(blank, reads, 0.8, 0.2, (0.4, 0.6))
    # Quoted by the screen, and by the full model; unsure and related stay what they are.
    for cascade, logit, says in [(above, 0.0, ANSWERED), (inside, 3.0, ANSWERED), (inside, 0.0, UNSURE)]:
        plain = cascade.decide(x, lambda logit=logit: logit)
        lacking = cascade.decide(x, lambda logit=logit: logit, unquotable=True)
        assert plain.status == says and lacking.status == UNSURE
        assert lacking.probability == plain.probability
    assert inside.decide(x, lambda: -3.0, unquotable=True).status == RELATED


CCL = "Working with the Centre of Creative Leadership, we have identified the tools that we need."


@pytest.mark.parametrize(
    ("question", "passage", "only"),
    [
        # Names the subject, holds no other word asked, lacks a date or a name: only a mention.
        ("When was the Centre for Creative Leadership founded?", CCL, True),
        ("Who runs the Center for Creative Leadership?", CCL, True),
        ("How big is the Centre for Creative Leadership?", CCL, True),
        # Typed without capitals: its names are the words the passage capitalises.
        ("when was the centre for creative leadership founded?", CCL, True),
        ("when was the centre for creative leadership founded by ann lee?", CCL, True),
        # A word asked besides the names ("work" in "Working") is something said of it.
        ("Who worked with the Centre for Creative Leadership?", CCL, False),
        # The kind of answer asked for is there: the passage may say it.
        ("When was the Centre for Creative Leadership founded?", "The Centre for Creative Leadership, in 1970.", False),
        ("Who runs the Centre for Creative Leadership?", "Ann Lee and the Centre for Creative Leadership.", False),
        # Without a name, or without a word besides it, there is nothing to tell apart.
        ("When was it founded?", "It works with the tools that we need.", False),
        ("Where is the Centre for Creative Leadership?", CCL, False),
        # No kind of answer asked for: a passage may say what it is in any words.
        ("What is the Centre for Creative Leadership's headquarters?", CCL, False),
        # Asked what a term is, the marked sentence must say it, not only use it.
        ("What is psychological safety?", "Humour creates a sense of psychological safety.", True),
        ("what's psychological safety", "Humour creates a sense of psychological safety.", True),
        ("What does psychological safety mean?", "Humour creates a sense of psychological safety.", True),
        ("What is a just culture?", "Culture is what is important to us here.", True),
        ("What is psychological safety?", "Psychological safety is the belief that one may speak up.", False),
        ("What are huddles?", "A huddle is a short meeting at the start of a shift.", False),
        ("What does psychological safety mean?", "Psychological safety means that people may speak up.", False),
        ("What are chares?", "Narrow alleys or 'chares' still exist.", False),
        ("What is a stromule?", "The membranes form a stromule (a stroma-filled tubule).", False),
        ("What is retrograde signalling?", "They start retrograde signalling — signals from the chloroplast.", False),
        # An abbreviation asked about alone: the marked sentence must spell it out.
        ("What is BME?", "We need greater diversity in terms of BME and gender representation.", True),
        ("What does BME stand for?", "We need greater diversity in terms of BME and gender.", True),
        ("What does UMC stand for?", "Comparatively, the UMC stands to the right of liberal groups.", True),
        ("What does BME stand for?", "More black and minority ethnic leaders are needed.", False),  # the glossary's
        ("What is the NHS?", "It is the National Health Service, founded in 1948.", False),  # initials
        ("What is CSNET?", "The Computer Science Network (CSNET) was a computer network.", False),
        ("What is the IEEE?", "He spoke at the American Institute of Electrical Engineers (now IEEE).", False),
        ("What are ICSs?", "ICSs are partnerships of the organisations that plan care.", False),
        ("What is NHS England?", "NHS England and the trusts it oversees.", False),  # a name, not an abbreviation
        # Asked when, a sentence without a date that only dates something else from the event.
        ("When did he join the King's Fund?", "I have felt warmth continually since joining the King's Fund.", True),
        ("When did he join the King's Fund?", "He joined the King's Fund in 2014; since joining, he has led.", False),
        ("Since when has he felt warmth?", "I have felt warmth continually since joining the King's Fund.", False),
        # Not a term: "the" asks for one thing, "called" for a name, a linking word describes.
        ("What is the largest ctenophore?", "Cestum veneris is among the largest ctenophores.", False),
        ("What is terra preta called?", "Terra preta (black earth) is found in the Amazon.", False),
        ("What is a team of leaders?", "A board of leaders sets the strategy.", False),
    ],
)
def test_a_passage_that_only_mentions_what_is_asked_about(question, passage, only):
    assert answerable.mentions_only(question, tokenize(question), passage, passage) is only


def test_a_floor_above_the_threshold_is_refused():
    blank = Model(np.zeros(1), np.ones(1), np.zeros(1), 0.0)
    with pytest.raises(ValueError, match="floor"):
        Judge(blank, blank, 0.3, 0.6, (0.0, 1.0))


def same_judge(a: Judge, b: Judge) -> bool:
    """Every number of both models, the two cuts and the band, equal to the last bit."""
    models = [(a.screen, b.screen), (a.full, b.full)]
    arrays = all(np.array_equal(getattr(m, k), getattr(n, k)) for m, n in models for k in ("mean", "scale", "weights"))
    cuts = (a.threshold, a.floor, a.band) == (b.threshold, b.floor, b.band)
    return arrays and all(m.bias == n.bias for m, n in models) and cuts


def test_fit_separates_and_round_trips_through_json():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 5] > 0).astype(float)
    fitted = fit(x, y)
    assert ((fitted.probability(x) >= 0.5) == y).mean() > 0.95
    full = fit(np.hstack([x, y[:, None]]), y)
    cascade = Judge(fitted, full, 0.3, 0.2, (0.2, 0.8))
    again = Judge.from_json(json.loads(json.dumps(cascade.to_json(command="test"))))
    assert same_judge(again, cascade)
    assert same_judge(Judge.from_json(json.loads(json.dumps(judge().to_json()))), judge())
    with pytest.raises(ValueError, match="refit"):
        answerable.Model.from_json(fitted.to_json(FEATURES), ["other"])


# Questions written for this test about the article (in no evaluation set, so no fitting saw them).
ANSWERED_HERE = [
    ("Which organisation did West work with to identify the tools for leadership strategies?", "Centre of Creative"),
    ("Where did West experience the most profound moments of his life?", "NHS organisations have been the places"),
    ("How do leaders shape the culture of their organisations?", "by what they attend to"),
    ("What does West say keeps communities going?", "optimism and senses of humour"),
    # Framed by who says it: "according" is nowhere in the article (it was told "not answered").
    ("According to West, what is culture?", "Culture is what is important to us here"),
]
ON_TOPIC_UNANSWERED = [
    "What percentage of NHS staff feel safe to speak up?",
    "How many hospital trusts have adopted collective leadership?",
    "How much did the NHS spend on leadership training in 2013?",
]
# Each names an organisation the article mentions once, and asks what the article never says of
# it. They were quoted (0.84-0.88), the passage naming it far ahead of the next: `mentions_only`.
MENTIONED_ONLY = [
    "When was the Centre for Creative Leadership founded?",
    "Where is the Centre for Creative Leadership based?",
    "How big is the Centre for Creative Leadership?",
    "Who runs the Centre for Creative Leadership?",
    "who funds the centre for creative leadership?",  # typed without capitals: quoted at 0.83
]
# Each asks what a term is that the article only uses; all were quoted (0.75-0.99) the sentence
# using it. The article's own definitions are still quoted (`ANSWERED_HERE`, `test_a_term_...`).
TERM_ONLY_USED = [
    ("What is psychological safety?", "psychological safety"),
    ("What is a just culture?", "Culture is what"),
    ("What does psychological safety mean?", "psychological safety"),
    ("What is command and control?", "command and control"),
    # An abbreviation it never spells out: quoted "diversity in terms of BME ..." (0.98-0.99).
    ("What is BME?", "in terms of BME"),
    ("What does BME stand for?", "in terms of BME"),
    # Was "not covered": "mean" read as the rarest fact the passage lacks (qa.framing asks "What is ...?").
    ("What does proactivity mean?", "encouraging proactivity"),
]
OFF_TOPIC = [
    "What is the boiling point of water at sea level?",
    "Which team won the 1966 football World Cup final?",
    "How do I change a flat bicycle tyre?",
]


@pytest.mark.parametrize(("question", "sentence"), ANSWERED_HERE)
def test_questions_the_article_answers_are_answered_or_unsure_with_the_answer_marked(article_index, question, sentence):
    answer = article_index.ask(question)
    assert answer.status in (ANSWERED, UNSURE) and sentence in answer.passages[0].highlight
    assert answer.text == answer.passages[0].highlight or answer.status == UNSURE


@pytest.mark.parametrize("question", ON_TOPIC_UNANSWERED)
def test_on_topic_questions_it_does_not_answer_are_never_answered(article_index, question):
    answer = article_index.ask(question)
    assert answer.status in (RELATED, UNSURE) and not answer.found and answer.passages
    assert answer.text not in answer.passages[0].text  # says so, quotes nothing as the answer


@pytest.mark.parametrize("question", MENTIONED_ONLY)
def test_a_passage_that_only_mentions_what_is_asked_about_is_not_quoted(article_index, question):
    answer = article_index.ask(question)
    assert answer.status == UNSURE and not answer.found
    assert "Centre of Creative Leadership" in answer.passages[0].highlight  # shown, marked, claimed nothing
    assert answer.text == qa.engine.UNSURE_TEXT


def test_a_sentence_dated_from_the_asked_event_is_not_quoted_as_when_it_happened(article_index):
    # Quoted at 0.78: "... which I have experienced continually since joining the King's Fund".
    answer = article_index.ask("When did Michael West join the King's Fund?")
    assert answer.status == UNSURE and not answer.found and "since joining the King" in answer.passages[0].highlight
    # Asked since when, that sentence is the answer.
    answer = article_index.ask("Since when has Michael West experienced warm interactions at the King's Fund?")
    assert answer.status == ANSWERED and "since joining the King" in answer.text


@pytest.mark.parametrize(("question", "marked"), TERM_ONLY_USED)
def test_a_term_the_article_only_uses_is_not_quoted_as_defined(article_index, question, marked):
    answer = article_index.ask(question)
    assert answer.status == UNSURE and not answer.found and marked in answer.passages[0].highlight


@pytest.mark.parametrize(
    ("question", "definition"),
    [
        ("What is an organisation?", "an organisation is simply another form of human community"),
        ("What is meant by collective leadership?", "Collective leadership is a leadership in which"),
        ("what's culture?", "Culture is what is important to us here"),
    ],
)
def test_a_term_the_article_defines_is_quoted_its_definition(article_index, question, definition):
    answer = article_index.ask(question)
    assert answer.status == ANSWERED and definition in answer.text


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_are_not_covered(article_index, question):
    assert article_index.ask(question).status == NOT_COVERED


# Shown mid-way between the two cuts: the article has leaders "prioritise" patient care across the
# system, in words other than the question's, so the judgement can neither stand behind the quote
# nor rule it out. ("What did West say about the midwives when his children were born?" was this
# example while its "when" was read as asking for a date, which the births passage lacks.)
UNSURE_QUESTION = "What should leaders put first across the system?"
# Confidently not answered (its probability far under the floor).
NOT_ANSWERED_QUESTION = "How many nurses did the NHS employ in 2019?"


def test_each_of_the_four_outcomes_through_the_python_api(article_index):
    assert article_index.ask("What is collective leadership?").status == ANSWERED
    related = article_index.ask(NOT_ANSWERED_QUESTION)
    assert related.status == RELATED and not related.found
    assert related.passages and related.text not in related.passages[0].text  # says so, quotes nothing
    unsure = article_index.ask(UNSURE_QUESTION)
    assert unsure.status == UNSURE and not unsure.found
    assert unsure.text == qa.engine.UNSURE_TEXT  # true whether or not the passage answers
    assert "prioritise the success of patient care" in unsure.passages[0].highlight  # the likeliest sentence, marked
    assert article_index.ask("How do I bake sourdough bread?").status == NOT_COVERED


@pytest.mark.parametrize("question", ["Who wrote this article?", "Who is the author?", "Who wrote the blog?"])
def test_who_wrote_it_is_answered_by_the_byline(article_index, question):
    # "By Michael West" holds none of the question's words; it was told "not answered" (0.06).
    answer = article_index.ask(question)
    assert answer.status == ANSWERED and answer.text.startswith("By Michael West")
    assert "author" not in answer.passages[0].text  # the index's words for the byline are not shown


def test_unsure_lies_between_the_two_cuts(article_index):
    shipped = judge()
    assert 0 < shipped.floor < shipped.threshold < 1
    assert shipped.floor <= article_index.judge(UNSURE_QUESTION).probability < shipped.threshold


@pytest.mark.parametrize(("question", "status"), [(NOT_ANSWERED_QUESTION, "related"), (UNSURE_QUESTION, "unsure")])
def test_outcomes_through_the_command_line(built_index, question, status):
    done = subprocess.run(
        [sys.executable, "-m", "qa", question, "--json", "--index", str(built_index)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(done.stdout)
    assert data["status"] == status and data["found"] is False and data["passages"]
    assert data["passages"][0]["highlight"] in data["passages"][0]["text"]


def test_a_name_is_held_under_its_other_names_in_the_glossary():
    from qa.answerable import _names_missing

    spelled = "The Care Quality Commission inspects hospitals."
    assert _names_missing("What does the CQC inspect?", spelled) == 0.0
    assert _names_missing("What does the Care Quality Commission inspect?", "The CQC inspects hospitals.") == 0.0
    assert _names_missing("What does the FDA inspect?", spelled) == 1.0  # not in the glossary: missing

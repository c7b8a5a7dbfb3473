from qa.config import SETTINGS
from qa.followup import contextualize, is_follow_up


def test_standalone_questions_are_searched_as_they_are():
    history = ["What is collective leadership?"]
    assert contextualize("Who commented on the NHS Staff Survey?", history) == "Who commented on the NHS Staff Survey?"
    assert contextualize("and who is accountable?", []) == "and who is accountable?"


def test_follow_ups_carry_the_previous_query():
    history = ["What is collective leadership?", "and who is accountable?"]
    assert is_follow_up("and why does it matter?")
    assert contextualize("and why does it matter?", history) == (
        "What is collective leadership? and who is accountable? and why does it matter?"
    )


def test_a_question_with_its_own_subject_is_searched_alone_however_it_opens():
    history = ["What is collective leadership?"]
    for question in ("Why is collective leadership about reinforcing values?", "So who is Michael West at the Fund?"):
        assert not is_follow_up(question)
        assert contextualize(question, history) == question
    assert contextualize("Why?", history) == "What is collective leadership? Why?"


def test_history_is_bounded_in_turns_and_length_without_recursion():
    # 3,000 follow-ups in a row once recursed 3,000 deep; only the last few turns count now.
    query = contextualize("and why?", ["and why?"] * 3000)
    assert query == " ".join(["and why?"] * (SETTINGS.history_turns + 1))
    long_turn = "and " + "why " * 100_000
    assert len(contextualize("and why?", [long_turn])) <= SETTINGS.history_chars + len(" and why?")


def test_he_or_his_is_the_one_author_where_the_conversation_names_no_one_else():
    history = ["What is collective leadership?"]
    assert contextualize("What is his job?", history, "Michael West") == "What is his job?"
    # Only the questions it would follow count: not the Staff Survey asked about before them.
    earlier = ["What does West say about the NHS Staff Survey?", *history]
    assert contextualize("What is his job?", earlier, "Michael West") == "What is his job?"
    assert contextualize("What did he say about courage?", ["Who is Michael West?"], "Michael West") == (
        "What did he say about courage?"
    )
    # A capital after a colon starts a sentence; it names no one.
    assert contextualize("What is his job?", ["Question: What is collective leadership?"], "Michael West") == (
        "What is his job?"
    )
    # Someone else named, no one author, or "it" leaned on too: a follow-up as before.
    assert contextualize("What did he conclude?", ["Who is Pramod Achan?"], "Michael West") == (
        "Who is Pramod Achan? What did he conclude?"
    )
    assert contextualize("What is his job?", history) == "What is collective leadership? What is his job?"
    assert contextualize("Is it his?", history, "Michael West") == "What is collective leadership? Is it his?"


def test_asking_for_more_searches_the_questions_it_continues():
    # "Tell me more" was searched as its own words ("not covered"), and the next follow-up with it.
    history = ["What is collective leadership?"]
    for more in ("Tell me more", "tell me more about that, please", "More?", "Go on", "Anything else?"):
        assert is_follow_up(more)
        assert contextualize(more, history) == "What is collective leadership?"
    assert contextualize("What about compassion?", [*history, "Tell me more"]) == (
        "What is collective leadership? What about compassion?"
    )
    assert contextualize("Tell me more", []) == "Tell me more"  # nothing to continue
    assert not is_follow_up("Tell me more about the King's Fund")  # a subject of its own


def test_greetings_and_thanks_neither_follow_nor_are_followed():
    assert not is_follow_up("ok") and not is_follow_up("Thanks!")
    assert contextualize("ok", ["What is collective leadership?"]) == "ok"
    assert contextualize("and why?", ["What is culture?", "thanks!"]) == "What is culture? and why?"

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

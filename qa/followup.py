"""Follow-up questions: "and who should do that?" is searched with the questions it follows.

A question is a follow-up only when it cannot stand on its own: it has no subject of its own
("why?", "how so?"), opens with a connective and says little ("and who is accountable?",
"what about nurses?"), or leans on a pronoun with almost nothing else ("does it work?"). A
question with its own subject ("Why is collective leadership about reinforcing values?") is
searched alone, however it opens; so is one asking what the content is about, naming it ("What
is this article about?", "tl;dr": qa.framing.about_the_content).

Where the content has one author and the questions a follow-up would continue name no one else,
"he", "his", "she" or "her" is that author, not a lean on the last question: "What is his job?"
after "What is collective leadership?" asks the author's job (qa.framing), and searched with it
was told "not answered".

A follow-up is searched together with the chain of earlier questions it continues: back from
the latest, through earlier follow-ups, to the first question that stood on its own. The chain
is walked in a loop (no recursion) over at most `SETTINGS.history_turns` recent questions,
each cut to `SETTINGS.history_chars` characters, so a long or hostile history costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.config import SETTINGS
from qa.framing import about_the_content, asks_nothing
from qa.lexical import CAPITALISED, tokenize

_CONNECTIVE = re.compile(
    r"^(and|but|so|also|then|or|what about|how about|what else|why is that|why so|how so)\b", re.IGNORECASE
)
_PRONOUN = re.compile(
    r"\b(it|its|this|that|these|those|they|them|their|he|she|him|her|his|there|such|one|ones)\b", re.IGNORECASE
)
_PERSONAL = re.compile(r"\b(he|him|his|she|her)\b", re.IGNORECASE)
# Asking for more on what was just asked: searched as the questions it continues, without its own
# words. Searched alone, "Tell me more" was told "not covered", and the next follow-up searched
# with it ("more What about compassion?").
_MORE = re.compile(
    r"^(?:(?:please|(?:can|could|would) you)\s+)?(?:(?:tell|give|show) me|say|explain|go into)?\s*"
    r"(?:(?:a (?:bit|little) )?more|anything else|something else)(?:\s+(?:about|on|of)\s+(?:it|that|this|them))?"
    r"(?:[\s,]+please)?[\W_]*$"
    r"|^(?:go on|continue|elaborate|expand on (?:it|that|this))(?:[\s,]+please)?[\W_]*$",
    re.IGNORECASE,
)
# Content words (stemmed, stop words out, pronouns out) a question needs to have a subject of its own.
_OWN_SUBJECT = 3


def _own_words(question: str) -> list[str]:
    return [w for w in tokenize(_PRONOUN.sub(" ", question)) if len(w) > 2]


def is_follow_up(question: str) -> bool:
    """True when `question` cannot stand on its own (see the module's docstring).

    >>> is_follow_up("and who is accountable?"), is_follow_up("Why?"), is_follow_up("Does it work?")
    (True, True, True)
    >>> is_follow_up("Why is collective leadership about reinforcing values?")
    False
    >>> is_follow_up("What is this article about?"), is_follow_up("What is it about?")
    (False, True)
    >>> is_follow_up("Tell me more."), is_follow_up("ok"), is_follow_up("Thanks!")
    (True, False, False)
    """
    if _MORE.match(question.strip()):
        return True
    if about_the_content(question, named=True) or asks_nothing(question):
        return False
    words = _own_words(question)
    if not words:
        return True
    leans = _CONNECTIVE.match(question.strip()) or _PRONOUN.search(question)
    return bool(leans) and len(words) < _OWN_SUBJECT


def recent(history: object) -> list[str]:
    """The earlier questions a follow-up may use: the last few, as text, whatever a caller sent.

    Callers pass what clients send (a list with gaps, one string, nothing), so any of those is
    read without an error; a hostile length costs only the slice.

    >>> recent(["a?", None, 3, "b?"] * 5000)[-2:], recent("a?"), recent(None), recent({"a": 1})
    (['3', 'b?'], ['a?'], [], [])
    """
    if not history or SETTINGS.history_turns <= 0:
        return []
    if isinstance(history, str):
        return [history]
    if not isinstance(history, list | tuple):
        return []
    return [str(h) for h in history[-SETTINGS.history_turns :] if h is not None]


def _turn(text: str) -> str:
    """One earlier question as it joins a search: white space collapsed, cut to its bound."""
    return " ".join(str(text)[: 4 * SETTINGS.history_chars].split())[: SETTINGS.history_chars]


def _about_the_author(question: str, chain: Sequence[str], speaker: str) -> bool:
    """Whether `question` leans only on "he", "his", "she" or "her", and the questions it would
    follow (`chain`) name no one but `speaker`, the content's one author, for it to mean."""
    if not speaker or _CONNECTIVE.match(question.strip()) or not _PERSONAL.search(question):
        return False
    if _PRONOUN.search(_PERSONAL.sub(" ", question)):  # "is it his?" leans on "it" too
        return False
    return {name for turn in chain for name in CAPITALISED.findall(turn)} <= set(speaker.split())


def contextualize(question: str, history: Sequence[str] = (), speaker: str = "") -> str:
    """The text to search for `question`, given the earlier questions of the conversation and
    `speaker`, the content's one author, if there is one.

    >>> contextualize("and who should do that?", ["Who is Michael West?", "What is collective leadership?"])
    'What is collective leadership? and who should do that?'
    >>> contextualize("What is his job?", ["What is collective leadership?"], "Michael West")
    'What is his job?'
    >>> contextualize("What did he conclude?", ["Who is Pramod Achan?"], "Michael West")
    'Who is Pramod Achan? What did he conclude?'
    >>> contextualize("Tell me more", ["What is collective leadership?", "Thanks!"])
    'What is collective leadership?'
    """
    if not is_follow_up(question):
        return question
    chain: list[str] = []
    for earlier in reversed(recent(history)):
        turn = _turn(earlier)
        # "Thanks!" between two questions continues neither; "Tell me more" adds no words of its own.
        if not turn or asks_nothing(turn) or _MORE.match(turn):
            continue
        chain.append(turn)
        if not is_follow_up(turn):
            break
    if _about_the_author(question, chain, speaker):
        return question
    if chain and _MORE.match(question.strip()):
        return " ".join(reversed(chain))
    return " ".join([*reversed(chain), question])

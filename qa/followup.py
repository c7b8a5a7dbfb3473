"""Follow-up questions: "and who should do that?" is searched with the question it follows.

A question leans on the conversation when it opens with a connective ("and", "what about") or
has few words of its own besides pronouns; it is then searched together with the query its
previous question was searched with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.lexical import tokenize

_CONNECTIVE = re.compile(r"^(and|but|so|also|then|what about|how about|and what|why is that|why)\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(it|its|this|that|these|those|they|them|their|he|she|him|her|his|there|such)\b", re.I)


def is_follow_up(question: str) -> bool:
    """True when `question` cannot stand on its own."""
    own_words = [w for w in tokenize(_PRONOUN.sub(" ", question)) if len(w) > 2]
    if _CONNECTIVE.match(question.strip()):
        return len(own_words) <= 4
    return bool(_PRONOUN.search(question)) and len(own_words) <= 2


def contextualize(question: str, history: Sequence[str] = ()) -> str:
    """The text to search for `question`, given the earlier questions of the conversation.

    >>> contextualize("and who should do that?", ["What is collective leadership?"])
    'What is collective leadership? and who should do that?'
    """
    if not history or not is_follow_up(question):
        return question
    previous = contextualize(history[-1], history[:-1])
    return f"{previous} {question}"

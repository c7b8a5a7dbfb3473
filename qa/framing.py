"""What a question asks: the question less the words that only frame it.

Readers wrap a question in a request ("Can you tell me ...", "I would like to know: ..."), thank
the service ("... Thanks"), or name the document they ask of ("..., according to the article?",
"Who wrote this blog?"). None of those words names a fact, and no passage repeats them. Read as
terms they were the rarest fact a passage lacks, so the judgement said "not answered" where the
plain question is answered; embedded, they pulled towards passages that ask or explain something
("Explain: ..." found the sentence where West "explains") or mention a publication ("Where does
Michael West work, according to the article?" found a press release). The search, the embedding,
the judgement and the reader all read `what_is_asked(question)` instead.

Only a request at the start and thanks at the end are cut ("What did West tell the staff?" keeps
its "tell"). "The report" and "the document" are kept: the content may speak of one; "this
report" always means the page.
"""

from __future__ import annotations

import re

from qa.lexical import tokenize

_REQUEST = re.compile(
    r"^(?:(?:hi|hello|hey)(?: there)?|please|quick question|(?:one )?(?:more )?question|just wondering"
    r"|(?:can|could|would|will) you(?: please)?(?: tell me| let me know| explain| describe| say)?(?: about)?"
    r"|(?:tell|show) me(?: about)?|explain|describe"
    r"|i(?: would|'d|’d)? like to know(?: about)?|i (?:want|need) to know(?: about)?"
    r"|i(?:'m| am) (?:wondering|curious)(?: about)?|i wonder|do you know)\b[\s,:;.!?-]*",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"(?<=[?.!])\s*(?:thanks|thank you|many thanks|cheers)(?: (?:very much|so much|a lot))?[\s.!]*$", re.IGNORECASE
)
_THE_DOCUMENT = re.compile(
    r"(?:\b(?:according to|in|on|from|of)\s+)?"
    r"\b(?:(?:this|the)\s+(?:article|blog(?:\s+post)?|piece|web\s*page|page)"
    r"|this\s+(?:document|text|passage|post|talk|video|interview|report))(?:['’]s)?\b",
    re.IGNORECASE,
)


def what_is_asked(question: str) -> str:
    """`question` less a request around it, thanks after it and its naming of the document.

    A question that is nothing but those words ("What is this article about?") is kept whole.
    `qa.engine` takes it once per question; the search and the judgement get what it returns.

    >>> what_is_asked("Please, can you tell me what collective leadership is? Thanks!")
    'what collective leadership is?'
    >>> what_is_asked("What is collective leadership, according to the article?")
    'What is collective leadership?'
    >>> what_is_asked("I would like to know: who is accountable, according to this blog?")
    'who is accountable?'
    >>> what_is_asked("What did the report find?"), what_is_asked("What is this article about?")
    ('What did the report find?', 'What is this article about?')
    """
    asked, before = _THANKS.sub("", question), None
    while asked != before:  # "Hi, please can you tell me ..." is three requests
        before, asked = asked, _REQUEST.sub("", asked, count=1)
    asked = _THE_DOCUMENT.sub(" ", asked)
    asked = re.sub(r"\s*,?\s*(?=[?.!]|$)", "", asked)  # "..., according to the article?", "Who wrote ?"
    asked = re.sub(r"^[\s,:;.!?-]+", "", re.sub(r"\s+", " ", asked)).strip()
    return asked if tokenize(asked) else question

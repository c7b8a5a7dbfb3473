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

Naming the content's author as the one who says it ("What does Michael West say collective
leadership is?", "according to West", "in West's words") names the source too, and where that
author wrote all of the content the name cannot tell passages apart. It is worse than no help: the
name is in the title each sentence is embedded with, so it drew the question to the sentences that
say least of their own ("What keeps communities going is optimism ..."), and every passage's title
held it. The name is cut there; a question about the author ("Who is Michael West?", "What did
West experience in the NHS?") keeps it. Cut with it is a verb that only reports ("say",
"think", "believe"), and the clause it reported is asked as a question: "What does West think
leaders should prioritise?" is "What should leaders prioritise?".
"""

from __future__ import annotations

import re
from functools import lru_cache

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
# A message that asks nothing: a greeting, thanks or a sign-off alone ("thanks!", "Hello there",
# "ok, bye"). Searched, "thanks!" was quoted the speaker's closing "Thank you very much indeed."
# as its answer, and "ok" was taken for a follow-up and answered the last question again.
_PLEASANTRY = re.compile(
    r"^(?:[\W_]*(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you|many thanks|cheers|ok|okay"
    r"|great|cool|perfect|nice|fine|bye|goodbye|that(?:'s|’s| is) (?:all|it|great|helpful)|that helps"
    r"|(?:very|so) much|a lot|again|there|all)\b)+[\W_]*$",
    re.IGNORECASE,
)
_THE = r"(?:this|the)\s+(?:article|blog(?:\s+post)?|piece|web\s*page|page)"
_THIS = r"this\s+(?:document|text|passage|post|talk|video|interview|report)"
_THE_DOCUMENT = re.compile(rf"(?:\b(?:according to|in|on|from|of)\s+)?\b(?:{_THE}|{_THIS})(?:['’]s)?\b", re.IGNORECASE)
# Asking what the content itself is about, as a whole: nothing but that.
_NAMED = rf"(?:{_THE}|{_THIS}|(?:this|the)\s+content)"


def _about(content: str) -> re.Pattern[str]:
    return re.compile(
        rf"^(?:what(?:'s|’s| is)\s+{content}\s+(?:all\s+)?about"
        rf"|(?:please\s+)?(?:summari[sz]e|sum up)(?:\s+{content})?"
        rf"|(?:(?:give me|what(?:'s|’s| is))\s+)?(?:a|an|the)\s+(?:summary|overview|gist)(?:\s+of\s+{content})?"
        rf"|what(?:'s|’s| is| are)\s+(?:the\s+)?(?:main|key|central)\s+(?:point|message|idea|argument)s?"
        rf"(?:\s+of\s+{content})?"
        rf"|tl;?\s*dr)[\s?.!]*$",
        re.IGNORECASE,
    )


# "What is it about?" may ask about the last answer's topic, where there is one (qa.followup);
# "What is this article about?" and "Summarise" never do.
_ABOUT, _ABOUT_NAMED = _about(rf"(?:{_NAMED}|it|this)"), _about(_NAMED)


# A request for a definition, asked as the question it means ("define culture", "the meaning of
# culture", "What is meant by culture?", "collective leadership definition", "What are the main
# features of culture?": "What is culture?"). Asked so, the request's words were the rarest fact
# no passage holds: the definition itself was told "not answered".
_DEFINE = re.compile(
    r"^(?:define|what is meant by|what do(?:es)? (?:(?:you|they|we|he|she) )?mean by"  # "what's": "what is" by now
    r"|how (?:do|does|did|would|should|can|could)(?: (?:you|we|one|i|he|she|they))? define"  # West cut by now
    r"|(?:what is |give me )?(?:a |the )?(?:definition|meaning) of)\s+"
    r"(?:what\s+(?P<clause>[^?.!]+?)\s+(?:is|are|means?)|(?P<term>[^?.!]+?))[\s?.!]*$"  # "define what a team is"
    r"|^how (?:is|are|was|were) (?P<defined>[^?.!]+?) defined[\s?.!]*$"
    r"|^(?:what|which) (?:are|were) (?:the |some of the )?(?:(?:main|key|core|central|defining|essential) )?"
    r"(?:features|characteristics|elements|principles|aspects|traits|qualities|hallmarks)"
    r" of (?P<featured>[^?.!]+?)[\s?.!]*$"
    r"|^(?!.*\b(?:what|who|whom|whose|which|when|where|why|how|in|of|its|their|the)\b)"  # words, not a question
    r"(?P<keyword>[\w'’ -]{1,60}?)\s+(?:definition|meaning)[\s?.!]*$",
    re.IGNORECASE,
)

# Asking what a term or an abbreviation means, asked as "What is ...?" ("What does triage mean?",
# "What does the acronym CQC stand for?", "What is QED short for?"): "mean", "stand" and "short"
# are no fact to find, yet read as the rarest one no passage holds ("What does proactivity mean?"
# was told "not covered" beside the sentence that uses it).
_MEANING = re.compile(
    r"^what (?:does|do) (?:the (?:acronym|abbreviation|initialism|term|word|phrase) )?"
    r"(?P<term>(?:(?!\bby\b)[^\s?.!]+ ?){1,5}?) (?:mean|stand for)[\s?.!]*$"
    r"|^what (?:is|are|was) (?:the )?(?P<short>(?:[^\s?.!]+ ?){1,5}?) short for[\s?.!]*$",
    re.IGNORECASE,
)

# What an author is asked to have done when the question is about what the content says. The
# first ask only for what the author says: with the author, each is cut with its auxiliary ("What
# [does West think] leaders should prioritise?", then `_REPORTED`). Kept, "think" or "believe" was
# an asked-for word that no passage repeats ("What does West believe culture is about?" was told
# "not answered" beside its answer), and "What does say ..." drew the embedding to the sentences
# shaped like it ("What keeps communities going is ..." for "What does West say about courage?").
# The others keep a meaning of their own ("define", "describe", "tell the staff").
_SAYING = r"say|think|believe|argue|suggest|claim|feel|write|note|reckon|insist|want|hope|recommend|propose|expect"
_REPORTING = rf"{_SAYING}|mean|mention|describe|explain|define|see|consider|tell"
_TITLE = r"(?:(?:professor|prof|dr|mr|mrs|ms|sir)\.?\s+)?"
# What an author has of their own, as a question names it: "West's view", "the author's main point".
_OWN = r"views?|opinion|thoughts|definition|advice|arguments?|points?|messages?|ideas?"
_THE_AUTHOR = r"the (?:author|speaker|writer)"
_PRONOUN = r"he|she|they"
# The content, as a question asking whether it speaks of something names it ("Does the video ...?").
_CONTENT_NOUN = rf"(?:{_NAMED}|the\s+(?:document|text|post|talk|video))"
# Asking whether the content speaks of something: "Does the article mention gender?", "Is there
# anything about nurses?". Asked so, the words were the rarest facts no passage holds, and "gender"
# was told "not covered" beside the sentence that names it: asked as "What about gender?" (the
# embedding reads "What is said about gender?" as far off: 0.31 relevance against 0.46).
_SPEAKING_OF = (
    r"mention|talk about|speak about|say (?:anything|something|much) (?:about|on)|discuss|cover|address|refer to"
)


def _names(speaker: str) -> list[str]:
    """Patterns for the ways a question names `speaker`: the full name, and the surname of a longer one."""
    parts = speaker.split()
    return [re.escape(speaker)] + [re.escape(parts[-1])] * (len(parts) > 1)


def _named(speaker: str) -> str:
    """A pattern for the ways a question names `speaker`: full name or surname, with a title, or "the author"."""
    return rf"(?:{_TITLE}(?:{'|'.join(_names(speaker))})|{_THE_AUTHOR})"


def _voicing(speaker: str) -> str:
    """A pattern for the frames that ask for what `speaker` says in their own voice: "does he
    think", "in West's words", "West's main argument"."""
    name = _named(speaker)
    return (
        rf"(?:,\s*)?\bin (?:{name}['’]s|his|her|their) (?:own )?(?:words|view|views|opinion|eyes|mind)\b,?"
        rf"|\b(?P<aux>does|did|do|would|will|can)\s+(?:{name}|{_PRONOUN})\s+(?P<verb>{_REPORTING})\b"  # "does he say"
        rf"|\b{name}['’]s\s+(?=(?:(?:main|key|central)\s+)?(?:{_OWN})\b)"  # "West's main argument"
    )


@lru_cache(maxsize=64)
def _speaker_frames(speaker: str) -> re.Pattern[str]:
    """The frames that name `speaker` as the one who says it: in their own voice, or as the source."""
    source = rf"(?:,\s*)?\baccording to (?:{_named(speaker)}(?:['’]s)?|him|her|them)\b,?"  # "..., according to West?"
    return re.compile(rf"{source}|{_voicing(speaker)}", re.IGNORECASE)


@lru_cache(maxsize=64)
def _voiced(speaker: str) -> re.Pattern[str]:
    """`_voicing` compiled: what `attributed` looks for."""
    return re.compile(_voicing(speaker), re.IGNORECASE)


# Where a saying frame was cut, the clause it reported, put back in a question's word order:
# "What [does West think] leaders should prioritise?" is "What should leaders prioritise?", and
# "What culture is about?" found "What we know about culture is ..." where "What is culture
# about?" finds "Culture is what is important to us here ...". Its subject is a few words, none
# of them an auxiliary ("What does West think is the main problem?" has none to move). The cut is
# marked with a NUL, which no question holds (qa.engine.normalize_question drops it).
_CUT = "\x00"
_AUXILIARY = r"(?:is|are|was|were|should|must|can|could|will|would|may|might|has|have)"
_REPORTED = re.compile(
    rf"^(?P<wh>[^{_CUT}]*?)\s*{_CUT}\s*(?P<subject>(?:(?!{_AUXILIARY}\b)[\w'’-]+\s+){{1,4}}?)(?P<aux>{_AUXILIARY})\b",
    re.IGNORECASE,
)


# After a saying verb, what makes it the thing asked: "What does West hope for the future?" asked
# as "What for the future?" was quoted a sentence that only names the future.
_VERB_OBJECT = re.compile(r"\s+(?:for|from|to|with|in)\b", re.IGNORECASE)


def _unspoken(frame: re.Match[str]) -> str:
    """What is left of a frame naming the author as the one who says it: a mark where "does he
    think" was (`_CUT`, for `_REPORTED`), "does describe" of "does he describe", "does hope" of
    "does he hope for"."""
    verb = frame["verb"] or ""
    reports = re.fullmatch(_SAYING, verb, re.IGNORECASE) and not _VERB_OBJECT.match(frame.string, frame.end())
    return f" {_CUT} " if reports else f" {frame['aux'] or ''} {verb} "


@lru_cache(maxsize=64)
def _authors_role(speaker: str) -> re.Pattern[str]:
    """Asking the role of `speaker`, the content's one author, or where they work ("What is Michael
    West's job title?", "What position does he hold?", "Where does West work?"). A page declares
    it beside the name in its byline ("Michael West, Senior Fellow at The King's Fund"), which
    "Who is Michael West?" finds; "role" and "position" drew the question to a teaser on clinical
    leaders' "role" and a tag line naming "Policy", "work" to "makes the community work". Only the
    author's: on SQuAD, "What's Thomas Piketty's job?" asked as "Who is Thomas Piketty?" was
    quoted a sentence naming him, not the one saying he is an economist."""
    name = _named(speaker)
    return re.compile(
        rf"^what (?P<be>is|was) (?:{name}['’]s?|his|her|their) (?:current |main |official )?"
        r"(?:job(?: title)?|role|position|title|occupation|profession)(?: (?:at|in|with) [^?.!]{1,60})?[\s?.!]*$"
        rf"|^what (?:position|role|job|title|office|post) (?P<do>does|did|do) (?:{name}|{_PRONOUN})"
        r" (?:hold|have|occupy)(?: (?:at|in|with) [^?.!]{1,60})?[\s?.!]*$"
        rf"|^(?:where|(?:what|which) (?:organi[sz]ation|company|employer|body)|who|whom) (?P<works>does|did|do)"
        rf" (?:{name}|{_PRONOUN}) work(?: for| at)?[\s?.!]*$",
        re.IGNORECASE,
    )


@lru_cache(maxsize=64)
def _mentions(speaker: str) -> re.Pattern[str]:
    """Asking whether the content (or `speaker`, its one author, if any) speaks of a topic, or what it says of one."""
    who = [_CONTENT_NOUN, "it"]
    if speaker:
        who += [*_names(speaker), _PRONOUN, _THE_AUTHOR]
    subject = f"(?:{'|'.join(who)})"
    return re.compile(
        rf"^(?:does|did|do)\s+{subject}\s+(?:ever\s+)?(?:{_SPEAKING_OF})\s+(?P<topic>[^?]+?)[\s?.!]*$"
        rf"|^(?:is|are) there\s+(?:anything|something|much|any mention|a mention)\s+(?:in\s+{subject}\s+)?"
        rf"(?:about|on|of)\s+(?P<there>[^?]+?)[\s?.!]*$"
        rf"|^what\s+(?:does|did|do)\s+{subject}\s+(?:say|tell us|have to say|write)\s+(?:about|on|of)\s+"
        rf"(?P<said>[^?]+?)[\s?.!]*$",
        re.IGNORECASE,
    )


def attributed(question: str, speaker: str) -> bool:
    """Whether `question` asks for what `speaker`, the content's one author, says in their own voice
    ("What does West think ...?", "in West's words", "West's view"): then only the author's own
    words answer it, never a related-content teaser, which sums up another page (qa.engine).
    "According to the author" is not: readers say it of the page ("Who commented on the latest
    NHS Staff Survey, according to the author?" is answered by a teaser).

    >>> attributed("What does West feel about the King's Fund?", "Michael West")
    True
    >>> attributed("Who commented on the survey, according to West?", "Michael West")
    False
    >>> attributed("Where does Michael West work?", "Michael West"), attributed("What does West feel?", "")
    (False, False)
    """
    return bool(speaker) and bool(_voiced(speaker).search(question))


def asks_nothing(question: str) -> bool:
    """Whether `question` is only a greeting, thanks or a sign-off: nothing to search for.

    >>> asks_nothing("Thanks!"), asks_nothing("ok, thank you very much"), asks_nothing("Hello there 👋")
    (True, True, True)
    >>> asks_nothing("Thanks, what is culture?"), asks_nothing("Thank you very much indeed?")
    (False, False)
    """
    return bool(_PLEASANTRY.match(question))


def about_the_content(question: str, *, named: bool = False) -> bool:
    """Whether `question` asks only what the content itself is about ("What is this article
    about?", "Summarise the article", "What are the main points?"). No passage says that of
    itself; the content's own opening does (qa.engine). `named`: only where the question names
    the content or needs no name for it, not by "it" or "this" alone ("What is it about?").

    >>> about_the_content("What is this article about?"), about_the_content("Give me a summary.")
    (True, True)
    >>> about_the_content("What is the report about?")  # the content may speak of a report
    False
    >>> about_the_content("What is it about?"), about_the_content("What is it about?", named=True)
    (True, False)
    """
    return bool((_ABOUT_NAMED if named else _ABOUT).match(question.strip()))


def what_is_asked(question: str, speaker: str = "") -> str:
    """`question` less a request around it, thanks after it and its naming of the document; a
    request for a definition, or for what a term means, asked as "What is ...?", whether it speaks
    of a topic as "What about ...?".

    `speaker` is the one author who wrote all of the content, if there is one: naming them as the
    one who says it is cut too.

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
    >>> what_is_asked("What does Michael West say collective leadership is?", "Michael West")
    'What is collective leadership?'
    >>> what_is_asked("What does West think leaders should prioritise?", "Michael West")
    'What should leaders prioritise?'
    >>> what_is_asked("What is culture, in West's words?", "Michael West")
    'What is culture?'
    >>> what_is_asked("What did West experience in the NHS?", "Michael West")
    'What did West experience in the NHS?'
    >>> what_is_asked("Where does Michael West work?", "Michael West")
    'Who is Michael West?'
    >>> what_is_asked("Please define culture."), what_is_asked("collective leadership definition")
    ('What is culture?', 'What is collective leadership?')
    >>> what_is_asked("Can you define what an organisation is?"), what_is_asked("What is meant by culture?")
    ('What is an organisation?', 'What is culture?')
    >>> what_is_asked("what's culture?")
    'what is culture?'
    >>> what_is_asked("What does proactivity mean?"), what_is_asked("What does the acronym CQC stand for?")
    ('What is proactivity?', 'What is CQC?')
    >>> what_is_asked("How is culture defined?"), what_is_asked("How does Michael West define culture?", "Michael West")
    ('What is culture?', 'What is culture?')
    >>> what_is_asked("Does the article mention gender?"), what_is_asked("Is there anything about nurses?")
    ('What about gender?', 'What about nurses?')
    """
    asked, before = _THANKS.sub("", question), None
    while asked != before:  # "Hi, please can you tell me ..." is three requests
        before, asked = asked, _REQUEST.sub("", asked, count=1)
    asked = re.sub(r"^(\W*what)['’]s\b", r"\1 is", asked, flags=re.IGNORECASE)  # one question, however typed
    if mention := _mentions(speaker).match(asked.strip()):
        asked = f"What about {mention['topic'] or mention['there'] or mention['said']}?"
    asked = _THE_DOCUMENT.sub(" ", asked)
    if speaker:
        asked = _speaker_frames(speaker).sub(_unspoken, asked)
        asked = _REPORTED.sub(r"\g<wh> \g<aux> \g<subject>", asked).replace(_CUT, " ")
    asked = re.sub(r"\s*,?\s*(?=[?.!]|$)", "", asked)  # "..., according to the article?", "Who wrote ?"
    asked = re.sub(r"^[\s,:;.!?-]+", "", re.sub(r"\s+", " ", asked)).strip()
    # Last, so that "How does West define culture?" is "how does define culture" by now. Each
    # pattern's only groups are its alternatives' term: the one that matched is the term.
    if meant := _DEFINE.match(asked) or _MEANING.match(asked):
        asked = f"What is {next(filter(None, meant.groups()))}?"
    elif speaker and (role := _authors_role(speaker).match(asked)):
        tense = role["be"] or role["do"] or role["works"]
        asked = f"Who {'was' if tense.lower() in ('was', 'did') else 'is'} {speaker}?"
    return asked if tokenize(asked) else question

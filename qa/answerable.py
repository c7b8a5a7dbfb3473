"""Does the best passage answer the question, or is it only on the same topic?

A search always returns its closest passages; on the content's own topic they are close even
when the content does not say what was asked ("How many people work in the NHS?"). This module
turns what a search already knows into features, and two fitted logistic regressions read them
in a cascade (`Judge`):

- dense: the best sentence cosine of the first passage, its passage cosine, the highlight's
  cosine, and the gaps to the second passage;
- lexical: the idf-weighted share of the question's terms found in the passage and in the
  highlight, the rarest term missing from each (a withheld fact usually names something the
  text never mentions), the share of adjacent term pairs the passage repeats, and of the
  question's names and numbers it holds;
- answer type: whether the highlight holds what the question asks for (a number for "how many"
  or "when", a capitalised name for "who" or "where") that the question does not already hold
  (names compared whatever their apostrophes, possessive or one-letter spelling variant: the
  "Centre" of a text is the question's "Center", not an answer to "who founded the Center");
- reading, only where the search's features leave the verdict in doubt: the cross-encoder's
  logit (qa.crossencoder) for the highlight, which reads the question and each highlighted
  sentence together (the best of them). Reading the passage's other sentences too cost two to
  three times as much and gained nothing (AUC 0.902 against 0.900, two-fold over the even
  articles).

The full model's probability is cut twice: "answered" at or above `threshold`, "related"
(confidently not answered) under `floor`, "unsure" between, so that each statement is made only
where it is wrong at a measured rate (bench.fit_answerability sets both cuts from targets on how
often each outcome is wrong). The screen reads the search's features alone. Where its probability
falls in the band where, on the questions it was fitted on, its verdict could differ from the full
model's (the same features and the reader), the reader runs and the full model decides; elsewhere
the screen's verdict stands. On those questions the cascade therefore decides as the full model
does, for the reader's cost (about 8 ms on 2 cores) only where it is needed.

Two kinds of first passage are never quoted as the answer, whatever the probability; the verdict
is then "unsure" at most. A related-content teaser (a page's summary of another page) is quoted
only where it holds every word the question asks with (`teaser_answers`). A passage that only
mentions what the question is about is not quoted (`mentions_only`): it holds the question's
names but none of its other words, nor the kind of answer asked for ("When was the Centre for
Creative Leadership founded?" of "Working with the Centre of Creative Leadership, we have
identified ..."). Where content names an organisation once, that passage ranks far ahead of the
next, which the features read as a sure answer; in Wikipedia articles, which the judgement is
fitted on, a name is what the whole article is about, and such quotes almost never happen. Nor
is a passage that only uses a term or an abbreviation asked the meaning of ("What is
psychological safety?" of "creates a sense of psychological safety", "What is BME?" of "diversity
in terms of BME"): every such passage holds all the words asked.

The weights are plain JSON (`answerable.json`), written by `python -m bench.fit_answerability`
with the figures it measured; nothing here depends on any particular content.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa.glossary import glossary, other_names
from qa.lexical import BM25, CAPITALISED, pair_coverage, tokenize
from qa.types import ANSWERED, RELATED, UNSURE

WEIGHTS = Path(__file__).with_name("answerable.json")

FEATURES = (
    "sentence_cos",
    "passage_cos",
    "highlight_cos",
    "gap_sentence_cos",
    "gap_score",
    "passage_coverage",
    "highlight_coverage",
    "passage_missing_idf",
    "highlight_missing_idf",
    "terms",
    "wants_number",
    "number_missing",
    "wants_name",
    "name_missing",
    "sentence_x_coverage",
    "best_sentence_coverage",
    "pair_coverage",
    "names_missing",
)
# The full model reads the search's features and then the reader's logit.
READER = "reader"

# The kind of answer a question asks for, read from the word it asks with: its first question
# word ("In what year ...?", "Cars were banned when?"). One later in it joins a clause ("What
# courage do leaders need when dealing with poor behaviour?", "the man who founded it"), and read
# as asked for, the passage that answers lacked a date or a name it never needed.
_QUESTION_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)
_NUMBER_QUESTION = re.compile(
    r"(how (many|much|long|old|often|far|large|big|tall|high|fast)|when|what (year|date|time|percentage|"
    r"proportion|number|age|decade|century|month|day)|which (year|date|decade|century))\b",
    re.IGNORECASE,
)
_NAME_QUESTION = re.compile(r"(who|whom|whose|where|which (person|company|city|country|organi[sz]ation))\b", re.I)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|half|quarter|dozen|january|february|march|april|may|june|july|august|september|"
    r"october|november|december|century|decade)\b",
    re.IGNORECASE,
)
# Stems of words that say how a question asks, not what about ("how many", "according to West",
# "in his words", "what does she say"); a passage that answers rarely repeats them, and one
# missing from the whole content would otherwise read as the rarest fact the passage lacks.
_ASKING = frozenset({"mani", "much", "accord", "word", "say", "said", "describ", "mention"})


@dataclass(frozen=True)
class Evidence:
    """What `features` reads about the best passages of one search."""

    question: str
    terms: list[str]  # the terms of what the question asks (qa.lexical.tokenize, qa.framing)
    sentence_cos: list[float]  # best sentence cosine of each ranked passage, best passage first
    scores: list[float]  # fused score of each ranked passage
    passage_cos: float  # of the first passage
    highlight_cos: float  # best cosine among the first passage's highlighted sentences
    passage_row: int  # the first passage's row in the passage BM25
    sentence_rows: range  # its sentences' rows in the sentence BM25
    highlight_rows: range  # its highlighted sentences' rows
    highlight: str
    passage_text: str  # the first passage, with its title


def _idf_shares(terms: list[str], index: BM25, rows: range | list[int]) -> tuple[float, float]:
    """(idf-weighted share of `terms` in any of `rows`, largest normalised idf among those missing)."""
    distinct = set(terms)
    if not distinct:
        return 0.0, 0.0
    top = index.idf("\0unseen")  # the idf of a term no row holds: the largest possible
    total = present = missing = 0.0
    for term in distinct:
        weight = index.idf(term)
        total += weight
        if any(index.contains(term, row) for row in rows):
            present += weight
        else:
            missing = max(missing, weight / top if top > 0 else 0.0)
    return (present / total if total > 0 else 0.0), missing


def _name_key(word: str) -> str:
    """A word as names are compared: casefolded, one apostrophe style, no possessive."""
    word = word.casefold().replace("’", "'").replace("‘", "'")
    return word.removesuffix("'s").rstrip("'")


def _near(a: str, b: str) -> bool:
    """The same name up to one letter added, changed or swapped with its neighbour, in names of 5
    letters or more: spelling variants ("Centre", "Center") name one thing, not an answer.

    >>> _near("centre", "center"), _near("organisation", "organization"), _near("judgement", "judgment")
    (True, True, True)
    >>> _near("mary", "mark"), _near("austria", "australia")
    (False, False)
    """
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        short, long = sorted((a, b), key=len)
        return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 1 or (
        len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    )


def _words(text: str) -> set[str]:
    return {_name_key(w) for w in re.findall(r"[\w'’‘-]+", text)}


def _holds(words: set[str], name: str) -> bool:
    return any(_near(name, word) for word in words)


# Who a passage names may be people by what they are ("all staff", "clinicians", "everybody"):
# "Who is accountable under collective leadership?" is answered "all are accountable".
_PEOPLE = re.compile(
    r"\b(?:people|persons?|everybody|everyone|all|staff|members?|leaders?|managers?|teams?|clinicians?|nurses?"
    r"|doctors?|patients?|employees?|workers?|colleagues?|volunteers?|students?|children|men|women|famil(?:y|ies)"
    r"|citizens?|residents?|governments?|\w+(?:ists|ians))\b",
    re.IGNORECASE,
)


def _has_name(text: str, question: str) -> bool:
    """A capitalised word, not opening a sentence, or a word for people, that the question does not already hold."""
    asked = _words(question)
    return any(not _holds(asked, _name_key(m.group(0))) for m in CAPITALISED.finditer(text)) or any(
        _name_key(m.group(0)) not in asked for m in _PEOPLE.finditer(text)
    )


def _has_number(text: str, question: str) -> bool:
    asked = {m.group(0).casefold() for m in _NUMBER.finditer(question)}
    return any(m.group(0).casefold() not in asked for m in _NUMBER.finditer(text))


def _wants(question: str) -> tuple[bool, bool]:
    """Whether `question` asks for a number (or a date), and whether for a name.

    >>> _wants("In what year did it open?"), _wants("Who founded it?"), _wants("What do you do when it rains?")
    ((True, False), (False, True), (False, False))
    """
    asking = _QUESTION_WORD.search(question)
    if asking is None:
        return False, False
    return bool(_NUMBER_QUESTION.match(question, asking.start())), bool(_NAME_QUESTION.match(question, asking.start()))


def _kind_missing(question: str, highlight: str) -> tuple[bool, bool]:
    """Whether the question asks for a number that `highlight` lacks, and for a name that it lacks."""
    number, name = _wants(question)
    return number and not _has_number(highlight, question), name and not _has_name(highlight, question)


def _names_missing(question: str, text: str) -> float:
    """The share of the question's names and numbers (capitalised inside it, or digits) not in `text`
    (under any of its names in the glossary: "CQC" is in a text that says "Care Quality Commission")."""
    names = {_name_key(m.group(0)) for m in CAPITALISED.finditer(question)}
    numbers = set(re.findall(r"\d[\d,.]*\d|\d", question))
    if not names and not numbers:
        return 0.0
    # Reading the text's words and other names costs more than the rest: only for names asked.
    words = _words(text) | {_name_key(word) for word in other_names(text)} if names else set()
    missing = sum(not _holds(words, name) for name in names) + sum(number not in text for number in numbers)
    return missing / (len(names) + len(numbers))


def features(evidence: Evidence, passages: BM25, sentences: BM25) -> np.ndarray:
    """The feature vector of one search, in the order of `FEATURES`."""
    e = evidence
    terms = [t for t in e.terms if t not in _ASKING]
    second_cos = e.sentence_cos[1] if len(e.sentence_cos) > 1 else 0.0
    second_score = e.scores[1] if len(e.scores) > 1 else e.scores[0] - 1.0
    passage_coverage, passage_missing = _idf_shares(terms, passages, [e.passage_row])
    highlight_coverage, highlight_missing = _idf_shares(terms, sentences, e.highlight_rows)
    number_missing, name_missing = _kind_missing(e.question, e.highlight)
    wants_number, wants_name = _wants(e.question)
    return np.array(
        [
            e.sentence_cos[0],
            e.passage_cos,
            e.highlight_cos,
            e.sentence_cos[0] - second_cos,
            e.scores[0] - second_score,
            passage_coverage,
            highlight_coverage,
            passage_missing,
            highlight_missing,
            np.log1p(len(set(terms))),
            wants_number,
            number_missing,
            wants_name,
            name_missing,
            e.sentence_cos[0] * passage_coverage,
            max((_idf_shares(terms, sentences, [row])[0] for row in e.sentence_rows), default=0.0),
            pair_coverage(terms, e.passage_text),
            _names_missing(e.question, e.passage_text),
        ],
        dtype=np.float64,
    )


def _names_of(question: str, passage: str) -> str:
    """The names in `question`: its capitalised words or, typed without capitals, its words that
    `passage` capitalises ("the centre for creative leadership" of "the Centre of Creative Leadership").

    >>> _names_of("who runs the centre for creative leadership?", "With the Centre of Creative Leadership, we")
    'centre creative leadership'
    """
    typed = [m.group(0) for m in CAPITALISED.finditer(question)]
    if typed:
        return " ".join(typed)
    capitalised = {_name_key(m.group(0)) for m in CAPITALISED.finditer(passage)}
    return " ".join(w for w in re.findall(r"[\w'’-]+", question) if _holds(capitalised, _name_key(w)))


# Asking what or who a name is, and nothing else: "What is the King's Fund?", "Who is Suzie Bailey?".
_WHAT_IS = re.compile(
    r"^\s*(?:what|who)(?:['’]s|\s+is|\s+are|\s+was|\s+were)\s+(?:the\s+)?(?P<name>[^?]+?)[\s?]*$", re.I
)
# Words that make what a question asks about a description, not a term (`_asked_term`).
_LINKING = frozenset(
    "of in for to on at by with from about as than or that which who whose the this its their some any".split()
)
_WHAT_TERM = re.compile(
    r"^\s*(?i:what(?:(?P<does>\s+does)|\s+is\s+meant\s+by|['’]s|\s+is|\s+are))\s+(?:an?\s+)?['‘\"“]?"
    r"(?P<term>[a-z][a-z-]*(?:\s+[a-z][a-z-]*){0,3}?)['’\"”]?(?<!\scalled)(?<!\snamed)(?<!\sknown)"
    r"(?P<mean>\s+mean)?[\s?.!]*$"
)
# An abbreviation asked about alone: "What is BME?", "What does CQC stand for?", "What is QED short for?".
_WHAT_ABBREVIATION = re.compile(
    r"^\s*(?i:what(?:(?P<does>\s+does)|\s+is\s+meant\s+by|['’]s|\s+is|\s+are|\s+was))\s+(?i:the\s+)?"
    r"(?P<term>[A-Z][A-Z0-9&]*[A-Z])s?(?P<mean>\s+(?i:mean|stand\s+for|refer\s+to))?(?:\s+(?i:short\s+for))?[\s?.!]*$"
)


def _asked_term(question: str) -> str | None:
    """The term `question` asks the meaning of, and nothing else: "What is psychological safety?",
    "what are huddles", "What does 'triage' mean?", "What is meant by ...?"; None for any other
    question. Lower case, without "the" (which asks for one thing: "What is the largest
    ctenophore?") or another linking word ("What is a team of leaders?" describes; "command and
    control" is still a term), and not "What is X called?" (a name). Or an abbreviation, alone:
    "What is BME?", "What does CQC stand for?".

    >>> _asked_term("What does psychological safety mean?"), _asked_term("What is a team of leaders?")
    ('psychological safety', None)
    >>> _asked_term("What does BME stand for?"), _asked_term("What is the NHS?"), _asked_term("What is NHS England?")
    ('BME', 'NHS', None)
    """
    asked = _WHAT_TERM.match(question) or _WHAT_ABBREVIATION.match(question)
    if not asked or bool(asked["does"]) != bool(asked["mean"]):
        return None
    term = asked["term"]
    return term if term.isupper() or (tokenize(term) and _LINKING.isdisjoint(term.split())) else None


_GLUE = frozenset({"of", "for", "and", "the", "de", "von", "van"})  # words joining a name's


def _spelled(name: str) -> str:
    """A pattern for `name` as a text may spell it: its words, either apostrophe, any joining word
    ("Centre of Creative Leadership" for "Centre for Creative Leadership"), and a lower-case term
    in the singular or the plural ("huddle" for "huddles"), as is an abbreviation ("ICSs")."""
    words = re.findall(r"\w+", name)
    glue = "|".join(sorted(_GLUE))
    pattern = [f"(?:{glue})" if w.lower() in _GLUE else re.escape(w) for w in words]
    if words and words[-1].islower():
        pattern[-1] = re.escape(words[-1].removesuffix("s")) + "(?:e?s)?"
    elif words and words[-1].isupper():
        pattern[-1] += "s?"
    return r"\W{0,3}".join(pattern)


def _says_what(name: str, text: str) -> bool:
    """Whether `text` says what `name` is: the name opening a sentence or line followed by a comma,
    a bracket, a dash or a colon ("Suzie Bailey, Director of ..."), or "<name> is", "<name>
    means", "<name> stands for", "is <name>", "called <name>", the name in quotes or brackets
    ("the study of rocks (petrology)", "the American Institute of Electrical Engineers (now
    IEEE)"), or followed by an aside ("stromules (tubules of stroma)", "retrograde signalling —
    signals from ...", "a stromule, or ...").

    >>> _says_what("King's Fund", "The King’s Fund responds to the NHS Staff Survey")
    False
    >>> _says_what("Suzie Bailey", "Press release. Suzie Bailey, Director of Leadership, comments")
    True
    >>> _says_what("psychological safety", "It creates a sense of psychological safety so that people engage.")
    False
    >>> _says_what("huddles", "A huddle is a short meeting at the start of a shift.")
    True
    """
    n = _spelled(name)
    return bool(
        re.search(rf"(?:^|[.!?]\s|\n)\s*(?:the\s+)?{n}\s*[,(–:-]", text, re.I)  # "Suzie Bailey, Director"
        or re.search(rf"\b{n}\W{{0,2}}(?:,\s*(?:the|an?|or)\b|\s*[(—–])", text, re.I)  # "Plasmodium, the parasite"
        or re.search(rf"\b{n}\s+(?:is|are|was|were|means|refers|stands\s+for)\b", text, re.I)
        or re.search(rf"\b(?:is|are|was|were|called|named|termed|known as)\s+(?:the\s+|an?\s+)?{n}\b", text, re.I)
        or re.search(rf"[\"'‘“]{n}[\"'’”]", text, re.I)  # a term introduced in quotes: "alleys or 'chares'"
        or re.search(rf"\(\s*(?:now|formerly|or|also|i\.e\.,?|known\s+as)?\s*{n}\s*\)", text, re.I)
    )


def _spells_out(short: str, text: str) -> bool:
    """Whether `text` spells out the abbreviation `short`: in a form the glossary gives it ("black
    and minority ethnic" for "BME"), or in capitalised words whose initials make it, with any
    joining words between ("Department of Health and Social Care" for "DHSC").

    >>> _spells_out("NHS", "It is the National Health Service."), _spells_out("NHS", "The NHS Staff Survey.")
    (True, False)
    """
    if not short.isupper():
        return False
    if any(re.search(rf"\b{re.escape(form)}\b", text, re.I) for form in glossary().abbreviations.get(short, ())):
        return True
    letters = [letter for letter in short if letter.isalpha()]
    joining = rf"[\w'’-]*\s+(?:(?:{'|'.join(sorted(_GLUE))}|&)\s+)*"
    return len(letters) > 1 and bool(re.search(rf"\b{joining.join(letters)}", text))


def _defines(term: str, text: str) -> bool:
    """Whether `text` says what `term` (`_asked_term`) means: `_says_what`, `_restates` or `_spells_out`."""
    return _says_what(term, text) or _restates(term, text) or _spells_out(term, text)


def _restates(words: str, text: str) -> bool:
    """Whether `text` says `words` as a clause, "A is B", which makes "What is A B?" a question
    about A, not a term, and `text` its answer ("Leaders are encouraging ..." for "What are
    leaders encouraging?").

    >>> _restates("leaders encouraging", "Leaders are encouraging that sense of optimism.")
    True
    """
    split = words.split()
    clauses = (
        f"{_spelled(' '.join(split[:k]))}\\s+(?:is|are|was|were)\\s+{_spelled(' '.join(split[k:]))}"
        for k in range(1, len(split))
    )
    return any(re.search(rf"\b{clause}", text, re.I) for clause in clauses)


def _only_names(words: str, names: str) -> bool:
    """Whether `words` are nothing but `names` (and the words joining a name: "Centre for ...").

    >>> _only_names("Centre for Creative Leadership", "Centre Creative Leadership")
    True
    >>> _only_names("on the Panel", "Panel")
    False
    """
    named = {_name_key(name) for name in names.split()}
    spelled = [_name_key(word) for word in re.findall(r"[\w'’.-]+", words)]
    return bool(spelled) and spelled[0] in named and all(w in named or w in _GLUE for w in spelled)


# The asked event as a point in time that something else is dated from: "since joining the Fund".
_DATED_FROM = re.compile(r"\b(?:since|after|before|until|upon|following)\s+(\w+ing)\b", re.I)
_WHEN = re.compile(r"^\s*when\b", re.I)


def _dates_from(question: str, terms: Sequence[str], highlight: str) -> bool:
    """Whether `question` asks when something happened, and `highlight`, holding no date, only
    dates something else from it ("When did he join the King's Fund?" of "... I have experienced
    continually since joining the King's Fund").

    >>> asked = "When did he join the Fund?"
    >>> [_dates_from(asked, tokenize(asked), said) for said in ("Felt since joining the Fund.", "Joined in 2014.")]
    [True, False]
    """
    if not _WHEN.match(question) or _has_number(highlight, question):
        return False
    asked = set(terms)
    return any(asked.intersection(tokenize(m.group(1))) for m in _DATED_FROM.finditer(highlight))


def mentions_only(question: str, terms: Sequence[str], passage: str, highlight: str) -> bool:
    """Whether `passage` only mentions what `question` asks about, so cannot be quoted as its answer.

    It holds none of the question's `terms` (qa.lexical.tokenize) besides those of its names
    (capitalised inside it), and its `highlight` lacks the kind of answer asked for: a number
    where the question asks "when" or "how many", a name where it asks "who" or "where".

    >>> passage = "Working with the Centre of Creative Leadership, we have identified the tools we need."
    >>> asked = "When was the Centre for Creative Leadership founded?"
    >>> mentions_only(asked, tokenize(asked), passage, passage)
    True
    >>> asked = "Who worked with the Centre for Creative Leadership?"  # "work" is in the passage
    >>> mentions_only(asked, tokenize(asked), passage, passage)
    False

    Asked what a term or an abbreviation is, and nothing else, the `highlight` must say it
    (`_defines`): every passage using a term holds all of the question's words, and one that only
    uses it ("creates a sense of psychological safety", "diversity in terms of BME") reads to the
    judgement as a sure answer.

    >>> asked = "What is psychological safety?"
    >>> passage = "Humour creates a sense of psychological safety so that people engage."
    >>> mentions_only(asked, tokenize(asked), passage, passage)
    True

    Asked when something happened, a `highlight` without a date that only dates something else
    from it ("since joining the King's Fund") does not say when (`_dates_from`).
    """
    if term := _asked_term(question):
        return not _defines(term, highlight)
    if _dates_from(question, terms, highlight):
        return True
    if not any(_kind_missing(question, highlight)):
        return False
    names = set(tokenize(_names_of(question, passage)))
    asked = {term for term in terms if term not in names and term not in _ASKING}
    return bool(names and asked) and asked.isdisjoint(tokenize(passage))


# A "where" question asks for a place: a name placed by the word before it ("in Leeds", "at Barts").
_WHERE = re.compile(r"^\s*where\b", re.I)
_PLACED = re.compile(r"\b(?:in|at|from|near|across|within|outside|around)\s+(?:the\s+)?[A-Z]")
_HOW_MANY = re.compile(r"^\s*how\s+many\b", re.I)


def _counts(question: str, highlight: str) -> bool:
    """Whether `highlight` holds a number that may count what "how many" asks for: not one that
    only measures something the question does not name ("the five-year programme" for "How many
    clinical leaders ...?"; "How many years ...?" is counted by it).

    >>> _counts("How many took part?", "The five-year programme."), _counts("How many years?", "A five-year plan.")
    (False, True)
    """
    asked = {m.group(0).casefold() for m in _NUMBER.finditer(question)}
    words = set(tokenize(question))
    for number in _NUMBER.finditer(highlight):
        unit = re.match(r"-([a-z]+)", highlight[number.end() :], re.I)
        if number.group(0).casefold() not in asked and (not unit or words & set(tokenize(unit.group(1)))):
            return True
    return False


def teaser_answers(question: str, terms: Sequence[str], teaser: str, highlight: str) -> bool:
    """Whether a related-content teaser may be quoted as the answer: it holds every term asked, and
    its `highlight` the kind of answer asked for (a number for "when" or "how many", a name for
    "who", a place for "where": a name after "in", "at", "from" ..., and for "how many" a count,
    not "five-year" unless years are asked for) and, asked what or who a name is, says it ("Suzie
    Bailey, Director of ...").

    A teaser sums up another page ("Suzie Bailey ... comments on the latest NHS Staff Survey"). It
    answers what it says itself (who commented, and on what), but not what that page says ("What
    did the survey results show?"), which only the other page holds. The judgement, fitted on body
    text, reads both alike: the teaser shares the names and the topic. So a teaser lacking a word
    the question asks with, or the kind of answer it asks for, is at most "unsure" (`Judge.decide`).
    `terms` are the question's, as `Evidence.terms`; the words that only frame a question ("say",
    "how many") are not asked. A word the teaser holds only inside a name is not held, unless the
    question names it too: "Director of Leadership and Organisational Development" says nothing
    of how organisations develop leadership.

    >>> highlight = "Suzie Bailey comments on the latest NHS Staff Survey."
    >>> teaser = highlight + " Press release, 13 March 2025"
    >>> asked = "Who commented on the NHS Staff Survey?"
    >>> teaser_answers(asked, tokenize(asked), teaser, highlight)
    True
    >>> asked = "What did Suzie Bailey say the survey results showed?"
    >>> teaser_answers(asked, tokenize(asked), teaser, highlight)
    False
    >>> asked = "How many staff commented on the NHS Staff Survey?"  # every word, but no number
    >>> teaser_answers(asked, tokenize(asked), teaser, highlight)
    False
    >>> asked = "What is the NHS Staff Survey?"  # named, not said what it is
    >>> teaser_answers(asked, tokenize(asked), teaser, highlight)
    False
    >>> asked = "Where is the NHS Staff Survey?"  # a name, but none placed
    >>> teaser_answers(asked, tokenize(asked), teaser, highlight)
    False
    >>> asked = "What is the NHS staff survey?"  # typed in part in lower case: the teaser's name still
    >>> teaser_answers(asked, tokenize(asked), teaser, highlight)
    False
    >>> teaser = "Ann Lee, Director of Leadership Development, comments on the survey."
    >>> asked = "What does the survey say about developing leadership?"  # both words only in her title
    >>> teaser_answers(asked, tokenize(asked), teaser, teaser)
    False
    """
    what = _WHAT_IS.match(question)
    names = _names_of(question, teaser)
    named = f"{names} {_names_of(question.lower(), teaser)}"  # typed in part in lower case: "the NHS staff survey"
    if what and _only_names(what["name"], named) and not _says_what(what["name"], highlight):
        return False
    if (_WHERE.match(question) and not _PLACED.search(highlight)) or (
        _HOW_MANY.match(question) and not _counts(question, highlight)
    ):
        return False
    held = set(tokenize(CAPITALISED.sub(" ", teaser))) | (set(tokenize(names)) & set(tokenize(teaser)))
    return all(term in held or term in _ASKING for term in terms) and not any(_kind_missing(question, highlight))


@dataclass(frozen=True)
class Model:
    """A logistic regression over standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(answered) for one feature vector or a matrix of them (one row each)."""
        z = ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self, names: Sequence[str]) -> dict:
        return {
            "features": list(names),
            **{k: getattr(self, k).tolist() for k in ("mean", "scale", "weights")},
            "bias": self.bias,
        }

    @classmethod
    def from_json(cls, data: dict, names: Sequence[str]) -> Model:
        """The inverse of `to_json`; refuses weights fitted on other features than `names`."""
        if data.get("features") != list(names):
            raise ValueError(
                f"{WEIGHTS.name} was fitted on other features: refit with `python -m bench.fit_answerability`"
            )
        return cls(*(np.array(data[k]) for k in ("mean", "scale", "weights")), bias=float(data["bias"]))


@dataclass(frozen=True)
class Verdict:
    status: str  # ANSWERED, UNSURE or RELATED (off topic is decided before the judgement)
    probability: float  # of the model that decided
    reader: float  # the reader's logit, NaN where it did not run

    @property
    def answered(self) -> bool:
        return self.status == ANSWERED


@dataclass(frozen=True)
class Judge:
    """The cascade: `screen` reads FEATURES; inside `band` the reader runs and `full` decides.

    `full` reads FEATURES and then READER. Its probability says "answered" at `threshold` and
    above, "related" (confidently not answered) under `floor`, and "unsure" between: one cut on a
    score of this quality (AUC about 0.9) must make false statements both ways, two cuts say only
    what the score supports. Outside the band the screen's probability decides, as the full model
    did on every question the band was fitted on: above the band answered, below it related.
    """

    screen: Model
    full: Model
    threshold: float
    floor: float
    band: tuple[float, float]

    def __post_init__(self) -> None:
        if not self.floor <= self.threshold:
            raise ValueError(f"the floor {self.floor} is above the threshold {self.threshold}")

    def outcome(self, probability: float) -> str:
        """The status the full model's `probability` says.

        >>> judge = Judge(Model(*[np.zeros(1)] * 3, 0.0), Model(*[np.zeros(1)] * 3, 0.0), 0.6, 0.2, (0.0, 1.0))
        >>> judge.outcome(0.7), judge.outcome(0.4), judge.outcome(0.1)
        ('answered', 'unsure', 'related')
        """
        if probability >= self.threshold:
            return ANSWERED
        return UNSURE if probability >= self.floor else RELATED

    def decide(self, x: np.ndarray, read: Callable[[], float], *, unquotable: bool = False) -> Verdict:
        """The verdict on one search's `features`; `read()` gives the reader's logit when needed.

        `unquotable`: the first passage cannot be quoted as the answer (a related-content teaser
        lacking a word the question asks with, `teaser_answers`, or a passage that only mentions
        what is asked about, `mentions_only`), so "answered" becomes "unsure".
        """
        p = float(self.screen.probability(x))
        low, high = self.band
        if not low <= p <= high:
            status, probability, reader = ANSWERED if p > high else RELATED, p, math.nan
        else:
            reader = read()
            probability = float(self.full.probability(np.append(x, reader)))
            status = self.outcome(probability)
        if status == ANSWERED and unquotable:
            status = UNSURE
        return Verdict(status, probability, reader)

    def to_json(self, **about: object) -> dict:
        """Plain data for `answerable.json`; `about` records how and on what it was fitted."""
        return {
            "screen": self.screen.to_json(FEATURES),
            "full": self.full.to_json((*FEATURES, READER)),
            "threshold": self.threshold,
            "floor": self.floor,
            "band": list(self.band),
            **about,
        }

    @classmethod
    def from_json(cls, data: dict) -> Judge:
        return cls(
            screen=Model.from_json(data["screen"], FEATURES),
            full=Model.from_json(data["full"], (*FEATURES, READER)),
            threshold=float(data["threshold"]),
            floor=float(data["floor"]),
            band=(float(data["band"][0]), float(data["band"][1])),
        )


@lru_cache(maxsize=1)
def judge() -> Judge:
    """The shipped judgement (qa/answerable.json)."""
    try:
        return Judge.from_json(json.loads(WEIGHTS.read_text(encoding="utf-8")))
    except KeyError as missing:
        raise ValueError(f"{WEIGHTS.name} lacks {missing}: refit with `python -m bench.fit_answerability`") from None


def fit(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, l2: float = 1.0) -> Model:
    """Fit a logistic regression by Newton's method (L2 on the standardised weights).

    The caller sets the operating point (`Judge.threshold`).
    """
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.ones(len(x)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    beta = np.zeros(z.shape[1])
    penalty = l2 * np.eye(z.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        gradient = z.T @ (w * (p - y)) + penalty @ beta
        hessian = (z * (w * p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return Model(mean=mean, scale=scale, weights=beta[:-1], bias=float(beta[-1]))

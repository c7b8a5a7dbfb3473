"""Typing slips in a question, mended before it is searched.

"What is colective leadership?" finds its passage (the embedding reads past the slip), but the
judgement read "colective", a term no passage holds, as the rarest fact the passage lacks, and
said "not answered". A word is mended only when it is no English word, so that a real word is
not changed into another (a word the list lacks can be, unless the glossary's words name it:
"covid", "statin" and "reablement" are there, from qa/glossary.json):

- it is in lower case (a capitalised word may be a name), of five letters or more (shorter ones
  are a letter away from too many words: "tere" is "there", "term" or "tree"), and neither in
  pyspellchecker's English word list (160,572 words, each with how often it is used) or the
  glossary's words, nor the plural of a word in them, nor a term the content holds;
- it becomes the most used English word one edit away (a letter dropped, added or changed, or
  two neighbours swapped; the first letter kept), of those whose term the content holds if any
  does ("deartments" is "departments"), else of all ("gaurdian" is "guardian": the content lacks
  it either way, but the question is then embedded and read as it was meant).

A capitalised word may be a name, so it is mended only to a name the content holds, and only
beside another word of that name: "Micheal West" is "Michael West" where a passage holds both
"Michael" and "West" ("Micheal" is in the English list, as names often are, and "Who is Micheal
West?" was told "not answered"). A name alone, or one the content holds, is never changed: one
letter apart may be another person.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import lru_cache

from qa.glossary import glossary
from qa.lexical import BM25, tokenize

_WORD = re.compile(r"(?<![\w'’])[a-z]{5,}(?![\w'’])")  # not "couldn" of "couldn't"
_NAME = re.compile(r"(?<![\w'’])[A-Z][a-z]{4,}(?![\w'’])")
_NAME_WORD = re.compile(r"[A-Z][\w'’-]*")
# The list holds many a word without its plural ("opioid", not "opioids"). Other endings are left
# out: they make slips look like words ("carring" would be "carr" + "ing").
_PLURALS = ("s", "es")


@lru_cache(maxsize=1)
def english() -> Mapping[str, int]:
    """English words and how often each is used (pyspellchecker's list); loaded once, in about a second."""
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1).word_frequency.dictionary


def _one_edit(word: str) -> set[str]:
    """Words one edit from `word` that keep its first letter."""
    head, tail = word[0], word[1:]
    out = set()
    for i in range(len(tail) + 1):
        a, b = tail[:i], tail[i:]
        if b:
            out.add(a + b[1:])
            out.update(a + c + b[1:] for c in string.ascii_lowercase)
        if len(b) > 1:
            out.add(a + b[1] + b[0] + b[2:])
        out.update(a + c + b for c in string.ascii_lowercase)
    return {head + w for w in out} - {word}


@lru_cache(maxsize=1)
def _listed() -> frozenset[str]:
    return frozenset(glossary().words)


def _known(word: str, words: Mapping[str, int]) -> bool:
    """In the list or the glossary's words (qa.glossary: "covid", "statin"), or the plural of one."""
    bases = [word] + [word[: -len(end)] for end in _PLURALS if word.endswith(end)]
    return any(base in words or base in _listed() for base in bases)


def _held(word: str, index: BM25) -> bool:
    """Whether the content holds every term of `word` (a stop word has none: it holds it)."""
    return all(term in index.vocab for term in tokenize(word))


def mend(question: str, index: BM25) -> str:
    """`question` with its typing slips mended (see the module's docstring); `index` holds the content's terms.

    >>> index = BM25.build(["Collective leadership means all staff are accountable."])
    >>> mend("Who is acountable under colective leadership?", index)
    'Who is accountable under collective leadership?'
    >>> mend("What is a Freedom to Speak Up gaurdian?", index)  # the content lacks it either way
    'What is a Freedom to Speak Up guardian?'
    >>> mend("Who was the defector at Cardif?", index)  # real words and names: never changed
    'Who was the defector at Cardif?'
    >>> mend("Who is Micheal West?", BM25.build(["By Michael West", "Michaels"]))
    'Who is Michael West?'
    """

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if _held(word, index):  # a stop word or the content's: no list needed
            return word
        words = english()
        if _known(word, words):
            return word
        near = [w for w in _one_edit(word) if w in words]
        held = [w for w in near if tokenize(w) and _held(w, index)]  # a stop word is no content word
        return max(held or near, key=lambda w: (words[w], w), default=word)

    return _mend_names(_WORD.sub(fix, question), index)


def _mend_names(question: str, index: BM25) -> str:
    """`question` with a misspelt name mended to the content's, beside another word of it (see above)."""
    words = [(m.start(), m.end(), m.group(0)) for m in _NAME_WORD.finditer(question)]
    mended = question
    for at, (start, end, word) in reversed(list(enumerate(words))):  # from the end: offsets hold
        if not _NAME.fullmatch(word) or _held(word, index):
            continue
        neighbours = words[max(at - 1, 0) : at + 2]
        beside = [w for s, e, w in neighbours if (e == start - 1 or s == end + 1) and _held(w, index)]
        if not beside:  # before the 400-odd words one edit away are looked up
            continue
        near = [w for w in _one_edit(word.lower()) if tokenize(w) and _held(w, index)]
        named = [w for w in near if any(_together(w, other, index) for other in beside)]
        if len(named) == 1:
            mended = mended[:start] + named[0].capitalize() + mended[end:]
    return mended


def _together(word: str, other: str, index: BM25) -> bool:
    """Whether a row of `index` holds both words."""
    rows = [set(index.rows_of(term).tolist()) for term in tokenize(f"{word} {other}")]
    return len(rows) == 2 and bool(rows[0] & rows[1])

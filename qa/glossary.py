"""Health and care words that name the same thing, for the lexical search (qa/glossary.json).

Health and care writing is dense with abbreviations, and a reader asks in other words than the
writer used: "black and minority ethnic staff" of a text that says "BME", "clinical leaders" of
one that says "clinicians". Neither BM25 nor the stemmer knows these are the same, and the
embedding knows it only weakly. `qa.lexical.tokenize` reads this glossary, so the build and the
question agree:

- an abbreviation and its spelled-out forms are each followed by the other's terms (so a passage
  holds both, whichever it wrote, and so does a question);
- the words of one profession ("surgeon", "surgery", "surgical") become one term.

The judgement (qa.answerable) reads it too: a passage that writes "Care Quality Commission" holds
the name "CQC" a question asks about. The search only finds more with it, and the judgement
misses fewer names; what is quoted is the document's own words. Its `words` are the field's
words that general English dictionaries lack ("covid", "statin", "reablement"): qa.spelling never
takes them for typing slips.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FILE = Path(__file__).with_name("glossary.json")


@dataclass(frozen=True)
class Glossary:
    abbreviations: dict[str, list[str]]  # "CQC" -> ["Care Quality Commission"]
    same_words: list[list[str]]  # ["surgeon", "surgery", "surgical"]
    words: list[str]  # "reablement": words, though no general dictionary has them


def _words_lists(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(w, str) and w.strip() for w in value)


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    """The shipped glossary, checked: it is edited by hand, and every search reads through it."""
    try:
        data = json.loads(FILE.read_text(encoding="utf-8"))
        abbreviations, same_words, words = data["abbreviations"], data["same_words"], data["words"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{FILE} is not a glossary ({exc}): fix it, or restore it with `git checkout`") from None
    if not isinstance(abbreviations, dict) or not all(
        isinstance(short, str) and short.strip() and _words_lists(forms) for short, forms in abbreviations.items()
    ):
        raise ValueError(f'{FILE}: "abbreviations" must map each abbreviation to a list of its spelled-out forms')
    if not isinstance(same_words, list) or not all(_words_lists(words) for words in same_words):
        raise ValueError(f'{FILE}: "same_words" must be a list of lists of words')
    if not _words_lists(words) or any(w != w.lower() for w in words):
        raise ValueError(f'{FILE}: "words" must be a list of lower-case words')
    return Glossary(abbreviations=abbreviations, same_words=same_words, words=words)


@lru_cache(maxsize=1)
def _namings() -> tuple[re.Pattern[str], dict[str, list[str]], dict[str, list[str]]]:
    """One pattern for every abbreviation (as written) and spelled-out form (in any case), and the
    other names of each: by abbreviation, and by casefolded form. One pass over a text, not one a name."""
    by_short, by_form = {}, {}
    for short, forms in glossary().abbreviations.items():
        by_short[short] = [word for form in forms for word in re.findall(r"[\w'-]+", form)]
        by_form.update((form.casefold(), [short]) for form in forms)
    alternatives = [re.escape(short) for short in by_short] + [f"(?i:{re.escape(form)})" for form in by_form]
    pattern = re.compile(rf"\b({'|'.join(sorted(alternatives, key=len, reverse=True))})s?\b")
    return pattern, by_short, by_form


def other_names(text: str) -> set[str]:
    """The words by which the glossary also names what `text` abbreviates or spells out.

    >>> sorted(other_names("The CQC inspected it.")), other_names("the Care Quality Commission")
    (['Care', 'Commission', 'Quality'], {'CQC'})
    """
    pattern, by_short, by_form = _namings()
    names: set[str] = set()
    for match in pattern.finditer(text):
        named = match.group(1)
        names.update(by_short.get(named) or by_form[named.casefold()])
    return names

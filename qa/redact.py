"""Redaction: what identifies a person is replaced by a marker before a question is stored.

Staff type questions in a hurry, sometimes with a patient's details in them. The question log
and the access log keep what was typed for QA_LOG_DAYS, so these are replaced first (the answer
is still computed from the question as asked):

- an NHS number: 10 digits, run together or grouped 3-3-4 by spaces or hyphens, that pass the
  modulus 11 check (a 10-digit number that fails it is kept as typed) -> [NHS number]
- an e-mail address -> [email]
- a UK phone number: 0, +44 or 0044 (with or without "(0)"), then 9 or 10 digits, spaced, hyphenated,
  dotted or with the area code in brackets -> [phone]
- a UK postcode, full (outward and inward code, in either case, space optional) and with a real
  postcode area (so "A4 3rd" is not one, though "B1 3RD" is) -> [postcode]
- a date of birth: a date with day, month and year (12/03/1984, 12-03-84, 1984-03-12,
  3 March 1984, 3rd of Mar 1984, March 3, 1984) written after "DOB", "D.O.B.", "date of birth",
  "birth date", "birthday" or "born" (with "is", "was", "on" or a colon between) -> [date of birth].
  A date without one of those words is kept: questions name dates of policies and reports.

When in doubt the rules redact (a ward code shaped like a postcode is lost from the log), as
a stored identifier cannot be taken back.
"""

from __future__ import annotations

import re

NHS_NUMBER = "[NHS number]"
EMAIL = "[email]"
PHONE = "[phone]"
POSTCODE = "[postcode]"
DATE_OF_BIRTH = "[date of birth]"
# What the log's readers are told (the report, the Library).
REDACTED = "NHS numbers, e-mail addresses, phone numbers, postcodes and dates of birth"

# Each starts only where a run of its characters starts (and takes separators possessively), so
# a long question without a match costs one pass, not one pass per character.
_EMAIL = re.compile(r"(?<![\w.%+'-])[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")
_NHS = re.compile(r"(?<![\d+-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)44[ .-]?(?:\(0\)[ .-]?)?|\(0|0)[1-9](?:\)?[ .-]?\d){8,9}(?!\d)",
)
_AREAS = frozenset(
    "AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC "
    "EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME "
    "MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA "
    "TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE".split()
)
# The shape; the area (the letters before the first digit) is then looked up, which is much
# faster than an alternation of 124 areas tried at every word.
_POSTCODE = re.compile(r"\b([A-Z]{1,2})\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?!\d)"  # 12/03/1984, 12.3.84
    r"|\d{4}-\d{1,2}-\d{1,2}(?!\d)"  # 1984-03-12
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"  # 3 March 1984, 3rd of Mar 1984
    rf"|{_MONTH}\s+{_DAY},?\s+\d{{4}})"  # March 3, 1984
)
_DATE_OF_BIRTH = re.compile(
    # The cue, then separators, at most one "is", "was" or "on" and a "the".
    r"(\b(?:d\.?o\.?b\b\.?|date\s+of\s+birth|birth\s*date|birthday|born)[\s:=,-]*+(?:(?:is|was|on)\s+)?(?:the\s+)?)"
    rf"{_DATE}",
    re.IGNORECASE,
)


def nhs_number_valid(digits: str) -> bool:
    """Whether 10 digits pass the NHS number's modulus 11 check.

    The first nine digits are weighted 10 down to 2; 11 minus the sum's remainder by 11 is the
    check digit (11 counts as 0, and 10 means no valid number has those nine digits).

    >>> nhs_number_valid("9434765919"), nhs_number_valid("9434765918"), nhs_number_valid("123")
    (True, False, False)
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=False)) % 11
    return (0 if check == 11 else check) == int(digits[9])


def _nhs_marker(match: re.Match[str]) -> str:
    return NHS_NUMBER if nhs_number_valid("".join(match.groups())) else match.group(0)


def _postcode_marker(match: re.Match[str]) -> str:
    return POSTCODE if match.group(1).upper() in _AREAS else match.group(0)


def redact(text: str) -> str:
    """`text` with NHS numbers, e-mail addresses, UK phone numbers, UK postcodes and dates of birth
    replaced by markers (see the module's description for what each rule takes).

    >>> redact("Pt NHS 943 476 5919, DOB 12/03/1984, lives at SW1A 1AA: can I email j.smith@nhs.net?")
    'Pt NHS [NHS number], DOB [date of birth], lives at [postcode]: can I email [email]?'
    >>> redact("Call 020 7946 0018 or +44 (0)7700 900123 about 943-476-5918, born on 3rd March 1984")
    'Call [phone] or [phone] about 943-476-5918, born on [date of birth]'
    >>> redact("What changed on 1 April 2023 for the 2019 cohort in ward A4?")
    'What changed on 1 April 2023 for the 2019 cohort in ward A4?'
    """
    text = _EMAIL.sub(EMAIL, text)
    text = _DATE_OF_BIRTH.sub(lambda m: m.group(1) + DATE_OF_BIRTH, text)
    text = _NHS.sub(_nhs_marker, text)
    text = _PHONE.sub(PHONE, text)
    return _POSTCODE.sub(_postcode_marker, text)

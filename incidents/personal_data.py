"""Personnummer kept out of what the app stores (Personuppgifter).

The reference of an urgent order must not be a personnummer (refused); free text that is
shown in reports and exports (the summary, notes, caller reports) is checked the same way
and, when it looks like one, the person is warned and must confirm before it is saved.

Before looking, whatever people (or their keyboards and word processors) put between the
digits is taken out: any dash (hyphen, en and em dash, U+2010, minus sign), underscore,
slash, backslash, dot, colon, comma and any space. So ``19121212–1212``, ``121212_1212``,
``121212/1212`` and ``12 12 12.1212`` are all found. A ``+`` (someone over 100) is kept.
"""

import re
import unicodedata

_SEPARATOR_CHARS = "_/\\.:,;|~·'\u2212\u2043\ufe63"
# A date of birth (YYMMDD or YYYYMMDD; a samordningsnummer adds 60 to the day), an optional
# "+" and four digits, not inside a longer number.
_PERSONNUMMER = re.compile(
    r"(?<!\d)(?:19|20)?(?P<yymmdd>\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01]))"
    r"\+?(?P<last>\d{4})(?!\d)"
)


def _is_separator(char):
    return char in _SEPARATOR_CHARS or unicodedata.category(char) in ("Pd", "Zs", "Cc", "Cf")


def normalise(text):
    """The text with every run of separators between two digits taken out."""
    text = unicodedata.normalize("NFKC", text or "")
    out = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if out and out[-1].isdigit() and _is_separator(char):
            j = i
            while j < n and _is_separator(text[j]):
                j += 1
            if j < n and (text[j].isdigit() or text[j] == "+"):
                i = j
                continue
        out.append(char)
        i += 1
    return "".join(out)


def _luhn_ok(digits):
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def looks_like_personnummer(text, *, checksum=True):
    """Whether ``text`` holds something that reads as a Swedish personnummer.

    With ``checksum`` (free text), the control digit must be right too, so that a phone
    number in a note is rarely taken for one; without it (a field that should hold a form's
    serial number), any date of birth followed by four digits counts.
    """
    if not text:
        return False
    for match in _PERSONNUMMER.finditer(normalise(text)):
        if not checksum or _luhn_ok(match["yymmdd"] + match["last"]):
            return True
    return False

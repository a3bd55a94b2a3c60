"""Numbers, quantities and dates in text, normalised so that "eight" = 8, "1,200" = 1200,
"2.5 million" = 2500000 = "2,500,000", "£200million" = "£200m" and "05/01/2022" = "January 5, 2022",
with the qualifier kept apart
("over 300" is 300 with qualifier ">", "nearly 300" is 300 with "~")."""

from __future__ import annotations

import re

UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())
        if w != "_"}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
          "trillion": 1_000_000_000_000, "dozen": 12}
# Longest phrases first, so "more than" wins over "more".
QUALIFIERS = [(p, q) for p, q in sorted({
    "more than": ">", "over": ">", "above": ">", "in excess of": ">", "upwards of": ">",
    "at least": ">=", "no fewer than": ">=", "no less than": ">=",
    "less than": "<", "fewer than": "<", "under": "<", "below": "<",
    "up to": "<=", "at most": "<=", "no more than": "<=",
    "about": "~", "around": "~", "nearly": "~", "almost": "~", "roughly": "~", "approximately": "~",
    "some": "~", "an estimated": "~", "estimated": "~", "close to": "~",
}.items(), key=lambda item: -len(item[0]))]
MONTHS = {m: i for i, m in enumerate("january february march april may june july august september october "
                                     "november december".split(), start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9

_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?|\.\d+")
_WORD = re.compile(r"[a-z]+")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")
_MONTH_DAY = re.compile(r"\b(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?"
                        r"(?:,?\s+(\d{4}))?\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + "|".join(sorted(MONTHS, key=len, reverse=True))
                        + r")\.?(?:,?\s+(\d{4}))?\b")


def split_qualifier(text: str) -> tuple[str | None, str]:
    """(qualifier symbol or None, the rest) of a quantity phrase such as "more than 1,200 people"."""
    lowered = text.lower().strip()
    for phrase, symbol in QUALIFIERS:
        if lowered.startswith(phrase + " "):
            return symbol, lowered[len(phrase) + 1:].strip()
    return None, lowered


def _words_value(words: list[str]) -> float | None:
    total, current, seen = 0.0, 0.0, False
    for word in words:
        if word in ("and", "a", "an"):
            continue
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in SCALES:
            scale = SCALES[word]
            current = (current or 1) * scale
            if scale >= 1000:
                total, current = total + current, 0.0
        else:
            break
        seen = True
    return total + current if seen else None


# Newsroom abbreviations of a scale: "£200m", "$3bn", "€5.5mn". Bare "m" and "k" are also metres
# and thousands of anything, so they scale a number only where a currency sign comes before it.
ABBREVIATED = {"bn": 1_000_000_000, "billion": 1_000_000_000, "mn": 1_000_000, "mln": 1_000_000,
               "tn": 1_000_000_000_000, "m": 1_000_000, "k": 1_000}
CURRENCY = "£$€¥"
_ABBREVIATION = re.compile(r"\s?(bn|mn|mln|tn|m|k)\b")


def scale_suffix(before: str, after: str) -> float:
    """The factor an abbreviation right after a number gives it ("m" in "£200m": 1,000,000), from
    the text just before the number (``before``: a currency sign?) and just after it (``after``)."""
    match = _ABBREVIATION.match(after.lower())
    if not match:
        return 1.0
    word = match.group(1)
    sign = before.rstrip()[-1:]
    if word in ("m", "k") and not (sign and sign in CURRENCY):
        return 1.0
    return float(ABBREVIATED[word])


def parse_number(text: str) -> float | None:
    """The value of the first number in ``text`` ("8", "eight", "1,200", "3.5 million", "£200m",
    "$3bn", "twenty-five", "a dozen"), or None."""
    lowered = text.lower().replace("-", " ")
    match = _NUMBER.search(lowered)
    if match:
        value = float(match.group().replace(",", ""))
        following = _WORD.findall(lowered[match.end():])[:1]
        if following and following[0] in SCALES and following[0] != "dozen":
            value *= SCALES[following[0]]
        else:
            value *= scale_suffix(lowered[:match.start()], lowered[match.end():])
        return value
    words = _WORD.findall(lowered)
    for start, word in enumerate(words):
        if word in UNITS or word in TENS or word in SCALES:
            if word in SCALES and (start == 0 or words[start - 1] not in ("a", "an")):
                continue
            return _words_value(words[start - 1 if start and words[start - 1] in ("a", "an") else start:])
    return None


def parse_dates(text: str) -> set[tuple[int | None, int, int]]:
    """Every (year or None, month, day) that ``text`` can mean: a numeric date gives both the
    day-first and the month-first reading where both are valid ("05/01/2022": 5 January or 1 May)."""
    lowered = text.lower()
    found: set[tuple[int | None, int, int]] = set()
    for a, b, year in _NUMERIC_DATE.findall(lowered):
        y = int(year) + (2000 if len(year) == 2 else 0)
        for day, month in ((int(a), int(b)), (int(b), int(a))):
            if 1 <= month <= 12 and 1 <= day <= 31:
                found.add((y, month, day))
    for month, day, year in _MONTH_DAY.findall(lowered):
        if 1 <= int(day) <= 31:
            found.add((int(year) if year else None, MONTHS[month], int(day)))
    for day, month, year in _DAY_MONTH.findall(lowered):
        if 1 <= int(day) <= 31:
            found.add((int(year) if year else None, MONTHS[month], int(day)))
    return found


def dates_agree(summary: set, article: set) -> bool:
    """Whether some summary date equals some article date; a missing year matches any year."""
    return any((sm, sd) == (am, ad) and (sy is None or ay is None or sy == ay)
               for sy, sm, sd in summary for ay, am, ad in article)

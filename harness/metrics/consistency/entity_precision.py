"""Entity and number consistency: names, numbers, quantities and dates in the summary that the
article does not contain.

Metric card
-----------
Measures: every named entity, number, quantity and date the embedded spaCy NER finds in the
summary (plus numeric dates such as 05/01/2022) is looked up in the article:
- a name matches when its normalised words (lower case, no possessive, no leading "the") occur
  in the article's normalised text ("Putin" matches "Vladimir Putin's");
- a number matches when the article has the same value ("eight" = 8 = "8", "3.5 million" =
  3500000) with the same qualifier; the same value with another qualifier ("over 300" vs "300")
  is a ``qualifier_mismatch``, reported as such and not counted as matched;
- a date matches when one of its readings equals one of the article's ("05/01/2022" can be 5
  January or 1 May; a date without a year matches any year); dates that cannot be parsed
  ("last night", "Thursday") match by their normalised words.
Summary score (``consistency/score@entity``): precision-source (Nan et al. 2021), matched
mentions / all mentions; 1.0 when the summary has none (nothing to contradict). Per sentence:
1.0 when every mention is matched, else 0.0, so that a name or number the article lacks (listed
in red on the page as "not in the article") always flags its sentence, at any flag threshold
above 0 (a ratio let "1 of 3 names missing" pass a 0.583 threshold unflagged);
``entities@entity`` lists every mention with its status; ``unmatched@entity`` counts the
mentions not matched. Range 0 to 1; higher is better.
Known failure modes: only what the small NER model tags is checked (it misses some entities
and mislabels others); a fact that is wrong but uses only article entities ("the mayor's office
set a car on fire", a role swap) scores perfectly; paraphrased names ("the Kremlin" for
"Russia") count as unmatched; lower-cased text (some datasets) weakens the NER. An age or span
with no calendar reading ("the 16-year-old", "six days", a bare number tagged as a date) is
matched by its number and unit words, so an age matches any same number in the article ("the
12-year-old" where the article has "12 miles").
Measured flags (false flags on consistent summaries and the share of inconsistent ones flagged, per
labelled set left out): harness/calibration/shipped.json, written by `harness meta-eval --split lodo
--save-calibration`, and docs/meta-eval-consistency.md, "Transfer" and "Flags" (no figures here:
they change with every scorer change and live in one place).
"""

from __future__ import annotations

from harness.metrics.base import count
from harness.metrics.consistency.base import SentenceConsistency
from harness.text.entities import Mention, article_index, mentions
from harness.text.numbers import dates_agree, parse_number

SYMBOLS = {None: "exactly", ">": "more than", ">=": "at least", "<": "less than", "<=": "at most", "~": "about"}


def check(mention: Mention, index: dict) -> dict:
    """The status of one summary mention against an article index (see text/entities.article_index)."""
    found = {"text": mention.text, "label": mention.label, "kind": mention.kind}
    if mention.kind == "number":
        qualifiers = index["numbers"].get(mention.value)
        if qualifiers is None:
            return {**found, "status": "unmatched"}
        if mention.qualifier in qualifiers:
            return {**found, "status": "matched"}
        return {**found, "status": "qualifier_mismatch",
                "detail": f"summary says {SYMBOLS[mention.qualifier]} {mention.value:g}; the article says "
                          + " or ".join(f"{SYMBOLS[q]} {mention.value:g}" for q in sorted(qualifiers, key=str))}
    if mention.kind == "date" and mention.dates:
        return {**found, "status": "matched" if dates_agree(set(mention.dates), index["dates"]) else "unmatched"}
    if f" {mention.normal} " in index["normal"]:
        return {**found, "status": "matched"}
    return {**found, "status": "matched" if _age_or_span(mention, index) else "unmatched"}


AGE_WORDS = frozenset({"year", "years", "old", "month", "months"})  # "16-year-old", "six-month-old"
UNITS = frozenset({"day", "days", "week", "weeks", "month", "months", "year", "years", "hour", "hours"})


def _age_or_span(mention: Mention, index: dict) -> bool:
    """A date-like mention with no calendar reading that is a number with a unit ("the 16-year-old"
    where the article has "Abu Khdeir, 16,"; "six days"; a bare "2" the NER tags as a date):
    matched when the number is in the article and each other word is an age word ("year", "old") or
    a unit of time the article uses; anything else ("the age of 69", "10am row") stays unmatched."""
    if mention.kind != "date" or mention.dates:
        return False
    value = parse_number(mention.text)
    if value is None or value not in index["numbers"]:
        return False
    words = [w for w in mention.normal.split() if parse_number(w) is None]
    return all(w in AGE_WORDS or w in UNITS and f" {w} " in index["normal"] for w in words)


class EntityPrecision(SentenceConsistency):
    key = "entity"
    display = "Entity precision"

    def __init__(self, threshold: float = 1.0):
        super().__init__(threshold)

    def flag_level(self, judged):
        if any(c["status"] == "qualifier_mismatch" for c in judged["entities"]):
            return "contradicted"  # the article gives the number with another qualifier
        return "not in the article"

    def describe(self) -> dict:
        return {**super().describe(), "ner": "spacy en_core_web_sm"}

    def columns(self):
        return {**super().columns(),
                "unmatched@entity": count("Names and numbers not in the article", higher_is_better=False)}

    def judge(self, items):
        out = []
        for sentences, text in items:
            index = article_index(text)
            judged = []
            for sentence in sentences:
                checked = [check(m, index) for m in mentions(sentence)]
                matched = sum(c["status"] == "matched" for c in checked)
                # a name or number the article lacks flags its sentence, whatever the threshold
                judged.append({"score": 1.0 if matched == len(checked) else 0.0, "entities": checked})
            out.append(judged)
        return out

    def summary_score(self, judged):
        checked = [c for j in judged for c in j["entities"]]
        return sum(c["status"] == "matched" for c in checked) / len(checked) if checked else 1.0

    def _row(self, sentences, judged):
        row = super()._row(sentences, judged)
        checked = [c for j in judged for c in j["entities"]]
        row["entities@entity"] = checked
        row["unmatched@entity"] = sum(c["status"] != "matched" for c in checked)
        return row

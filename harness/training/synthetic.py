"""Synthetic (premise, hypothesis, label) pairs made from news articles, FactCC/DAE style.

For a target sentence of an article, the premise is a window of ``size`` article sentences that
contains it (`harness.training.windows`), and the hypothesis is:
- label 1 (supported): the sentence itself (``copy``), or a compression of it (``compress``: a
  trailing clause, a parenthetical or an attribution dropped);
- label 0 (not supported): the sentence changed by one edit (``entity``: a name swapped for another
  of the same kind from the article; ``number``; ``date``; ``pronoun``; ``negation``; ``roles``:
  subject and object swapped on the parse; ``predicate``: a verb turned to its opposite;
  ``event``: an invented arrest, charge, death, resignation or admission of a person the article
  names; ``quote``: a quote's speaker swapped for another person of the article), or the sentence
  against a window that does not hold it and shares little with it (``elsewhere``), or a sentence
  of another article (``other``).
An edit that does not apply to a sentence (no number to change) is skipped for another kind.
Every choice comes from a seeded ``random.Random``, so the pairs are a function of the articles
and the seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from harness.training.windows import content_words, overlap, windows

NAME_LABELS = ("PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "WORK_OF_ART")
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
PRONOUNS = {"he": "she", "she": "he", "him": "her", "his": "her", "her": "his", "they": "he", "we": "they"}
OPPOSITES = {
    "won": "lost", "lost": "won", "rose": "fell", "fell": "rose", "increased": "decreased",
    "decreased": "increased", "accepted": "rejected", "rejected": "accepted", "confirmed": "denied",
    "denied": "confirmed", "supported": "opposed", "opposed": "supported", "agreed": "refused",
    "refused": "agreed", "approved": "blocked", "allowed": "banned", "banned": "allowed", "praised": "criticised",
    "criticised": "praised", "criticized": "praised", "arrived": "left", "opened": "closed", "closed": "opened",
    "bought": "sold", "sold": "bought", "hired": "fired", "fired": "hired", "joined": "left", "started": "ended",
    "ended": "started", "raised": "cut", "attacked": "defended", "killed": "saved", "saved": "killed",
    "passed": "failed", "failed": "passed", "gained": "lost", "welcomed": "condemned", "condemned": "welcomed",
    "admitted": "denied", "survived": "died in", "released": "arrested", "arrested": "released",
    "win": "lose", "lose": "win", "wins": "loses", "loses": "wins", "increase": "decrease", "rise": "fall",
    "rises": "falls", "support": "oppose", "supports": "opposes", "accept": "reject", "agree": "refuse",
    "allow": "ban", "allows": "bans", "will": "will not", "found": "lost", "helped": "hindered",
    "signed": "rejected", "completed": "abandoned", "remained": "left", "returned": "left", "ruled": "overturned",
    "convicted": "acquitted", "acquitted": "convicted", "guilty": "innocent", "innocent": "guilty",
}
AUXILIARIES = frozenset("is was are were has have had will would can could should may might must did does do".split())
CRIMES = ["murder", "fraud", "assault", "theft", "manslaughter", "bribery", "drink-driving", "terrorism offences"]
EVENTS = [
    "{x} was arrested {when}.", "{x} has been charged with {crime}.", "{x} died {when}.",
    "{x} resigned {when}.", "{x} has admitted {crime}.", "{x} was sacked {when}.",
    "{x} was taken to hospital {when}.", "{x} has been jailed for {n} years.",
]
CLAUSES = [", and {x} was later arrested", " before {x} was charged with {crime}", ", after {x} died",
           ", and {x} has since resigned", " after {x} admitted {crime}"]
WHEN = ["on Monday", "last week", "on Friday", "yesterday", "in 2014", "last month", "on Tuesday night"]
TRAILING = re.compile(r",\s+(?:who|which|where|after|as|while|when|because|but|although|with|including)\b.*$")
PAREN = re.compile(r"\s*\([^)]*\)|\s*,\s*[^,]{3,40},(?=\s)")
ATTRIBUTION = re.compile(r"^(?:According to [^,]{3,60}, |[A-Z][^,.]{2,40} said(?: that)? )")
NEGATIVE_KINDS = ("entity", "number", "date", "pronoun", "negation", "roles", "predicate", "event", "quote",
                  "elsewhere", "other")
POSITIVE_KINDS = ("copy", "compress")


@dataclass(frozen=True)
class Pair:
    premise: str
    hypothesis: str
    label: int  # 1 = supported
    kind: str  # how it was made (POSITIVE_KINDS, NEGATIVE_KINDS, or "labelled:<set>")
    article: str  # the article's id (`article_id`)


def article_id(text: str) -> str:
    """An article's identity across data sets: the SHA-256 prefix of its first 400 letters and
    digits, lower-cased (so whitespace, case and punctuation differences between copies agree)."""
    import hashlib

    letters = re.sub(r"[^a-z0-9]", "", text.lower())[:400]
    return hashlib.sha256(letters.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _pipeline():
    import spacy

    from harness.text.sentences import SPACY_MODEL

    return spacy.load(SPACY_MODEL)


def _fix(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    return text[:1].upper() + text[1:] if text else text


def _replace(sentence: str, start: int, end: int, new: str) -> str:
    return _fix(sentence[:start] + new + sentence[end:])


def swap_entity(doc, names: dict[str, list[str]], rng: random.Random) -> str | None:
    """A name of the sentence replaced by another name of the same kind from the article."""
    ents = [e for e in doc.ents if e.label_ in NAME_LABELS]
    rng.shuffle(ents)
    for ent in ents:
        own = ent.text.lower()
        options = [n for n in names.get(ent.label_, []) if n.lower() not in doc.text.lower() and own not in n.lower()
                   and n.lower() not in own]
        if options:
            return _replace(doc.text, ent.start_char, ent.end_char, rng.choice(options))
    return None


def change_number(doc, rng: random.Random) -> str | None:
    """A number of the sentence changed (digits scaled or shifted; a number word swapped)."""
    tokens = [t for t in doc if t.like_num and t.ent_type_ not in ("DATE", "TIME", "ORDINAL")]
    if not tokens:
        return None
    t = rng.choice(tokens)
    digits = t.text.replace(",", "")
    if digits.isdigit():
        value = int(digits)
        new = rng.choice([value * 2, value + rng.randint(1, 9), max(0, value - rng.randint(1, 9)) or value + 3,
                          value * 10 if value < 100 else value // 2])
        if new == value:
            new = value + 1
        text = f"{new:,}" if "," in t.text else str(new)
    elif t.text.lower() in NUMBER_WORDS:
        text = rng.choice([w for w in NUMBER_WORDS if w != t.text.lower()])
    else:
        return None
    return _replace(doc.text, t.idx, t.idx + len(t.text), text)


def change_date(doc, rng: random.Random) -> str | None:
    """A weekday, month or year of the sentence changed."""
    for t in doc:
        if t.text in DAYS:
            return _replace(doc.text, t.idx, t.idx + len(t.text), rng.choice([d for d in DAYS if d != t.text]))
        if t.text in MONTHS:
            return _replace(doc.text, t.idx, t.idx + len(t.text), rng.choice([m for m in MONTHS if m != t.text]))
        if re.fullmatch(r"(19|20)\d\d", t.text):
            return _replace(doc.text, t.idx, t.idx + 4, str(int(t.text) + rng.choice([-3, -2, -1, 1, 2, 3])))
    return None


def swap_pronoun(doc, rng: random.Random) -> str | None:
    """A personal pronoun of the sentence swapped (he/she, his/her, ...)."""
    tokens = [t for t in doc if t.text.lower() in PRONOUNS]
    if not tokens:
        return None
    t = rng.choice(tokens)
    new = PRONOUNS[t.text.lower()]
    new = new.capitalize() if t.text[0].isupper() else new
    return _replace(doc.text, t.idx, t.idx + len(t.text), new)


def negate(doc) -> str | None:
    """The main verb negated ("was" -> "was not", "said" -> "did not say"), or a negation removed."""
    for t in doc:
        if t.dep_ == "neg":
            start = t.idx
            end = t.idx + len(t.text)
            return _replace(doc.text, start - (1 if t.text.lower() in ("not", "never") else 0), end, "")
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None:
        return None
    aux = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.text.lower() in AUXILIARIES]
    if aux:
        a = aux[0]
        return _replace(doc.text, a.idx, a.idx + len(a.text), f"{a.text} not")
    if root.text.lower() in AUXILIARIES:
        return _replace(doc.text, root.idx, root.idx + len(root.text), f"{root.text} not")
    if root.pos_ == "VERB" and root.tag_ in ("VBD", "VBZ", "VBP"):
        helper = {"VBD": "did not", "VBZ": "does not", "VBP": "do not"}[root.tag_]
        return _replace(doc.text, root.idx, root.idx + len(root.text), f"{helper} {root.lemma_}")
    return None


def _subtree_span(token) -> tuple[int, int]:
    tokens = list(token.subtree)
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


def reverse_roles(doc) -> str | None:
    """The subject and the object of the main verb swapped ("A accused B" -> "B accused A")."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None:
        return None
    subject = next((c for c in root.children if c.dep_ == "nsubj"), None)
    obj = next((c for c in root.children if c.dep_ in ("dobj", "obj")), None)
    if obj is None:  # "A was attacked by B": swap A and B
        subject = next((c for c in root.children if c.dep_ == "nsubjpass"), None)
        agent = next((c for c in root.children if c.dep_ == "agent"), None)
        obj = next((c for c in agent.children if c.dep_ == "pobj"), None) if agent is not None else None
    if subject is None or obj is None or subject.pos_ == "PRON" and obj.pos_ == "PRON":
        return None
    (s0, s1), (o0, o1) = _subtree_span(subject), _subtree_span(obj)
    if not s1 <= o0:
        return None
    text = doc.text
    a, b = text[s0:s1], text[o0:o1]
    if a.lower() == b.lower():
        return None
    first = b[0].upper() + b[1:] if s0 == 0 else b
    second = a[0].lower() + a[1:] if s0 == 0 and subject.pos_ != "PROPN" and subject.ent_type_ == "" else a
    return _fix(text[:s0] + first + text[s1:o0] + second + text[o1:])


def change_predicate(doc, rng: random.Random) -> str | None:
    """A verb (or verdict word) turned to its opposite ("won" -> "lost", "guilty" -> "innocent")."""
    tokens = [t for t in doc if t.text.lower() in OPPOSITES and t.pos_ in ("VERB", "AUX", "ADJ")]
    if not tokens:
        return None
    t = rng.choice(tokens)
    new = OPPOSITES[t.text.lower()]
    return _replace(doc.text, t.idx, t.idx + len(t.text), new.capitalize() if t.text[0].isupper() else new)


def invent_event(doc, people: list[str], rng: random.Random) -> str | None:
    """An arrest, charge, death, resignation or admission the article never reports, of a person it
    names: a sentence of its own, or a clause added to the target sentence."""
    if not people:
        return None
    x = rng.choice(people)
    fill = {"x": x, "when": rng.choice(WHEN), "crime": rng.choice(CRIMES), "n": rng.randint(2, 12)}
    if rng.random() < 0.5:
        return rng.choice(EVENTS).format(**fill)
    body = doc.text.rstrip(" .!?\"'”")
    if len(body) < 20 or '"' in body or "“" in body:
        return rng.choice(EVENTS).format(**fill)
    return _fix(body + rng.choice(CLAUSES).format(**fill) + ".")


def misattribute_quote(doc, people: list[str], rng: random.Random) -> str | None:
    """A quoted sentence's speaker replaced by another person the article names."""
    if not any(q in doc.text for q in ('"', "“", "'")):
        return None
    speakers = [e for e in doc.ents if e.label_ == "PERSON"]
    for e in speakers:
        options = [p for p in people if p.lower() not in doc.text.lower()]
        if options:
            return _replace(doc.text, e.start_char, e.end_char, rng.choice(options))
    return None


def compress(sentence: str, rng: random.Random) -> str | None:
    """A shorter sentence the original entails: a trailing clause, a parenthetical or an opening
    attribution dropped; None when none applies or what is left is under five words."""
    options = []
    for pattern in (TRAILING, PAREN, ATTRIBUTION):
        cut = pattern.sub("", sentence, count=1).strip()
        if cut != sentence.strip() and len(cut.split()) >= 5:
            options.append(_fix(cut if cut.endswith((".", "!", "?", '"', "”")) else cut + "."))
    return rng.choice(options) if options else None


def _names(doc) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in doc.ents:
        if e.label_ in NAME_LABELS and e.text not in out.setdefault(e.label_, []):
            out[e.label_].append(e.text)
    return out


def article_pairs(article: str, sentences: list[str], other_sentences: list[str], rng: random.Random,
                  targets: int, size: int = 3, positive_share: float = 0.45) -> list[Pair]:
    """Up to ``targets`` pairs from one article (one per target sentence), a ``positive_share``
    of them supported.

    Args:
        article: the article's text (its id is taken from it).
        sentences: its sentences, in order (the first 25 are used).
        other_sentences: sentences of other articles (for ``other``).
        rng: the seeded random source.
        targets: how many target sentences to draw.
        size: sentences per window.
        positive_share: the share of targets made supported pairs.
    Returns:
        The pairs (fewer than ``targets`` when edits do not apply)."""
    sentences = [s for s in sentences[:25] if 6 <= len(s.split()) <= 60]
    if len(sentences) < 2:
        return []
    nlp = _pipeline()
    docs = list(nlp.pipe(sentences))
    names: dict[str, list[str]] = {}
    for doc in docs:
        for label, found in _names(doc).items():
            names.setdefault(label, []).extend(n for n in found if n not in names.get(label, []))
    people = [n for n in names.get("PERSON", []) if len(n.split()) <= 4]
    aid = article_id(article)
    out = []
    chosen = rng.sample(range(len(sentences)), min(targets, len(sentences)))
    for i in chosen:
        start = max(0, min(i - rng.randint(0, size - 1), len(sentences) - size))
        premise = " ".join(sentences[start:start + size])
        doc, sentence = docs[i], sentences[i]
        if rng.random() < positive_share:
            short = compress(sentence, rng) if rng.random() < 0.55 else None
            out.append(Pair(premise, short or sentence, 1, "compress" if short else "copy", aid))
            continue
        kinds = [k for k in NEGATIVE_KINDS if k not in ("elsewhere", "other")]
        rng.shuffle(kinds)  # edits first; a window without the sentence or another article's sentence
        kinds = ["elsewhere", "other"] + kinds if rng.random() < 0.2 else kinds + ["elsewhere", "other"]
        for kind in kinds:
            hypothesis, this_premise = None, premise
            if kind == "entity":
                hypothesis = swap_entity(doc, names, rng)
            elif kind == "number":
                hypothesis = change_number(doc, rng)
            elif kind == "date":
                hypothesis = change_date(doc, rng)
            elif kind == "pronoun":
                hypothesis = swap_pronoun(doc, rng)
            elif kind == "negation":
                hypothesis = negate(doc)
            elif kind == "roles":
                hypothesis = reverse_roles(doc)
            elif kind == "predicate":
                hypothesis = change_predicate(doc, rng)
            elif kind == "event":
                hypothesis = invent_event(doc, people, rng)
            elif kind == "quote":
                hypothesis = misattribute_quote(doc, people, rng)
            elif kind == "elsewhere":
                words = content_words(sentence)
                far = [w for j, w in enumerate(windows(sentences, size)) if not j <= i < j + size
                       and overlap(words, w) < 0.34]
                if far:
                    hypothesis, this_premise = sentence, rng.choice(far)
            elif kind == "other" and other_sentences:
                hypothesis = rng.choice(other_sentences)
            if hypothesis and hypothesis.strip() != sentence.strip():
                out.append(Pair(this_premise, hypothesis, 0, kind, aid))
                break
            if hypothesis and kind == "elsewhere":
                out.append(Pair(this_premise, hypothesis, 0, kind, aid))
                break
    return out

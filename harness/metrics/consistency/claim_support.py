"""Claim support: whether the article makes the relations a summary sentence claims.

Metric card
-----------
Measures: each summary sentence is parsed into predicate-argument arcs between its content words
(`harness.text.claims`: "The footman was arrested and charged with child molestation" gives
arrested → footman, charged → footman, charged → molestation, molestation → child). An arc is
supported when one article sentence contains both of its words, each matched by lemma or, for
common nouns, verbs and adjectives, by a near-synonym (cosine of the embedded MiniLM's word
embeddings of at least ``synonym_similarity``: "detained" for "arrested"); names and numbers
match only by their own text or value. Sentence score: supported arcs / arcs (a sentence without
arcs: the share of its content words found, 1.0 when it has none); the unsupported arcs are
listed (``missing``) and the article sentence supporting most arcs is the evidence. Summary score
(``consistency/score@claims``): the mean over sentences. Range 0 to 1; higher is better.
It sees invented events about real participants, which the entity scorer (names and numbers
only) and embedding similarity (topic only) do not: an arrest, a charge, a death or a
resignation in an article that reports none leaves its arc without support.
Roles (`harness.text.roles`): a sentence that gets who did what to whom wrong scores 0.0 and is
flagged whatever its arcs, with the reason listed (``roles``): a role reversed against the
article's own use of the same verb, both arguments named ("the butler accused the footman" where
the article has "the footman accused the butler"; "he forced himself" where the article has
"staff forced him"; level ``contradicted``), or a plain saying verb ("said", "revealed",
"requested", ...) whose speaker is a name the article uses but never quotes, or reports as saying
anything, or one the article says stayed silent ("the owners revealed" where they "did not
respond"). Descriptions ("the Bayern boss joked") and pronouns are never taken as unsaid speakers.
Known failure modes: co-occurrence in one sentence is not the relation itself, so a negated event
in the article still supports the arc ("was not arrested"); roles are read only where the parse
gives a subject or object (a reversal in a noun phrase, "Smith's accuser Jones", passes); a
claim spread over two article sentences counts as unsupported (no coreference: "He denies it"
does not support "the footman denies it"); parse errors of the small spaCy model (headlines,
lower-cased text) give wrong arcs and roles; near-synonym matching can accept related but different words.
Measured flags (false flags on consistent summaries and the share of inconsistent ones flagged, per
labelled set left out): harness/calibration/shipped.json, written by `harness meta-eval --split lodo
--save-calibration`, and docs/meta-eval-consistency.md, "Transfer" and "Flags" (no figures here:
they change with every scorer change and live in one place).
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from harness.metrics.base import count
from harness.metrics.consistency.base import SentenceConsistency
from harness.models.sentence_encoder import EMBEDDED_ENCODER, SentenceEncoder
from harness.text.claims import arc_text, arcs
from harness.text.parse import parse_article, parse_sentence
from harness.text.roles import ArticleRoles, article_roles, last_person, role_conflicts, roles

SYNONYM_POS = frozenset({"NOUN", "VERB", "ADJ"})  # names and numbers must match exactly


@lru_cache(maxsize=256)
def article_index(text: str) -> tuple[dict[str, frozenset[int]], tuple[str, ...], tuple[str, ...]]:
    """(word key or lower-cased form -> the article sentences containing it, the keys of the
    article's nouns/verbs/adjectives (synonym candidates), the sentence texts)."""
    index: dict[str, set[int]] = {}
    candidates: dict[str, None] = {}
    sentences = parse_article(text)
    for s, (_, words) in enumerate(sentences):
        for w in words:
            if any(c.isalnum() for c in w.text):
                index.setdefault(w.key, set()).add(s)
                index.setdefault(w.text.lower(), set()).add(s)
                if w.content and w.pos in SYNONYM_POS:
                    candidates[w.key] = None
    return ({k: frozenset(v) for k, v in index.items()}, tuple(candidates), tuple(t for t, _ in sentences))


@lru_cache(maxsize=256)
def article_role_index(text: str) -> ArticleRoles:
    """Who does what to whom in the article, and who speaks in it (`harness.text.roles`)."""
    return article_roles(parse_article(text))


def _sentences_with(index: dict, synonyms: dict, word) -> frozenset[int]:
    """The article sentences holding ``word``: by its key or form, or (nouns, verbs, adjectives) a near-synonym."""
    found = set(index.get(word.key, ())) | set(index.get(word.text.lower(), ()))
    for key in synonyms.get(word.key, ()) if word.pos in SYNONYM_POS else ():
        found |= index.get(key, frozenset())
    return frozenset(found)


class ClaimSupport(SentenceConsistency):
    key = "claims"
    display = "Claim support"

    def __init__(self, threshold: float, model: str = EMBEDDED_ENCODER, synonym_similarity: float = 0.8,
                 device: str = "auto"):
        super().__init__(threshold)
        self.synonym_similarity = float(synonym_similarity)
        self.encoder = SentenceEncoder(model, setting="metrics.consistency_claims.model", device=device)

    def describe(self) -> dict:
        return {**super().describe(), "parser": "spacy en_core_web_sm", "synonym_similarity": self.synonym_similarity,
                **self.encoder.describe()}

    def columns(self):
        return {**super().columns(),
                "missing@claims": count("Claims (word pairs) not in the article", higher_is_better=False)}

    def _synonyms(self, keys: list[str], candidates: tuple[str, ...]) -> dict[str, list[str]]:
        """For each key, the candidate article keys at least ``synonym_similarity`` close to it."""
        if not keys or not candidates or self.synonym_similarity > 1.0:
            return {}
        vectors = self.encoder.encode([*keys, *candidates])
        similarity = vectors[:len(keys)] @ vectors[len(keys):].T
        return {k: [candidates[j] for j in np.flatnonzero(row >= self.synonym_similarity)]
                for k, row in zip(keys, similarity, strict=True)}

    def judge(self, items):
        out = []
        for sentences, text in items:
            index, candidates, article_sentences = article_index(text)
            parsed = [parse_sentence(s) for s in sentences]
            keys = sorted({w.key for words in parsed for w in words if w.content and w.pos in SYNONYM_POS})
            synonyms = self._synonyms(keys, candidates)
            where = partial(_sentences_with, index, synonyms)
            who = article_role_index(text)

            def known(key, index=index):
                return key in index
            context = None

            judged = []
            for words in parsed:
                sentence_arcs = arcs(words)
                if sentence_arcs:
                    places = [where(words[a]) & where(words[b]) for a, b in sentence_arcs]
                    supported = [bool(p) for p in places]
                    score = sum(supported) / len(supported)
                    missing = [arc_text(words, arc) for arc, ok in zip(sentence_arcs, supported, strict=True) if not ok]
                    votes = np.bincount([s for p in places for s in p], minlength=len(article_sentences))
                else:
                    content = [w for w in words if w.content]
                    found = [where(w) for w in content]
                    score = sum(bool(f) for f in found) / len(found) if found else 1.0
                    missing = [w.text for w, f in zip(content, found, strict=True) if not f]
                    votes = np.bincount([s for f in found for s in f], minlength=len(article_sentences))
                best = int(np.argmax(votes)) if len(votes) and votes.max() > 0 else None
                conflicts = role_conflicts(roles(words, context), who, known)
                context = last_person(words) or context
                if conflicts:  # a reversed role or an unsaid statement: the claim is wrong, not just unfound
                    score = 0.0
                judged.append({"score": score, "missing": missing, "claims": len(sentence_arcs) or None,
                               "roles": [c["detail"] for c in conflicts],
                               "contradicted": any(c["kind"] == "reversed" for c in conflicts),
                               "evidence": article_sentences[best] if best is not None else None})
            out.append(judged)
        return out

    def flag_level(self, judged):
        return "contradicted" if judged.get("contradicted") else "not in the article"

    def _row(self, sentences, judged):
        row = super()._row(sentences, judged)
        row["missing@claims"] = sum(len(j["missing"]) for j in judged)
        return row

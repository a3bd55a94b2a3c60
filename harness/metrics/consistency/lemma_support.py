"""Lemma support: the share of a summary sentence's content words that the article contains.

Metric card
-----------
Measures: for each summary sentence, its content words (nouns, proper nouns, verbs, adjectives
and numbers that are not stop words; `harness.text.parse`) are looked up in the article by their
lemma ("arrested" matches "arrest", "arrests"; "eight" matches "8"; a proper noun by its own
text). Sentence score: matched / content words (1.0 for a sentence without any); the words not
found are listed (``missing``) as the evidence an editor reads. Summary score
(``consistency/score@lemmas``): the mean over sentences. Range 0 to 1; higher is better.
It is ROUGE-1 precision against the source, by lemma and on content words only: the strongest
cheap signal on abstractive one-sentence summaries (XSum-style), where an invented event or
person brings words the article never uses.
Known failure modes: paraphrase and synonyms count as missing ("detained" for "arrested"; the
claim scorer matches near-synonyms); a sentence made only of article words can still be wrong
(swapped roles, negation, wrong relation: "the mayor's office set a car on fire"); it rewards
copying, so extractive summaries score near 1.0 whatever they say.
Measured flags (at the flag threshold of the shipped calibration, harness/calibration/shipped.json;
`harness meta-eval --split lodo`, each labelled set left
out in turn with its flag threshold chosen on the others; docs/meta-eval-consistency.md, "Transfer"
and "Flags"): summaries flagged, consistent / inconsistent, on the set left out: QAGS-C 2.7% /
11.5%, SummEval 3.0% / 20.1%, CogenSumm 1.9% / 1.1%, FactCC 0.5% / 0.0%, Polytope 0.0% / 2.2%,
XSumFaith (BBC) 53.1% / 82.4%. Human reference sentences (SummEval's 11 references of 100 CNN/DM
articles) flagged: 42.0% of 2870; QAGS-C sentences people judged unsupported flagged: 8.2% of 183
(`python -m harness.meta_eval.flags`).
"""

from __future__ import annotations

from functools import lru_cache

from harness.metrics.base import count
from harness.metrics.consistency.base import SentenceConsistency
from harness.text.parse import parse_article, parse_sentence


@lru_cache(maxsize=256)
def article_vocabulary(text: str) -> frozenset[str]:
    """Every word key and lower-cased word form of an article text."""
    return frozenset(k for _, words in parse_article(text) for w in words for k in (w.key, w.text.lower()))


class LemmaSupport(SentenceConsistency):
    key = "lemmas"
    display = "Content words in the article"

    def describe(self) -> dict:
        return {**super().describe(), "parser": "spacy en_core_web_sm"}

    def columns(self):
        return {**super().columns(),
                "missing@lemmas": count("Content words not in the article", higher_is_better=False)}

    def judge(self, items):
        out = []
        for sentences, text in items:
            vocabulary = article_vocabulary(text)
            judged = []
            for sentence in sentences:
                content = [w for w in parse_sentence(sentence) if w.content]
                missing = list(dict.fromkeys(w.text for w in content
                                             if w.key not in vocabulary and w.text.lower() not in vocabulary))
                judged.append({"score": 1.0 - len(missing) / len(content) if content else 1.0, "missing": missing})
            out.append(judged)
        return out

    def _row(self, sentences, judged):
        row = super()._row(sentences, judged)
        row["missing@lemmas"] = sum(len(j["missing"]) for j in judged)
        return row

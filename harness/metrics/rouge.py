"""ROUGE-1/2/L/Lsum of a summary against the reference bullets, with Google's `rouge-score`.

Metric card
-----------
Measures: n-gram (ROUGE-1, -2) and longest-common-subsequence (ROUGE-L, and ROUGE-Lsum, the
union LCS over sentences) overlap between the summary and the reference bullets, after
Porter stemming. Precision, recall and F1 are reported for each (``rouge/rouge1_f`` etc.).
Inputs: the bullets one per line form the reference; the summary is split into sentences,
one per line (ROUGE-Lsum reads lines as sentences; the others ignore line breaks).
Range: 0 to 1. Direction: higher is better.
Tokens (`harness.metrics.rouge_tokenizer.UnicodeTokenizer`, recorded as ``tokenizer: unicode-v1``):
on ASCII text exactly rouge-score's (lower-cased ``[a-z0-9]`` runs, Porter-stemmed over 3
letters: the same scores, tested); beyond ASCII, words of letters, digits and combining marks in
any script (Arabic, Cyrillic, Devanagari, accented Latin: ``café`` whole, not rouge-score's ``caf``;
not stemmed), one token per character of Han, kana and Hangul, one per emoji or other symbol
(category So). rouge-score's own tokenizer scores Chinese, Arabic or emoji-only text 0 against
an identical reference: it keeps only ``[a-z0-9]``. A text that is not blank but has no token
(only punctuation) scores 0, and the run warns once, naming the article.
Known failure modes: rewards word overlap, not meaning (a paraphrase scores low, a fluent
contradiction sharing the words scores high); favours long summaries on recall and extractive
ones overall; stemming is English only; per-character CJK tokens make ROUGE-2 the closer
analogue of English ROUGE-1 there; Thai, Lao, Khmer and Burmese (no spaces, no segmenter here)
count a run between spaces as one word; not comparable across reference sets of different length,
nor with ROUGE computed by rouge-score's default tokenizer on non-ASCII text.
Limits: ROUGE-L and ROUGE-Lsum use our bounded-memory LCS (`harness.metrics.lcs`), with the same
values as rouge-score (tested), so a 20,000-word bullet or a summary that loops costs megabytes,
not the gigabytes of rouge-score's full table; time stays O(n * m) vector work (measured in
docs/performance.md, "Long texts").
"""

from __future__ import annotations

import collections
import logging

from rouge_score import rouge_scorer, scoring

from harness.data.article import Article
from harness.errors import ConfigError
from harness.metrics.base import Column, Metric
from harness.metrics.lcs import encode, lcs_indices, lcs_length
from harness.metrics.rouge_tokenizer import UnicodeTokenizer
from harness.text.sentences import split_sentences

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
_DISPLAY = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}
_PARTS = {"p": "precision", "r": "recall", "f": "F1"}
HEADLINE = ("rougeLsum_f", "rouge1_f", "rouge2_f")  # in this order on the leaderboard

log = logging.getLogger(__name__)


class Rouge(Metric):
    name = "rouge"

    def __init__(self, use_stemmer: bool = True):
        if not isinstance(use_stemmer, bool):
            raise ConfigError(f"metrics.rouge.use_stemmer must be true or false, got {use_stemmer!r}")
        self.use_stemmer = use_stemmer
        self._tokenizer = UnicodeTokenizer(use_stemmer=use_stemmer)
        self._scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], tokenizer=self._tokenizer)
        self._warned = False  # a text with no token: said once per run

    def describe(self) -> dict:
        return {"use_stemmer": self.use_stemmer, "tokenizer": self._tokenizer.name}

    def columns(self) -> dict[str, Column]:
        keys = [*HEADLINE, *(f"{k}_{p}" for k in ROUGE_TYPES for p in _PARTS if f"{k}_{p}" not in HEADLINE)]
        return {key: Column(f"{_DISPLAY[key[:-2]]} {_PARTS[key[-1]]}", headline=key in HEADLINE) for key in keys}

    def score(self, summary: str, article: Article) -> dict:
        reference = "\n".join(article.bullets)
        prediction = "\n".join(split_sentences(summary))
        scores = self._scorer.score(reference, prediction)
        tokenize = self._tokenizer.tokenize
        reference_tokens, prediction_tokens = tokenize(reference), tokenize(prediction)
        self._check_visible(article, (("summary", summary, prediction_tokens),
                                      ("reference bullets", reference, reference_tokens)))
        scores["rougeL"] = score_lcs(reference_tokens, prediction_tokens)
        scores["rougeLsum"] = summary_level_lcs([tokenize(s) for s in reference.split("\n") if s],
                                                [tokenize(s) for s in prediction.split("\n") if s])
        out = {}
        for kind in ROUGE_TYPES:
            s = scores[kind]
            out.update({f"{kind}_p": s.precision, f"{kind}_r": s.recall, f"{kind}_f": s.fmeasure})
        return out

    def _check_visible(self, article: Article, texts) -> None:
        """Warn (the first time in this run) when a text that is not blank has no token."""
        for role, text, tokens in texts:
            if self._warned or tokens or not text.strip():
                continue
            self._warned = True
            log.warning("rouge: article %r: the %s %r has no token ROUGE's tokenizer keeps (words of letters or "
                        "digits in any script, CJK characters, emoji), so its ROUGE is 0; later texts like it are "
                        "not reported in this run", article.id, role, text[:80])


def score_lcs(target: list[str], prediction: list[str]) -> scoring.Score:
    """ROUGE-L: rouge-score's ``_score_lcs`` with a linear-memory LCS length."""
    if not target or not prediction:
        return scoring.Score(precision=0, recall=0, fmeasure=0)
    length = lcs_length(target, prediction)
    precision, recall = length / len(prediction), length / len(target)
    return scoring.Score(precision=precision, recall=recall, fmeasure=scoring.fmeasure(precision, recall))


def summary_level_lcs(ref_sents: list[list[str]], can_sents: list[list[str]]) -> scoring.Score:
    """ROUGE-Lsum: rouge-score's ``_summary_level_lcs`` (union LCS per reference sentence, each
    token counted at most as often as it occurs on both sides) with the bounded-memory `lcs_indices`."""
    m, n = sum(map(len, ref_sents)), sum(map(len, can_sents))
    if not ref_sents or not can_sents or not m or not n:
        return scoring.Score(precision=0, recall=0, fmeasure=0)
    counts_r = collections.Counter(t for s in ref_sents for t in s)
    counts_c = collections.Counter(t for s in can_sents for t in s)
    codes: dict = {}
    ref_codes, can_codes = encode(ref_sents, codes), encode(can_sents, codes)
    hits = 0
    for ref, ref_code in zip(ref_sents, ref_codes, strict=True):
        union = sorted(set().union(*(lcs_indices(ref_code, can) for can in can_codes)))
        for token in (ref[i] for i in union):
            if counts_c[token] > 0 and counts_r[token] > 0:
                hits += 1
                counts_c[token] -= 1
                counts_r[token] -= 1
    precision, recall = hits / n, hits / m
    return scoring.Score(precision=precision, recall=recall, fmeasure=scoring.fmeasure(precision, recall))

"""Checker support: a dedicated fact-checker (MiniCheck, an NLI cross-encoder) asked whether the
article supports each summary sentence, or the whole summary.

Metric card
-----------
Measures: P(supported) of a claim given the article, from a trained checker model
(harness/models/checker.py): a sequence classifier (MiniCheck-RoBERTa/DeBERTa, labels read from
``id2label`` or named by ``supported_label``; any NLI cross-encoder, P(entailment)) or a seq2seq
checker (MiniCheck-Flan-T5: softmax over the logits of the label tokens "1" and "0" at the first
decoder step).
Long articles, as MiniCheck does: the article's sentences are packed in order into chunks of at
most ``chunk_size`` words (``chunk_unit: tokens``: tokens of the checker's tokenizer; a longer
sentence is a chunk of its own; ``chunk_size: null``: the whole article as one chunk), each chunk
is paired with the claim, and the claim's score is the maximum over chunks, with that chunk as
evidence (``chunk``: its index, ``chunks``: how many; ``cut``: whether that input was cut to
``max_length`` tokens, from the chunk's end).
``granularity``: ``sentence`` (default; MiniCheck's advice): each summary sentence is a claim, and the
summary score (``consistency/score@KEY``) is the mean over sentences, ``min@KEY`` the weakest;
``summary``: the whole summary (its sentences joined) is one claim, as MiniCheck was evaluated on
AggreFact-CNN, and ``sentences@KEY`` holds that one claim.
Range 0 to 1; higher means supported. ``threshold`` (0.5: MiniCheck's decision boundary) marks a
claim supported; ``harness meta-eval --metrics CONFIG`` tunes it on a dev part.
``key`` names the columns, so two checkers can score one run side by side (each conf file has
its own: ``minicheck``, ``minicheck_t5``, ``crossencoder``).
Known failure modes: a fact spread across two chunks is supported by neither (MiniCheck chunks
of 400-500 words keep most news articles whole); a checker trained on short documents is
miscalibrated on long chunks; NLI cross-encoders trained on sentence pairs (MNLI) read a
400-word chunk poorly (use ``chunk_size`` of a few sentences for them); weights come from the
Hub, so nothing here was measured offline (docs/meta-eval-consistency.md, "Strong checkers").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from harness.errors import ConfigError
from harness.metrics.consistency.base import SentenceConsistency, article_text
from harness.models.checker import Checker
from harness.text.sentences import split_sentences

GRANULARITIES = ("sentence", "summary")
CHUNK_UNITS = ("words", "tokens")


@lru_cache(maxsize=4096)
def document_sentences(text: str) -> tuple[str, ...]:
    """The sentences of an article text, split once per process."""
    return tuple(split_sentences(text))


def chunk_sentences(sentences: Sequence[str], size: int | None,
                    length: Callable[[str], int] = lambda s: len(s.split())) -> list[str]:
    """The sentences packed in order into chunks of at most ``size`` (by ``length``: words by
    default), joined by spaces; a sentence longer than ``size`` is a chunk of its own. ``size``
    None: one chunk of everything. No sentences: no chunks."""
    if not sentences:
        return []
    if not size:
        return [" ".join(sentences)]
    chunks, current, used = [], [], 0
    for sentence in sentences:
        n = length(sentence)
        if current and used + n > size:
            chunks.append(" ".join(current))
            current, used = [], 0
        current.append(sentence)
        used += n
    chunks.append(" ".join(current))
    return chunks


def best_chunk(scores: Sequence[float]) -> int:
    """The index of the highest-scoring chunk (the first of equals)."""
    return int(np.argmax(scores))


class CheckerSupport(SentenceConsistency):
    display = "Checker support"

    def __init__(self, model: str, kind: str = "auto", granularity: str = "sentence", key: str = "checker",
                 display: str | None = None, threshold: float = 0.5, supported_label: int | str | None = None,
                 template: str | None = None, label_words: Sequence[str] = ("1", "0"),
                 label_token_ids: Sequence[int] | None = None, chunk_size: int | None = 400,
                 chunk_unit: str = "words", max_length: int = 512, batch_size: int = 16, revision: str | None = None,
                 trust_remote_code: bool = False, device: str = "auto", config_name: str = "consistency_checker"):
        super().__init__(threshold)
        setting = f"metrics.{config_name}"
        if granularity not in GRANULARITIES:
            raise ConfigError(f"{setting}.granularity must be one of {', '.join(GRANULARITIES)}, "
                              f"got {granularity!r}")
        if chunk_unit not in CHUNK_UNITS:
            raise ConfigError(f"{setting}.chunk_unit must be one of {', '.join(CHUNK_UNITS)}, got {chunk_unit!r}")
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ConfigError(f"{setting}.chunk_size must be an integer >= 1 or null, got {chunk_size!r}")
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            raise ConfigError(f"{setting}.key must be a non-empty name of letters, digits, '_', '.', '-', got {key!r}")
        self.key, self.granularity, self.chunk_size, self.chunk_unit = key, granularity, chunk_size, chunk_unit
        self.display = display or f"Checker support ({key})"
        self.checker = Checker(model, kind=kind, template=template, supported_label=supported_label,
                               label_words=tuple(label_words),
                               label_token_ids=None if label_token_ids is None else tuple(label_token_ids),
                               max_length=max_length, batch_size=batch_size, revision=revision,
                               trust_remote_code=trust_remote_code, device=device, setting=setting)
        self._chunks: dict[str, list[str]] = {}

    def describe(self) -> dict:
        claims = "mean over summary sentences" if self.granularity == "sentence" else "the whole summary as one claim"
        return {**super().describe(), **self.checker.describe(), "granularity": self.granularity,
                "chunk_size": self.chunk_size, "chunk_unit": self.chunk_unit,
                "aggregation": f"max over article chunks of P(supported); {claims}"}

    def _length(self, sentence: str) -> int:
        if self.chunk_unit == "words":
            return len(sentence.split())
        return len(self.checker._tokenizer(sentence, add_special_tokens=False)["input_ids"])

    def chunks(self, text: str) -> list[str]:
        """The article's chunks, made once per article text."""
        if text not in self._chunks:
            if len(self._chunks) >= 4096:
                self._chunks.clear()
            self._chunks[text] = chunk_sentences(document_sentences(text), self.chunk_size, self._length)
        return self._chunks[text]

    def claims(self, sentences: list[str]) -> list[str]:
        """What is checked: each sentence, or (granularity summary) the sentences joined into one claim."""
        return list(sentences) if self.granularity == "sentence" else [" ".join(sentences)]

    def judge(self, items):
        plan, pairs = [], {}
        for sentences, text in items:
            chunks, claims = self.chunks(text), self.claims(sentences)
            plan.append((chunks, claims))
            for claim in claims:
                for chunk in chunks:
                    pairs.setdefault((chunk, claim), len(pairs))
        if pairs:
            probs, cut = self.checker.probabilities([d for d, _ in pairs], [c for _, c in pairs], return_cut=True)
        else:
            probs, cut = np.zeros(0), np.zeros(0, dtype=bool)
        out = []
        for chunks, claims in plan:
            judged = []
            for claim in claims:
                if not chunks:
                    judged.append({"score": 0.0, "evidence": None, "chunk": None, "chunks": 0, "cut": False})
                    continue
                rows = [pairs[(chunk, claim)] for chunk in chunks]
                best = best_chunk([probs[r] for r in rows])
                judged.append({"score": float(probs[rows[best]]), "evidence": chunks[best], "chunk": best,
                               "chunks": len(chunks), "cut": bool(cut[rows[best]])})
            out.append(judged)
        return out

    def score_many(self, pairs):
        if self.granularity == "sentence":
            return super().score_many(pairs)
        # One claim per summary: the row's "sentences" are that claim.
        items = [(self.claims(sentences) if (sentences := split_sentences(summary)) else [], article_text(article))
                 for summary, article in pairs]
        live = [i for i, (claims, _) in enumerate(items) if claims]
        judged = dict(zip(live, self.judge([items[i] for i in live]), strict=True))
        return [self._row(items[i][0], judged.get(i, [])) for i in range(len(items))]

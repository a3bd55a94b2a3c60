"""Baselines that need no weights: the first k sentences, and the reference bullets themselves."""

from __future__ import annotations

import time
from itertools import islice

from harness.data.article import Article
from harness.errors import ConfigError
from harness.provenance import versions_of
from harness.systems.base import Generation, System, ignore_settings
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate
from harness.text.sentences import SPACY_MODEL, iter_sentences


def _splitter_identity() -> dict:
    return {"splitter": SPACY_MODEL, "versions": versions_of("spacy", SPACY_MODEL.replace("_", "-"))}


class LeadK(System):
    """The first ``k`` sentences of the body, one per line: the classic CNN/DailyMail baseline."""

    def __init__(self, k: int = 3, name: str | None = None, **others_settings):
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"lead-k: k must be a positive integer, got {k!r}")
        self.k = k
        self.name = name or f"lead-{k}"
        ignore_settings(self.name, others_settings)

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        return {"kind": "lead", "k": self.k, **_splitter_identity()}

    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        start = time.perf_counter()
        text = "\n".join(islice(iter_sentences(article.body), self.k))
        return Generation(text=text, seconds=time.perf_counter() - start)


class ReferenceBullets(System):
    """The human bullets as the summary: the upper bound a system can reach on these references."""

    def __init__(self, name: str = "reference-bullets", **others_settings):
        self.name = name
        ignore_settings(self.name, others_settings)

    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        return {"kind": "reference_bullets"}

    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        return Generation(text="\n".join(article.bullets))

"""Word tokens with spaCy's English tokenizer (the embedded en_core_web_sm's rules, no model run),
as SummEval's DataStatsMetric tokenises for the Newsroom extractiveness statistics."""

from __future__ import annotations

from functools import lru_cache

from harness.text.sentences import SPACY_MODEL


@lru_cache(maxsize=1)
def _tokenizer():
    import spacy

    return spacy.load(SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "senter", "ner", "attribute_ruler",
                                            "lemmatizer"]).tokenizer


def word_tokens(text: str) -> list[str]:
    """The tokens of ``text``, whitespace tokens dropped."""
    return [t.text for t in _tokenizer()(text) if not t.is_space]

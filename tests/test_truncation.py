"""The truncation rule on a whitespace tokenizer, where the counts can be worked out by hand."""

import pytest

from harness.errors import ConfigError
from harness.systems.truncation import fit_article


class WhitespaceTokenizer:
    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": text.split()}

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(ids)


def render(body):
    return ["<bos>", "Summarize:", *body.split(), "<eos>"]  # 3 tokens of template around the article


def test_fits_untouched():
    ids, article_tokens, cut = fit_article(WhitespaceTokenizer(), render, "one two three", 10)
    assert (len(ids), article_tokens, cut) == (6, 3, 0)


def test_cuts_from_the_end_to_the_limit():
    body = " ".join(f"w{i}" for i in range(10))
    ids, article_tokens, cut = fit_article(WhitespaceTokenizer(), render, body, 8)
    # 8 input tokens - 3 template tokens = 5 article tokens kept, the first five.
    assert ids == ["<bos>", "Summarize:", "w0", "w1", "w2", "w3", "w4", "<eos>"]
    assert (article_tokens, cut) == (10, 5)


def test_no_limit_means_no_cut():
    assert fit_article(WhitespaceTokenizer(), render, "a " * 1000, None)[2] == 0


def test_template_alone_too_long():
    with pytest.raises(ConfigError, match="takes 3 tokens"):
        fit_article(WhitespaceTokenizer(), render, "a b c d", 3)

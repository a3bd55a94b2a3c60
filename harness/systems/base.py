"""The system interface: an identity (everything that changes its output), `summarize`, and
`summarize_batch` for several articles at once (``batch_size`` of them: `harness.generation` forms
the batches). A system that `refills` takes a larger group through `summarize_group`, with at most
``batch_size`` of it decoding at once. A system reports decoding progress inside a batch with
`report_tokens`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass

from harness.data.article import Article
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate
from harness.text.surrogates import replace_surrogates


@dataclass
class Generation:
    """One summary and how it was made."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    article_tokens: int | None = None
    article_tokens_cut: int = 0
    seconds: float = 0.0

    def __post_init__(self):
        if isinstance(self.text, str):  # no lone surrogate reaches a cache or summaries.jsonl
            self.text = replace_surrogates(self.text)

    def to_dict(self) -> dict:
        return asdict(self)


_TOKEN_PROGRESS: ContextVar[Callable[[int], None] | None] = ContextVar("token_progress", default=None)


def report_tokens(n: int) -> None:
    """Called by a system while it generates: ``n`` more tokens made (shown as live progress)."""
    callback = _TOKEN_PROGRESS.get()
    if callback is not None:
        callback(n)


def token_progress(callback: Callable[[int], None] | None):
    """Route `report_tokens` calls to ``callback`` until the returned token is reset."""
    return _TOKEN_PROGRESS.set(callback)

log = logging.getLogger(__name__)


def ignore_settings(name: str, settings: dict) -> None:
    """A system's note for settings it does not take, given to a mixed sweep for its other systems
    (``system=smollm2,lead3 system.batch_size=8``: `harness.config_check.widen_system_overrides`
    adds ``batch_size`` to lead-3's config too): one warning naming them, never a refusal."""
    if settings:
        given = ", ".join(f"system.{key}={value!r}" for key, value in sorted(settings.items()))
        log.warning("%s takes no %s: ignored for it (a setting of the sweep's other systems)", name, given)


class System(ABC):
    """Produces a summary of an article.

    ``uses_prompt`` says whether the prompt template and decoding preset change the output;
    when False they are left out of the identity, so runs that differ only there are the same.
    ``batch_size``: how many articles `summarize_batch` gets at once (an int; language models also
    take ``"auto"``). ``batch_changes_output``: whether an article's summary depends on the other
    articles of its batch (padding changes a model's float results); then the generation cache
    keys each summary by its whole batch.
    """

    name: str
    uses_prompt: bool = False
    batch_size: int | str = 1
    batch_changes_output: bool = False
    # Checked before anything is built (harness/config_check.py), where a system takes them.
    param_ranges = {"max_input_tokens": (1, None), "max_input_chars": (1, None), "batch_size": (1, None),
                    "concurrency": (1, None)}

    @abstractmethod
    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        """Everything (besides the article) that changes the output: the generation cache key."""

    @abstractmethod
    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        """The summary of one article."""

    def summarize_batch(self, articles: list[Article], prompt: PromptTemplate, decoding: Decoding) -> list[Generation]:
        """The summaries of several articles, in their order (default: one `summarize` each)."""
        return [self.summarize(article, prompt, decoding) for article in articles]

    def refills(self, decoding: Decoding) -> bool:
        """Whether, under ``decoding``, a finished row of a batch is replaced by the next article
        (`summarize_group`); `harness.generation` then hands over groups of several batches."""
        return False

    def summarize_group(self, articles: list[Article], prompt: PromptTemplate, decoding: Decoding,
                        rows: int) -> list[Generation]:
        """The summaries of a group, at most ``rows`` decoding at once (systems that `refill`)."""
        raise NotImplementedError(f"{type(self).__name__} does not refill batches")

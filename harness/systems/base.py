"""The system interface: an identity (everything that changes its output) and `summarize`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

from harness.data.article import Article
from harness.systems.decoding import Decoding
from harness.systems.prompt import PromptTemplate


@dataclass
class Generation:
    """One summary and how it was made."""

    text: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    article_tokens: int | None = None
    article_tokens_cut: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class System(ABC):
    """Produces a summary of an article.

    ``uses_prompt`` says whether the prompt template and decoding preset change the output;
    when False they are left out of the identity, so runs that differ only there are the same.
    """

    name: str
    uses_prompt: bool = False

    @abstractmethod
    def identity(self, prompt: PromptTemplate, decoding: Decoding) -> dict:
        """Everything (besides the article) that changes the output: the generation cache key."""

    @abstractmethod
    def summarize(self, article: Article, prompt: PromptTemplate, decoding: Decoding) -> Generation:
        """The summary of one article."""

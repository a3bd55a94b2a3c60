"""References: articles with their human bullets, and the loaders that read them."""

from harness.data.article import Article
from harness.data.load import load_articles

__all__ = ["Article", "load_articles"]

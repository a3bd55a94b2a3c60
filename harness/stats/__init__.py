"""Statistics over articles: bootstrap confidence intervals."""

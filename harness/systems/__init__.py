"""Systems: what turns an article into a summary (extractive baselines and language models)."""

"""Models that metrics use to judge text (sentence encoder, NLI), loaded once per process."""

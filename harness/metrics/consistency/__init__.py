"""Factual consistency of a summary against its article, per summary sentence, with evidence."""

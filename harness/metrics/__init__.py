"""Metrics: score a summary against its article and reference bullets."""

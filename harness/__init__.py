"""Evaluation harness for news summarization.

Data flow: references (harness.data) -> systems (harness.systems) -> summaries
-> metrics (harness.metrics) -> scores -> reports (harness.reports).
"""

__version__ = "0.1.0"

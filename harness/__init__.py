"""Evaluation harness for news summarization.

Data flow: references (harness.data) -> systems (harness.systems) -> summaries
-> metrics (harness.metrics) -> scores -> reports (harness.reports).

The Python API (imported on first use: ``import harness`` loads nothing heavy)::

    import harness

    cfg = harness.compose(["system=lead3", "metrics=[rouge]"])   # an OmegaConf DictConfig
    cfg.system.k = 2
    results = harness.evaluate(cfg)                              # or harness.evaluate(["system=lead3"])
    results.metrics["rouge/rougeLsum_f"], results.metric_stats["rouge/rougeLsum_f"].ci95

`compose` is `harness.config.compose`; `evaluate` is `harness.run.evaluate`.
"""

__version__ = "0.1.0"
__all__ = ["compose", "evaluate"]


def __getattr__(name: str):
    if name == "compose":
        from harness.config import compose

        return compose
    if name == "evaluate":
        from harness.run import evaluate

        return evaluate
    raise AttributeError(f"module 'harness' has no attribute {name!r}")

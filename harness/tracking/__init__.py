"""Experiment tracking: a run directory logged to MLflow or Weights & Biases.

``records`` turns a run directory into params, metrics, tags and artifacts (one flattening for
every backend); ``callback`` is the Hydra callback shape (``+tracking=mlflow``,
``+tracking=wandb``) that logs each job when it ends and never fails a run; ``mlflow`` and
``wandb`` are the two thin backends. ``harness track DIR`` logs finished runs later.
"""

"""Meta-evaluation: how well our scorers agree with human judgments on annotated data."""

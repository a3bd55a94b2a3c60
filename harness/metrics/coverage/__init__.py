"""Coverage of the reference bullets, one bullet at a time: a metric (bullet_coverage) and the
matchers that score a bullet against each summary sentence (lexical, semantic, entailment)."""

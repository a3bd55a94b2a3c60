"""The seed article's minimal pairs for factual consistency, scored by every offline scorer.

Usage: .venv/bin/python benchmarks/consistency_seed_pairs.py
Pairs: a right number ("eight police officers", as the article says) against a wrong one
("nine"), and the article's roles ("protesters set the mayor's office on fire") against a swap
("the mayor's office set a car on fire"). Prints each scorer's summary score for each sentence;
docs/meta-eval-consistency.md records the figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAIRS = [("number", "Kazakh officials said eight police officers were killed during the unrest.",
          "Kazakh officials said nine police officers were killed during the unrest."),
         ("roles", "Protesters set the mayor's office on fire.", "The mayor's office set a car on fire.")]


def main() -> None:
    from harness.config import load_metric
    from harness.data import load_articles

    article = load_articles(str(ROOT / "references" / "seed.jsonl"))[0]
    scorers = {name: load_metric(name) for name in ("consistency_entity", "consistency_embedding", "consistency_claims",
                                                    "consistency_lemmas", "consistency_judge")}
    print("| pair | sentence | " + " | ".join(scorers) + " |")
    print("|---|---|" + "---|" * len(scorers))
    for pair, right, wrong in PAIRS:
        for label, sentence in (("right", right), ("wrong", wrong)):
            figures = [f"{m.score(sentence, article)[f'score@{m.key}']:.4f}" for m in scorers.values()]
            print(f"| {pair} ({label}) | {sentence} | " + " | ".join(figures) + " |")


if __name__ == "__main__":
    main()

"""Small labelled consistency data sets with known answers, for the meta-eval tests."""


def qags_rows(n=8):
    """QAGS-format rows: n articles, each with a supported sentence (2 of 3 workers say yes) and, in every
    second one, an unsupported one (2 of 3 say no)."""
    rows = []
    for d in range(n):
        article = f"Report {d}. Eight police officers were hurt in Almaty on Monday. Prices rose by 10 percent."
        good = {"sentence": "Eight police officers were hurt in Almaty.",
                "responses": [{"worker_id": w, "response": r} for w, r in enumerate(("yes", "yes", "no"))]}
        bad = {"sentence": "Nine police officers were hurt in Paris.",
               "responses": [{"worker_id": w, "response": r} for w, r in enumerate(("no", "no", "yes"))]}
        rows.append({"article": article, "summary_sentences": [good, bad] if d % 2 else [good]})
    return rows


def entity_rows():
    """Kazakh matched, eight matched -> entity score 1.0 (label 1); nine unmatched -> 0.5 (label 0)."""
    rows = []
    for i, (group, cut) in enumerate([("X", "val"), ("X", "test"), ("X", "test"), ("Y", "val"), ("Y", "test")]):
        article = f"Report {i}. Kazakh officials said eight police officers were killed."
        for number, label in (("eight", 1), ("nine", 0)):
            rows.append({"document": article, "claim": f"Kazakh officials said {number} police officers were killed.",
                         "label": label, "cut": cut, "origin": group})
    return rows

"""ROUGE for the cnndm_bullets_peer task, with Google's rouge-score (a dependency of lm-eval) and
the settings of harness/metrics/rouge.py: Porter stemming, the reference bullets one per line.
The harness splits a summary into sentences with spaCy; this splits it into lines only (list
markers stripped), so ROUGE-Lsum can differ slightly. benchmarks/peer_lm_eval.py rescores lm-eval's
summaries with the harness's own scorer for a like-for-like figure."""

import re

from rouge_score import rouge_scorer

_SCORER = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
_LIST_MARKER = re.compile(r"^\s*(?:[•*\-–]|\d{1,2}[.)])\s+")


def process_results(doc, results):
    lines = [_LIST_MARKER.sub("", line).strip() for line in results[0].splitlines()]
    prediction = "\n".join(line for line in lines if line)
    scores = _SCORER.score(doc["reference"], prediction)
    return {kind: scores[kind].fmeasure for kind in ("rouge1", "rouge2", "rougeLsum")}

"""Editors' sentence verdicts (the marks of ``harness review``, harness/results/marks.py) as labelled data
for the consistency meta-eval: ``harness meta-eval --marks DIR/marks.json``.

Each sentence editors judged becomes one example in harness/meta_eval/consistency_data.py's shape:
the article is the run's own copy (references.jsonl, title and body as the scorers read it), the
summary is that one sentence (as the run's scores split it), and the label is consistent when the
editors said ``supported``. A sentence several editors judged counts once, by their majority (a
tie is left out); marks whose summary or article changed since they were made are left out (the
same placing as ``harness compare --marks``). ``doc_id`` is the article id, so the bootstrap
resamples articles.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import DataError, HarnessError
from harness.meta_eval.consistency_data import ConsistencyExample
from harness.metrics.consistency.base import article_text
from harness.results import details
from harness.results.marks import CHANGED, place_marks, read_marks
from harness.results.runs import Run
from harness.results.summaries import read_references
from harness.results.sweep import load_runs


def _articles(run: Run) -> dict[str, str]:
    """Article id -> the text the run's scorers read, from its directories' references.jsonl."""
    out: dict[str, str] = {}
    for directory in run.dirs:
        if not Path(directory).is_dir():
            continue  # a baseline file keeps no articles
        try:
            for article in read_references(directory):
                out.setdefault(article.id, article_text(article))
        except HarnessError:
            continue
    return out


def marks_examples(runs: list[Run], marks: list[dict]) -> tuple[list[ConsistencyExample], dict]:
    """(examples, what was read: ``sentences``, ``ties``, ``no_article``, ``left_out`` by reason)
    from the sentence verdicts of ``marks`` on these runs' summaries."""
    placed, reasons = place_marks(runs, marks)
    by_label = {r.label: r for r in runs}
    verdicts: dict[tuple, dict[str, str]] = {}
    where: dict[tuple, tuple] = {}
    for ref, mark in placed:
        for s in mark["sentences"]:
            verdicts.setdefault((ref.key, s["index"]), {})[mark["editor"]] = s["verdict"]
            where[(ref.key, s["index"])] = (ref, s.get("text") or "")
    articles: dict[str, dict[str, str]] = {}
    examples, ties, no_article = [], 0, 0
    for key, by_editor in verdicts.items():
        ref, given = where[key]
        index = key[1]
        run = by_label[ref.run]
        if ref.run not in articles:
            articles[ref.run] = _articles(run)
        article = articles[ref.run].get(ref.article_id)
        if article is None:
            no_article += 1
            continue
        scored = next(iter(details.sentences(run.scores.get(ref.article_id, {})).values()), [])
        sentence = scored[index].get("sentence") if index < len(scored) and isinstance(scored[index], dict) else None
        sentence = sentence if isinstance(sentence, str) and sentence else (
            ref.sentences[index] if index < len(ref.sentences) else given)
        supported = sum(v == "supported" for v in by_editor.values())
        if supported * 2 == len(by_editor):
            ties += 1
            continue
        examples.append(ConsistencyExample(doc_id=ref.article_id, article=article, summary=sentence,
                                           sentences=(sentence,), label=int(supported * 2 > len(by_editor))))
    info = {"sentences": len(examples), "ties": ties, "no_article": no_article,
            "left_out": {r: reasons.get(r, 0) for r in CHANGED}, "scorers": page_scorers(runs)}
    return examples, info


def page_scorers(runs: list[Run]) -> list[str]:
    """The conf/metrics names of the consistency scorers whose flags the page showed on these runs
    (every ``consistency/sentences@K`` in their scores, as ``consistency_K``): what ``harness
    meta-eval --marks`` measures unless ``--metrics`` names others."""
    from harness.config import CONF_DIR

    keys = {k for run in runs for scores in run.scores.values() for k in details.sentences(scores)}
    return [f"consistency_{k}" for k in sorted(keys) if (CONF_DIR / "metrics" / f"consistency_{k}.yaml").is_file()]


def read_marks_examples(marks_path, run_paths) -> tuple[list[ConsistencyExample], dict]:
    """`marks_examples` of a marks file and the runs under ``run_paths``; DataError when no
    sentence verdict lands on them."""
    marks = read_marks(marks_path, where=f"--marks {marks_path}")
    runs = load_runs(run_paths).runs
    examples, info = marks_examples(runs, marks)
    if not examples:
        raise DataError(f"no sentence verdicts on these runs' summaries ({info['ties']} tied, "
                        f"{sum(info['left_out'].values())} left out because their summary or article changed): "
                        "confirm or dismiss flags on the page `harness review` serves, or give the runs the marks "
                        "were made on with --runs DIR", file=str(marks_path))
    return examples, info


def describe(info: dict) -> str:
    """One line on what the examples are."""
    left = sum(info["left_out"].values())
    return (f"{info['sentences']} sentences the editors judged (label: consistent = supported)"
            + (f"; {info['ties']} with tied verdicts left out" if info["ties"] else "")
            + (f"; {info['no_article']} without the article's text left out" if info["no_article"] else "")
            + (f"; {left} left out because their summary or article changed since the mark" if left else "") + ".")

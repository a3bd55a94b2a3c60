"""``report.md`` for one run: the run's identity and mean scores, then each article's summary."""

from __future__ import annotations

from harness.calibration.record import drift_lines
from harness.metrics.consistency.base import problems as sentence_problems
from harness.reports.markdown import escape_md, table
from harness.results import details
from harness.results.metric_info import arrow, display_name, headline_metrics


def _fmt(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else escape_md(str(value))


def calibration_rows(results: dict) -> list[list[str]]:
    """The report's line on the run's calibration (name, K, file hash), where results.json has one."""
    record = results.get("calibration")
    if not isinstance(record, dict):
        return []
    k = f", K={record['k']}" if isinstance(record.get("k"), int) else ""
    return [["calibration", escape_md(f"{record.get('name')} ({record.get('path')}{k}, "
                                      f"sha256 {str(record.get('sha256'))[:12]})")]]


def render_run_report(results: dict, summaries: list[dict], scores: list[dict], articles) -> str:
    run, gen = results["run"], results["generation"]
    lines = [f"# Run report: {escape_md(run['name'])}", ""]
    lines += [table(["field", "value"], [
        ["system", escape_md(run["system"])],
        ["prompt", escape_md(str(run["prompt"]))],
        ["decoding", escape_md(str(run["decoding"]))],
        ["data", f"{escape_md(run['data'])} ({run['n_articles']} articles)"],
        ["generation", f"{gen['generated']} generated, {gen['cached']} from cache, "
                       f"{gen['truncated']} truncated ({gen['article_tokens_cut']} article tokens cut)"],
        ["commit", escape_md(str(results["provenance"]["git"]["commit"]))],
        *calibration_rows(results),
    ]), ""]
    lines += [f"**Warning:** {escape_md(w)}" for w in drift_lines(results)] + [""] * bool(drift_lines(results))
    lines += ["## Mean scores", ""]
    info = results["metric_info"]
    lines += [table(["metric", "column", "mean", "95% CI", "n"], [
        [escape_md(f"{display_name(info, name)} {arrow(info, name)}".strip()), escape_md(name), _fmt(stats["mean"]),
         f"[{stats['ci95'][0]:.4f}, {stats['ci95'][1]:.4f}]", str(stats["n"])]
        for name, stats in results["metric_stats"].items()]), "", "↑ higher is better, ↓ lower is better.", ""]
    headline = headline_metrics(info)

    by_id = {a.id: a for a in articles}
    score_by_id = {s["article_id"]: s["scores"] for s in scores}
    lines += ["## Articles", ""]
    for row in summaries:
        article = by_id[row["article_id"]]
        lines += [f"### {escape_md(article.title or article.id)}", "", f"id: {escape_md(article.id)}", "",
                  "**Reference bullets**", ""]
        lines += [f"- {escape_md(b)}" for b in article.bullets]
        lines += ["", "**Summary**", ""]
        text = row["text"].strip()
        lines += [f"> {escape_md(line)}" for line in text.split("\n") if line.strip()] if text else [
            "*(empty summary)*"]
        if row.get("article_tokens_cut"):
            lines += ["", f"Truncated: {row['article_tokens_cut']} of {row['article_tokens']} article tokens "
                          "cut from the end to fit the model's input."]
        lines += bullet_coverage_table(score_by_id.get(article.id, {}))
        lines += consistency_table(score_by_id.get(article.id, {}))
        shown = [m for m in headline if m in score_by_id.get(article.id, {})]
        if shown:
            lines += ["", table([escape_md(display_name(info, m)) for m in shown],
                                [[_fmt(score_by_id[article.id][m]) for m in shown]])]
        lines.append("")
    return "\n".join(lines)


def bullet_coverage_table(scores: dict) -> list[str]:
    """Editors' view of one summary: each bullet, ✓/✗ (and score) by every coverage matcher in the
    run, and the summary sentence that covers it (by the first matcher that finds it covered)."""
    found_by = details.coverage(scores)
    if not found_by:
        return []
    matchers, per_matcher = list(found_by), list(found_by.values())
    rows = []
    for i, bullet in enumerate(per_matcher[0]):
        marks = [f"{'✓' if found[i]['covered'] else '✗'} {found[i]['score']:.2f}" for found in per_matcher]
        covering = next((found[i]["sentence"] for found in per_matcher if found[i]["covered"]), None)
        rows.append([str(i + 1), escape_md(bullet["bullet"]), *marks, escape_md(covering) if covering else "—"])
    totals = [f"{sum(b['covered'] for b in found)}/{len(found)}" for found in per_matcher]
    counts = ", ".join(f"{escape_md(m)}: {t}" for m, t in zip(matchers, totals, strict=True))
    return ["", f"**Bullet coverage** ({counts})",
            "", table(["#", "bullet", *map(escape_md, matchers), "covered by summary sentence"], rows)]


def consistency_table(scores: dict) -> list[str]:
    """Editors' view of one summary's factual consistency: each summary sentence with ✓/✗ (and
    score) by every consistency scorer in the run, the names and numbers the article does not
    contain, and contradictions of the bullets."""
    judged_by = details.sentences(scores)
    scorers, per_scorer = list(judged_by), list(judged_by.values())
    lines = []
    if scorers and per_scorer[0]:
        rows = []
        for i, sentence in enumerate(per_scorer[0]):
            marks = [f"{'✓' if judged[i]['supported'] else '✗'} {judged[i]['score']:.2f}" for judged in per_scorer]
            problems = [escape_md(p) for judged in per_scorer for p in sentence_problems(judged[i])]
            rows.append([str(i + 1), escape_md(sentence["sentence"]), *marks, "; ".join(problems) or "—"])
        unsupported = [f"{escape_md(k)}: {sum(not s['supported'] for s in judged)}"
                       for k, judged in zip(scorers, per_scorer, strict=True)]
        lines += ["", f"**Factual consistency against the article** (unsupported sentences: {', '.join(unsupported)})",
                  "", table(["#", "summary sentence", *map(escape_md, scorers), "not supported by the article"], rows)]
    for found in details.contradictions(scores):
        lines += ["", f"Contradicts a bullet: “{escape_md(found['sentence'])}” vs “{escape_md(found['bullet'])}” "
                      f"({escape_md(found['reason'])})"]
    return lines

"""The regression gate: did quality drop beyond noise between a baseline and a candidate?

For each gated metric, scores are paired over the same articles and the mean of
(candidate − baseline) gets a percentile bootstrap interval (seeded, so deterministic). A metric
fails only when the whole interval lies on the worse side of the tolerance, in the metric's own
direction (harness.results metric metadata): for a higher-is-better metric the upper end is below
−tolerance, for a lower-is-better one the lower end is above +tolerance. Exit codes: 0 pass,
1 regression, 2 unusable input (unreadable file, missing or failed run, schema mismatch,
different articles, a missing or non-finite score, a metric with no direction).

Runs are read through harness.results, so shards are merged as the leaderboard merges them. A
candidate run is paired with the baseline run of the same setup (system name, prompt, decoding;
not the weights: a new model behind the same name is what the gate checks); with one run on each
side, those two. Every baseline run needs a candidate, unless ``allow_missing`` (then the skipped
runs are listed). Too few articles for the interval to resolve the tolerance: a warning with the
number needed.

The verdict is about the model, not the scorers: when the scorers that wrote the baseline's scores
of a gated metric are not the candidate's (each metric's fingerprint: config, scoring code, model
hashes, recorded in results.json and in the baseline file), the baseline's kept summaries are
scored again with the candidate's scorers first (harness.rescoring, through the score cache), and
the report says so (``notes``). ``refresh_baseline`` writes such re-scored scores into the
baseline file itself (``harness gate --refresh-baseline``), changing nothing else in it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from omegaconf import OmegaConf

from harness.config import CONF_DIR
from harness.errors import HarnessError
from harness.io import write_json_atomic, write_text_atomic
from harness.reports.markdown import escape_md, table
from harness.reports.text import aligned
from harness.results.baseline import read_baseline, write_rescored
from harness.results.baseline import write_baseline as write_baseline_runs
from harness.results.intervals import paired_difference
from harness.results.metric_info import direction
from harness.results.runs import Run, RunSet
from harness.results.sweep import load_runs
from harness.text.visible import visible

MAX_ARTICLES_NEEDED = 10**12  # what "articles needed" says for a tolerance no evaluation set resolves


class GateInputError(HarnessError):
    """The gate cannot compare these inputs (exit code 2)."""


def load_gate_config(name: str = "default") -> dict:
    path = CONF_DIR / "gate" / f"{name}.yaml"
    if not path.exists():
        choices = sorted(p.stem for p in (CONF_DIR / "gate").glob("*.yaml"))
        raise GateInputError(f"no gate config {name!r}: choose one of {choices}")
    config = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    if not isinstance(config.get("metrics"), dict):
        raise GateInputError(f"{path}: 'metrics' must map each gated metric to its tolerance")
    for metric, tolerance in config["metrics"].items():
        check_tolerance(tolerance, f"{path}: metrics.{metric}")
    return config


def check_tolerance(value, where: str) -> float:
    """A tolerance (how much worse a metric may get, in its units): a finite number, 0 or more;
    ``value`` may be the text of ``--metric NAME:TOLERANCE``. Else a GateInputError naming ``where``."""
    try:
        tolerance = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        tolerance = math.nan
    if not math.isfinite(tolerance) or tolerance < 0:
        raise GateInputError(f"{where}: the tolerance must be a finite number, 0 or more (how much worse the metric "
                             f"may get, in its units; 0: any drop the interval resolves fails), got {value!r}")
    return tolerance


def read_side(path, side: str) -> RunSet:
    """The runs of one side; a failed run there makes the inputs unusable."""
    runset = load_runs([path])
    if runset.failed:
        listed = "; ".join(f"{f['dir']}: {f['error']}" for f in runset.failed)
        raise GateInputError(f"the {side} has runs that did not complete ({listed}); rerun them first")
    if not runset.runs:
        raise GateInputError(f"the {side} ({path}) holds no completed run")
    return runset


def write_baseline(candidate, out) -> dict:
    """Write ``candidate``'s per-article scores as the baseline file ``out``; refuses failed or
    empty runs (they would make every later gate meaningless)."""
    runset = read_side(candidate, "candidate")
    empty = [r.label for r in runset.runs if r.n_articles == 0]
    if empty:
        raise GateInputError(f"refusing to write a baseline from runs over 0 articles: {', '.join(empty)}")
    return write_baseline_runs(Path(out), runset.runs, str(candidate))


def refresh_baseline(baseline_path, candidate_path, *, allow_missing: bool = False) -> list[str]:
    """Score the baseline file's summaries again with the candidate's scorers wherever their
    fingerprints differ, and write the new scores (with their fingerprints and intervals) into the
    file in place: its runs, summaries, articles and identities stay as they are. One line per run
    re-scored (none when the baseline was already scored by these scorers)."""
    from harness.rescoring import align

    path = Path(baseline_path)
    if not path.is_file():
        raise GateInputError(f"--refresh-baseline rewrites a baseline file; {path} is not one (write one with "
                             "harness gate --update-baseline --baseline FILE --candidate DIR)")
    runs = read_baseline(path)
    candidate = read_side(candidate_path, "candidate")
    pairs, skipped, _ = pair_runs(runs, candidate.runs, allow_missing=allow_missing)
    notes = []
    for base, cand in pairs:
        check_same_contents(base, cand)
        keys = list(dict.fromkeys(m["metric"] for m in base.metric_info.values() if m.get("metric")))
        notes += align(base, cand, [k for k in keys if k in cand.fingerprints])
    notes += [f"not refreshed (no candidate run): {b.label}" for b in skipped]
    # Every paired run is written back (its scores as re-scored, or as they were); a run from before
    # baselines kept stats, and not re-scored, is left exactly as it is.
    paired = {id(base) for base, _ in pairs if base.results.get("metric_stats") is not None}
    if any(not n.startswith("not refreshed") for n in notes):
        write_rescored(path, runs, paired, str(candidate_path))
    return notes


def pair_runs(baseline: list[Run], candidate: list[Run], *, allow_missing: bool = False):
    """((baseline run, candidate run) pairs, baseline runs skipped, candidate runs with no baseline)."""
    if len(baseline) == 1 and len(candidate) == 1:
        return [(baseline[0], candidate[0])], [], []
    pairs, skipped = [], []
    for base in baseline:
        twins = [b for b in baseline if b.setup == base.setup]
        if len(twins) > 1 and any(c.setup == base.setup for c in candidate):
            raise GateInputError(f"{len(twins)} baseline runs have the setup of {base.label!r} "
                                 f"({'; '.join(f'{b.label} in {b.dirs[0] if b.dirs else b.source}' for b in twins)}): "
                                 "which one a candidate is gated against would depend on their order; give a "
                                 "baseline with one run per setup")
        matches = [c for c in candidate if c.setup == base.setup]
        if len(matches) > 1:
            raise GateInputError(f"{len(matches)} candidate runs have the setup of baseline run {base.label!r} "
                                 f"({'; '.join(c.label for c in matches)}); gate one sweep against one baseline")
        if matches:
            pairs.append((base, matches[0]))
        else:
            skipped.append(base)
    if skipped and not allow_missing:
        raise GateInputError(f"the candidate has no run for {len(skipped)} of the baseline's {len(baseline)} runs: "
                             f"{'; '.join(b.label for b in skipped)}. Run them, or pass --allow-missing to gate "
                             "only the others (the skipped runs are then listed)")
    paired = {id(c) for _, c in pairs}
    extra = [c for c in candidate if id(c) not in paired]
    if not pairs:
        raise GateInputError("no candidate run has the setup of a baseline run: candidate "
                             f"{'; '.join(c.label for c in candidate)}; "
                             f"baseline {'; '.join(b.label for b in baseline)}")
    return pairs, skipped, extra


def _articles_and_values(base: Run, cand: Run, metric: str) -> tuple[list[str], list[float], list[float]]:
    only_base = sorted(set(base.scores) - set(cand.scores))
    only_cand = sorted(set(cand.scores) - set(base.scores))
    if only_base or only_cand:
        raise GateInputError(f"{cand.label}: different article sets: only in baseline {only_base[:10]}, "
                             f"only in candidate {only_cand[:10]}")
    ids = sorted(base.scores)
    for side, run in (("baseline", base), ("candidate", cand)):
        values = run.values(metric)
        missing = [i for i in ids if i not in values]
        if missing:
            raise GateInputError(f"{cand.label}: metric {metric!r} is missing from the {side}'s scores of "
                                 f"{len(missing)} articles ({', '.join(missing[:5])}); add the metric to that run "
                                 "or drop it from the gate")
        bad = [i for i in ids if not math.isfinite(values[i])]
        if bad:
            raise GateInputError(f"{cand.label}: metric {metric!r} is not a finite number in the {side}'s scores of "
                                 f"{len(bad)} articles ({', '.join(bad[:5])}: {values[bad[0]]}); a NaN or infinite "
                                 "score cannot be gated: find why the metric failed on them")
    return ids, [base.values(metric)[i] for i in ids], [cand.values(metric)[i] for i in ids]


def articles_needed(differences: list[float], baseline: list[float], meta: dict, tolerance: float,
                    confidence: float) -> tuple[int, str]:
    """About how many articles a ``confidence`` interval of the mean difference needs to be no wider
    than ±tolerance (n = (z·σ/tolerance)²), and where σ came from."""
    from statistics import NormalDist, stdev

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    if len(differences) >= 2 and stdev(differences) > 0:
        sigma, source = stdev(differences), "the spread of the per-article differences"
    elif len(baseline) >= 2 and stdev(baseline) > 0:
        sigma, source = stdev(baseline), "the baseline's per-article spread"
    else:
        low, high = (meta.get("range") or [None, None])
        if low is None or high is None:
            return 0, "unknown (an unbounded metric with no spread to estimate from)"
        sigma, source = (high - low) / 2, f"the widest spread a {low:g} to {high:g} metric allows"
    if tolerance <= 0:
        return 0, f"none: with a tolerance of 0 any drop the interval resolves fails (σ = {sigma:.3f}, {source})"
    ratio = z * sigma / tolerance
    if ratio > MAX_ARTICLES_NEEDED ** 0.5:  # a tolerance far below the spread: more articles than anyone has
        return MAX_ARTICLES_NEEDED, f"more than {MAX_ARTICLES_NEEDED:,}: σ = {sigma:.3f}, {source}"
    return math.ceil(ratio ** 2), f"σ = {sigma:.3f}, {source}"


def check_same_contents(base: Run, cand: Run) -> None:
    changed = sorted(a for a in set(base.articles) & set(cand.articles) if base.articles[a] != cand.articles[a])
    if changed:
        raise GateInputError(f"{cand.label}: {len(changed)} articles have the baseline's ids but other contents "
                             f"({', '.join(changed[:5])}); gate on the same evaluation set")


def compare(base: Run, cand: Run, tolerances: dict[str, float], info: dict, *, confidence: float = 0.95,
            n_resamples: int = 10_000, seed: int = 0) -> list[dict]:
    """One verdict per gated metric for a baseline run and a candidate run, with about how many
    articles its interval needs to resolve the tolerance (``articles_needed``)."""
    check_same_contents(base, cand)
    verdicts = []
    for metric, tolerance in tolerances.items():
        higher = direction(info, metric)
        if metric in info and higher is None:
            raise GateInputError(f"metric {metric!r} has no better direction (it describes, it does not rank); "
                                 "it cannot be gated: drop it from the gate")
        ids, b, c = _articles_and_values(base, cand, metric)
        # Every article is in both and finite (checked above): the difference is over all of them.
        diff = paired_difference(cand, base, metric, confidence=confidence, n_resamples=n_resamples, seed=seed)
        worse = diff.low > tolerance if higher is False else diff.high < -tolerance
        needed, why = articles_needed([x - y for x, y in zip(c, b, strict=True)], b, info.get(metric, {}),
                                      tolerance, confidence)
        verdicts.append({"metric": metric, "higher_is_better": higher is not False, "tolerance": tolerance,
                         "baseline": sum(b) / len(b), "candidate": sum(c) / len(c), "difference": diff.to_dict(),
                         "verdict": "fail" if worse else "pass", "articles_needed": max(needed, 2),
                         "articles_needed_basis": why})
    return verdicts


def size_warnings(comparisons: list[dict], confidence: float) -> list[str]:
    """One line per gated metric whose intervals rest on fewer articles than they need to resolve
    its tolerance (the largest need over the runs)."""
    lines = []
    for metric in dict.fromkeys(m["metric"] for c in comparisons for m in c["metrics"]):
        short = [(c, m) for c in comparisons for m in c["metrics"]
                 if m["metric"] == metric and m["difference"]["n"] < m["articles_needed"]]
        if not short:
            continue
        n = min(m["difference"]["n"] for _, m in short)
        _, worst = max(short, key=lambda cm: cm[1]["articles_needed"])
        lines.append(f"{metric}: {n} article(s) in {len(short)} of {len(comparisons)} runs; resolving a change of "
                     f"{worst['tolerance']:g} at {confidence:.0%} takes about {worst['articles_needed']} "
                     f"({worst['articles_needed_basis']})"
                     + ("; with one article the interval is the point difference" if n == 1 else ""))
    return lines


def sampling_warnings(cand: Run) -> list[str]:
    decoding = cand.decoding
    if decoding.get("do_sample") and decoding.get("seed") is None:
        return [f"{cand.label}: sampled without a fixed seed; its scores are not reproducible"]
    return []


def machine_warnings(base: Run, cand: Run) -> list[str]:
    """A model's summaries generated on two kinds of CPU (each run records its CPU's model name):
    bfloat16 kernels differ by CPU, so part of a difference may be the machine's, not the model's.
    Nothing for a system that uses no model (its summaries do not depend on the CPU) or a run that
    recorded no CPU."""
    cpus = [run.cpu for run in (base, cand)]
    uses_model = bool(cand.decoding)
    if uses_model and all(cpus) and cpus[0] != cpus[1]:
        return [f"{cand.label}: the baseline's summaries were generated on {cpus[0]!r}, the candidate's on "
                f"{cpus[1]!r}; a model's bfloat16 summaries differ by CPU, so part of any difference may be the "
                "machine's: write the baseline on the kind of machine the gate runs on"]
    return []


def calibration_name(run: Run) -> str:
    """A run's calibration as the gate names it: ``shipped`` (also for runs from before calibrations
    were recorded: their thresholds were the shipped ones), else its name and SHA-256."""
    record = run.calibration
    if record is None or record.get("shipped", True):
        return "shipped"
    return f"{record.get('name')!r} ({record.get('path')}, sha256 {str(record.get('sha256'))[:12]})"


def check_calibrations(base: Run, cand: Run, *, rescore: bool) -> tuple[str, str] | None:
    """(baseline's, candidate's) calibration names where they differ, else None. Without re-scoring
    their flags and verdicts are not comparable: GateInputError naming both."""
    names = calibration_name(base), calibration_name(cand)
    if names[0] == names[1]:
        return None
    if not rescore:
        raise GateInputError(f"{cand.label}: the baseline ran under calibration {names[0]} and the candidate under "
                             f"{names[1]}: their consistency flags and verdicts use other thresholds; gate with "
                             "re-scoring (the baseline scored again under the candidate's calibration) or rerun one "
                             "under the other's calibration")
    return names


def run_gate(baseline_path, candidate_path, tolerances: dict[str, float], config: dict, *,
             allow_missing: bool = False, rescore: bool = True) -> dict:
    """The gate's report. ``rescore``: score the baseline again with the candidate's scorers where
    they differ (the default; False compares the scores as they were written)."""
    from harness.rescoring import align, scorer_keys

    if not tolerances:
        raise GateInputError("no metric to gate: give --metric NAME:TOLERANCE or a gate config with metrics")
    baseline, candidate = read_side(baseline_path, "baseline"), read_side(candidate_path, "candidate")
    info = {**baseline.metric_info(), **candidate.metric_info()}
    pairs, skipped, extra = pair_runs(baseline.runs, candidate.runs, allow_missing=allow_missing)
    report = {"baseline": str(baseline_path), "candidate": str(candidate_path), "comparisons": [], "warnings": [],
              "notes": [], "skipped": [b.label for b in skipped], "not_in_baseline": [c.label for c in extra]}
    for base, cand in pairs:
        calibrations = check_calibrations(base, cand, rescore=rescore)
        if rescore:
            check_same_contents(base, cand)
            report["notes"] += align(base, cand, scorer_keys(tolerances, info))
            if calibrations:
                report["notes"].append(f"{cand.label}: the baseline ran under calibration {calibrations[0]}, the "
                                       f"candidate under {calibrations[1]}: the consistency scores gated were "
                                       "re-scored under the candidate's where their scorers differ")
        verdicts = compare(base, cand, tolerances, info, confidence=config["confidence"],
                           n_resamples=config["n_resamples"], seed=config["seed"])
        report["comparisons"].append({"baseline_run": base.label, "candidate_run": cand.label,
                                      "n_articles": cand.n_articles, "metrics": verdicts})
        report["warnings"] += sampling_warnings(cand) + machine_warnings(base, cand)
    report["warnings"] += size_warnings(report["comparisons"], config["confidence"])
    report["warnings"] += [f"not gated (no candidate run): {label}" for label in report["skipped"]]
    report["warnings"] += [f"not gated (no baseline run): {label}" for label in report["not_in_baseline"]]
    failed = [f"{c['candidate_run']}: {m['metric']}" for c in report["comparisons"] for m in c["metrics"]
              if m["verdict"] == "fail"]
    report["passed"] = not failed
    report["failed"] = failed
    return report


def _rows(report: dict) -> tuple[list[str], list[list[str]]]:
    header = ["run", "metric", "baseline", "candidate", "difference [95% CI]", "tolerance", "verdict"]
    rows = []
    for comp in report["comparisons"]:
        for m in comp["metrics"]:
            d = m["difference"]
            run = comp["candidate_run"] if comp["candidate_run"] == comp["baseline_run"] else (
                f"{comp['candidate_run']} vs {comp['baseline_run']}")
            rows.append([run, f"{m['metric']} {'↑' if m['higher_is_better'] else '↓'}", f"{m['baseline']:.4f}",
                         f"{m['candidate']:.4f}", f"{d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] n={d['n']}",
                         f"{m['tolerance']:.4f}", "FAIL" if m["verdict"] == "fail" else "pass"])
    return header, rows


GATE_FORMATS = ("text", "markdown", "json", "junit")


def render_gate(report: dict, markdown: bool) -> str:
    header, rows = _rows(report)
    verdict = "PASSED" if report["passed"] else f"FAILED: {', '.join(report['failed'])}"
    if markdown:
        body = [[escape_md(cell) for cell in row] for row in rows]
        return "\n".join([f"## Quality gate: {escape_md(verdict)}", "", table([escape_md(h) for h in header], body), "",
                          *[f"- note: {escape_md(n)}" for n in report.get("notes", [])],
                          *[f"- warning: {escape_md(w)}" for w in report["warnings"]]]) + "\n"
    return "\n".join([aligned(header, rows), "", *[f"note: {visible(n)}" for n in report.get("notes", [])],
                      *[f"warning: {visible(w)}" for w in report["warnings"]], f"gate {visible(verdict)}"]) + "\n"


def verdict_line(comparison: dict, metric: dict) -> str:
    """One metric's verdict in a sentence: what changed, its interval, the tolerance, pass or fail."""
    d = metric["difference"]
    worse = "fell" if metric["higher_is_better"] else "rose"
    outcome = (f"{worse} beyond the tolerance {metric['tolerance']:g}" if metric["verdict"] == "fail"
               else f"within the tolerance {metric['tolerance']:g}")
    return (f"{comparison['candidate_run']}: {metric['metric']} {outcome}: baseline {metric['baseline']:.4f}, "
            f"candidate {metric['candidate']:.4f}, difference {d['mean']:+.4f} "
            f"[{d['confidence']:.0%} CI {d['low']:+.4f}, {d['high']:+.4f}] over {d['n']} articles")


def render_gate_json(report: dict) -> str:
    import json

    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def render_gate_junit(report: dict) -> str:
    """JUnit XML: one testsuite per paired run, one testcase per gated metric (a failure element
    with the verdict line when it failed); baseline runs with no candidate (``--allow-missing``)
    are a suite of skipped testcases, one per gated metric. Notes and warnings go to ``system-out``."""
    import xml.etree.ElementTree as ET

    gated = [m["metric"] for m in report["comparisons"][0]["metrics"]] if report["comparisons"] else []
    root = ET.Element("testsuites", name="harness gate")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for comp in report["comparisons"]:
        suite = ET.SubElement(root, "testsuite", name=f"gate: {comp['candidate_run']}")
        failures = 0
        for m in comp["metrics"]:
            case = ET.SubElement(suite, "testcase", classname=comp["candidate_run"], name=m["metric"])
            line = verdict_line(comp, m)
            if m["verdict"] == "fail":
                failures += 1
                ET.SubElement(case, "failure", message=line, type="QualityRegression").text = line
            else:
                ET.SubElement(case, "system-out").text = line
        _counts(suite, totals, tests=len(comp["metrics"]), failures=failures, skipped=0)
    if report["skipped"]:
        suite = ET.SubElement(root, "testsuite", name="gate: not gated (no candidate run)")
        for label in report["skipped"]:
            for metric in gated:
                case = ET.SubElement(suite, "testcase", classname=label, name=metric)
                ET.SubElement(case, "skipped", message=f"{label}: not gated: the candidate has no run with its setup")
        _counts(suite, totals, tests=len(report["skipped"]) * len(gated), failures=0,
                skipped=len(report["skipped"]) * len(gated))
    if report["warnings"] or report.get("notes"):
        ET.SubElement(root, "system-out").text = "\n".join([*(f"note: {n}" for n in report.get("notes", [])),
                                                            *(f"warning: {w}" for w in report["warnings"])])
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml_chars(ET.tostring(root, encoding="unicode")) + "\n"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_chars(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold (control characters other than tab, newline
    and carriage return; lone surrogates; U+FFFE, U+FFFF) replaced by U+FFFD, so a run label or a
    note holding one still makes a well-formed JUnit file."""
    return _NOT_XML.sub("\ufffd", text)


def _counts(suite, totals: dict, **counts: int) -> None:
    for key, value in {**counts, "errors": 0}.items():
        suite.set(key, str(value))
        if key in totals:
            totals[key] += value


def render_gate_as(report: dict, fmt: str) -> str:
    """The gate report in one of GATE_FORMATS."""
    renderers = {"text": lambda: render_gate(report, markdown=False), "markdown": lambda: render_gate(report, True),
                 "json": lambda: render_gate_json(report), "junit": lambda: render_gate_junit(report)}
    if fmt not in renderers:
        raise GateInputError(f"no gate format {fmt!r}: choose one of {', '.join(GATE_FORMATS)}")
    return renderers[fmt]()


GATE_FILES = ("gate.json", "gate.md", "gate.xml")


def write_gate_outputs(report: dict, out_dir: Path) -> None:
    """gate.json (the report), gate.md (for a PR comment or job summary), gate.xml (JUnit, for CI's test view)."""
    write_json_atomic(out_dir / "gate.json", report)
    write_text_atomic(out_dir / "gate.md", render_gate(report, markdown=True))
    write_text_atomic(out_dir / "gate.xml", render_gate_junit(report))

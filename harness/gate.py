"""The regression gate: did quality drop beyond noise between a baseline and a candidate?

For each gated metric, scores are paired over the same articles and the mean of
(candidate − baseline) gets a percentile bootstrap interval (seeded, so deterministic). The gate
fails a metric only when the interval's upper end lies below −tolerance: the drop is larger
than the tolerance even at the optimistic end of the noise. Exit codes: 0 pass, 1 regression,
2 unusable input (missing run, schema mismatch, different articles, missing metric).

A baseline is a run directory, a sweep directory, or a baseline file written by
``harness gate --update-baseline`` (per-article scores of every run of a sweep, a few KB).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from omegaconf import OmegaConf

from harness.config import CONF_DIR
from harness.errors import HarnessError
from harness.io import read_jsonl, write_json_atomic, write_text_atomic
from harness.reports.markdown import escape_md, table
from harness.run import SCHEMA_VERSION
from harness.stats.bootstrap import paired_difference

BASELINE_KIND = "harness-baseline"


class GateInputError(HarnessError):
    """The gate cannot compare these inputs (exit code 2)."""


def load_gate_config(name: str = "default") -> dict:
    path = CONF_DIR / "gate" / f"{name}.yaml"
    if not path.exists():
        choices = sorted(p.stem for p in (CONF_DIR / "gate").glob("*.yaml"))
        raise GateInputError(f"no gate config {name!r}: choose one of {choices}")
    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def load_runs(path: str | Path) -> dict[str, dict]:
    """Run name → {run, metrics, scores (article id → metric → value), provenance}."""
    path = Path(path)
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("kind") != BASELINE_KIND:
            raise GateInputError(f"{path} is not a baseline file (kind {data.get('kind')!r})")
        _check_schema(data.get("schema_version"), path)
        return data["runs"]
    if (path / "results.json").is_file():
        dirs = [path]
    else:
        dirs = sorted((p.parent for p in path.glob("*/results.json")), key=lambda p: p.name)
    if not dirs:
        raise GateInputError(f"{path}: no run here (no results.json, no baseline file)")
    runs: dict[str, dict] = {}
    for directory in dirs:
        results = json.loads((directory / "results.json").read_text(encoding="utf-8"))
        _check_schema(results.get("schema_version"), directory)
        if results.get("status") != "completed":
            raise GateInputError(f"{directory}: run did not complete ({results.get('error')})")
        name = results["run"]["name"]
        if name in runs:
            continue  # the same run again (e.g. lead-3 under another decoding preset)
        scores = {row["article_id"]: {k: v for k, v in row["scores"].items() if isinstance(v, (int, float))}
                  for row in read_jsonl(directory / "scores.jsonl")}
        runs[name] = {"run": results["run"], "metrics": results["metrics"], "scores": scores,
                      "provenance": {"git": results["provenance"]["git"],
                                     "system_identity": results["provenance"]["system_identity"]},
                      "dir": str(directory)}
    return runs


def _check_schema(version, where) -> None:
    if version != SCHEMA_VERSION:
        raise GateInputError(f"{where}: results schema version {version!r} differs from this harness's "
                             f"{SCHEMA_VERSION!r}; rerun it or refresh the baseline")


def write_baseline(candidate: str | Path, out: str | Path) -> dict:
    runs = load_runs(candidate)
    for entry in runs.values():
        entry.pop("dir", None)
    baseline = {"schema_version": SCHEMA_VERSION, "kind": BASELINE_KIND,
                "created_at": datetime.now(timezone.utc).isoformat(), "source": str(candidate), "runs": runs}
    write_json_atomic(Path(out), baseline)
    return baseline


def pair_runs(baseline: dict, candidate: dict) -> list[tuple[str, str]]:
    """(baseline name, candidate name) pairs: same name, or the only run of each side."""
    pairs = [(name, name) for name in candidate if name in baseline]
    if not pairs and len(baseline) == 1 and len(candidate) == 1:
        pairs = [(next(iter(baseline)), next(iter(candidate)))]
    if not pairs:
        raise GateInputError(f"no candidate run matches a baseline run by name: candidate {sorted(candidate)}, "
                             f"baseline {sorted(baseline)}")
    return pairs


def compare(base: dict, cand: dict, tolerances: dict[str, float], *, confidence: float = 0.95,
            n_resamples: int = 10_000, seed: int = 0) -> list[dict]:
    """One verdict per gated metric for a baseline run and a candidate run."""
    only_base = sorted(set(base["scores"]) - set(cand["scores"]))
    only_cand = sorted(set(cand["scores"]) - set(base["scores"]))
    if only_base or only_cand:
        raise GateInputError(f"different article sets: only in baseline {only_base}, only in candidate {only_cand}")
    if base["run"]["data_sha256"] != cand["run"]["data_sha256"]:
        raise GateInputError("same article ids but different article contents (data_sha256 differs)")
    ids = sorted(base["scores"])
    verdicts = []
    for metric, tolerance in tolerances.items():
        for side, run in (("baseline", base), ("candidate", cand)):
            missing = [i for i in ids if metric not in run["scores"][i]]
            if missing:
                raise GateInputError(f"metric {metric!r} is missing from the {side}'s scores "
                                     f"(articles {missing[:5]}); add the metric to that run or drop it from the gate")
        b = [base["scores"][i][metric] for i in ids]
        c = [cand["scores"][i][metric] for i in ids]
        diff = paired_difference(c, b, confidence=confidence, n_resamples=n_resamples, seed=seed)
        verdicts.append({"metric": metric, "tolerance": tolerance, "baseline": sum(b) / len(b),
                         "candidate": sum(c) / len(c), "difference": diff.to_dict(),
                         "verdict": "fail" if diff.high < -tolerance else "pass"})
    return verdicts


def warnings_for(cand: dict) -> list[str]:
    decoding = cand["provenance"]["system_identity"].get("decoding") or {}
    if decoding.get("do_sample") and decoding.get("seed") is None:
        return [f"{cand['run']['name']}: sampled without a fixed seed; its scores are not reproducible"]
    return []


def run_gate(baseline_path, candidate_path, tolerances: dict[str, float], config: dict) -> dict:
    baseline, candidate = load_runs(baseline_path), load_runs(candidate_path)
    report = {"baseline": str(baseline_path), "candidate": str(candidate_path), "comparisons": [], "warnings": []}
    for base_name, cand_name in pair_runs(baseline, candidate):
        cand = candidate[cand_name]
        verdicts = compare(baseline[base_name], cand, tolerances, confidence=config["confidence"],
                           n_resamples=config["n_resamples"], seed=config["seed"])
        report["comparisons"].append({"baseline_run": base_name, "candidate_run": cand_name,
                                      "n_articles": len(cand["scores"]), "metrics": verdicts})
        report["warnings"] += warnings_for(cand)
    failed = [f"{c['candidate_run']}: {m['metric']}" for c in report["comparisons"] for m in c["metrics"]
              if m["verdict"] == "fail"]
    report["passed"] = not failed
    report["failed"] = failed
    return report


def render_gate(report: dict, markdown: bool) -> str:
    header = ["run", "metric", "baseline", "candidate", "difference [95% CI]", "tolerance", "verdict"]
    rows = []
    for comp in report["comparisons"]:
        for m in comp["metrics"]:
            d = m["difference"]
            run = comp["candidate_run"] if comp["candidate_run"] == comp["baseline_run"] else (
                f"{comp['candidate_run']} vs {comp['baseline_run']}")
            rows.append([run, m["metric"], f"{m['baseline']:.4f}", f"{m['candidate']:.4f}",
                         f"{d['mean']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] n={d['n']}",
                         f"{m['tolerance']:.4f}", "FAIL" if m["verdict"] == "fail" else "pass"])
    verdict = "PASSED" if report["passed"] else f"FAILED: {', '.join(report['failed'])}"
    notes = [f"warning: {w}" for w in report["warnings"]]
    if markdown:
        body = [[escape_md(cell) for cell in row] for row in rows]
        return "\n".join([f"## Quality gate: {escape_md(verdict)}", "", table(header, body), "",
                          *[f"- {escape_md(n)}" for n in notes]]) + "\n"
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    return "\n".join([*lines, "", *notes, f"gate {verdict}"]) + "\n"


def write_gate_outputs(report: dict, out_dir: Path) -> None:
    write_json_atomic(out_dir / "gate.json", report)
    write_text_atomic(out_dir / "gate.md", render_gate(report, markdown=True))

"""Runs as every comparison reads them: one `Run` per system output over a set of articles
(shards merged), grouped, labelled from their values, and the typed accessors readers use instead
of digging in ``provenance``.

Three names for a run, each for one job:
- ``key`` (identity + articles): runs with one key are one row (one system output);
- ``setup`` (``run.setup_sha256``: system name, prompt, decoding; not the weights): what was
  asked of the system; the gate pairs a candidate with the baseline run of the same setup, so a
  new model behind the same name is compared with the old one;
- ``label``: what people read; the run's name, plus the overrides that tell it apart from other
  runs of the same name (``decoding.max_new_tokens=24``), unique among the runs read together.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.results.intervals import interval_settings, is_number, metric_stats, stats_settings
from harness.results.metric_info import merged_metric_info
from harness.results.results_file import max_new_tokens_of, thresholds_of
from harness.results.schema import ResultsError
from harness.results.summaries import read_summaries
from harness.stats.bootstrap import Interval, bootstrap_mean


@dataclass
class Run:
    """One row of a comparison: one system output over a set of articles (shards merged)."""

    name: str
    key: tuple
    setup: str
    results: dict  # the first results.json of the group
    dirs: list[str] = field(default_factory=list)
    scores: dict[str, dict] = field(default_factory=dict)  # article id -> metric -> value
    articles: dict[str, str] = field(default_factory=dict)  # article id -> SHA-256 of its content
    shards: list = field(default_factory=list)
    generation: dict = field(default_factory=dict)  # counts summed over the group's directories
    label: str = ""
    summaries: dict[str, str] | None = None  # article id -> summary text (a baseline file's; see run_summaries)
    fingerprints: dict[str, str] = field(default_factory=dict)  # metric config key -> metric_fingerprint
    source: str = ""  # the path it was read from (a sweep, run directory or baseline file): its label's scope
    _intervals: dict = field(default_factory=dict, repr=False)

    @property
    def n_articles(self) -> int:
        return len(self.scores)

    @property
    def metric_info(self) -> dict[str, dict]:
        return self.results.get("metric_info", {})

    @property
    def provenance(self) -> dict:
        return self.results.get("provenance") or {}

    @property
    def overrides(self) -> list[str]:
        return list(self.provenance.get("overrides") or [])

    @property
    def system_identity(self) -> dict:
        identity = self.provenance.get("system_identity")
        return identity if isinstance(identity, dict) else {}

    @property
    def decoding(self) -> dict:
        """The decoding settings the system used ({} for a system that ignores decoding)."""
        decoding = self.system_identity.get("decoding")
        return decoding if isinstance(decoding, dict) else {}

    @property
    def max_new_tokens(self) -> int | None:
        """The decoding's token limit (``run.max_new_tokens``; for runs written before it was
        recorded, the one in the system identity); None for a system that ignores decoding."""
        recorded = (self.results.get("run") or {}).get("max_new_tokens")
        return recorded if isinstance(recorded, int) else max_new_tokens_of(self.system_identity)

    @property
    def thresholds(self) -> dict[str, dict]:
        """Metric config key -> ``{scorer, threshold, per_sentence}`` of each scorer that flags below a
        threshold (results.json ``thresholds``; for runs written before it was recorded, derived from
        what the metrics described; {} for a baseline file, which keeps neither)."""
        recorded = self.results.get("thresholds")
        if isinstance(recorded, dict):
            return recorded
        return thresholds_of(self.provenance.get("metrics") or {})

    @property
    def calibration(self) -> dict | None:
        """Which calibration set the thresholds (results.json ``calibration``), None if unrecorded."""
        record = self.results.get("calibration")
        return record if isinstance(record, dict) else None

    @property
    def cpu(self) -> str | None:
        """The CPU model the run's summaries were generated on (None where it was not recorded)."""
        machine = self.provenance.get("machine")
        return machine.get("cpu") if isinstance(machine, dict) else None

    @property
    def finished_at(self) -> str:
        return str(self.provenance.get("finished_at") or "")

    def values(self, metric: str) -> dict[str, float]:
        """Article id -> this run's score for ``metric`` (numbers only, NaN kept)."""
        return {a: float(s[metric]) for a, s in self.scores.items() if is_number(s.get(metric))}

    def mean(self, metric: str) -> float | None:
        xs = [x for x in self.values(metric).values() if math.isfinite(x)]
        return sum(xs) / len(xs) if xs else None

    @property
    def merged(self) -> bool:
        """Shards of one evaluation set read from their directories as one run: no single results.json
        holds its stats (a baseline file stores them over all the shards' articles)."""
        return len(self.dirs) > 1 and len(self.shards) > 1

    def interval(self, metric: str) -> Interval | None:
        """The run's mean and bootstrap interval of ``metric`` over its articles: the one its
        results.json stores (computed once, when the run finished), or for merged shards the same
        computation over all their articles, with the run's seed and resample count."""
        if metric not in self._intervals:
            self._intervals[metric] = self._interval(metric)
        return self._intervals[metric]

    def _interval(self, metric: str) -> Interval | None:
        xs = [x for _, x in sorted(self.values(metric).items(), key=lambda item: str(item[0])) if math.isfinite(x)]
        if not xs:
            return None
        settings = interval_settings(self.results)
        stored = (self.results.get("metric_stats") or {}).get(metric) or {}
        if not self.merged and stored.get("n") == len(xs) and stored.get("ci95"):
            low, high = stored["ci95"]
            return Interval(float(stored["mean"]), float(low), float(high), len(xs), settings["confidence"])
        return bootstrap_mean(xs, seed=settings["seed"], n_resamples=settings["n_resamples"],
                              confidence=settings["confidence"])

    def stats(self) -> dict:
        """The run's stored stats, or, for merged shards, the same over all their articles."""
        if not self.merged and self.results.get("metric_stats"):
            return self.results["metric_stats"]
        return metric_stats([{"article_id": a, "scores": s} for a, s in self.scores.items()], self.metric_info,
                            **stats_settings(self.results))

    def set_scores(self, scores: dict[str, dict], fingerprints: dict[str, str]) -> None:
        """Replace per-article scores (some metrics re-scored) and those metrics' fingerprints; the
        stored intervals no longer describe them, so they are computed again from the new scores."""
        self.scores = scores
        self.fingerprints = {**self.fingerprints, **fingerprints}
        self.results = {**self.results, "metric_stats": metric_stats(
            [{"article_id": a, "scores": s} for a, s in scores.items()], self.metric_info,
            **stats_settings(self.results))}
        self._intervals.clear()


@dataclass
class RunSet:
    runs: list[Run]
    failed: list[dict]  # {dir, name, error} of runs that did not complete

    def metric_info(self) -> dict[str, dict]:
        return merged_metric_info(self.runs)


def run_summaries(run: Run) -> dict[str, str] | None:
    """Article id -> summary text of ``run``: a baseline file's stored summaries (None when it has
    none: written before baselines kept them), else its directories' summaries.jsonl."""
    if run.summaries is not None or any(Path(d).is_file() for d in run.dirs):
        return run.summaries
    out: dict[str, str] = {}
    for directory in run.dirs:
        for article, text in read_summaries(directory).items():
            out.setdefault(article, text)
    return out


def group_key(run: dict) -> tuple:
    """Runs with equal keys are one row: the same system output on the same articles, or on
    shards of the same evaluation set."""
    shard = run.get("shard") or [0, 1]
    if shard[1] > 1:
        return run["identity_sha256"], "shards", run["data_source_sha256"]
    return run["identity_sha256"], run["data_sha256"]


def recorded_fingerprints(results: dict) -> dict[str, str]:
    """Metric config key -> the fingerprint of the scorer that wrote the run's scores (results.json
    ``scoring``; none for runs from before it was recorded)."""
    return {name: entry["fingerprint"] for name, entry in (results.get("scoring") or {}).items()
            if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)}


def check_same_scorers(run: Run, fingerprints: dict[str, str], where: str) -> None:
    """ResultsError when ``where`` holds the same run as ``run`` (one row: the same output on the
    same articles) scored by another scorer (a metric's fingerprint differs): merged, the row would
    keep whichever came first on the command line. Names both directories."""
    differ = sorted(m for m in set(run.fingerprints) & set(fingerprints) if run.fingerprints[m] != fingerprints[m])
    if differ:
        m = differ[0]
        raise ResultsError(f"{run.dirs[0] if run.dirs else run.source} and {where} hold the same run scored by "
                           f"different scorers ({', '.join(differ)}: fingerprint {run.fingerprints[m][:12]} and "
                           f"{fingerprints[m][:12]}): they are not one row, and merged the result would depend on "
                           "the order of the arguments. Compare runs scored by one scorer (rescore one of them), "
                           "or read them one at a time")


def add_directory(runs: dict, results: dict, directory: Path, scores: dict, hashes: dict, *,
                  source: str = "") -> None:
    """Add one run directory's results and scores to ``runs`` (key -> Run): a new row, or another
    shard (or copy) of a row already there."""
    key = group_key(results["run"])
    run = runs.get(key)
    if run is not None and str(directory) not in run.dirs:
        check_same_scorers(run, recorded_fingerprints(results), str(directory))
    if run is None:
        run = runs[key] = Run(name=results["run"]["name"], key=key, setup=results["run"]["setup_sha256"],
                              results=results, fingerprints=recorded_fingerprints(results), source=source)
    run.dirs.append(str(directory))
    for count in ("generated", "cached", "truncated", "empty"):
        run.generation[count] = run.generation.get(count, 0) + results["generation"].get(count, 0)
    shard = results["run"].get("shard")
    if shard not in run.shards:
        run.shards.append(shard)
    for article, values in scores.items():
        run.scores.setdefault(article, values)
        run.articles.setdefault(article, hashes[article])


# A value Hydra's sweeper printed with Python's str(): True, False, None, as the config writes them.
_PYTHON_SCALAR = re.compile(r"(^|[\[,{:]\s*)(True|False|None)(?=\s*(?:$|[\],}:]))")
_QUOTED = re.compile(r"""('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")""")


def written_override(override: str) -> str:
    """An override as the command line and the config write it: a sweep job's overrides come from
    Hydra's sweeper, which prints booleans and null with Python's ``str`` (``progress=False`` for
    ``progress=false``); those values are written back in YAML's spelling. Quoted text is kept."""
    key, sep, value = override.partition("=")
    if not sep:
        return override
    parts = _QUOTED.split(value)
    for i in range(0, len(parts), 2):  # the parts outside quotes
        parts[i] = _PYTHON_SCALAR.sub(lambda m: m[1] + {"True": "true", "False": "false", "None": "null"}[m[2]],
                                      parts[i])
    return key + sep + "".join(parts)


def assign_labels(runs: list[Run]) -> None:
    """Each run's label, from the runs of its own source (the sweep, run directory or baseline file
    it was read from) only, so that a run keeps its label when another path's runs join the
    comparison: its name, plus the overrides (as written: `written_override`) that differ between
    that source's runs of that name (sorted), plus its directory when even those do not tell them
    apart. A label another source's run already has (a real collision) gets the source's name too."""
    by_source: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        by_source.setdefault((run.source, run.name), []).append(run)
    for (_, name), group in by_source.items():
        if len(group) == 1:
            group[0].label = name
            continue
        sets = [{written_override(o) for o in r.overrides} for r in group]
        common = set.intersection(*sets)
        for run, own in zip(group, sets, strict=True):
            varying = sorted(own - common)
            run.label = f"{name} ({', '.join(varying)})" if varying else name
        labels = [r.label for r in group]
        for run in group:
            if labels.count(run.label) > 1:
                run.label = f"{run.label} [{Path(run.dirs[0]).name}]"
    taken: dict[str, str] = {}  # label -> the source whose run has it (the first source given keeps it)
    for run in runs:
        if taken.setdefault(run.label, run.source) != run.source:
            base, n = f"{run.label} [{Path(run.source).name or run.source}]", 1
            run.label = base
            while run.label in taken:
                n += 1
                run.label = f"{base} ({n})"
            taken[run.label] = run.source


def find_run(runs: list[Run], query: str) -> Run:
    """The run whose label is ``query``, else the one run whose label contains it."""
    exact = [r for r in runs if r.label == query]
    if exact:
        return exact[0]
    partial = [r for r in runs if query.lower() in r.label.lower()]
    if len(partial) == 1:
        return partial[0]
    labels = "; ".join(r.label for r in runs)
    if not partial:
        raise ResultsError(f"no run matches {query!r}; runs: {labels}")
    raise ResultsError(f"{query!r} matches {len(partial)} runs ({'; '.join(r.label for r in partial)}); "
                       "give more of the label")

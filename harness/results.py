"""The results contract: what a run writes for others to read, and the one reader of it.

Owns the schema version; reading a run directory (``results.json`` + ``scores.jsonl``), a sweep
directory (its job directories) or a baseline file; grouping the runs that are one system output
(the same identity on the same articles, e.g. lead-3 under two decoding presets it ignores) and
merging the shards of one evaluation set; labelling runs from their values; the metric
metadata (direction, display name, headline, range) the metrics recorded; and the intervals:
each run's per-metric bootstrap interval is computed once (``metric_stats``, with the run's seed
and resample count, stored in results.json and read back by ``Run.interval``) and every paired
difference between two runs by ``paired_difference``. The leaderboard, ``harness compare``,
``harness gate`` and report.html all read runs through here.

Three names for a run, each for one job:
- ``key`` (identity + articles): runs with one key are one row (one system output);
- ``setup`` (``run.setup_sha256``: system name, prompt, decoding; not the weights): what was
  asked of the system; the gate pairs a candidate with the baseline run of the same setup, so a
  new model behind the same name is compared with the old one;
- ``label``: what people read; the run's name, plus the overrides that tell it apart from other
  runs of the same name (``decoding.max_new_tokens=24``), unique among the runs read together.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.schema import DAMAGED, ResultsError, check_baseline, check_results, check_scores_row
from harness.stats.bootstrap import CONFIDENCE, N_RESAMPLES, Interval, bootstrap_mean
from harness.stats.bootstrap import paired_difference as paired_interval

SCHEMA_VERSION = "2.0"
BASELINE_KIND = "harness-baseline"


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
    def overrides(self) -> list[str]:
        return list(self.results.get("provenance", {}).get("overrides") or [])

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

    def set_scores(self, scores: dict[str, dict], fingerprints: dict[str, str]) -> None:
        """Replace per-article scores (some metrics re-scored) and those metrics' fingerprints; the
        stored intervals no longer describe them, so they are computed again from the new scores."""
        self.scores = scores
        self.fingerprints = {**self.fingerprints, **fingerprints}
        self.results = {**self.results, "metric_stats": metric_stats(
            [{"article_id": a, "scores": s} for a, s in scores.items()], self.metric_info,
            **_stats_settings(self.results))}
        self._intervals.clear()


@dataclass
class RunSet:
    runs: list[Run]
    failed: list[dict]  # {dir, name, error} of runs that did not complete

    def metric_info(self) -> dict[str, dict]:
        return merged_metric_info(self.runs)


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- intervals -----------------------------------------------------------------------------------

def interval_settings(results: dict) -> dict:
    """How a run's intervals are computed: its ``intervals`` record (results.json), else (runs from
    before it was recorded) the defaults they were computed with, seeded by the run's seed."""
    recorded = results.get("intervals") or {}
    seed = recorded.get("seed", (results.get("run") or {}).get("seed", 0))
    return {"method": "percentile bootstrap over articles", "confidence": recorded.get("confidence", CONFIDENCE),
            "n_resamples": recorded.get("n_resamples", N_RESAMPLES), "seed": seed or 0}


def _stats_settings(results: dict) -> dict:
    settings = interval_settings(results)
    return {"seed": settings["seed"], "n_resamples": settings["n_resamples"], "confidence": settings["confidence"]}


def metric_stats(rows: list[dict], metric_info: dict, *, seed: int, n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE) -> dict:
    """Mean, standard deviation, n and the bootstrap interval (``ci95``) over articles of every
    declared scalar score (``rows``: ``{"article_id", "scores"}`` per article, resampled in article-id
    order, so the same scores give the same interval whatever order they come in), in the declared
    order. The one place a run's intervals are computed; results.json stores them for every reader."""
    values: dict[str, list[float]] = {name: [] for name in metric_info}
    for row in sorted(rows, key=lambda r: str(r["article_id"])):
        for name, value in row["scores"].items():
            if name in values and is_number(value) and math.isfinite(value):
                values[name].append(float(value))
    stats = {}
    for name, xs in values.items():
        if not xs:
            continue
        mean = sum(xs) / len(xs)
        std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
        interval = bootstrap_mean(xs, seed=seed, n_resamples=n_resamples, confidence=confidence)
        stats[name] = {"mean": mean, "std": std, "n": len(xs), "ci95": [interval.low, interval.high]}
    return stats


def paired_difference(run: Run, reference: Run, metric: str, *, seed: int = 0, n_resamples: int = N_RESAMPLES,
                      confidence: float = CONFIDENCE) -> Interval | None:
    """Mean of (``run`` − ``reference``) for ``metric`` over the articles both scored with a finite
    value (in article-id order), with its paired bootstrap interval; None when they share none. The
    one place paired differences between runs are computed (``harness compare``, the gate)."""
    ours, theirs = run.values(metric), reference.values(metric)
    common = sorted(a for a in set(ours) & set(theirs) if math.isfinite(ours[a]) and math.isfinite(theirs[a]))
    if not common:
        return None
    return paired_interval([ours[a] for a in common], [theirs[a] for a in common], seed=seed,
                           n_resamples=n_resamples, confidence=confidence)


# --- reading files -------------------------------------------------------------------------------

def read_json(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    except (ValueError, RecursionError) as e:  # RecursionError: nesting deeper than Python parses
        raise ResultsError(f"{path}: not valid JSON ({e}); the file is damaged: rerun the run that wrote it") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def check_schema(data: dict, where) -> None:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(f"{where}: results schema version {version!r} differs from this harness's "
                           f"{SCHEMA_VERSION!r}; runs compare only within one schema version (rerun it, or "
                           "refresh the baseline with harness gate --update-baseline)")


def read_results(directory: Path) -> dict:
    """A run directory's results.json, checked: schema version, and its shape (harness.schema:
    for a completed run every field its readers use, typed, numbers finite)."""
    path = Path(directory) / "results.json"
    results = read_json(path)
    check_schema(results, path)
    check_results(results, path)
    return results


def read_scores(directory: Path, columns=()) -> tuple[dict[str, dict], dict[str, str]]:
    """(article id -> scores, article id -> content SHA-256) from a run directory's scores.jsonl,
    each row checked (harness.schema: the run's declared ``columns`` and every other number in it
    finite or null); an article scored twice is a damaged file."""
    path = Path(directory) / "scores.jsonl"
    out, hashes, lines_of = {}, {}, {}
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as e:
            raise ResultsError(f"{path}, line {number}: not a scores row ({type(e).__name__}: {e}); "
                               "rerun the run that wrote it") from None
        check_scores_row(row, columns, f"{path}, line {number}")
        article = row["article_id"]
        if article in lines_of:
            raise ResultsError(f"{path}, line {number}: article {article!r} is scored again (first at line "
                               f"{lines_of[article]}); {DAMAGED}")
        lines_of[article] = number
        out[article] = dict(row["scores"])
        hashes[article] = row["article_sha256"]
    return out, hashes


def read_summaries(directory: Path) -> dict[str, str]:
    """Article id -> summary text from a run directory's summaries.jsonl."""
    path = Path(directory) / "summaries.jsonl"
    return {row["article_id"]: row["text"] for row in _rows(path, ("article_id", "text"), "summaries")}


def read_references(directory: Path) -> list:
    """The articles a run scored (``Article``s) from its references.jsonl."""
    from harness.data.article import Article

    path = Path(directory) / "references.jsonl"
    rows = _rows(path, ("id", "title", "paragraphs", "bullets"), "references")
    return [Article(id=row["id"], title=row["title"], paragraphs=tuple(row["paragraphs"]),
                    bullets=tuple(row["bullets"])) for row in rows]


def read_run_config(directory: Path) -> dict:
    """The resolved config a run ran with (``config`` of its resolved_config.yaml)."""
    from omegaconf import OmegaConf

    path = Path(directory) / "resolved_config.yaml"
    try:
        data = OmegaConf.to_container(OmegaConf.load(path))
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    except Exception as e:  # YAML that does not parse: a damaged file
        raise ResultsError(f"{path}: not a resolved config ({type(e).__name__}: {e}); rerun the run that wrote it") \
            from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise ResultsError(f"{path}: no 'config' in it; rerun the run that wrote it")
    return data["config"]


def _rows(path: Path, keys: tuple[str, ...], what: str) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as e:
        raise ResultsError(f"{path}: cannot read it ({e.strerror or e})") from None
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = [k for k in keys if k not in row] if isinstance(row, dict) else list(keys)
        except (ValueError, RecursionError) as e:
            raise ResultsError(f"{path}, line {number}: not JSON ({e}); rerun the run that wrote it") from None
        if missing:
            raise ResultsError(f"{path}, line {number}: not a {what} row (no {', '.join(missing)}); "
                               "rerun the run that wrote it")
        rows.append(row)
    return rows


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


def run_dirs(path: Path) -> list[Path]:
    """``path`` itself when it is a run directory, else its job directories in job order."""
    path = Path(path)
    if (path / "results.json").is_file():
        return [path]
    if not path.is_dir():
        raise ResultsError(f"{path}: no such run directory, sweep directory or baseline file")
    found = sorted((p.parent for p in path.glob("*/results.json")), key=lambda p: _job_order(p.name))
    if not found:
        raise ResultsError(f"{path}: no run here (no results.json in it or in its subdirectories)")
    return found


def _job_order(name: str):
    return (0, int(name), "") if name.isdigit() else (1, 0, name)


# --- grouping, shards, labels --------------------------------------------------------------------

def group_key(run: dict) -> tuple:
    """Runs with equal keys are one row: the same system output on the same articles, or on
    shards of the same evaluation set."""
    shard = run.get("shard") or [0, 1]
    if shard[1] > 1:
        return run["identity_sha256"], "shards", run["data_source_sha256"]
    return run["identity_sha256"], run["data_sha256"]


def load_runs(paths, *, require_completed: bool = False) -> RunSet:
    """Every run under ``paths`` (run directories, sweep directories, baseline files), grouped
    and labelled. Failed runs are listed in ``failed`` (or an error with ``require_completed``)."""
    runs: dict[tuple, Run] = {}
    failed: list[dict] = []
    for path in map(Path, paths):
        if path.is_file():
            for run in read_baseline(path):
                kept = runs.setdefault(run.key, run)
                if kept is not run:
                    check_same_scorers(kept, run.fingerprints, str(path))
                kept.source = kept.source or str(path)
            continue
        for directory in run_dirs(path):
            results = read_results(directory)
            if results.get("status") != "completed":
                entry = {"dir": str(directory), "name": (results.get("run") or {}).get("name"),
                         "error": results.get("error") or f"status {results.get('status')!r}"}
                if require_completed:
                    raise ResultsError(f"{directory}: the run did not complete ({entry['error']})")
                failed.append(entry)
                continue
            _add(runs, results, directory, *read_scores(directory, results["metric_info"]), source=str(path))
    out = list(runs.values())
    assign_labels(out)
    return RunSet(out, failed)


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


def check_stats_match_scores(results: dict, scores: dict[str, dict], directory) -> None:
    """ResultsError when results.json's mean or n of a metric is not what the run's scores.jsonl
    gives (one of them changed after the run): a reader would rank by one and show the other.

    Args:
        results: a completed run's results.json.
        scores: article id -> scores, from its scores.jsonl.
        directory: the run directory, for the message.
    """
    if not scores:  # no rows at all: the readers' own check names a run over 0 articles
        return
    for metric, stats in (results.get("metric_stats") or {}).items():
        if not isinstance(stats, dict) or not is_number(stats.get("mean")):
            continue
        xs = [float(v[metric]) for _, v in sorted(scores.items(), key=lambda item: str(item[0]))
              if is_number(v.get(metric)) and math.isfinite(v[metric])]
        mean = sum(xs) / len(xs) if xs else math.nan
        if stats.get("n") != len(xs) or not math.isclose(mean, stats["mean"], rel_tol=1e-9, abs_tol=1e-12):
            raise ResultsError(f"{directory}: results.json gives {metric} a mean of {stats['mean']:.6g} over "
                               f"{stats.get('n')} articles, but its scores.jsonl {mean:.6g} over {len(xs)}: one "
                               "of them was changed after the run; rerun it (or restore the file)")


def _add(runs: dict, results: dict, directory: Path, scores: dict, hashes: dict, *, source: str = "") -> None:
    check_stats_match_scores(results, scores, directory)
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


# --- baselines -------------------------------------------------------------------------------------

def recorded_fingerprints(results: dict) -> dict[str, str]:
    """Metric config key -> the fingerprint of the scorer that wrote the run's scores (results.json
    ``scoring``; none for runs from before it was recorded)."""
    return {name: entry["fingerprint"] for name, entry in (results.get("scoring") or {}).items()
            if isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)}


def baseline_data(runset: RunSet, source: str, created_at: str) -> dict:
    """A baseline file's content: per run its identity, metric metadata, each metric's fingerprint,
    its intervals, and per article its summary and scalar scores (the summaries let the gate score
    the baseline again when the scorers change; the articles themselves are not kept, only their
    content hashes: the candidate's copy is checked against them)."""
    return {"schema_version": SCHEMA_VERSION, "kind": BASELINE_KIND, "created_at": created_at, "source": source,
            "runs": [{"name": r.name, "label": r.label, "results": {
                "schema_version": SCHEMA_VERSION, "status": "completed", "run": r.results["run"],
                "metric_info": r.metric_info, "intervals": interval_settings(r.results),
                "metric_stats": _baseline_stats(r),
                "provenance": {k: r.results.get("provenance", {}).get(k)
                               for k in ("git", "system_identity", "overrides")},
                **({"calibration": r.results["calibration"]} if r.results.get("calibration") else {})},
                "shards": r.shards, "articles": r.articles, "fingerprints": r.fingerprints,
                "summaries": run_summaries(r),
                "scores": scalar_scores(r.scores)}
                for r in runset.runs]}


def scalar_scores(scores: dict[str, dict]) -> dict[str, dict]:
    """Per article, only the scalar scores (what a baseline keeps)."""
    return {a: {m: v for m, v in s.items() if is_number(v)} for a, s in scores.items()}


def _baseline_stats(run: Run) -> dict:
    """The run's stored stats, or, for merged shards, the same over all their articles."""
    if not run.merged and run.results.get("metric_stats"):
        return run.results["metric_stats"]
    return metric_stats([{"article_id": a, "scores": s} for a, s in run.scores.items()], run.metric_info,
                        **_stats_settings(run.results))


def read_baseline(path: Path) -> list[Run]:
    data = read_json(path)
    if data.get("kind") != BASELINE_KIND:
        raise ResultsError(f"{path} is not a baseline file (kind {data.get('kind')!r}); give a run directory, "
                           "a sweep directory or a file written by harness gate --update-baseline")
    check_schema(data, path)
    check_baseline(data, path)
    runs = []
    for entry in data.get("runs") or []:
        results = entry["results"]
        summaries = entry.get("summaries")
        runs.append(Run(name=entry["name"], key=group_key(results["run"]), setup=results["run"]["setup_sha256"],
                        results=results, dirs=[str(path)], scores=entry["scores"], articles=entry["articles"],
                        shards=entry.get("shards", []), summaries=summaries if isinstance(summaries, dict) else None,
                        fingerprints=dict(entry.get("fingerprints") or {})))
    if not runs:
        raise ResultsError(f"{path}: the baseline holds no run")
    return runs


# --- metric metadata -------------------------------------------------------------------------------

def merged_metric_info(runs: list[Run]) -> dict[str, dict]:
    """Metric metadata over runs, in the order the runs declare them (the first run's first)."""
    info: dict[str, dict] = {}
    for run in runs:
        for name, meta in run.metric_info.items():
            info.setdefault(name, meta)
    return info


def direction(info: dict, metric: str) -> bool | None:
    """True: higher is better; False: lower is better; None: no better direction."""
    return (info.get(metric) or {}).get("higher_is_better")


def display_name(info: dict, metric: str) -> str:
    return (info.get(metric) or {}).get("display") or metric


def headline_metrics(info: dict) -> list[str]:
    return [m for m, meta in info.items() if meta.get("headline")]


def default_sort(info: dict) -> str:
    """The metric rows are ranked by when none is given: the first headline metric."""
    heads = headline_metrics(info)
    if heads:
        return heads[0]
    if info:
        return next(iter(info))
    raise ResultsError("the runs declare no metrics")


def rank_value(info: dict, metric: str, value: float | None) -> float:
    """A number that sorts ascending from best to worst (missing values last)."""
    if value is None or not math.isfinite(value):
        return math.inf
    return value if direction(info, metric) is False else -value


def arrow(info: dict, metric: str) -> str:
    return {True: "↑", False: "↓"}.get(direction(info, metric), "")

"""Hydra callback: when a multirun ends, write the sweep's leaderboard, its comparison with CIs
(compare.md/.csv/.json, as `harness compare SWEEP_DIR --out SWEEP_DIR`) and report.html."""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from harness.config_check import sweep_jobs
from harness.reports.compare import write_comparison
from harness.reports.leaderboard import write_leaderboard
from harness.results.run_dir import busy, has_results

log = logging.getLogger(__name__)


def missing_jobs(config: DictConfig, sweep_dir: Path) -> list[str]:
    """One line per job of the sweep whose directory holds no results.json the driver can read: the
    jobs as the basic sweeper expands them (`harness.config_check.sweep_jobs`), job i in subdirectory
    i (the default ``hydra.sweep.subdir``; another rule or sweeper: nothing to check by number)."""
    sweeper = str(config.hydra.sweeper.get("_target_", ""))
    if not sweeper.endswith("BasicSweeper") or config.hydra.sweep._get_node("subdir")._value() != "${hydra.job.num}":
        return []
    jobs = sweep_jobs(list(config.hydra.overrides.task))
    # A job another process is running now (a second sweep into this directory) is its, not missing.
    return [f"job {num} ({' '.join(overrides) or 'no overrides'}): no results.json in {sweep_dir / str(num)}"
            for num, overrides in enumerate(jobs)
            if not has_results(sweep_dir / str(num)) and not busy(sweep_dir / str(num))]


class LeaderboardCallback(Callback):
    def __init__(self, sort_by: str | None = None):
        self.sort_by = sort_by  # None: the first headline metric the runs declare

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        """Resolve the sweep directory and the cache here, on the driver, before any job leaves: both
        are ``${abs_path:...}`` (cached), and Hydra copies the driver's resolver cache into each job's
        config, so every worker writes to the driver's absolute paths."""
        _ = config.hydra.sweep.dir, config.get("cache_dir")

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        missing = missing_jobs(config, sweep_dir)
        if missing:  # never exit 0 with nothing to show: a CI job must fail
            raise SystemExit("\n".join([
                f"{len(missing)} job(s) of the sweep left no result in {sweep_dir}, where this driver reads "
                "(a worker that wrote under another directory? give hydra.sweep.dir and cache_dir as "
                "absolute paths on a file system every node shares):", *missing]))
        board, text = write_leaderboard(sweep_dir, self.sort_by)
        print(text)
        print(f"Leaderboard: {sweep_dir / 'leaderboard.md'}")
        if board["rows"]:
            write_comparison(sweep_dir, self.sort_by)
            print(f"Comparison with CIs: {sweep_dir / 'compare.md'}; for editors: {sweep_dir / 'report.html'}")
        if board["failed"]:
            raise SystemExit(f"{len(board['failed'])} job(s) failed; see {sweep_dir / 'leaderboard.md'}")

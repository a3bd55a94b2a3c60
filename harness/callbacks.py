"""Hydra callback: when a multirun ends, write the sweep's leaderboard, its comparison with CIs
(compare.md/.csv/.json, as `harness compare SWEEP_DIR --out SWEEP_DIR`) and report.html."""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from harness.reports.compare import write_comparison
from harness.reports.leaderboard import write_leaderboard

log = logging.getLogger(__name__)


class LeaderboardCallback(Callback):
    def __init__(self, sort_by: str | None = None):
        self.sort_by = sort_by  # None: the first headline metric the runs declare

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        board, text = write_leaderboard(sweep_dir, self.sort_by)
        print(text)
        print(f"Leaderboard: {sweep_dir / 'leaderboard.md'}")
        if board["rows"]:
            write_comparison(sweep_dir, self.sort_by)
            print(f"Comparison with CIs: {sweep_dir / 'compare.md'}; for editors: {sweep_dir / 'report.html'}")
        if board["failed"]:
            raise SystemExit(f"{len(board['failed'])} job(s) failed; see {sweep_dir / 'leaderboard.md'}")

"""Hydra callback: write the sweep's leaderboard when a multirun ends."""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from harness.reports.leaderboard import write_leaderboard

log = logging.getLogger(__name__)


class LeaderboardCallback(Callback):
    def __init__(self, sort_by: str = "rouge/rougeLsum_f"):
        self.sort_by = sort_by

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        board, text = write_leaderboard(sweep_dir, self.sort_by)
        print(text)
        print(f"Leaderboard: {sweep_dir / 'leaderboard.md'}")
        if board["failed"]:
            raise SystemExit(f"{len(board['failed'])} job(s) failed; see {sweep_dir / 'leaderboard.md'}")

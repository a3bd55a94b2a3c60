"""The Hydra app behind ``harness run``: one job per run, errors recorded in the job's results.json.

Each job catches its own error and writes ``status: failed`` so a sweep goes on and its
leaderboard lists the failure (Hydra's basic sweeper would otherwise stop at the first one).
A single run exits non-zero with the error message.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from harness.config import CONF_DIR, register_resolvers
from harness.errors import HarnessError, RunDirError
from harness.io import write_json_atomic
from harness.run import failed_results, run

log = logging.getLogger("harness")
register_resolvers()


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)
    try:
        results = run(cfg, output_dir, choices=dict(hc.runtime.choices), overrides=list(hc.overrides.task))
    except RunDirError as e:
        sys.exit(f"error: {e}")  # the directory holds a finished run: leave it untouched
    except Exception as e:
        write_json_atomic(output_dir / "results.json", failed_results(e, cfg))
        if isinstance(e, HarnessError):
            log.error("%s", e)
        else:
            log.exception("run failed")
        if hc.mode == RunMode.MULTIRUN:
            return
        sys.exit(f"error: {e}" if isinstance(e, HarnessError) else 1)
    gen = results["generation"]
    print(f"{results['run']['name']}: rougeLsum_f={results['metrics'].get('rouge/rougeLsum_f', float('nan')):.4f}"
          f"  generated={gen['generated']} cached={gen['cached']}  report: {output_dir / 'report.md'}")

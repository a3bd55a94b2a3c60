"""``python -m harness.training pairs|train ...`` (also ``harness train-checker``): build the pool
of training pairs, or train one checker on it. See harness/training/train.py and
conf/training/checker.yaml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.config import CONF_DIR

DEFAULT_CONFIG = CONF_DIR / "training" / "checker.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The steps of ``harness train-checker`` and their options, declared on ``parser`` (the one
    `harness.cli` builds)."""
    sub = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    p = sub.add_parser("pairs", help="build the pool: labelled pairs of the sets and synthetic pairs of their articles")
    p.add_argument("--data", nargs="+", required=True, help="annotated consistency files (one per set)")
    p.add_argument("--out", required=True, help="the pool's JSON Lines file (not overwritten)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-article", type=int, default=6, help="synthetic target sentences per article")
    t = sub.add_parser("train", help="train one checker on the pool")
    t.add_argument("--pool", required=True)
    t.add_argument("--out", required=True, help="directory of adapter.safetensors and card.json")
    t.add_argument("--config", default=str(DEFAULT_CONFIG), help="plain YAML settings")
    t.add_argument("--hold-out", help="the set to leave out (labels and articles)")
    t.add_argument("overrides", nargs="*", help="KEY=VALUE settings over the config's")
    e = sub.add_parser("evaluate", help="leave-one-dataset-out figures of the fold models (harness/training/lodo.py)")
    e.add_argument("--data", nargs="+", required=True, help="annotated consistency files (one per set)")
    e.add_argument("--folds-dir", required=True, help="holds fold-<set>/ (train --hold-out <set> --out ...)")
    e.add_argument("--metrics",
                   default="consistency_embedding,consistency_entity,consistency_lemmas,consistency_claims",
                   help="the current scorers (the composite's other inputs)")
    e.add_argument("--cache-dir", default="runs/.cache/meta_eval")
    e.add_argument("--train-sample", type=int, default=150, help="summaries per training set the fold model scores")
    e.add_argument("--only", help="comma-separated sets to evaluate (default: every finished fold)")
    e.add_argument("--out", required=True, help="a new directory: lodo.json and lodo.md")


def execute(options: argparse.Namespace) -> int:
    """The step `add_arguments` parsed; a ConfigError or DataError for unusable input (the CLI's one
    line, exit 2), raised before anything is written."""
    from harness.errors import DataError

    if options.step == "pairs":
        from harness.training.pairs import build_pool, write_pool

        out = Path(options.out)
        if out.exists():
            raise DataError(f"{out} exists; give a new --out")
        for path in options.data:
            if not Path(path).is_file():
                raise DataError(f"no such file: {path}")
        pool = build_pool(options.data, options.seed, options.per_article,
                          log=lambda m: print(m, file=sys.stderr, flush=True))
        write_pool(pool, out)
        print(f"{len(pool)} pairs -> {out}")
        return 0
    if options.step == "evaluate":
        from harness.io import write_json_atomic, write_text_atomic
        from harness.training import lodo

        out = Path(options.out)
        if out.exists():
            raise DataError(f"{out} exists; give a new --out")
        names = options.metrics.split(",")
        report = lodo.run(options.data, options.folds_dir, names, cache_dir=options.cache_dir,
                          train_sample=options.train_sample, only=options.only.split(",") if options.only else None,
                          log=lambda m: print(m, file=sys.stderr, flush=True))
        text = lodo.render(report["folds"], report["scorers"])
        write_json_atomic(out / "lodo.json", report)
        write_text_atomic(out / "lodo.md", text)
        print(text)
        return 0
    from harness.training.pairs import read_pool
    from harness.training.train import load_config, train

    overrides = list(options.overrides) + ([f"hold_out={options.hold_out}"] if options.hold_out else [])
    config = load_config(options.config, overrides)
    out = Path(options.out)
    if (out / "card.json").exists():
        raise DataError(f"{out} already holds a checker; give a new --out")
    if not Path(options.pool).is_file():
        raise DataError(f"no such pool file: {options.pool}")
    card = train(config, read_pool(options.pool), out, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"{out}/adapter.safetensors: {card['adapter_bytes']} bytes, sha256 {card['adapter_sha256']}, "
          f"{card['steps']} steps, {card['seconds']} s")
    return 0


if __name__ == "__main__":  # python -m harness.training: the same command, through the CLI's one error path
    from harness.cli import main

    sys.exit(main(["train-checker", *sys.argv[1:]]))

"""The ``harness`` command: ``harness run [overrides] [-m]`` and the commands later issues add."""

from __future__ import annotations

import sys

USAGE = """usage: harness COMMAND [ARGS]

commands:
  run [OVERRIDES] [-m]   generate, score and report (a Hydra app: key=value overrides;
                         -m runs the sweep set in conf/config.yaml, or the one you give)
  leaderboard SWEEP_DIR  (re)write the leaderboard of a sweep directory

examples:
  harness run                                  # the embedded default, SmolLM2-135M
  harness run -m                               # the default sweep
  harness run system=lead3 system.k=1 data.path=my_articles.jsonl
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        from harness import app

        sys.argv = ["harness run", *rest]
        app.main()
        return 0
    if command == "leaderboard" and len(rest) == 1:
        from pathlib import Path

        from harness.reports.leaderboard import write_leaderboard

        board, text = write_leaderboard(Path(rest[0]))
        print(text)
        return 1 if board["failed"] else 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

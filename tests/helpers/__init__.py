"""Helpers shared by several test modules (imported from here, never from another test module):

- `tests.helpers.cli`: the ``harness`` command in a subprocess (`harness`), in this process (`call`),
  `harness gate` in this process (`gate`), the check of its one error line (`one_line`), ``ROOT`` and ``SEED_FILE``;
- `tests.helpers.configs`: run configs composed as ``harness run`` composes them (`config`, `tiny`), and a
  conf/ copy with one metric's settings changed (`conf_copy`);
- `tests.helpers.timing`: every timeout and timing bound scaled to this machine (`scaled_timeout`);
- `tests.helpers.hostile_servers`: hostile OpenAI-compatible servers and the key-leak check;
- `tests.helpers.run_if`: ``@run_if(extra=..., chromium=..., shared_data=...)``, a test skipped (in CI,
  failed) naming what it needs where that is missing, and `require` for the same inside a test;
- `tests.helpers.review_pages`: runs and a report.html with known flags, editors' marks, and the
  ``server`` fixture (`harness review` over HTTP; conftest.py makes it every module's);
- `tests.helpers.labelled`: small labelled consistency sets with known answers (`qags_rows`, `entity_rows`);
- `tests.helpers.interrupt`: a `harness run` slowed down, to interrupt mid-generation (`SLOW`);
- `tests.helpers.clusters`: launcher skips and a two-node Ray cluster.

The tiny random models are conftest.py's session fixtures (``tiny_causal_dir``...).
"""

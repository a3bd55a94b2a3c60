"""Helpers shared by several test modules (imported from here, never from another test module):

- `tests.helpers.cli`: the ``harness`` command in a subprocess (`harness`), in this process (`call`),
  the check of its one error line (`one_line`), ``ROOT`` and ``SEED_FILE``;
- `tests.helpers.configs`: run configs composed as ``harness run`` composes them (`config`, `tiny`);
- `tests.helpers.timing`: every timeout and timing bound scaled to this machine (`scaled_timeout`);
- `tests.helpers.hostile_servers`: hostile OpenAI-compatible servers and the key-leak check.

The tiny random models are conftest.py's session fixtures (``tiny_causal_dir``...).
"""

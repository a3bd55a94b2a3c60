"""Every shipped option of every config group composed and resolved, printed as YAML, and the
embedded system's identity (what its generations are cached and fingerprinted by): run it before
and after a change to conf/ and diff the two outputs; an empty diff means no run's config, key
order (config_sha256), fingerprint or figure changed.

    python tools/compose_dump.py > before.txt   # change conf/, then
    python tools/compose_dump.py > after.txt && diff before.txt after.txt
"""

from __future__ import annotations

import json
import sys

from hydra.utils import instantiate
from omegaconf import OmegaConf

from harness.config import compose, group_options

GROUPS = (("systems", "system"), ("data", "data"), ("prompts", "prompt"), ("decoding", "decoding"),
          ("metrics", None), ("servers", "+server"), ("launchers", "+launcher"))
NEEDS_MODEL = ("system=causal_lm", "system=seq2seq")  # a mandatory system.model


def cases() -> list[list[str]]:
    """The defaults, then one override list per option of each group."""
    out: list[list[str]] = [[]]
    for kind, key in GROUPS:
        for name, _ in group_options(kind):
            out.append([f"metrics=[{name}]"] if key is None else [f"{key}={name}"])
    return out


def dump(overrides: list[str]) -> str:
    """The resolved config of ``overrides`` as YAML in its own key order (or the error, one line)."""
    extra = ["system.model=x"] if overrides and overrides[0] in NEEDS_MODEL else []
    try:
        cfg = compose([*overrides, *extra])
        text = OmegaConf.to_yaml(OmegaConf.to_container(cfg, resolve=True), sort_keys=False)
    except Exception as e:  # noqa: BLE001 - a launcher whose plugin is absent: the same line both times
        text = f"ERROR {type(e).__name__}: {e}\n"
    return f"### {' '.join(overrides) or '(defaults)'}\n{text}"


def main() -> None:
    sys.stdout.write("".join(dump(overrides) for overrides in cases()))
    cfg = compose(["system=smollm2"])
    identity = instantiate(cfg.system).identity(instantiate(cfg.prompt), instantiate(cfg.decoding))
    sys.stdout.write("### smollm2 identity\n" + json.dumps(identity, sort_keys=True, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""A run's configuration checked before anything is built, loaded or written: one line naming the
setting and its fix, never a traceback from deep inside a model load or the bootstrap.

`check_run_config` runs first in `harness.run.run`:

- a mandatory value left unset (``???``: ``system=causal_lm`` without ``system.model``) names the
  override that sets it, not OmegaConf's ``MissingMandatoryValue``;
- ``seed`` is an integer, 0 or more (it seeds the bootstrap and sampling: ``seed=abc``, ``-1`` or
  ``1.5`` used to fail after generation and scoring), ``n_resamples`` an integer from 1 to
  1,000,000 (as ``compare --n-resamples``), ``progress`` true or false;
- every ``_target_`` node (data, system, prompt, decoding, each metric, and nodes inside them, a
  coverage metric's matcher) against its target's signature (`check_targets`): a value whose
  parameter is annotated ``bool``, ``int``, ``float`` or ``str`` (or a union of these and
  ``None``) must have that type (``use_stemmer=maybe`` is refused; an int passes for a float);
  and against the ranges its target declares: a ``param_ranges`` class attribute
  (``{"max_input_tokens": (1, None)}``) or a ``config_ranges(params)`` class method, for a
  range that depends on other settings (a coverage threshold within its matcher's scores); and
  a ``param_checks`` class attribute (parameter -> a function of the value and the setting's name
  that raises ConfigError: ``system.compile`` is auto, true or false).

`check_run_overrides` runs all of this in ``harness run`` and ``harness validate`` before Hydra
starts (Hydra creates the run directory and opens its app.log first): each job's config is
composed from the command's overrides, every job of a sweep, so a bad value is one line and exit
2 with nothing written.

Parameters with other annotations (mappings, objects, ``Literal``) are left to the targets' own
checks, which run when they are built (still before any model loads: models load lazily).
"""

from __future__ import annotations

import builtins
import inspect
import types
import typing

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from harness.errors import ConfigError

MAX_RESAMPLES = 1_000_000
SECTIONS = ("data", "system", "prompt", "decoding")
# What to put where a mandatory value is missing, for the messages.
EXAMPLES = {"system.model": "a hub id, a local directory or a .gguf file, e.g. "
                            "system.model=HuggingFaceTB/SmolLM2-135M-Instruct"}
_SIMPLE = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _resolver_error(e: BaseException) -> ConfigError:
    """The ConfigError a resolver raised inside OmegaConf's error (``${calibrated:flag}`` naming a
    calibration that cannot be read), else one naming the unresolvable configuration."""
    cause = e
    while cause is not None and not isinstance(cause, ConfigError):
        cause = cause.__cause__ or cause.__context__
    return cause if cause is not None else ConfigError(f"the configuration cannot be resolved: {e}")


def check_run_config(cfg: DictConfig) -> None:
    """ConfigError (one line: the setting, what it must be, what was given) for the first problem."""
    try:  # listing unset values resolves interpolations: a resolver's own error (a bad calibration=) is one line
        missing = sorted(OmegaConf.missing_keys(cfg))
    except OmegaConfBaseException as e:
        raise _resolver_error(e) from None
    if missing:
        key = missing[0]
        example = EXAMPLES.get(key, f"{key}=VALUE")
        also = f" (also unset: {', '.join(missing[1:])})" if missing[1:] else ""
        raise ConfigError(f"{key} is not set{also}: give it on the command line, {example}")
    try:
        resolved = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as e:
        raise ConfigError(f"the configuration cannot be resolved: {e}") from None
    check_settings(resolved)
    if resolved.get("calibration") is not None:  # a calibration= no scorer reads is still checked before the run
        from harness.calibration.file import read_calibration

        read_calibration(resolved["calibration"])
    for section in SECTIONS:
        if isinstance(resolved.get(section), dict):
            check_targets(resolved[section], section)
    for name, metric in (resolved.get("metrics") or {}).items():
        if isinstance(metric, dict):
            check_targets(metric, f"metrics.{name}")


def check_settings(resolved: dict) -> None:
    """The top-level settings a run reads itself: ``seed``, ``n_resamples``, ``progress``."""
    seed = resolved.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        raise ConfigError(f"seed must be an integer, 0 or more (it seeds the bootstrap intervals and sampling), "
                          f"got {seed!r}: e.g. seed=0")
    n_resamples = resolved.get("n_resamples", 1)
    if not _is_int(n_resamples) or not 1 <= n_resamples <= MAX_RESAMPLES:
        raise ConfigError(f"n_resamples must be an integer from 1 to {MAX_RESAMPLES:,} (bootstrap resamples of each "
                          f"interval), got {n_resamples!r}: e.g. n_resamples=10000")
    progress = resolved.get("progress", True)
    if not isinstance(progress, bool):
        raise ConfigError(f"progress must be true or false, got {progress!r}")


def check_targets(node, where: str) -> None:
    """`check_params` on ``node`` when it has a ``_target_``, and on every node inside it."""
    if isinstance(node, dict):
        if isinstance(node.get("_target_"), str):
            check_params(node, where)
        for key, value in node.items():
            if not str(key).startswith("_"):
                check_targets(value, f"{where}.{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            check_targets(value, f"{where}[{n}]")


def check_params(node: dict, where: str) -> None:
    """The values of one ``_target_`` node against its target's annotations and declared ranges."""
    target = _locate(node["_target_"])
    if target is None:
        return  # Hydra names a target it cannot import when it builds the node
    hints = _hints(target)
    for key, value in node.items():
        if str(key).startswith("_") or key not in hints:
            continue
        allowed = hints[key]
        if not _fits(value, allowed):
            expected = " or ".join(_SIMPLE[t] for t in allowed if t in _SIMPLE)
            null = " (or null)" if type(None) in allowed else ""
            quote = (f" (quote a value that looks like a number: {where}.{key}='{value}')"
                     if set(allowed) - {type(None)} == {str} and isinstance(value, (int, float)) else "")
            raise ConfigError(f"{where}.{key} must be {expected}{null}, got {value!r}{quote}")
    for key, (low, high) in _ranges(target, node).items():
        value = node.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            span = (f"from {low:g} to {high:g}" if low is not None and high is not None
                    else f"{low:g} or more" if low is not None else f"{high:g} or less")
            null = " (or null)" if type(None) in hints.get(key, ()) else ""
            raise ConfigError(f"{where}.{key} must be {span}{null}, got {value!r}")
    for key, check in (getattr(target, "param_checks", None) or {}).items():
        if key in node:  # a target's own check of one value (``auto``, true or false): ConfigError
            check(node[key], f"{where}.{key}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fits(value, allowed: tuple) -> bool:
    if value is None:
        return type(None) in allowed
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int):
        return int in allowed or float in allowed
    if isinstance(value, float):
        return float in allowed
    if isinstance(value, str):
        return str in allowed
    return False  # a list or mapping where a simple value belongs


def _locate(path: str):
    from hydra.utils import get_object

    try:
        return get_object(path)
    except Exception:  # noqa: BLE001 - an unknown target: Hydra's own error when it is built
        return None


def _hints(target) -> dict[str, tuple]:
    """Parameter -> the simple types it allows, for parameters annotated with simple types only; a
    class's ``__init__`` that passes ``**kwargs`` on is read with its bases' (the first one wins)."""
    if not inspect.isclass(target):
        return _function_hints(target)[0]
    out: dict[str, tuple] = {}
    seen: set[str] = set()
    for cls in target.__mro__:
        if "__init__" not in vars(cls) or cls is object:
            continue
        hints, names, passes_on = _function_hints(vars(cls)["__init__"])
        out.update({k: v for k, v in hints.items() if k not in seen})
        seen |= names
        if not passes_on:
            break
    return out


def _function_hints(function) -> tuple[dict[str, tuple], set[str], bool]:
    """(its simple-typed parameters' types, every parameter's name, whether it takes ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}, set(), False
    module = inspect.getmodule(function)
    namespace = {**vars(builtins), **(vars(module) if module else {})}
    names = {n for n, p in parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    passes_on = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    out = {}
    for name, parameter in parameters.items():
        annotation = parameter.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # noqa: S307 - the target's own annotation
            except Exception:  # noqa: BLE001 - a name only imported for type checking: not checked
                continue
        allowed = _simple_types(annotation)
        if allowed:
            out[name] = allowed
    return out, names, passes_on


def _simple_types(annotation) -> tuple | None:
    """The types of ``bool``, ``int | None``, ``Optional[str]``...; None for any other annotation."""
    if annotation in _SIMPLE:
        return (annotation,)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = typing.get_args(annotation)
        if all(m in _SIMPLE or m is type(None) for m in members):
            return tuple(members)
    return None


def _ranges(target, node: dict) -> dict:
    ranges = dict(getattr(target, "param_ranges", None) or {})
    hook = getattr(target, "config_ranges", None)
    if callable(hook):
        try:
            ranges.update(hook(node) or {})
        except Exception:  # noqa: BLE001 - e.g. a matcher target that does not import: Hydra names it
            pass
    return ranges


def check_run_overrides(args: list[str]) -> list[DictConfig]:
    """``harness run ARGS``'s configuration, checked before Hydra starts.

    Args:
        args: the command's arguments: overrides, and ``-m``/``--multirun`` for a sweep.
    Returns:
        Each job's composed config (a sweep: every combination its basic sweeper runs, in job
        order); [] when ARGS hold another Hydra flag (``--cfg``, ``-cn``...), which Hydra handles.
    Raises:
        ConfigError: the first job whose config does not compose, or fails `check_run_config` or
            the key check, naming the job in a sweep (one line).
    """
    from harness.config import compose
    from harness.http_client import check_key_settings

    sweep = any(a in ("-m", "--multirun") for a in args)
    overrides = [a for a in args if a not in ("-m", "--multirun")]
    if any(a.startswith("-") for a in overrides):
        return []
    jobs = sweep_jobs(overrides) if sweep else [overrides]
    configs = []
    for n, job in enumerate(jobs):
        try:
            cfg = compose(job)
            check_run_config(cfg)
            check_key_settings(OmegaConf.to_container(cfg, resolve=True))
        except ConfigError as e:
            raise ConfigError(f"job {n} ({' '.join(job)}): {e}" if sweep else str(e)) from None
        configs.append(cfg)
    return configs


def widen_system_overrides(args: list[str]) -> list[str]:
    """A sweep over several systems with a setting only some of them have (``system=smollm2,lead3
    system.batch_size=8``): that override becomes ``++system.KEY=VALUE``, so Hydra adds it where a
    system's config lacks the key, and those systems ignore it with one note
    (`harness.systems.base.ignore_settings`). A key none of the swept systems has stays as given
    (Hydra names it); a single run, or a setting every system has, is unchanged.

    Args:
        args: ``harness run``'s arguments (overrides, ``-m``).
    Returns:
        The same arguments, those overrides widened.
    """
    from harness.config import compose

    if not any(a in ("-m", "--multirun") for a in args):
        return args
    overrides = [a for a in args if a not in ("-m", "--multirun")]
    settings = {a.split("=", 1)[0].split(".", 1)[1] for a in overrides
                if a.startswith("system.") and "=" in a and "." not in a.split("=", 1)[0].split(".", 1)[1]}
    if not settings or any(a.startswith("-") for a in overrides):
        return args
    bare = [a for a in overrides if a.split("=", 1)[0] not in {f"system.{k}" for k in settings}]
    systems = {next((j for j in job if j.startswith("system=")), "") for job in sweep_jobs(bare)}
    if len(systems) < 2:
        return args
    keys = {s: set(compose([s] if s else []).system) for s in systems}
    widened = {k for k in settings if any(k in have for have in keys.values()) and
               not all(k in have for have in keys.values())}
    return [f"++{a}" if a.split("=", 1)[0] in {f"system.{k}" for k in widened} else a for a in args]


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The overrides of each job ``harness run -m OVERRIDES`` runs: the config's
    ``hydra.sweeper.params`` and OVERRIDES, expanded as Hydra's basic sweeper expands them (the
    command line's value of a key replaces the config's). Another sweeper: only OVERRIDES' fixed
    values, one job."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from harness.config import compose, one_line

    try:
        parser = OverridesParser.create()
        parsed = parser.parse_overrides(overrides)
        fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
        sweeper = compose(fixed, hydra=True).hydra.sweeper
        if sweeper.get("_target_") != f"{BasicSweeper.__module__}.{BasicSweeper.__name__}":
            return [fixed]
        params = [f"{key}={value}" for key, value in (sweeper.get("params") or {}).items()]
        return BasicSweeper.split_arguments(parser.parse_overrides([*params, *overrides]), None)[0]
    except HydraException as e:
        raise ConfigError(one_line(str(e))) from None

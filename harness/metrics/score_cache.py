"""The score cache: one metric's scores of one summary, stored under a key of everything that
changes them, so a rerun (after an interruption, or with one metric added) scores only what is new.

Key: SHA-256 of the metric's *fingerprint* (``metric_fingerprint``), the summary text and the
article's content hash. The fingerprint is the metric's config name, class, ``describe()``
(model weights hash, threshold, layer...), the names of the columns it writes (a coverage
``key=`` renames them, so two keys never share an entry) and the source of every harness module
its code can run: the modules of its class and of the harness objects it holds (a coverage metric's matcher,
a composite's inputs), and every harness module those import, transitively (``import`` and
``from ... import`` statements anywhere in a module, lazy ones inside functions included), with
the ``__init__.py`` of each package on the way. The list is computed from the import graph, never
kept by hand: editing any module a scorer depends on misses the cache, editing one it does not
(a report, the CLI) keeps it. runs record each metric's fingerprint (``scoring`` in
results.json) so that the gate can tell when two runs were scored by different code.

Entries live in ``<cache_dir>/scores/<key[:2]>/<key>.json``, written atomically. An entry that
cannot be used (unreadable, cut short, another key, scores that are not an object, a declared
column holding a string or a list, a directory in its place) is moved aside to ``<key>.corrupt``
with one warning and recomputed. A cache that cannot be written stops the run with
`StorageError` (the path, the reason, ``cache_dir=``).
"""
from __future__ import annotations

import ast
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from harness.errors import CACHE_FIX
from harness.io import set_aside, write_json_atomic

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the harness package directory


def _module_file(module: str, root: Path) -> Path | None:
    """The file of harness module ``module`` under ``root`` (the harness package directory), or
    None when the name is not a module (``from harness.x import some_function``)."""
    parts = module.split(".")
    if parts[0] != "harness":
        return None
    base = root.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imported_names(path: Path, module: str) -> set[str]:
    """Every harness module name ``path`` imports, at any depth of its code (relative imports
    resolved; ``from M import N`` counts both M and M.N, since N may be a submodule)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return set(_parsed_imports(path.read_bytes(), str(path), package))


@lru_cache(maxsize=4096)
def _parsed_imports(source: bytes, filename: str, package: str) -> frozenset[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - (node.level - 1)]
                origin = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return frozenset(name for name in found if name == "harness" or name.startswith("harness."))


def import_closure(modules, root: Path | None = None) -> dict[str, Path]:
    """Module name -> file of every harness module that importing ``modules`` can execute: the
    modules, what they import, transitively, and the packages (``__init__.py``) on the way."""
    root = Path(root or PACKAGE_ROOT)
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name, root)
        if path is None:
            continue
        seen[name] = path
        parents = name.split(".")
        todo += [".".join(parents[:i]) for i in range(1, len(parents))]
        todo += sorted(_imported_names(path, name))
    return seen


def code_sha256(modules, root: Path | None = None) -> str:
    """SHA-256 of the source of ``import_closure(modules)`` (paths and bytes, in path order)."""
    root = Path(root or PACKAGE_ROOT)
    if root == PACKAGE_ROOT:
        return _code_sha256_here(tuple(sorted(set(modules))))
    return _code_sha256(modules, root)


@lru_cache(maxsize=256)
def _code_sha256_here(modules: tuple[str, ...]) -> str:  # the installed code does not change within a process
    return _code_sha256(modules, PACKAGE_ROOT)


def _code_sha256(modules, root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(import_closure(modules, root).values()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def code_modules(metric) -> set[str]:
    """The harness modules of ``metric``'s class (and its bases) and of every harness object it holds,
    at any depth (a coverage metric's matcher, a composite's input metrics): code that a config
    puts together (``_target_``) is not in any import statement."""
    modules: set[str] = set()
    seen: set[int] = set()
    todo = [metric]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            todo += list(obj.values())
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            todo += list(obj)
            continue
        harness_classes = [c for c in type(obj).__mro__ if c.__module__.split(".")[0] == "harness"]
        if not harness_classes:
            continue
        modules.update(c.__module__ for c in harness_classes)
        todo += list(getattr(obj, "__dict__", {}).values())
    return modules


def metric_fingerprint(name: str, metric, root: Path | None = None) -> str:
    """What a metric's scores depend on besides the texts: its config name, class, ``describe()``,
    the columns it writes (a coverage ``key=`` renames them: two keys never share an entry) and the
    source of its code's import closure (``root``: another copy of the harness package)."""
    payload = {"name": name, "class": f"{type(metric).__module__}.{type(metric).__qualname__}",
               "describe": metric.describe(), "columns": sorted(metric.columns()),
               "code": code_sha256(code_modules(metric), root)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def score_key(fingerprint: str, summary: str, article_hash: str) -> str:
    payload = json.dumps([fingerprint, summary, article_hash], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ScoreCache:
    def __init__(self, root: str | Path):
        self.root = Path(root) / "scores"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, columns=()) -> dict | None:
        """The cached scores under ``key``, or None (then they are computed). ``columns``: the
        metric's declared scalar keys, which a usable entry holds as numbers (or null)."""
        path = self._path(key)
        if not path.exists():
            return None
        try:
            return check_entry(json.loads(path.read_text(encoding="utf-8")), key, columns)
        except (OSError, ValueError) as e:
            set_aside(path, f"corrupt score cache entry {path} ({e})", "scoring again")
            return None

    def put(self, key: str, scores: dict) -> None:
        write_json_atomic(self._path(key), {"key": key, "scores": scores}, fix=CACHE_FIX)


def check_entry(entry, key: str, columns=()) -> dict:
    """The scores of a cache entry read back; ValueError naming the first thing wrong with it."""
    if not isinstance(entry, dict) or entry.get("key") != key:
        raise ValueError("entry does not match its key")
    scores = entry.get("scores")
    if not isinstance(scores, dict):
        raise ValueError(f"'scores' is {type(scores).__name__}, not an object")
    for name in columns:
        value = scores.get(name)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise ValueError(f"score {name!r} is {type(value).__name__} {value!r:.40}, expected a number")
    return scores

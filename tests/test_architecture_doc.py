"""docs/architecture.md names every module of the package: a new module without a line there fails."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"


def named(module: str, text: str) -> bool:
    """``harness/a/b.py`` is named when the text holds that path, or its directory (``harness/a/``)
    and its file name in backquotes (a row that lists a package's files)."""
    directory, _, name = module.rpartition("/")
    return module in text or (f"{directory}/" in text and f"`{name}`" in text)


def test_a_module_is_named_by_its_path_or_by_its_directory_and_file_name():
    assert named("harness/run.py", "| `harness/run.py` | one run |")
    assert named("harness/metrics/consistency/lemma_support.py",
                 "| `harness/metrics/consistency/` | ... `lemma_support.py` (content words) |")
    assert not named("harness/metrics/consistency/lemma_support.py", "| `harness/metrics/consistency/` | ... |")
    assert not named("harness/new.py", "| `harness/run.py` | `harness/newer.py` |")


def test_every_module_under_harness_is_named_in_the_architecture():
    text = DOC.read_text(encoding="utf-8")
    modules = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "harness").rglob("*.py"))
               if not p.name.startswith("__") and "_bundled" not in p.parts]
    assert len(modules) > 100
    missing = [m for m in modules if not named(m, text)]
    assert missing == [], f"name these in docs/architecture.md: {missing}"

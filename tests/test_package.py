"""A real package: a built wheel carries conf/ and references/ (kept at the repository's top
level) as harness/_bundled/, `harness.config.project_root` finds the checkout's own directories
or the bundled copies, and the installed wheel runs from any directory (runs/ under that one)."""

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from harness.config import BUNDLED_DIR, CHECKOUT_DIR, DATA_ROOT, project_root

from .helpers.cli import ROOT
from .helpers.timing import scaled_timeout

SOURCES = ("harness", "conf", "references", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
SKIP = ("__pycache__", "*.pyc", "*.egg-info")


def build_wheel(tmp: Path) -> Path:
    """The wheel pip builds from a copy of the checkout's sources (no build directory in the checkout)."""
    import shutil

    source = tmp / "source"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns(*SKIP))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-w", str(tmp / "dist"), str(source)], capture_output=True, text=True,
                          timeout=scaled_timeout(120))
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp / "dist").glob("harness-*.whl")
    return wheel


def test_project_root_is_the_checkout_else_the_bundled_copies(tmp_path):
    checkout, bundled = tmp_path / "checkout", tmp_path / "bundled"
    (checkout / "conf").mkdir(parents=True)
    assert project_root(checkout, bundled) == bundled  # site-packages: no checkout there
    (checkout / "conf" / "config.yaml").write_text("seed: 0\n")
    assert project_root(checkout, bundled) == bundled  # a conf/ that is not the project's checkout
    (checkout / "pyproject.toml").write_text("[project]\n")
    assert project_root(checkout, bundled) == checkout
    # This checkout (an editable install) reads its own top-level directories; nothing is bundled in it.
    assert DATA_ROOT == CHECKOUT_DIR == ROOT and not BUNDLED_DIR.exists()


def test_the_wheel_carries_conf_and_references_byte_for_byte(tmp_path):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for top in ("conf", "references"):
            files = [p for p in (ROOT / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
            assert files
            for path in files:
                inside = f"harness/_bundled/{path.relative_to(ROOT).as_posix()}"
                assert inside in names, inside
                assert z.read(inside) == path.read_bytes(), inside
        assert "harness/_bundled/conf/config.yaml" in names and "harness/_bundled/references/seed.jsonl" in names
        assert not any(n.startswith(("conf/", "references/")) for n in names)  # nothing at site-packages' top


@pytest.mark.slow
def test_the_installed_wheel_runs_lead3_from_another_directory(tmp_path):
    """The wheel in a fresh venv (no pip, no network: its dependencies are this venv's, through a
    .pth line, which loads no .pth of this venv, so not the editable checkout), run from a
    directory that is not the checkout."""
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=scaled_timeout(60))
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "harness_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           str(wheel)], capture_output=True, text=True, timeout=scaled_timeout(120))
    assert done.returncode == 0, done.stdout + done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    where = subprocess.run([str(python), "-c", "import harness.config as c; print(c.DATA_ROOT)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, timeout=scaled_timeout(60))
    assert where.stdout.strip() == str(purelib / "harness" / "_bundled"), where.stderr
    run = subprocess.run([str(venv / "bin" / "harness"), "run", "system=lead3", "metrics=[rouge]", "progress=false"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, timeout=scaled_timeout(300))
    assert run.returncode == 0, run.stderr
    (results,) = elsewhere.glob("runs/*/*/results.json")  # runs/ under the directory it ran in
    results = json.loads(results.read_text())
    assert results["status"] == "completed" and results["run"]["name"] == "lead-3"
    assert results["run"]["data"] == str(purelib / "harness" / "_bundled" / "references" / "seed.jsonl")
    assert 0 < results["metrics"]["rouge/rougeLsum_f"] < 1

"""The one build step pyproject.toml cannot say: ``conf/`` and ``references/`` stay at the
repository's top level (Hydra's config directory, the embedded reference set), and a built wheel
carries copies of both inside the package, as ``harness/_bundled/conf`` and
``harness/_bundled/references``. `harness.config.project_root` finds the checkout's own
directories in a checkout or an editable install, the bundled copies otherwise."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("conf", "references")


class BuildPyWithConfigs(build_py):
    """setuptools' build_py, then conf/ and references/ copied into the built package."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the checkout's own directories
            return
        for name in BUNDLED:
            target = Path(self.build_lib) / "harness" / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithConfigs})

"""Build step: copy the project's shapes/ and docs/queries/ into the package, so that an installed wheel
(or one built from the sdist) carries them; the top-level folders stay the one source of truth."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = {"shapes": ("shapes", "*.ttl"), "queries": ("docs/queries", "*.rq")}  # package data/NAME <- folder


class BuildWithData(build_py):
    def run(self):
        super().run()
        for name, (folder, pattern) in DATA.items():
            sources = sorted((ROOT / folder).glob(pattern))
            if not sources:
                raise SystemExit(f"setup.py: no {pattern} in {folder}/; the package would be incomplete")
            target = Path(self.build_lib) / "pipeline" / "data" / name
            target.mkdir(parents=True, exist_ok=True)
            for path in sources:
                shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": BuildWithData})

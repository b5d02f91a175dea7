"""The files the tool reads at run time: the shapes and the example queries. Installed, they are package
data (copied in by setup.py's build step); in a checkout, the project's own shapes/ and docs/queries/."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent  # the repository, when running from a checkout


def _packaged(name: str) -> Path:
    return Path(str(files("pipeline") / "data" / name))


def shapes_dir() -> Path:
    """The SHACL shapes the tool validates against by default."""
    packaged = _packaged("shapes")
    return packaged if packaged.is_dir() else CHECKOUT / "shapes"


def queries_dir() -> Path:
    """The example SPARQL queries (docs/queries/ in the repository)."""
    packaged = _packaged("queries")
    return packaged if packaged.is_dir() else CHECKOUT / "docs" / "queries"

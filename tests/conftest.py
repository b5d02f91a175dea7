"""Shared fixtures: the project's folders and one pipeline run over the bundled seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import Options, run

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHAPES = ROOT / "shapes"
BASE = "http://example.org/test/"


@pytest.fixture(scope="session")
def seeds_release(tmp_path_factory):
    """Output folder and report of one run over seeds/ (shared: runs are deterministic)."""
    out = tmp_path_factory.mktemp("release") / "out"
    report = run([SEEDS], out, options=Options(base=BASE))
    return out, report


def seed_files() -> list[Path]:
    return sorted(SEEDS.rglob("*.txt"))

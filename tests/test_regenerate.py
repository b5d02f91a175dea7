"""The committed golden files and bad fixtures are exactly what `python -m tests.regenerate` writes."""

from __future__ import annotations

from .regenerate import differences


def test_committed_expectations_equal_a_fresh_regeneration():
    assert differences() == [], "intended? run `python -m tests.regenerate golden` (or bad) and read the diff"

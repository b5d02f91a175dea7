"""The parent's conflict index (conflicts.PackedMap): dict.setdefault's answers for any keys, including keys
that share their low bits (the slot they hash to) and the growth of the table, at a fraction of a dict's memory."""

from __future__ import annotations

import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.conflicts import PackedMap

# keys from a few high parts over a few low parts: many share a slot, and the table grows several times
KEYS = st.builds(lambda high, low: high << 20 | low, st.integers(0, 2**44 - 1), st.integers(0, 40)) | \
    st.sampled_from([0, 1, 2**64 - 1, 2**63])
VALUES = st.integers(0, 2**96 - 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(KEYS, VALUES), max_size=6000))
def test_setdefault_answers_as_a_dict_does(calls):
    packed, expected = PackedMap(capacity=8), {}
    for key, value in calls:
        assert packed.setdefault(key, value) == expected.setdefault(key, value)
    assert len(packed) == len(expected)
    assert all(packed.setdefault(key, 0) == value for key, value in expected.items())


@pytest.mark.parametrize("key, value", [(-1, 0), (2**64, 0), (0, -1), (0, 2**96)])
def test_what_does_not_fit_is_refused(key, value):
    with pytest.raises(ValueError):
        PackedMap().setdefault(key, value)


def _traced(make, count: int) -> int:
    rng = random.Random(7)
    tracemalloc.start()
    try:
        table = make()
        for _ in range(count):
            table.setdefault(rng.getrandbits(64), rng.getrandbits(88))
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def test_it_holds_a_printing_in_less_than_half_what_a_dict_needs():
    """The parent keeps two of these with an entry per printing and work: ~114 bytes an entry in a dict
    (its table, plus an int object for each key and value), ~44 here at a million (slots of 21 bytes, at
    most 70 % used)."""
    count = 300_000
    packed, plain = _traced(PackedMap, count), _traced(dict, count)
    assert packed < plain / 2
    assert packed / count < 60

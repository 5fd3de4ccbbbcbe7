"""Fast paths for large inputs and outputs (issue 14) keep the answers of the careful paths they
short-cut: the same partitions read, the same problems worded, the same JSON text written."""
from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from placement.models.documents import dump_json
from placement.models.loading import PARTITION_KEYS, _plain_partition, _read_partition, _Reader

BROKERS = {1, 2, 3, 4}

_broker = st.one_of(st.sampled_from([1, 2, 3, 4, 5, -1, 0]), st.just(True), st.just(2.0), st.just("1"),
                    st.just([1]), st.just(None))
_value = st.one_of(
    st.lists(_broker, max_size=5), st.integers(-3, 6), st.just(2**31), st.floats(allow_nan=True),
    st.just(True), st.just(None), st.just("x"), st.just({"a": 1}))
_partition = st.dictionaries(st.sampled_from(sorted(PARTITION_KEYS) + ["extra"]), _value, max_size=6)


@settings(max_examples=3000, deadline=None)
@given(_partition)
def test_plainly_valid_partitions_read_as_the_careful_reader_reads_them(raw):
    """Wherever the fast reader answers, the careful one reads the same partition with no problem;
    where it declines, the careful one decides (it is the only one that words problems)."""
    reader = _Reader("cluster.yaml")
    careful = _read_partition(reader, raw, "topics[0].partitions[0]", "t", BROKERS)
    fast = _plain_partition(raw, "t", BROKERS)
    if fast is not None:
        assert careful == fast and not reader.problems
        assert type(careful.size_gib) is type(fast.size_gib)


def test_the_fast_reader_takes_the_usual_partitions():
    usual = [{"id": 0, "replicas": [1, 2, 3], "leader": 2, "isr": [2, 1]},
             {"id": 7, "replicas": [4], "sizeGiB": 1.5},
             {"id": 1, "replicas": [1, 2], "leader": -1, "isr": []}]
    for raw in usual:
        fast = _plain_partition(raw, "t", BROKERS)
        assert fast is not None
        assert fast == _read_partition(_Reader("f"), raw, "p", "t", BROKERS)
    assert _plain_partition({"id": 0, "replicas": [1, 9]}, "t", BROKERS) is None  # broker 9 undeclared
    assert _plain_partition({"id": 0, "replicas": [1, 1]}, "t", BROKERS) is None
    assert _plain_partition({"id": 0, "replicas": [1], "leader": 2}, "t", BROKERS) is None


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none(),
                                                      st.floats(allow_nan=False, allow_infinity=False)),
                                            inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=1500, deadline=None)
@given(_json)
def test_dump_json_writes_exactly_what_json_dumps_writes(data):
    assert dump_json(data) == json.dumps(data, indent=2, allow_nan=False) + "\n"


def test_dump_json_leaves_the_unusual_to_json_dumps():
    import pytest
    from placement.models.errors import InternalError

    for bad in ({"a": math.nan}, [math.inf], {"k": [1, {"x": -math.inf}]}):
        with pytest.raises(InternalError, match="not a finite number"):
            dump_json(bad)
    loop: list = []
    loop.append(loop)
    with pytest.raises(InternalError):
        dump_json(loop)

    class Count(int):
        pass

    assert dump_json({"n": Count(3), "m": [Count(4)]}) == json.dumps({"n": 3, "m": [4]}, indent=2) + "\n"

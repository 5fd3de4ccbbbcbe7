"""The line reader of plain block YAML (models/block_yaml.py) against PyYAML's full loader: where it
reads a document at all, the same value (same types, nested alike); where it does not, parse_text
still gives what the full loader gives (value or message). And it does read the files cluster
generators write (PyYAML's dump in its usual styles), so the fast path is the one taken."""
from __future__ import annotations

import random
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement.models import documents
from tests.test_fast_yaml import TRICKY, _same, _typed

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _full(text: str):
    return yaml.load(text, Loader=documents._StrictLoader)  # noqa: S506 - a safe loader subclass


def _block(text: str):
    return documents._block_yaml(text)


def _agrees(text: str) -> object:
    """The reader's value where it reads the text, equal to the full loader's (types too); None otherwise.
    Whatever it says, parse_text agrees with the full loader (value or error message)."""
    value = _block(text)
    if value is not None:
        assert _typed(value) == _typed(_full(text)), text
    _same(text)
    return value


_names = st.text(alphabet=string.ascii_letters + string.digits + "-_./+", min_size=1, max_size=12)
_scalars = st.one_of(_names, st.sampled_from(TRICKY[:-4]), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=False, allow_infinity=False, width=32), st.booleans(), st.none(),
                     st.text(alphabet=string.printable, max_size=6))
_data = st.recursive(_scalars, lambda children: st.one_of(st.lists(children, max_size=4),
                                                          st.dictionaries(_names, children, max_size=4)),
                     max_leaves=30)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_names, _data, min_size=1, max_size=5) | st.lists(_data, min_size=1, max_size=5),
       st.sampled_from([None, False]), st.sampled_from([20, 80, 200]), st.sampled_from([2, 4]), st.booleans())
def test_dumped_documents_read_as_the_full_loader_reads_them(data, flow, width, indent, start) -> None:
    text = yaml.dump(data, Dumper=_Dumper, default_flow_style=flow, width=width, indent=indent,
                     explicit_start=start, sort_keys=False)
    _agrees(text)


def _cluster_like(seed: int, width: int = 200, flow=None) -> str:
    """A small cluster file as generators write them (the clean-room one: PyYAML, flow style None)."""
    rng = random.Random(seed)
    nodes = [{"name": f"dc1-hall-{z}-r{i:02d}-{i:05d}", "zone": f"dc1-hall-{z}", "storageGiB": rng.choice([0, 6000, 1.5e3]),
              "cpu": rng.choice([16, 32.5]), "state": rng.choice(["ready", "cordoned", "failed"])}
             for i, z in enumerate("abcabcab")]
    volumes = [{"name": f"data-{i}-kafka-{i}", "sizeGiB": 1024, "usedGiB": round(rng.random() * 900, 1),
                "replicas": rng.sample([n["name"] for n in nodes], 3)} for i in range(5)]
    brokers = [{"id": i, "node": volumes[i]["replicas"][0], "volumes": [volumes[i]["name"]], "cpu": 6} for i in range(3)]
    topics = [{"name": f"orders-{t}", "minInsyncReplicas": 2,
               "partitions": [{"id": p, "replicas": rng.sample(range(3), 2), "sizeGiB": round(rng.random(), 2)}
                              for p in range(4)]} for t in range(2)]
    doc = {"name": "cluster", "policy": {"volumeReplicationFactor": 3, "zoneSpread": True, "rackAware": "preferred"},
           "nodes": nodes, "volumes": volumes, "brokers": brokers, "topics": topics}
    return "# generated\n" + yaml.dump(doc, Dumper=_Dumper, default_flow_style=flow, sort_keys=False, width=width)


@pytest.mark.parametrize("width,flow", [(200, None), (80, None), (40, None), (200, False)])
def test_cluster_files_are_read_line_by_line(width, flow) -> None:
    for seed in range(5):
        text = _cluster_like(seed, width, flow)
        assert _agrees(text) is not None, text  # the fast path is taken, and agrees


def test_the_clean_room_layout_is_read_line_by_line() -> None:
    text = ("# a comment\nname: c\npolicy: {volumeReplicationFactor: 3, zoneSpread: true}\nnodes:\n"
            "- {name: n-1, zone: z, storageGiB: 6000, cpu: 16, state: ready}\n- {name: n-2, zone: z}\n\n"
            "volumes:\n- name: v-0\n  sizeGiB: 1024\n  usedGiB: 214.3\n  replicas: [n-1, n-2]\n"
            "topics:\n- name: t\n  partitions:\n  - id: 0\n    replicas: [1, 2, 3]\n    sizeGiB: 0.68\n"
            "  - id: 1\n    replicas: [2, 3, 1]\n    isr: []\n    leader: null\n")
    value = _agrees(text)
    assert value is not None
    assert value["topics"][0]["partitions"][1] == {"id": 1, "replicas": [2, 3, 1], "isr": [], "leader": None}


@pytest.mark.parametrize("text", [
    "a: 1\n  b: 2\n", "a: x\n  y\n", "- a\n  b\n", "a:\n- 1\n- 2\nb: 3\n", "- a:\n  - 1\n- b\n", "- a:\n- b\n",
    "a: [1, 2,\n  3]\n", "a: [1, 2,\nb: 3\n", "a: [1, [2]]\n", "a: {b: [1]}\n", "a: [1,2]\n", "a: [1 ,2]\n", "a: [ ]\n",
    "a: [1, 2, ]\n", "a: [, 1]\n", "a: {b: 1, b: 2}\n", "a: {b}\n", "a: {b:1}\n", "a: {b:  1}\n", "a:  1\n",
    "a: 'x'\n", "a: 'x''y'\n", "a: \"x\"\n", "a: \"x\\ty\"\n", "'a': 1\n'a': 2\n", "a: 1 # c\n", "a: 1\n# c\nb: 2\n",
    "  a: 1\n  b: 2\n", "  a: 1\nb: 2\n", "- - 1\n", "-\n  a: 1\n", "-\n- 1\n", "- a: 1\n  b: 2\n-  c: 3\n    d: 4\n",
    "---\na: 1\n", "---\na: 1\n---\nb: 2\n", "a: 1\n...\n", "a: -\n", "-a: 1\n", "- -1\n", "a: -1\nb: +1\nc: .5\n",
    "a:\n  b:\n    c: 1\n", "a:\n\n  b: 1\n", "a: 1\r\nb: 2\r\n", "a: 1 \n", "a:\tb\n", "a: ü\n", "<<: 1\n", "a: =\n",
    "a: 0o17\nb: 012\nc: 0x1F\nd: 1_000\ne: 1e3\nf: yes\ng: ~\nh: null\ni: 2001-12-14\n", "a: 2001-02-30\n",
    "a: " + "9" * 5000 + "\n", "a: '#'\nb: ': x'\n", "a: 'b: c'\n", "- 'b: c'\n", "a: b: c\n", "? a\n: b\n",
    "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 70)), "[1, 2]\n", "{a: 1}\n", "just text\n", "a\n",
    "a: [x,\n  y]\n", "- [x,\n  y]\n- z\n", "a: [x,\n# c\n  y]\n", "a: {b: 1,\n  c: 2}\n",
])
def test_hand_written_documents(text: str) -> None:
    _agrees(text)


_EDITS = list(" :-#[]{},'\"\n?&*!|>\t") + ["  ", ": ", "- ", "\n  ", "\n- "]


def test_single_edits_of_a_cluster_file_read_as_the_full_loader_reads_them() -> None:
    """Every kind of one-character damage to a cluster file (fixed seeds): the same value or the
    same error as the full loader -- the reader never reads a damaged line its own way."""
    rng = random.Random(14)
    base = _cluster_like(1, 80)
    for _ in range(400):
        at = rng.randrange(len(base))
        edit = rng.choice(_EDITS)
        text = base[:at] + edit + base[at + rng.choice([0, 0, 1]):]
        _agrees(text)


def test_deep_block_documents_are_left_to_the_full_loader() -> None:
    """The reader answers only for documents nested well within MAX_DEPTH (parse_text then skips
    check_shape for them); a deeper one is read, and refused, the full loader's way."""
    deep = "".join("  " * i + "a:\n" for i in range(documents.MAX_DEPTH + 2)) + "  " * (documents.MAX_DEPTH + 2) + "b: 1\n"
    assert _block(deep) is None
    _same(deep)
    shallow = "".join("  " * i + "a:\n" for i in range(10)) + "  " * 10 + "b: [1]\n"
    assert _block(shallow) is not None

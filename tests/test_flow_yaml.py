"""A YAML cluster file in flow style starts with '{' like JSON (yaml.safe_dump(default_flow_style=True) writes
one); it was refused as "malformed JSON" although the contract takes YAML or JSON (an outside tester's finding)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import placement
from placement.models.errors import InputError

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


@pytest.mark.parametrize("name", ["flow.yaml", "flow"])
def test_a_flow_style_yaml_cluster_loads_like_its_block_style(tmp_path, name):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(yaml.safe_load(SEED.read_text()), default_flow_style=True, width=10**6))
    assert path.read_text().startswith("{")
    assert placement.load_cluster(path) == placement.load_cluster(SEED)


def test_broken_json_still_says_json_where_it_is_json(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"name": "seed",, }')
    with pytest.raises(InputError, match="malformed JSON"):
        placement.load_cluster(path)
    path = tmp_path / "c"
    path.write_text('{"name": "seed", "nodes": [}')
    with pytest.raises(InputError, match="malformed JSON"):
        placement.load_cluster(path)


def test_a_name_yaml_reads_as_a_date_says_so_and_how_to_quote_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(SEED.read_text().replace("name: orders", "name: 2024-01-01"))
    with pytest.raises(InputError) as caught:
        placement.load_cluster(path)
    message = caught.value.paragraph()
    assert "topics[0].name" in message and "datetime" not in message
    assert "a date, 2024-01-01" in message and "quote it" in message


def test_a_json_cluster_file_with_a_byte_order_mark_loads(tmp_path):
    """Windows editors write one; YAML files with it loaded, JSON ones said 'decode using utf-8-sig'."""
    import json

    path = tmp_path / "c.json"
    path.write_text(json.dumps(yaml.safe_load(SEED.read_text())), encoding="utf-8-sig")
    assert placement.load_cluster(path) == placement.load_cluster(SEED)


def test_merge_keys_may_be_overridden_but_a_key_written_twice_is_still_refused(tmp_path):
    """`- {<<: *n, name: node-2}` overrides the merged name, as YAML's merge key means; it was refused as a
    duplicate key."""
    path = tmp_path / "c.yaml"
    path.write_text("name: seed\nnodes:\n  - &n {name: node-1, zone: zone-a, storageGiB: 1000}\n"
                    "  - {<<: *n, name: node-2, zone: zone-b}\nvolumes: []\n")
    cluster = placement.load_cluster(path)
    assert [(n.name, n.zone, n.storage_gib) for n in cluster.nodes] == [("node-1", "zone-a", 1000), ("node-2", "zone-b", 1000)]
    path.write_text("name: seed\nnodes:\n  - &n {name: node-1, zone: zone-a, storageGiB: 1000}\n"
                    "  - {<<: *n, name: node-2, name: node-3}\nvolumes: []\n")
    with pytest.raises(InputError, match="duplicate key 'name'"):
        placement.load_cluster(path)

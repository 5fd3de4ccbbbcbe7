"""Loading the cluster file: defaults, units, YAML and JSON alike, immutability."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from placement.models.cluster import BrokerPlacement, NodeState, RackAware
from placement.models.errors import InputError
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster, parse_cluster

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


def test_defaults_of_the_contract():
    c = parse_cluster({"nodes": [{"name": "n1"}], "volumes": [], "brokers": []})
    p = c.policy
    assert (p.volume_replication_factor, p.zone_spread, p.broker_placement, p.brokers_per_node,
            p.min_insync_replicas, p.rack_aware) == (3, True, BrokerPlacement.REQUIRED, 1, 1, RackAware.PREFERRED)
    n = c.node["n1"]
    assert (n.zone, n.state, n.storage_mib, n.cpu_millicores, n.memory_mib) == ("default", NodeState.READY, 0, None, None)


def test_units_become_integers_rounded_safely():
    c = parse_cluster({"nodes": [{"name": "n1", "storageGiB": 1.5, "cpu": 0.3333}],
                       "volumes": [{"name": "v", "sizeGiB": 0.0001, "replicas": ["n1"]}],
                       "brokers": [{"id": 0, "node": "n1", "volumes": ["v"], "cpu": 0.0001}]})
    assert c.node["n1"].storage_mib == 1536 and c.node["n1"].cpu_millicores == 333  # capacity rounds down
    assert c.volume["v"].size_mib == 1 and c.volume["v"].used_mib == 1  # sizes round up; used defaults to size
    assert c.broker[0].cpu_millicores == 1
    assert c.volume["v"].replication_factor == 3  # from the policy


def test_partition_defaults():
    doc = yaml.safe_load(SEED.read_text())
    c = parse_cluster(doc)
    p = c.partition[("orders", 1)]
    assert p.leader == 1 and p.isr == (1, 2) and c.min_insync(p) == 1


def test_json_and_yaml_load_the_same(tmp_path):
    doc = yaml.safe_load(SEED.read_text())
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(doc))
    assert load_cluster(path) == load_cluster(SEED)


def test_cluster_is_immutable():
    c = load_cluster(SEED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.nodes[0].state = NodeState.FAILED  # type: ignore[misc]


def test_failures_from_file_and_options():
    doc = yaml.safe_load(SEED.read_text())
    doc["nodes"][0]["state"] = "failed"
    c = parse_cluster(doc)
    f = resolve_failures(c, ["node-2"], ["zone-c"])
    assert f.failed == ("node-1", "node-2", "node-3")


def test_storageless_node_cannot_hold_a_replica():
    with pytest.raises(InputError) as err:
        parse_cluster({"nodes": [{"name": "n1"}], "volumes": [{"name": "v", "sizeGiB": 1, "replicas": ["n1"]}]}, "f.yaml")
    assert "storageless" in str(err.value) and "volumes[0].replicas[0]" in str(err.value)


def test_volume_shared_by_two_brokers_is_refused():
    with pytest.raises(InputError) as err:
        parse_cluster({"nodes": [{"name": "n1", "storageGiB": 10}], "volumes": [{"name": "v", "sizeGiB": 1, "replicas": ["n1"]}],
                       "brokers": [{"id": 0, "node": "n1", "volumes": ["v"]}, {"id": 1, "node": "n1", "volumes": ["v"]}]})
    assert "brokers[1].volumes[0]" in str(err.value)


@pytest.mark.parametrize("name", ["node-1", "worker-0.lab.example.com", "a" * 63, ".".join(["a" * 63] * 3) + "." + "a" * 61])
def test_node_names_are_dns_subdomains(name):
    assert parse_cluster({"nodes": [{"name": name}]}).nodes[0].name == name


@pytest.mark.parametrize("name", ["node-1\n", "a" * 64, "a" * 64 + ".lab", ".".join(["a" * 63] * 4),
                                  "a..b", "a.", ".a", "-a.b", "a-.b", "Node-1", "a_b", ""])
def test_node_names_that_are_no_dns_subdomain_are_refused(name):
    """A full match: a trailing newline, a label over 63, a name over 253 or an empty label is refused."""
    with pytest.raises(InputError) as err:
        parse_cluster({"nodes": [{"name": name}]}, "f.yaml")
    assert "nodes[0].name" in str(err.value)

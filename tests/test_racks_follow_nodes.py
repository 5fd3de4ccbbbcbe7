"""A broker's rack is its node's zone: with rackAware required a displaced broker waits
for a new replica in its own zone rather than break its partitions' racks; with
preferred it serves at once (serving soon ranks above rack awareness)."""
from __future__ import annotations

import pytest

from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.solve.planner import plan_recovery


def cluster_doc(rack_aware: str) -> dict:
    zones = {"n1": "z1", "n4": "z1", "n2": "z2", "n5": "z2", "n3": "z3", "n6": "z3"}
    return {
        "name": "racks",
        "policy": {"rackAware": rack_aware, "zoneSpread": True},
        "nodes": [{"name": n, "zone": z, "storageGiB": 500} for n, z in sorted(zones.items())],
        "volumes": [
            {"name": "v0", "sizeGiB": 100, "usedGiB": 50, "replicas": ["n1", "n5", "n6"]},
            {"name": "v1", "sizeGiB": 100, "usedGiB": 50, "replicas": ["n2", "n4", "n3"]},
            {"name": "v2", "sizeGiB": 100, "usedGiB": 50, "replicas": ["n3", "n4", "n2"]},
        ],
        "brokers": [{"id": 0, "node": "n1", "volumes": ["v0"]}, {"id": 1, "node": "n2", "volumes": ["v1"]},
                    {"id": 2, "node": "n3", "volumes": ["v2"]}],
        "topics": [{"name": "t", "partitions": [{"id": 0, "replicas": [0, 1, 2]}]}],
    }


@pytest.mark.parametrize("rack_aware,expected_nodes,waits", [("required", {"n4"}, True), ("preferred", {"n5", "n6"}, False)])
def test_broker_waits_for_its_rack_only_when_required(rack_aware, expected_nodes, waits):
    cluster = parse_cluster(cluster_doc(rack_aware), "racks")
    plan = plan_recovery(cluster, resolve_failures(cluster, ["n1"]))
    assert plan.placement.brokers[0] in expected_nodes
    assert (0 in plan.metrics["brokersWaitingForResync"]) is waits
    if rack_aware == "required":
        assert plan.status.value == "optimal" and not plan.violations

"""The reasons violation messages give are computed from the facts (is there room? how many nodes may
hold it? does an in-sync source run?), never assumed; and what the start already breaks names no
shortfall that is not one. Each case is one an operator met with a misleading reason."""
from __future__ import annotations

import copy
import io
from pathlib import Path

import pytest
import yaml

import placement
from placement.models.loading import parse_cluster
from placement.rules import check_start

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def example(name: str):
    return placement.load_cluster(EXAMPLES / f"{name}.yaml")


def seed_doc() -> dict:
    return yaml.safe_load((EXAMPLES / "seed.yaml").read_text())


def messages(verdict_or_plan, invariant: str) -> list[str]:
    return [v.message for v in verdict_or_plan.violations if v.invariant == invariant]


@pytest.fixture(scope="module")
def seed_plan_document() -> dict:
    return placement.plan(example("seed"), fail=["node-2"]).to_document()


def _without_steps(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    doc["steps"] = []  # a target alone: only its invariants are judged here
    return doc


# -- I1: a volume short of replicas ----------------------------------------------------------------

def test_a_short_volume_with_room_elsewhere_says_no_replica_was_added_and_where_the_room_is(seed_plan_document):
    doc = _without_steps(seed_plan_document)
    doc["placement"]["volumes"]["pvc-kafka-1"] = ["node-3", "node-4"]  # the plan's new replica on node-5 left out
    verdict = placement.verify(example("seed"), doc)
    (message,) = messages(verdict, "I1")
    # node-1 holds pvc-kafka-0 and -2 (200 of 1000 GiB), node-5 the new pvc-kafka-0 replica and pvc-kafka-2
    assert message.startswith("volume pvc-kafka-1 keeps 2 of 3 replicas: no replica is added, though "
                              "node-1 (800 GiB free), node-5 (800 GiB free) have room for its 100 GiB")
    assert "no room" not in message


def test_a_short_volume_where_the_other_nodes_are_full_says_so():
    cluster = example("tight-capacity")
    doc = _without_steps(placement.plan(cluster, fail=["node-1"]).to_document())
    # tight-capacity's exact packing: node-2 takes both 50 GiB replicas, node-3 the 60 GiB one; without the
    # 60 GiB replica, node-2 (100 GiB, full) and node-3 (60 GiB free, it fits!) remain: take node-3's room too
    doc["placement"]["volumes"]["pvc-big"] = ["node-4"]
    verdict = placement.verify(cluster, doc)
    (message,) = messages(verdict, "I1")
    assert "no replica is added, though node-3 (60 GiB free) has room for its 60 GiB" in message
    doc["placement"]["volumes"]["pvc-mid-a"] = ["node-4", "node-3"]  # now node-3 is used: no node has 60 GiB free
    verdict = placement.verify(cluster, doc)
    short = [m for m in messages(verdict, "I1") if m.startswith("volume pvc-big")]
    assert short and "the other eligible nodes (node-2, node-3) have no room left for its 60 GiB" in short[0]


def test_too_few_storage_nodes_is_said_as_such():
    plan = placement.plan(example("impossible"), fail=["node-3"])
    assert any("only 2 ready storage nodes remain" in m for m in messages(plan, "I1"))


# -- I3: a broker that does not run ------------------------------------------------------------------

def test_a_broker_placed_nowhere_though_its_volume_nodes_have_room_does_not_run_rather_than_cannot(seed_plan_document):
    doc = _without_steps(seed_plan_document)
    doc["placement"]["brokers"]["1"] = None
    verdict = placement.verify(example("seed"), doc)
    (message,) = messages(verdict, "I3")
    # pvc-kafka-1 ends on node-3, node-4, node-5; node-3 runs broker 2 (brokersPerNode 1)
    assert message.startswith("broker 1 does not run: the target places it nowhere, though node-4, node-5 hold its "
                              "volumes and have room for it")
    assert "cannot run" not in message and "no room" not in message


def broker_1_left_without_a_node(doc, name: str) -> str:
    """The I3 message for broker 1 (its node-2 failed) when a target leaves it nowhere: its volume
    ends on node-3 and node-4, which run brokers 2 and 0."""
    doc["brokers"][0]["node"] = "node-4"
    doc["volumes"][0]["replicas"] = ["node-1", "node-4", "node-3"]
    cluster = parse_cluster(doc, name)
    target = {"brokers": {"0": "node-4", "1": None, "2": "node-3"},
              "volumes": {"pvc-kafka-0": ["node-1", "node-4", "node-3"], "pvc-kafka-1": ["node-2", "node-4", "node-3"],
                          "pvc-kafka-2": ["node-3", "node-5", "node-1"]},
              "partitions": [{"topic": "orders", "partition": i, "replicas": r, "leader": r[0]}
                             for i, r in enumerate([[0, 1], [1, 2], [2, 0]])]}
    verdict = placement.verify(cluster, {"version": 1, "cluster": "seed", "failed": ["node-2"], "placement": target})
    (message,) = messages(verdict, "I3")
    return message


def test_a_broker_whose_volume_nodes_are_full_says_which_limit():
    doc = seed_doc()
    doc["policy"]["brokersPerNode"] = 1
    # broker 1's volume ends on node-3 and node-4 only, which run brokers 2 and 0
    message = broker_1_left_without_a_node(doc, "seed-variant.yaml")
    assert message.startswith("broker 1 cannot run: the nodes holding its volumes have no room for it: "
                              "node-3 runs 1 broker (brokersPerNode 1); node-4 runs 1 broker (brokersPerNode 1)")


def test_a_broker_whose_volume_nodes_lack_cores_says_how_many_are_free():
    doc = seed_doc()
    doc["policy"]["brokersPerNode"] = 2
    for n in doc["nodes"]:
        n["cpu"] = 3  # each broker needs 2 cores: a node runs one
    message = broker_1_left_without_a_node(doc, "seed-cores.yaml")
    assert message.startswith("broker 1 cannot run: the nodes holding its volumes have no room for it: "
                              "node-3 has 1 core free, it needs 2; node-4 has 1 core free, it needs 2")


# -- I6: a partition short of replicas ---------------------------------------------------------------

UNCLEAN = {
    "name": "unclean", "policy": {"volumeReplicationFactor": 1, "zoneSpread": False},
    "nodes": [{"name": f"n{i}", "storageGiB": 500} for i in (1, 2, 3)],
    "volumes": [{"name": f"v{i}", "sizeGiB": 100, "usedGiB": 50, "replicas": [f"n{i + 1}"]} for i in range(3)],
    "brokers": [{"id": i, "node": f"n{i + 1}", "volumes": [f"v{i}"]} for i in range(3)],
    "topics": [{"name": "t", "partitions": [{"id": 0, "replicas": [0, 1], "isr": [0], "sizeGiB": 5},
                                           {"id": 1, "replicas": [1, 2], "sizeGiB": 5}]}],
}


def test_a_partition_whose_in_sync_replicas_all_stopped_says_there_is_no_source_not_too_few_brokers():
    plan = placement.plan(parse_cluster(copy.deepcopy(UNCLEAN), "unclean.yaml"), fail=["n1"])
    short = [m for m in messages(plan, "I6") if "keeps 1 of 2 replicas" in m]
    assert short == ["partition t-0 keeps 1 of 2 replicas: none of its in-sync replicas [0] runs, so there is nothing "
                     "to copy a new replica from (--allow-unclean would copy from an out-of-sync one) "
                     "(current: 1, needed: 2)"]
    assert not any("brokers run" in m for m in messages(plan, "I6"))


def test_a_partition_short_though_brokers_could_take_a_replica_names_them(seed_plan_document):
    doc = _without_steps(seed_plan_document)
    for p in doc["placement"]["partitions"]:
        if p["partition"] == 0:
            p["replicas"], p["leader"] = [0], 0
    verdict = placement.verify(example("seed"), doc)
    (message,) = [m for m in messages(verdict, "I6") if "orders-0" in m]
    assert message.startswith("partition orders-0 keeps 1 of 2 replicas: no replica is added, though brokers 1, 2 "
                              "run without one")


def test_too_few_brokers_is_said_as_such():
    doc = copy.deepcopy(UNCLEAN)
    doc["topics"][0]["partitions"] = [{"id": 0, "replicas": [0, 1, 2], "sizeGiB": 5}]
    plan = placement.plan(parse_cluster(doc, "three.yaml"), fail=["n1"])
    assert any("keeps 2 of 3 replicas: only 2 brokers run" in m for m in messages(plan, "I6"))


# -- check's advice ------------------------------------------------------------------------------------

def _check_text(cluster, failures: int) -> str:
    from placement.render.tables import console, render_check

    out = io.StringIO()
    render_check(console(out), cluster, placement.check(cluster, failures))
    return out.getvalue()


def test_check_does_not_advise_replication_factor_3_for_a_volume_that_has_it():
    text = _check_text(example("seed"), 3)
    assert "volume pvc-kafka-0 loses every replica" in text
    assert "replicationFactor 3 instead" not in text
    assert "fix (I7): pvc-kafka-0 already has replicationFactor 3, the most Portworx allows" in text


def test_check_advises_replication_factor_3_for_a_volume_below_it():
    text = _check_text(example("fragile"), 2)
    assert "fix (I7): give pvc-kafka-0 more replicas (replicationFactor 3 instead of 2)" in text


# -- what the start already breaks --------------------------------------------------------------------

def test_a_stale_replica_beside_enough_in_sync_ones_is_no_shortfall_at_the_start():
    doc = seed_doc()
    doc["volumes"][0]["replicas"] = ["node-1", "node-2", "node-3", "node-4"]
    doc["volumes"][0]["stale"] = {"node-4": 5}
    found = check_start(parse_cluster(doc, "stale.yaml"))
    about = [v for v in found if v.subject == "volume pvc-kafka-0"]
    assert [v.message for v in about] == ["volume pvc-kafka-0 has 4 replicas, more than its replication factor "
                                          "(current: 4, needed: 3)"]
    assert all(v.current is None or v.needed is None or v.current != v.needed for v in found)


def test_a_stale_replica_the_volume_needs_is_a_shortfall_at_the_start():
    doc = seed_doc()
    doc["volumes"][0]["stale"] = {"node-2": 6}
    found = [v for v in check_start(parse_cluster(doc, "return.yaml")) if v.subject == "volume pvc-kafka-0"]
    assert [(v.current, v.needed) for v in found] == [(2, 3)]
    assert "stale on node-2 (6 GiB behind)" in found[0].message

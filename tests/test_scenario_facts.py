"""The operation (``Failures``, ``resolve_failures``) and the replica facts every rule and
solver reads (SEMANTICS.md sections 1 and 2), each fact on a small fixture."""
from __future__ import annotations

import math

import pytest
import yaml

from placement.models.errors import InputError
from placement.models.failures import Failures, resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import Placement
from placement.rules import check_all
from placement.scenario import Scenario
from tests.faces import verdicts

SEED_FILE = "examples/seed.yaml"


def seed_doc() -> dict:
    with open(SEED_FILE) as f:
        return yaml.safe_load(f)


def cluster_of(doc: dict):
    return parse_cluster(doc, "fixture")


def returned_doc() -> dict:
    """The seed after node-2 failed and Portworx waited: node-2 back, its replicas stale."""
    doc = seed_doc()
    doc["volumes"][0]["stale"] = {"node-2": 6}
    doc["volumes"][1]["stale"] = {"node-2": 4.5}
    doc["brokers"][1]["node"] = "node-4"
    return doc


# -- Failures and resolve_failures ---------------------------------------------------------

def test_failures_keep_their_old_shape():
    f = Failures(frozenset({"node-2"}))
    assert f.drained == frozenset() and f.max_used_percent is None and f.min_replicas is None and not f.planned
    assert f.failed == ("node-2",)


def test_resolve_failures_takes_the_planned_operations():
    cluster = cluster_of(seed_doc())
    f = resolve_failures(cluster, drain=["node-4"], max_used_percent=70, min_replicas=2)
    assert f.drained == {"node-4"} and f.max_used_percent == 70.0 and f.min_replicas == 2 and f.planned
    assert resolve_failures(cluster, max_used_percent=100).max_used_percent == 100.0


@pytest.mark.parametrize("kwargs,fragment", [
    (dict(drain=["node-9"]), "--drain: 'node-9' is not a node"),
    (dict(drain=["node-2"], fail=["node-2"]), "is also named as failed"),
    (dict(max_used_percent=0), "--max-used: is 0"),
    (dict(max_used_percent=100.5), "at most 100"),
    (dict(max_used_percent=math.nan), "--max-used"),
    (dict(max_used_percent=True), "--max-used"),
    (dict(min_replicas=0), "--min-replicas: is 0"),
    (dict(min_replicas=4), "in 1..3"),
    (dict(min_replicas=True), "--min-replicas"),
])
def test_resolve_failures_refuses_bad_operations(kwargs, fragment):
    cluster = cluster_of(seed_doc())
    with pytest.raises(InputError) as err:
        resolve_failures(cluster, **kwargs)
    assert fragment in err.value.paragraph()


def test_a_node_failed_in_the_file_cannot_be_drained():
    doc = seed_doc()
    doc["nodes"][1]["state"] = "failed"
    with pytest.raises(InputError, match="failed in the cluster file"):
        resolve_failures(cluster_of(doc), drain=["node-2"])


# -- replica facts -------------------------------------------------------------------------

def test_survivors_exclude_stale_replicas_and_failed_nodes():
    cluster = cluster_of(returned_doc())
    sc = Scenario(cluster, resolve_failures(cluster))
    assert sc.survivors("pvc-kafka-0") == ("node-1", "node-3")
    assert sc.stale_replicas("pvc-kafka-0") == {"node-2": 6 * 1024}
    assert sc.stale_replicas("pvc-kafka-2") == {}
    failed = Scenario(cluster, resolve_failures(cluster, ["node-2", "node-1"]))
    assert failed.survivors("pvc-kafka-0") == ("node-3",)
    assert failed.stale_replicas("pvc-kafka-0") == {}  # a stale replica on a failed node is simply gone


def test_a_volume_whose_only_live_replicas_are_stale_has_lost_its_data():
    doc = returned_doc()
    doc["volumes"][0]["stale"] = {"node-2": 6, "node-3": 1}
    cluster = cluster_of(doc)
    sc = Scenario(cluster, resolve_failures(cluster, ["node-1"]))
    assert not sc.has_data("pvc-kafka-0")
    assert [v.name for v in sc.lost_volumes] == ["pvc-kafka-0"]
    lost = [v for v in check_all(sc, Placement.current(cluster)) if v.invariant == "I7" and v.subject == "volume pvc-kafka-0"]
    assert lost and "stale" in lost[0].message and "node-2, node-3" in lost[0].message


def test_copy_cost_of_survivor_stale_and_new_replicas():
    cluster = cluster_of(returned_doc())
    sc = Scenario(cluster, resolve_failures(cluster))
    assert sc.copy_cost_mib("pvc-kafka-0", "node-1") == 0
    assert sc.copy_cost_mib("pvc-kafka-0", "node-2") == 6 * 1024
    assert sc.copy_cost_mib("pvc-kafka-0", "node-5") == 40 * 1024  # usedGiB


def test_may_hold_replica():
    doc = returned_doc()
    doc["nodes"][1]["state"] = "cordoned"  # node-2 back but cordoned: keeps (and may resync) what it has
    doc["nodes"].append({"name": "node-6", "zone": "zone-c", "storageGiB": 0})
    cluster = cluster_of(doc)
    v0, v2 = cluster.volume["pvc-kafka-0"], cluster.volume["pvc-kafka-2"]
    sc = Scenario(cluster, resolve_failures(cluster, ["node-3"], drain=["node-4"]))
    assert sc.may_hold_replica(v0, "node-2")  # cordoned, holds a stale replica of it
    assert not sc.may_hold_replica(v2, "node-2")  # cordoned, holds none of it
    assert not sc.may_hold_replica(v0, "node-3")  # failed
    assert not sc.may_hold_replica(v0, "node-4")  # drained
    assert not sc.may_hold_replica(v0, "node-6")  # storageless
    assert sc.may_hold_replica(v0, "node-5")
    assert sc.survivors("pvc-kafka-1") == ("node-4",)  # a replica on a drained node still survives (a source)


def test_may_host_broker():
    doc = seed_doc()
    doc["nodes"][0]["state"] = "cordoned"
    cluster = cluster_of(doc)
    sc = Scenario(cluster, resolve_failures(cluster, drain=["node-3"]))
    b0, b1, b2 = (cluster.broker[i] for i in range(3))
    assert sc.may_host_broker(b0, "node-1")  # cordoned, where it runs
    assert not sc.may_host_broker(b1, "node-1")  # cordoned, someone else's node
    assert not sc.may_host_broker(b2, "node-3")  # drained, even where it runs
    assert sc.may_host_broker(b2, "node-5")


def test_storage_limit_and_zones_with_ready_storage():
    cluster = cluster_of(seed_doc())
    plain = Scenario(cluster, resolve_failures(cluster))
    assert plain.storage_limit_mib("node-1") == 1000 * 1024
    rebalance = Scenario(cluster, resolve_failures(cluster, max_used_percent=33.3))
    assert rebalance.storage_limit_mib("node-1") == math.floor(1000 * 1024 * 333 / 1000)
    drained = Scenario(cluster, resolve_failures(cluster, drain=["node-3"]))
    assert drained.zones_with_ready_storage == ("zone-a", "zone-b")  # zone-c's only node is drained
    assert plain.zones_with_ready_storage == ("zone-a", "zone-b", "zone-c")


def test_min_replicas():
    doc = seed_doc()
    doc["volumes"][2]["replicationFactor"] = 1
    doc["volumes"][2]["replicas"] = ["node-3"]
    cluster = cluster_of(doc)
    v0, v2 = cluster.volume["pvc-kafka-0"], cluster.volume["pvc-kafka-2"]
    recovery = Scenario(cluster, resolve_failures(cluster, ["node-2"]))
    assert recovery.min_replicas(v0) == 1
    drain = Scenario(cluster, resolve_failures(cluster, drain=["node-2"]))
    assert drain.min_replicas(v0) == 2 and drain.min_replicas(v2) == 1
    rebalance = Scenario(cluster, resolve_failures(cluster, max_used_percent=90))
    assert rebalance.min_replicas(v0) == 2
    given = Scenario(cluster, resolve_failures(cluster, drain=["node-2"], min_replicas=1))
    assert given.min_replicas(v0) == 1


# -- what the plan decides -----------------------------------------------------------------

def test_touched_by_stale_replicas():
    cluster = cluster_of(returned_doc())
    sc = Scenario(cluster, resolve_failures(cluster))
    assert sc.touched_volumes == ("pvc-kafka-0", "pvc-kafka-1")
    assert sc.touched_brokers == ()  # brokers stay where they run


def test_touched_by_a_drain():
    cluster = cluster_of(seed_doc())
    sc = Scenario(cluster, resolve_failures(cluster, drain=["node-4"]))
    assert sc.touched_volumes == ("pvc-kafka-1",) and sc.touched_brokers == ()
    sc = Scenario(cluster, resolve_failures(cluster, drain=["node-1"]))
    assert sc.touched_brokers == (0,)
    assert sc.touched_volumes == ("pvc-kafka-0", "pvc-kafka-2")


def test_touched_by_a_storage_limit():
    doc = seed_doc()
    doc["volumes"][2]["replicas"] = ["node-3", "node-5", "node-4"]
    cluster = cluster_of(doc)  # node-3 holds 300 GiB, node-4 200, node-1 100
    sc = Scenario(cluster, resolve_failures(cluster, max_used_percent=25))
    assert sc.over_limit_nodes == ("node-3",)
    assert sc.touched_volumes == ("pvc-kafka-0", "pvc-kafka-1", "pvc-kafka-2")
    assert Scenario(cluster, resolve_failures(cluster, max_used_percent=30)).touched_volumes == ()


def test_touched_by_an_imperfect_start():
    doc = seed_doc()
    doc["nodes"][3]["storageGiB"] = 50  # node-4 already holds 100 GiB
    doc["volumes"][2]["replicas"] = ["node-3", "node-5", "node-1", "node-2"]  # four listed replicas
    doc["brokers"][2]["node"] = "node-2"  # broker 2 on a node without its volume's replica... now with one
    doc["brokers"][1]["node"] = "node-5"  # broker 1 on a node without its volume's replica
    cluster = cluster_of(doc)
    sc = Scenario(cluster, resolve_failures(cluster))
    assert sc.touched_volumes == ("pvc-kafka-1", "pvc-kafka-2")
    assert sc.touched_brokers == (1,)


# -- the rules read them -------------------------------------------------------------------

def test_capacity_under_max_used_names_it():
    cluster = cluster_of(seed_doc())
    sc = Scenario(cluster, resolve_failures(cluster, max_used_percent=25))
    broken = [v for v in check_all(sc, Placement.current(cluster)) if v.invariant == "I5"]
    assert [v.subject for v in broken] == ["node node-3"]
    assert "--max-used 25%" in broken[0].message and broken[0].needed == "<= 250"


def test_drained_node_may_keep_nothing():
    cluster = cluster_of(seed_doc())
    sc = Scenario(cluster, resolve_failures(cluster, drain=["node-4"]))
    broken = [v for v in check_all(sc, Placement.current(cluster)) if v.invariant == "I1"]
    assert len(broken) == 1 and "is drained" in broken[0].message


def test_stale_and_drain_faces_agree():
    """The plain checks, CP-SAT and Z3 agree on targets touching stale, drained and limited nodes."""
    cluster = cluster_of(returned_doc())
    for failures in (resolve_failures(cluster), resolve_failures(cluster, drain=["node-4"]),
                     resolve_failures(cluster, max_used_percent=25)):
        sc = Scenario(cluster, failures)
        for target in (Placement.current(cluster),):
            for rule, (check, cp, z3) in verdicts(sc, target).items():
                assert check == cp == z3, (rule, failures)


def test_rack_required_with_a_zone_of_cordoned_storage_agrees():
    """Issue 9: a zone whose storage nodes are all cordoned: brokers kept there still sit in their
    rack; the checks and both encodings count it alike."""
    doc = seed_doc()
    doc["policy"]["rackAware"] = "required"
    doc["nodes"][2]["state"] = "cordoned"  # node-3, zone-c's only node, runs broker 2
    cluster = cluster_of(doc)
    sc = Scenario(cluster, resolve_failures(cluster, ["node-2"]))
    for rule, (check, cp, z3) in verdicts(sc, Placement.current(cluster)).items():
        assert check == cp == z3, rule
    from placement.solve.planner import plan_recovery

    plan = plan_recovery(cluster, sc.failures)
    assert plan.status.value == "optimal", [str(v) for v in plan.violations]


def test_a_broker_without_volumes_on_a_failed_node_runs_elsewhere():
    """Issue 9: a broker with no volumes is not stuck with its failed node."""
    doc = seed_doc()
    doc["brokers"].append({"id": 3, "node": "node-4", "volumes": []})
    doc["topics"][0]["partitions"].append({"id": 3, "replicas": [3, 0], "sizeGiB": 1})
    cluster = cluster_of(doc)
    sc = Scenario(cluster, resolve_failures(cluster, ["node-4"]))
    assert not sc.lost_a_volume(cluster.broker[3])
    from placement.solve.planner import plan_recovery

    plan = plan_recovery(cluster, sc.failures)
    assert plan.placement.brokers[3] == "node-5" and plan.status.value == "optimal"

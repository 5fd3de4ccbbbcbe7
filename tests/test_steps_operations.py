"""Steps for node return, drain and rebalance (SEMANTICS 5): built in the order the semantics
asks, proven safe by the model checker, and agreeing with the plain semantics explored
over every configuration. Targets are given by hand here, so the steps are judged on
their own, whatever the planner chooses."""
from __future__ import annotations

import random

import pytest

from placement.execute.checker import check_execution, check_execution_exhaustively
from placement.execute.steps import build_steps
from placement.execute.timeline import simulate
from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import Placement
from placement.scenario import Scenario


def _cluster(volumes, brokers=(), rf=3, nodes=6, storage=1000, **policy):
    return parse_cluster({
        "name": "ops",
        "policy": {"volumeReplicationFactor": rf, "zoneSpread": False, **policy},
        "nodes": [{"name": f"n{i}", "storageGiB": storage} for i in range(1, nodes + 1)],
        "volumes": volumes,
        "brokers": list(brokers),
    }, "ops")


def _steps_to(scenario: Scenario, volumes: dict, brokers: dict | None = None):
    current = Placement.current(scenario.cluster)
    target = Placement({**current.brokers, **(brokers or {})},
                       {**current.volumes, **{v: tuple(n) for v, n in volumes.items()}}, current.partitions)
    steps = build_steps(scenario, target)
    return target, steps


def _actions(steps):
    return [(s.action, s.args.get("volume") or s.args.get("broker"), s.args.get("node") or s.args.get("to")) for s in steps]


def _safe(scenario, steps, target):
    verdict = check_execution(scenario, steps, target)
    assert verdict.safe, [c.message for c in verdict.counterexamples] + list(verdict.undecided)
    if len(steps) <= 8:
        assert check_execution_exhaustively(scenario, steps).safe


def _waits(steps, later, earlier) -> bool:
    by_id = {s.id: s for s in steps}
    seen, stack = set(), [later.id]
    while stack:
        for a in by_id[stack.pop()].after:
            if a == earlier.id:
                return True
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return False


def _find(steps, action, **args):
    return next(s for s in steps if s.action == action and all(s.args.get(k) == v for k, v in args.items()))


# -- a node back from a failure ------------------------------------------------------------------

def test_a_returning_stale_replica_is_resynced_by_portworx_and_waited_for():
    cluster = _cluster([{"name": "v", "sizeGiB": 100, "replicas": ["n1", "n2", "n3"], "stale": {"n1": 5}}])
    scenario = Scenario(cluster, resolve_failures(cluster))
    target, steps = _steps_to(scenario, {"v": ["n1", "n2", "n3"]})
    assert _actions(steps) == [("resync-volume-replica", "v", "n1")]
    _safe(scenario, steps, target)
    timeline = simulate(scenario, target, steps)
    assert timeline.full_redundancy == pytest.approx(5 * 1024 / cluster.policy.node_bandwidth_mib_s)


def test_a_stale_replica_not_kept_is_dropped_before_the_new_one_at_rf_3():
    cluster = _cluster([{"name": "v", "sizeGiB": 100, "replicas": ["n1", "n2", "n3"], "stale": {"n1": 90}}])
    scenario = Scenario(cluster, resolve_failures(cluster))
    target, steps = _steps_to(scenario, {"v": ["n4", "n2", "n3"]})
    assert _actions(steps) == [("drop-volume-replica", "v", "n1"), ("add-volume-replica", "v", "n4")]
    assert _waits(steps, steps[1], steps[0])
    _safe(scenario, steps, target)


def test_surplus_replicas_are_dropped_once_the_stale_one_is_back_in_sync():
    cluster = _cluster([{"name": "v", "sizeGiB": 100, "replicas": ["n1", "n2", "n3", "n4"], "stale": {"n1": 5}}])
    scenario = Scenario(cluster, resolve_failures(cluster))
    target, steps = _steps_to(scenario, {"v": ["n1", "n2", "n3"]})
    resync = _find(steps, "resync-volume-replica", node="n1")
    drop = _find(steps, "drop-volume-replica", node="n4")
    assert _waits(steps, drop, resync)
    _safe(scenario, steps, target)


def test_a_stale_surplus_replica_is_dropped_with_nothing_to_wait_for():
    cluster = _cluster([{"name": "v", "sizeGiB": 100, "replicas": ["n1", "n2", "n3", "n4"], "stale": {"n1": 50}}])
    scenario = Scenario(cluster, resolve_failures(cluster))
    target, steps = _steps_to(scenario, {"v": ["n2", "n3", "n4"]})
    assert _actions(steps) == [("drop-volume-replica", "v", "n1")]
    _safe(scenario, steps, target)


# -- a drain ---------------------------------------------------------------------------------

def _drain(rf: int, replicas, broker_to: str, min_replicas=None):
    cluster = _cluster([{"name": "v", "sizeGiB": 100, "replicationFactor": rf, "replicas": replicas}],
                       brokers=[{"id": 0, "node": "n1", "volumes": ["v"]}])
    scenario = Scenario(cluster, resolve_failures(cluster, drain=["n1"], min_replicas=min_replicas))
    return scenario


def test_a_drain_at_rf_3_cordons_moves_the_broker_to_its_data_then_drops_before_adding():
    scenario = _drain(3, ["n1", "n2", "n3"], "n2")
    target, steps = _steps_to(scenario, {"v": ["n2", "n3", "n4"]}, {0: "n2"})
    cordon = _find(steps, "cordon-node", node="n1")
    move = _find(steps, "move-broker", broker=0)
    drop = _find(steps, "drop-volume-replica", node="n1")
    add = _find(steps, "add-volume-replica", node="n4")
    assert steps[0] == cordon and _waits(steps, move, cordon)
    assert _waits(steps, drop, move), "the replica under the running broker goes only once it has moved"
    assert _waits(steps, add, drop), "at RF 3 Portworx holds 3: drop first"
    assert not any(s.action == "fence-node" for s in steps)
    _safe(scenario, steps, target)


def test_a_drain_below_rf_3_adds_the_new_replica_first():
    scenario = _drain(2, ["n1", "n2"], "n2")
    target, steps = _steps_to(scenario, {"v": ["n2", "n4"]}, {0: "n2"})
    add = _find(steps, "add-volume-replica", node="n4")
    drop = _find(steps, "drop-volume-replica", node="n1")
    assert _waits(steps, drop, add) and _waits(steps, drop, _find(steps, "move-broker", broker=0))
    _safe(scenario, steps, target)


def test_a_drain_moving_a_broker_onto_a_new_replica_at_rf_3_cannot_be_done_safely_and_is_said_so():
    """Portworx holds 3, so the old replica must go before the new one comes; but the broker
    runs on the old one until it can move, and it may move only onto an in-sync one."""
    scenario = _drain(3, ["n1", "n2", "n3"], "n4")
    target, steps = _steps_to(scenario, {"v": ["n2", "n3", "n4"]}, {0: "n4"})
    verdict = check_execution(scenario, steps, target)
    assert not verdict.safe
    assert any("still runs there" in c.message or "holds no replica" in c.message for c in verdict.counterexamples)


def test_min_replicas_3_makes_a_drain_at_rf_3_unsafe():
    scenario = _drain(3, ["n1", "n2", "n3"], "n2", min_replicas=3)
    target, steps = _steps_to(scenario, {"v": ["n2", "n3", "n4"]}, {0: "n2"})
    verdict = check_execution(scenario, steps, target)
    assert any("fewer than 3" in c.message for c in verdict.counterexamples)


def test_a_move_off_a_drained_node_must_wait_for_its_cordon():
    from dataclasses import replace

    scenario = _drain(3, ["n1", "n2", "n3"], "n2")
    target, steps = _steps_to(scenario, {"v": ["n2", "n3", "n4"]}, {0: "n2"})
    unwaited = tuple(replace(s, after=()) if s.action == "move-broker" else s for s in steps)
    verdict = check_execution(scenario, unwaited, target)
    assert any("before it is cordoned" in c.message for c in verdict.counterexamples)


# -- a rebalance -------------------------------------------------------------------------------

def test_a_rebalance_moves_a_replica_off_a_full_node_drop_first_at_rf_3():
    cluster = _cluster([{"name": "v", "sizeGiB": 100, "replicas": ["n1", "n2", "n3"]},
                        {"name": "w", "sizeGiB": 100, "replicas": ["n1", "n4", "n5"]}], storage=200)
    scenario = Scenario(cluster, resolve_failures(cluster, max_used_percent=60))
    target, steps = _steps_to(scenario, {"v": ["n6", "n2", "n3"]})
    assert _actions(steps) == [("drop-volume-replica", "v", "n1"), ("add-volume-replica", "v", "n6")]
    _safe(scenario, steps, target)


def test_a_swap_between_two_full_nodes_waits_for_room():
    cluster = _cluster([{"name": "v", "sizeGiB": 100, "replicationFactor": 2, "replicas": ["n1", "n2"]},
                        {"name": "w", "sizeGiB": 100, "replicationFactor": 2, "replicas": ["n3", "n4"]}],
                       rf=2, storage=100, nodes=5)
    scenario = Scenario(cluster, resolve_failures(cluster, max_used_percent=100))
    target, steps = _steps_to(scenario, {"v": ["n3", "n2"], "w": ["n5", "n4"]})
    _safe(scenario, steps, target)


# -- random operations: the steps are always possible, and judged alike ----------------------------

def _random_operation(seed: int):
    rng = random.Random(seed)
    n = rng.randint(4, 6)
    nodes = [f"n{i}" for i in range(1, n + 1)]
    volumes = []
    for i in range(rng.randint(1, 3)):
        rf = rng.choice([1, 2, 3])
        listed = rng.sample(nodes, min(n, rf + rng.choice([0, 0, 1])))
        doc = {"name": f"v{i}", "sizeGiB": rng.choice([50, 100]), "usedGiB": 30, "replicationFactor": rf,
               "replicas": listed}
        stale = [x for x in listed[1:] if rng.random() < 0.4]
        if stale:
            doc["stale"] = {x: rng.choice([1, 10]) for x in stale}
        volumes.append(doc)
    brokers = []
    for i, v in enumerate(volumes):
        in_sync = [x for x in v["replicas"] if x not in v.get("stale", {})]
        host = rng.choice(in_sync)
        if all(b["node"] != host for b in brokers):
            brokers.append({"id": i, "node": host, "volumes": [v["name"]]})
    cluster = _cluster(volumes, brokers, nodes=n, storage=rng.choice([250, 1000]))
    drain = [rng.choice(nodes)] if rng.random() < 0.5 else []
    scenario = Scenario(cluster, resolve_failures(cluster, drain=drain))
    targets = {}
    for v in cluster.volumes:
        if not scenario.has_data(v.name):
            continue
        keep = [x for x in v.replicas if not scenario.is_drained(x) and rng.random() < 0.7]
        others = [x for x in nodes if x not in keep and not scenario.is_drained(x)]
        want = keep[: v.replication_factor] + rng.sample(others, max(0, v.replication_factor - len(keep)))
        targets[v.name] = want[: v.replication_factor]
    brokers_to = {}
    for b in cluster.brokers:
        if scenario.is_drained(b.node) or rng.random() < 0.3:
            options = [x for x in targets.get(b.volumes[0], ()) if x not in brokers_to.values()]
            if options:
                brokers_to[b.id] = rng.choice(options)
    return scenario, targets, brokers_to


@pytest.mark.parametrize("seed", range(120))
def test_built_steps_are_always_possible_and_judged_like_the_plain_semantics(seed):
    scenario, targets, brokers_to = _random_operation(seed)
    target, steps = _steps_to(scenario, targets, brokers_to)
    verdict = check_execution(scenario, steps, target)
    impossible = [c.message for c in verdict.counterexamples
                  if "impossible" in c.message or "neither waits" in c.message or "the target says" in c.message]
    assert not impossible
    if len(steps) <= 8:
        full = check_execution_exhaustively(scenario, steps)
        assert verdict.safe == full.safe, ([c.message for c in verdict.counterexamples],
                                           [c.message for c in full.counterexamples])

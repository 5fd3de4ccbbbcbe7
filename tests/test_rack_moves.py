"""Rack moves (``rackAware: required``) against exhaustive brute force on small worlds.

Over every target of the touched items -- each touched volume's replica set, each touched
broker's node or none, and each partition's replicas any set of running brokers (so moves of
running brokers' partition replicas too) -- the brute force finds whether some target meets
every invariant (the plain checks, leaders elected) and the least data such a target copies
(``metrics.copied_mib``: new volume replicas plus new partition replicas). The planner must
find a valid target whenever one exists, and a plan it calls optimal without moving healthy
items copies exactly that least; any plan copies no more than it (moving healthy items is
outside this brute force, and may only help)."""
from __future__ import annotations

import json
import random

import pytest

import placement
from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve.leaders import elect_leaders
from placement.solve.metrics import copied_mib
from placement.solve.planner import PlanOptions, plan_recovery
from tests.smallworld import random_cluster
from tests.test_greedy_racks import LIMIT, _size, _targets


def moves_scenario(seed: int) -> Scenario:
    """Seeds below 1000: three zones with required racks and sized partitions, brokers packed two a
    node (random worlds). From 1000 on: broker 3 of zone-c's failed node can run only in zone-a (zone-b
    and zone-c have no room for its volume),
    where two random partitions of RF 2 keep other replicas (worlds that need rack moves)."""
    if seed >= 1000:
        return _crowded(seed)
    doc = random_cluster(seed // 2, kafka_heavy=bool(seed % 2), max_nodes=6)
    for i, node in enumerate(doc["nodes"]):
        node["zone"] = f"zone-{'abc'[i % 3]}"
        node.pop("state", None)
    for topic in doc.get("topics", []):
        for k, part in enumerate(topic["partitions"]):
            part["sizeGiB"] = 1 + (seed + k) % 3
    doc["policy"].update(rackAware="required", brokersPerNode=2, brokerPlacement="required")
    cluster = parse_cluster(doc, f"moves-{seed}")
    hosts = sorted({b.node for b in cluster.brokers}) or sorted(n.name for n in cluster.nodes)
    return Scenario(cluster, resolve_failures(cluster, [hosts[seed % len(hosts)]]))


def _crowded(seed: int) -> Scenario:
    rng = random.Random(seed)
    partitions = []
    for k in range(2):
        replicas = rng.sample([0, 1, 2, 3], 2)
        partitions.append({"id": k, "replicas": replicas, "sizeGiB": rng.choice([1, 2, 5]),
                           "isr": replicas if rng.random() < 0.7 else replicas[:1]})
    doc = {
        "name": f"crowded-{seed}", "policy": {"volumeReplicationFactor": 1, "zoneSpread": False,
                                              "brokerPlacement": "required", "rackAware": "required",
                                              "brokersPerNode": 2},
        "nodes": [{"name": "a1", "zone": "zone-a", "storageGiB": 100}, {"name": "b1", "zone": "zone-b", "storageGiB": 10},
                  {"name": "c1", "zone": "zone-c", "storageGiB": 10}, {"name": "c2", "zone": "zone-c", "storageGiB": 100}],
        "volumes": [{"name": f"v{i}", "sizeGiB": 10, "replicationFactor": 1, "replicas": [n]}
                    for i, n in enumerate(["a1", "b1", "c1", "a1"])],
        "brokers": [{"id": 0, "node": "a1", "volumes": ["v0"]}, {"id": 1, "node": "b1", "volumes": ["v1"]},
                    {"id": 2, "node": "c1", "volumes": ["v2"]}, {"id": 3, "node": "c2", "volumes": ["v3"]}],
        "topics": [{"name": "t", "partitions": partitions}],
    }
    cluster = parse_cluster(doc, f"crowded-{seed}")
    return Scenario(cluster, resolve_failures(cluster, ["c2"]))


def _least(scenario: Scenario):
    """(a valid target exists, the least copied MiB of one) over the brute force's targets."""
    best = None
    for target in _targets(scenario):
        if check_all(scenario, elect_leaders(scenario, target, even_out=False)):
            continue
        copied = copied_mib(scenario, target)
        best = copied if best is None else min(best, copied)
    return best


def _cases():
    out = []
    for seed in list(range(600)) + list(range(1000, 1016)):
        scenario = moves_scenario(seed)
        if scenario.touched_brokers and scenario.cluster.partitions and not scenario.lost_volumes \
                and any(len(p.replicas) > 1 for p in scenario.cluster.partitions) and _size(scenario) <= LIMIT:
            out.append(seed)
    return out


CASES = _cases()


@pytest.mark.slow
def test_the_cases_include_worlds_only_rack_moves_make_valid():
    assert len(CASES) >= 40
    needs_moves = 0
    for seed in CASES:
        scenario = moves_scenario(seed)
        if _least(scenario) is None:
            continue
        # without moves: running replicas kept, vacated ones refilled (or not)
        kept_only = [t for t in _targets(scenario)
                     if all(set(b for b in p.replicas if t.brokers.get(b) is not None) <= set(t.partitions[p.key].replicas)
                            for p in scenario.cluster.partitions)]
        if all(check_all(scenario, elect_leaders(scenario, t, even_out=False)) for t in kept_only):
            needs_moves += 1
    assert needs_moves >= 3, needs_moves


@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.slow) if s < 1000 else s for s in CASES])
def test_the_planner_finds_a_valid_target_whenever_one_exists_and_optimal_means_least_copied(seed):
    scenario = moves_scenario(seed)
    least = _least(scenario)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=10, verify_with_z3=False))
    verdict = placement.verify(scenario.cluster, json.loads(json.dumps(plan.to_document())))
    assert verdict.false_claims == ()
    if least is None:
        return  # nothing valid among these targets (the plan may still make room by moving healthy items)
    assert not plan.violations, [str(v) for v in plan.violations]
    copied = copied_mib(scenario, plan.placement)
    assert copied <= least
    if plan.status.value == "optimal" and plan.solver.get("decided", "touched") == "touched":
        assert copied == least


def test_a_pair_that_used_to_fail_recovers_by_rack_moves():
    """varied(8) (rack-required) with node-0001 and node-0005 failed was refuted (broker 1 left not
    running) before rack moves; now the plan runs every broker, reassigns partition replicas
    among running brokers, and verifies as optimal with its steps proven safe."""
    from placement.models.failures import Failures
    from tests.test_resilience import varied

    cluster = varied(8)
    plan = plan_recovery(cluster, Failures(frozenset(["node-0001", "node-0005"])), PlanOptions(time_limit=10))
    document = plan.to_document()
    assert not plan.violations and plan.status.meets_invariants
    assert document["metrics"]["movedPartitionReplicas"] > 0
    assert any(s["action"] == "reassign-partitions" for s in document["steps"])
    verdict = placement.verify(cluster, json.loads(json.dumps(document)))
    assert verdict.ok and verdict.false_claims == ()

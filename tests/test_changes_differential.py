"""Differential: a target judged only where it changed since the start
(``placement.solve.judging.check_changed``, the planner's judgement of its greedy start)
against the full plain checks with leaders elected, on many random small clusters, operations
(failures, retired brokers, drains, unclean elections) and random targets. The targets break
rules in places that look untouched: a broker moved or stopped (its partitions, its node's
count and load), a replica added to a node (that node's storage, its other volumes' node), a
partition's replicas or leader rewritten. Wherever the incremental judgement answers, it says
exactly what the full check says; where the start already breaks something, it does not answer."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

from placement.models.failures import resolve_failures
from placement.models.generate import generate_cluster
from placement.models.loading import parse_cluster
from placement.models.plan import PartitionTarget, Placement
from placement.rules import check_all, check_start
from placement.rules.changes import changed_items
from placement.scenario import Scenario
from placement.solve.greedy import greedy_placement
from placement.solve.judging import check_changed
from placement.solve.leaders import elect_leaders
from tests.smallworld import random_cluster


def _full(scenario: Scenario, target: Placement) -> Counter:
    return Counter(map(repr, check_all(scenario, elect_leaders(scenario, target, even_out=False))))


def _scenario(cluster, rng: random.Random) -> Scenario:
    names = [n.name for n in cluster.nodes]
    kind = rng.choice(["fail", "fail", "fail2", "retire", "drain", "none"])
    fail, retire, drain = [], [], []
    if kind in ("fail", "fail2"):
        fail = rng.sample(names, 2 if kind == "fail2" and len(names) > 3 else 1)
    elif kind == "retire" and cluster.brokers:
        retire = [rng.choice(sorted(cluster.broker))]
    elif kind == "drain":
        drain = [rng.choice(names)]
    try:
        failures = resolve_failures(cluster, fail, remove_brokers=retire, drain=drain)
    except Exception:  # a drain the file does not allow (a failed or cordoned node): fail it instead
        failures = resolve_failures(cluster, drain)
    return Scenario(cluster, failures, allow_unclean=rng.random() < 0.15)


def _mutated(scenario: Scenario, target: Placement, rng: random.Random) -> Placement:
    """A few random edits of the target; each edit replaces one item's value, nothing else."""
    cluster = scenario.cluster
    nodes = [n.name for n in cluster.nodes]
    volumes, brokers, partitions = dict(target.volumes), dict(target.brokers), dict(target.partitions)
    for _ in range(rng.randint(0, 3)):
        edit = rng.choice(["volume", "volume-add", "broker", "broker-stop", "partition", "leader", "none"])
        if edit.startswith("volume") and volumes:
            name = rng.choice(sorted(volumes))
            held = list(volumes[name])
            if edit == "volume-add" or not held:
                held.append(rng.choice(nodes))  # maybe twice on a node, maybe a failed or overloaded one
            elif rng.random() < 0.3:
                held.pop(rng.randrange(len(held)))
            else:
                held[rng.randrange(len(held))] = rng.choice(nodes)
            volumes[name] = tuple(held)
        elif edit == "broker" and brokers:
            brokers[rng.choice(sorted(brokers))] = rng.choice(nodes)
        elif edit == "broker-stop" and brokers:
            brokers[rng.choice(sorted(brokers))] = None
        elif edit in ("partition", "leader") and partitions:
            key = rng.choice(sorted(partitions))
            t = partitions[key]
            ids = sorted(cluster.broker)
            if edit == "leader":
                partitions[key] = replace(t, leader=rng.choice(ids + [None]))
            else:
                replicas = list(t.replicas)
                if replicas and rng.random() < 0.3:
                    replicas.pop()
                elif replicas:
                    replicas[rng.randrange(len(replicas))] = rng.choice(ids)
                partitions[key] = PartitionTarget(t.topic, t.partition, tuple(replicas), t.leader)
    return Placement(brokers=brokers, volumes=volumes, partitions=partitions)


def _cluster(seed: int):
    rng = random.Random(seed)
    if seed % 5 == 0:  # a larger generated cluster: many partitions, few of them changed
        return generate_cluster(nodes=12, zones=3, brokers=6, volumes=10, partitions=60, seed=seed,
                                partitions_per_topic=20)
    doc = random_cluster(seed, max_nodes=7, kafka_heavy=rng.random() < 0.5)
    if rng.random() < 0.4:
        doc["policy"]["rackAware"] = "required"
    if rng.random() < 0.3:
        doc["policy"]["brokersPerNode"] = 1
    return parse_cluster(doc, f"random-{seed}")


def test_incremental_judgement_equals_the_full_check():
    answered = broken = 0
    for seed in range(400):
        rng = random.Random(seed * 31 + 7)
        cluster = _cluster(seed)
        scenario = _scenario(cluster, rng)
        starts = [Placement.current(cluster), greedy_placement(scenario, spread=True)]
        for round_ in range(4):
            target = _mutated(scenario, starts[round_ % 2], rng)
            judged = check_changed(scenario, target)
            if check_start(cluster):
                assert judged is None, seed  # the start breaks something: only the full check will do
                continue
            if judged is None:
                continue
            answered += 1
            broken += bool(judged)
            assert Counter(map(repr, judged)) == _full(scenario, target), (seed, round_)
    assert answered > 600 and broken > 300  # the comparison ran, on valid and broken targets alike


def test_a_stopped_broker_breaks_partitions_whose_own_replicas_did_not_change():
    """The partitions of a broker stopped in the target are judged though their replica lists are
    the start's very objects; a broker moved onto a full node makes that node's count judged."""
    cluster = generate_cluster(nodes=12, zones=3, brokers=6, volumes=10, partitions=60, seed=3, partitions_per_topic=20)
    assert not check_start(cluster)
    scenario = Scenario(cluster, resolve_failures(cluster, []))
    current = Placement.current(cluster)
    stopped = Placement(brokers={**current.brokers, 0: None}, volumes=current.volumes, partitions=current.partitions)
    items = changed_items(scenario, stopped)
    assert {p.key for p in cluster.partitions if 0 in p.replicas} <= items.partitions
    judged = check_changed(scenario, stopped)
    assert judged and Counter(map(repr, judged)) == _full(scenario, stopped)
    assert any(v.invariant == "I6" and "broker 0, which does not run" in v.message for v in judged)
    crowded = Placement(brokers={**current.brokers, 1: current.brokers[2]}, volumes=current.volumes,
                        partitions=current.partitions)
    judged = check_changed(scenario, crowded)
    assert any(v.invariant == "I4" for v in judged) or cluster.policy.brokers_per_node > 1
    assert Counter(map(repr, judged)) == _full(scenario, crowded)


def test_an_unchanged_target_is_judged_on_the_operation_s_items_only():
    """With nothing failed or moved, nothing is judged; a failed node makes its volumes, brokers and
    the node itself judged (their inputs changed though their placement did not)."""
    cluster = generate_cluster(nodes=12, zones=3, brokers=6, volumes=10, partitions=60, seed=4, partitions_per_topic=20)
    current = Placement.current(cluster)
    calm = Scenario(cluster, resolve_failures(cluster, []))
    items = changed_items(calm, current)
    assert not (items.volumes or items.brokers or items.nodes or items.partitions)
    assert check_changed(calm, current) == []
    node = cluster.brokers[0].node
    failed = Scenario(cluster, resolve_failures(cluster, [node]))
    items = changed_items(failed, current)
    assert node in items.nodes and cluster.brokers[0].id in items.brokers
    assert {v.name for v in cluster.volumes if node in v.replicas} <= items.volumes
    judged = check_changed(failed, current)
    assert judged and Counter(map(repr, judged)) == _full(failed, current)

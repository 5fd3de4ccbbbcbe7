"""``placement.resilience.changed.valid`` against ``check_all``: on random valid clusters, random
failure sets and targets perturbed at random from the greedy recovery (replicas moved, added or
dropped, brokers moved or stopped, partition replicas and leaders changed), both say the same."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from placement.models.failures import Failures
from placement.models.plan import Placement
from placement.resilience.changed import valid, within
from placement.resilience.composition import apply_footprint, footprint
from placement.resilience.making_room import make_room
from placement.resilience.sweep import _local, baseline_valid
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve.greedy import greedy_placement
from placement.solve.leaders import elect_leaders
from tests.test_monotone import world
from tests.test_resilience import varied


def _perturbed(rng: random.Random, scenario: Scenario, target: Placement) -> Placement:
    cluster = scenario.cluster
    nodes = [n.name for n in cluster.nodes]
    volumes, brokers, partitions = dict(target.volumes), dict(target.brokers), dict(target.partitions)
    for _ in range(rng.choice([1, 1, 2, 3])):
        what = rng.random()
        if what < 0.4 and volumes:
            name = rng.choice(sorted(volumes))
            reps = list(volumes[name])
            change = rng.random()
            if change < 0.5 and reps:
                reps[rng.randrange(len(reps))] = rng.choice(nodes)
            elif change < 0.75:
                reps.append(rng.choice(nodes))
            elif reps:
                reps.pop(rng.randrange(len(reps)))
            volumes[name] = tuple(reps)
        elif what < 0.7 and brokers:
            bid = rng.choice(sorted(brokers))
            brokers[bid] = None if rng.random() < 0.2 else rng.choice(nodes)
        elif partitions:
            key = rng.choice(sorted(partitions))
            t = partitions[key]
            ids = sorted(b.id for b in cluster.brokers) or [0]
            reps = list(t.replicas)
            if reps and rng.random() < 0.6:
                reps[rng.randrange(len(reps))] = rng.choice(ids)
            leader = rng.choice(reps + [None]) if reps else None
            partitions[key] = replace(t, replicas=tuple(reps), leader=leader)
    return Placement(brokers=brokers, volumes=volumes, partitions=partitions)


def _clusters():
    for seed in range(60):
        yield f"world-{seed}", world(seed)
    for seed in range(12):
        yield f"varied-{seed}", varied(seed)


@pytest.mark.parametrize("name,cluster", list(_clusters()), ids=lambda x: x if isinstance(x, str) else "")
def test_valid_agrees_with_check_all(name, cluster):
    if not baseline_valid(cluster):
        pytest.skip("the start already breaks an invariant: valid's precondition")
    rng = random.Random(name)
    names = [n.name for n in cluster.nodes]
    for _ in range(12):
        failed = frozenset(rng.sample(names, rng.choice([1, 1, 2])))
        full = Scenario(cluster, Failures(failed))
        for scenario in (full, _local(full)):
            start = elect_leaders(scenario, greedy_placement(scenario, spread=True), even_out=False)
            targets = [start, Placement.current(scenario.cluster)]
            made = make_room(scenario, start) if not scenario.lost_volumes else None
            if made is not None:
                targets.append(made)
            targets += [_perturbed(rng, scenario, rng.choice(targets)) for _ in range(8)]
            for target in targets:
                expected = not check_all(scenario, target)
                assert valid(scenario, target) == expected, (name, sorted(failed), target)
                if scenario is full:  # a footprint's target, judged only where the footprint says it differs
                    fp = footprint(scenario, target)
                    applied = apply_footprint(cluster, fp)
                    assert valid(scenario, applied, within=within(cluster, fp)) == (not check_all(scenario, applied))


def test_both_verdicts_occur():
    """The comparison above sees valid targets as well as broken ones (it could not fail otherwise)."""
    seen = set()
    for name, cluster in list(_clusters())[:30]:
        if not baseline_valid(cluster):
            continue
        rng = random.Random(name)
        failed = frozenset(rng.sample([n.name for n in cluster.nodes], 1))
        scenario = Scenario(cluster, Failures(failed))
        start = elect_leaders(scenario, greedy_placement(scenario, spread=True), even_out=False)
        seen.add(valid(scenario, start))
        seen.add(valid(scenario, _perturbed(rng, scenario, start)))
    assert seen == {True, False}

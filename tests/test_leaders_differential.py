"""Differential: leader election (placement/solve/leaders.py, rewritten as tight loops for
150,000 partitions) against its earlier, plainer text kept here verbatim, on random clusters,
stopped brokers and random partition targets (changed replicas, leaders gone, lists), with and
without balancing and unclean elections. The two must give the very same placement.
The reference's one change since: balancing changes only the partitions given a leader anew
(``elected``), as leaders.py's docstring says, so a healthy cluster gets no steps."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest

from placement.models.failures import resolve_failures
from placement.models.generate import generate_cluster
from placement.models.plan import PartitionTarget, Placement
from placement.scenario import Scenario
from placement.solve.leaders import elect_leaders, unclean_elections

# -- the reference: leaders.py before the rewrite (commit 676ae29), unchanged ----------------


def _reference_elect_leaders(scenario: Scenario, target: Placement, *, even_out: bool = True) -> Placement:
    """Leaders for the target; ``even_out=False`` skips the balancing pass (validity only)."""
    cluster = scenario.cluster
    running = {b for b, n in target.brokers.items() if n is not None}
    leaders: Counter = Counter()
    chosen: dict = {}
    pending = []
    elected = set()
    for key in scenario.partition_keys:  # sorted, made once per scenario
        t = target.partitions.get(key)
        if t is None:
            continue
        original = cluster.partition[key]
        unchanged = tuple(t.replicas) == original.replicas
        if unchanged and t.leader in running and t.leader in t.replicas and t.leader in scenario.sources(original):
            chosen[key] = t.leader
        else:
            sources = [b for b in t.replicas if b in running and b in scenario.sources(original)]
            if not sources:
                chosen[key] = None
                continue
            elected.add(key)
            if t.replicas[0] in sources:
                chosen[key] = t.replicas[0]
            elif original.leader in sources:
                chosen[key] = original.leader
            else:
                pending.append((key, sources))
                continue
        if chosen[key] is not None:
            leaders[chosen[key]] += 1
    for key, sources in pending:
        pick = min(sources, key=lambda b: (leaders[b], sources.index(b)))
        chosen[key] = pick
        leaders[pick] += 1
    if even_out:
        _reference_even_out(scenario, target, running, chosen, leaders, elected)
    partitions = {}
    for key, t in target.partitions.items():
        leader = chosen[key]
        replicas = tuple(t.replicas)
        if leader is not None and leader != cluster.partition[key].leader and replicas[0] != leader:
            # a new leader goes first, so that a PREFERRED election makes it leader (order only, no data)
            replicas = (leader,) + tuple(b for b in replicas if b != leader)
        unchanged = leader == t.leader and replicas == tuple(t.replicas)
        partitions[key] = t if unchanged else replace(t, replicas=replicas, leader=leader)
    return Placement(brokers=target.brokers, volumes=target.volumes, partitions=partitions)


def _reference_even_out(scenario: Scenario, target: Placement, running: set[int], chosen: dict, leaders: Counter,
              elected: set, max_rounds: int = 20) -> None:
    """Spread leadership over running brokers: move a partition's leadership to another of
    its running in-sync replicas whenever that broker leads at least two fewer partitions.
    Each move narrows the gap and moves no data; it stops when no such move is left."""
    cluster = scenario.cluster
    for b in running:
        leaders.setdefault(b, 0)
    order = [key for key in scenario.partition_keys if key in elected and chosen.get(key) is not None]
    options: dict = {}  # computed only for the partitions whose leader could give one away

    def options_of(key):
        if key not in options:
            original = cluster.partition[key]
            sources = scenario.sources(original)
            options[key] = [b for b in target.partitions[key].replicas if b in running and b in sources]
        return options[key]

    for _ in range(max_rounds):
        moved = False
        # a leadership moves only from a broker leading at least two more than the fewest; the
        # fewest never falls within a round, so this round's first value is a safe filter
        low = min(leaders.values(), default=0)
        for key in order:
            current = chosen[key]
            if leaders[current] < low + 2:
                continue
            best = min(options_of(key), key=lambda b: (leaders[b], b))
            if leaders[best] + 1 < leaders[current]:
                leaders[current] -= 1
                leaders[best] += 1
                chosen[key] = best
                moved = True
        if not moved:
            return


def _reference_unclean_elections(scenario: Scenario, target: Placement) -> list[str]:
    """Partitions whose new leader was not in sync: it loses the messages it lacked."""
    cluster = scenario.cluster
    return [cluster.partition[k].label for k in sorted(k for k, t in target.partitions.items()
            if t.leader is not None and t.leader != cluster.partition[k].leader
            and t.leader not in cluster.partition[k].isr)]


# -- the comparison -----------------------------------------------------------------------

def _random_target(rng: random.Random, scenario: Scenario) -> Placement:
    cluster = scenario.cluster
    current = Placement.current(cluster)
    brokers = dict(current.brokers)
    for b in sorted(brokers):
        if scenario.is_failed(brokers[b] or "") or rng.random() < 0.15:
            brokers[b] = None  # not running
    ids = sorted(cluster.broker)
    partitions = dict(current.partitions)
    for key in sorted(partitions):
        t = partitions[key]
        roll = rng.random()
        if roll < 0.2:
            replicas = rng.sample(ids, min(len(ids), rng.randint(1, 3)))
            leader = rng.choice(replicas + [None, ids[0]])
            partitions[key] = PartitionTarget(key[0], key[1], tuple(replicas) if rng.random() < 0.7 else list(replicas),
                                              leader)
        elif roll < 0.3:
            partitions[key] = replace(t, leader=None)
        elif roll < 0.35:
            partitions[key] = replace(t, replicas=tuple(reversed(t.replicas)))
    if rng.random() < 0.2:
        partitions.pop(sorted(partitions)[0])
    return Placement(brokers=brokers, volumes=current.volumes, partitions=partitions)


@pytest.mark.parametrize("seed", range(30))
def test_elections_match_the_reference(seed):
    rng = random.Random(seed)
    cluster = generate_cluster(nodes=rng.randint(6, 24), zones=3, brokers=rng.randint(3, 12), volumes=30,
                               partitions=rng.randint(50, 600), seed=seed)
    failed = [rng.choice(sorted(n.name for n in cluster.nodes))]
    for allow_unclean in (False, True):
        scenario = Scenario(cluster, resolve_failures(cluster, failed), allow_unclean=allow_unclean)
        for target in (Placement.current(cluster), _random_target(rng, scenario)):
            for even_out in (False, True):
                expected = _reference_elect_leaders(scenario, target, even_out=even_out)
                got = elect_leaders(scenario, target, even_out=even_out)
                assert got == expected
                assert all(type(t.replicas) is type(expected.partitions[k].replicas) for k, t in got.partitions.items())
            assert unclean_elections(scenario, got) == _reference_unclean_elections(scenario, got)


def test_balancing_really_moves_leaders_in_the_comparison():
    """The comparison above is not vacuous: balancing changes leaders on these clusters."""
    cluster = generate_cluster(nodes=12, zones=3, brokers=8, volumes=30, partitions=400, seed=1)
    scenario = Scenario(cluster, resolve_failures(cluster, [cluster.broker[0].node]))
    target = _random_target(random.Random(1), scenario)
    assert elect_leaders(scenario, target) != elect_leaders(scenario, target, even_out=False)

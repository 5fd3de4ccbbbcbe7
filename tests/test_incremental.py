"""placement.resilience.incremental: a failure set's scenario derived from the healthy cluster's
facts equals the one built from scratch, fact by fact, and the sweep's verdicts and counts do not
change with it."""
from __future__ import annotations

import random

import pytest

from placement.models.failures import Failures
from placement.resilience.incremental import Healthy
from placement.resilience.sweep import _local, baseline_valid, check_resilience
from placement.scenario import Scenario
from placement.solve.greedy import greedy_placement
from tests.test_monotone import world
from tests.test_resilience import varied

FACTS = ("alive_nodes", "zones_with_ready_storage", "rack_zones", "over_limit_nodes", "over_broker_limit_nodes",
         "_survivors", "_survivor_sets", "_stale", "lost_volumes", "touched_brokers", "touched_volumes",
         "touched_partitions", "lost_partitions", "_partitions_of", "partition_keys")


def _clusters():
    for seed in range(60):
        yield f"world-{seed}", world(seed)
    for seed in range(12):
        yield f"varied-{seed}", varied(seed)


def _same_cluster(a, b) -> None:
    assert (a.nodes, a.volumes, a.brokers, a.topics, a.policy) == (b.nodes, b.volumes, b.brokers, b.topics, b.policy)
    for name in ("node", "volume", "broker", "storage_used_mib", "zones", "partitions", "partition"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("name,cluster", list(_clusters()), ids=lambda x: x if isinstance(x, str) else "")
def test_derived_facts_equal_those_built_from_scratch(name, cluster):
    healthy = Healthy(cluster)
    assert healthy.usable == baseline_valid(cluster) or not baseline_valid(cluster)
    if not healthy.usable:
        pytest.skip("the start touches something: the sweep builds every scenario from scratch")
    rng = random.Random(name)
    names = [n.name for n in cluster.nodes if n.name not in healthy.already]
    for _ in range(25):
        failed = frozenset(rng.sample(names, min(len(names), rng.choice([1, 2, 2, 3]))))
        derived = healthy.scenario(failed)
        fresh = Scenario(cluster, Failures(healthy.already | failed))
        assert derived == fresh
        small, reference = healthy.local(derived), _local(fresh)
        for fact in FACTS:
            assert fact in derived.__dict__, fact  # derived, not computed again
            assert getattr(derived, fact) == getattr(Scenario(cluster, fresh.failures), fact), (fact, sorted(failed))
        _same_cluster(small.cluster, reference.cluster)
        for fact in FACTS:
            assert getattr(small, fact) == getattr(Scenario(reference.cluster, fresh.failures), fact), fact
        if not derived.lost_volumes:
            assert greedy_placement(small, spread=True, as_now=healthy.as_now) == \
                greedy_placement(reference, spread=True)


def test_some_derived_scenarios_touch_and_lose_things():
    """The comparison above sees touched brokers, touched partitions and lost volumes (else it
    could not fail where they are derived wrongly)."""
    seen = set()
    for name, cluster in list(_clusters()):
        healthy = Healthy(cluster)
        if not healthy.usable:
            continue
        for n in cluster.nodes:
            s = healthy.scenario({n.name})
            seen.update(what for what, fact in (("brokers", s.touched_brokers), ("partitions", s.touched_partitions),
                                                ("volumes", s.touched_volumes)) if fact)
        for a in cluster.nodes:
            for b in cluster.nodes:
                if a.name < b.name and healthy.scenario({a.name, b.name}).lost_volumes:
                    seen.add("lost")
    assert seen == {"brokers", "partitions", "volumes", "lost"}


@pytest.mark.parametrize("seed", range(8))
def test_the_sweep_says_the_same_with_derived_scenarios(seed):
    cluster = varied(seed) if seed % 2 else world(seed)
    k = 2 if len(cluster.nodes) > 10 else 3
    derived = check_resilience(cluster, k, audit=True, time_limit=10).to_document()
    fresh = check_resilience(cluster, k, incremental=False, time_limit=10).to_document()
    derived.pop("seconds"), fresh.pop("seconds")
    assert derived == fresh


@pytest.mark.slow  # judging every set from scratch: run by make test, skipped by make test-fast
@pytest.mark.parametrize("seed", range(6))
def test_the_sweep_agrees_with_judging_every_set_from_scratch(seed):
    """Everything on (derived scenarios, composition, repair first where nothing is kept, making
    room) against every set judged alone on a scenario built from scratch: the same verdicts."""
    cluster = world(3 * seed + 2) if seed % 2 else varied(seed + 20)  # world(3n + 2): packed, making room
    k = 3 if len(cluster.nodes) <= 8 else 2
    fast = check_resilience(cluster, k, audit=True, time_limit=10)
    plain = check_resilience(cluster, k, prune=False, symmetry=False, compose_recoveries=False, incremental=False,
                             time_limit=10)
    if fast.undecided or plain.undecided:
        pytest.skip("a solver timeout decides nothing")
    assert (fast.tolerates, fast.failing, fast.scenarios) == (plain.tolerates, plain.failing, plain.scenarios)
    assert (fast.counterexample.failed if fast.counterexample else None) == \
        (plain.counterexample.failed if plain.counterexample else None)

"""A healthy cluster with nothing failed and no operation asked for: the plan changes nothing.

Leadership is balanced only over the partitions a plan elects a leader for anyway
(placement/solve/leaders.py): a start whose leaders are unevenly spread is no reason to reorder
replicas and elect leaders. Found by a stranger's test: a 100-node cluster planned with no
failure got a reassignment [2, 18, 10] -> [18, 2, 10] and an election of broker 18."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bench.varied import varied_cluster
from placement.models.failures import resolve_failures
from placement.models.generate import generate_cluster
from placement.models.plan import Placement
from placement.rules import check_start
from placement.solve.leaders import elect_leaders
from placement.scenario import Scenario
from placement.solve.planner import plan_recovery


def _assert_changes_nothing(cluster) -> None:
    assert not check_start(cluster), "the start must be healthy for this test to mean anything"
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert plan.status.value == "optimal"
    assert plan.steps == ()
    current = Placement.current(cluster)
    assert plan.placement.brokers == current.brokers
    assert {v: set(ns) for v, ns in plan.placement.volumes.items()} == {v: set(ns) for v, ns in current.volumes.items()}
    for p in cluster.partitions:
        t = plan.placement.partitions[p.key]
        assert (tuple(t.replicas), t.leader) == (p.replicas, p.leader), p.label
    assert plan.metrics["copiedGiB"] == 0 and plan.metrics["movedPartitionReplicas"] == 0


def _leaders_piled_up(cluster):
    """Every partition led by its lowest-numbered in-sync replica: leadership as uneven as the
    replica lists allow, as a cluster that has not run a preferred election for long may be."""
    partitions = {p.key: replace(p, leader=min(p.isr)) for p in cluster.partitions}
    topics = tuple(replace(t, partitions=tuple(partitions[(t.name, q.id)] for q in t.partitions)) for t in cluster.topics)
    return replace(cluster, topics=topics)


@pytest.mark.parametrize("seed", range(4))
def test_generated_healthy_cluster_gets_no_steps(seed):
    _assert_changes_nothing(generate_cluster(nodes=12 + 3 * seed, zones=3, brokers=6 + seed, volumes=20,
                                             partitions=300, seed=seed))


@pytest.mark.parametrize("seed", range(4))
def test_uneven_leadership_is_no_reason_to_move(seed):
    cluster = _leaders_piled_up(generate_cluster(nodes=12, zones=3, brokers=8, volumes=20, partitions=400, seed=seed))
    scenario = Scenario(cluster, resolve_failures(cluster))
    leads = {}
    for p in cluster.partitions:
        leads[p.leader] = leads.get(p.leader, 0) + 1
    assert max(leads.values()) - min(leads.get(b, 0) for b in cluster.broker) >= 2  # balancing had work to do
    assert elect_leaders(scenario, Placement.current(cluster)) == Placement.current(cluster)
    _assert_changes_nothing(cluster)


@pytest.mark.parametrize("seed", range(6))
def test_varied_healthy_cluster_gets_no_steps(seed):
    cluster = varied_cluster(seed, nodes=40, brokers=12, volumes=30, partitions=400)
    if check_start(cluster):
        pytest.skip(f"varied seed {seed} draws a start that already breaks an invariant")
    _assert_changes_nothing(cluster)


def test_balancing_still_spreads_the_leaders_a_failure_elects():
    """The other side: partitions that lose their leader are spread over the running brokers,
    not piled on one, and partitions that keep theirs are left alone."""
    cluster = _leaders_piled_up(generate_cluster(nodes=12, zones=3, brokers=8, volumes=20, partitions=400, seed=1))
    failed = cluster.broker[min(cluster.broker)].node
    scenario = Scenario(cluster, resolve_failures(cluster, [failed]))
    current = Placement.current(cluster)
    brokers = {b: (None if n == failed else n) for b, n in current.brokers.items()}
    target = Placement(brokers=brokers, volumes=current.volumes, partitions=current.partitions)
    balanced, plain = elect_leaders(scenario, target), elect_leaders(scenario, target, even_out=False)
    gone = min(cluster.broker)
    for p in cluster.partitions:
        if p.leader != gone:
            assert balanced.partitions[p.key].leader == p.leader  # kept: nothing happened to it
    assert balanced != plain  # the elected ones were spread further than the plain election put them

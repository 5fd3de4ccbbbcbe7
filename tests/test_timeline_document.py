"""metrics.timeline in the plan document: every step's start and finish, and the busiest node.

These are what the plan picture draws (Gantt bars, the lower bound marked on its node),
so they are judged against the steps' own dependencies and against the bytes each node moves.
"""
from __future__ import annotations

import pytest

from placement.execute.timeline import copies_of
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.scenario import Scenario
from placement.solve.planner import plan_recovery
from tests.test_examples import EXAMPLES, RUNS


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_step_has_its_times_and_waits_for_its_dependencies(name):
    (fail, zones), _ = RUNS[name]
    cluster = load_cluster(EXAMPLES / name)
    plan = plan_recovery(cluster, resolve_failures(cluster, fail, zones))
    times = plan.to_document()["metrics"]["timeline"]["stepSeconds"]
    assert set(times) == {str(s.id) for s in plan.steps}
    for s in plan.steps:
        start, finish = times[str(s.id)]
        assert 0 <= start <= finish <= plan.metrics["timeline"]["finishSeconds"]
        for a in s.after:
            assert start >= times[str(a)][1], f"step {s.id} starts before step {a} it waits for has finished"


@pytest.mark.parametrize("name", ["seed.yaml", "zone-loss.yaml", "fragile.yaml"])
def test_the_busiest_node_moves_the_bytes_that_set_the_lower_bound(name):
    (fail, zones), _ = RUNS[name]
    cluster = load_cluster(EXAMPLES / name)
    failures = resolve_failures(cluster, fail, zones)
    plan = plan_recovery(cluster, failures)
    scenario = Scenario(cluster, failures)
    through: dict[tuple[str, str], int] = {}
    for s in plan.steps:
        for c in copies_of(scenario, plan.placement, s):
            through["out", c.source] = through.get(("out", c.source), 0) + c.mib
            through["in", c.target] = through.get(("in", c.target), 0) + c.mib
    timeline = plan.metrics["timeline"]
    busiest = timeline["busiestNode"]
    most = max(through.values())
    assert max(through.get(("out", busiest), 0), through.get(("in", busiest), 0)) == most
    assert timeline["lowerBoundSeconds"] == pytest.approx(most / cluster.policy.node_bandwidth_mib_s, abs=0.05)

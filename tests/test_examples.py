"""Every example runs, and says what its comment promises."""
from __future__ import annotations

from pathlib import Path

import pytest

from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve.planner import plan_recovery

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# file -> (failures, expected status)
RUNS = {
    "seed.yaml": ((["node-2"], []), "optimal"),
    "zone-loss.yaml": (([], ["zone-b"]), "optimal"),
    "tight-capacity.yaml": ((["node-1"], []), "optimal"),
    "impossible.yaml": ((["node-3"], []), "degraded"),
    "fragile.yaml": ((["node-1"], []), "optimal"),
}


def test_every_example_is_exercised():
    assert {p.name for p in EXAMPLES.glob("*.yaml")} <= set(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_example_plans(name):
    (fail, zones), status = RUNS[name]
    cluster = load_cluster(EXAMPLES / name)
    failures = resolve_failures(cluster, fail, zones)
    plan = plan_recovery(cluster, failures)
    assert plan.status.value == status
    assert list(plan.violations) == check_all(Scenario(cluster, failures), plan.placement)


def test_zone_loss_spreads_over_the_zones_left():
    cluster = load_cluster(EXAMPLES / "zone-loss.yaml")
    plan = plan_recovery(cluster, resolve_failures(cluster, [], ["zone-b"]))
    for nodes in plan.placement.volumes.values():
        assert {cluster.node[n].zone for n in nodes} == {"zone-a", "zone-c"}


def test_tight_capacity_needs_the_exact_packing():
    cluster = load_cluster(EXAMPLES / "tight-capacity.yaml")
    plan = plan_recovery(cluster, resolve_failures(cluster, ["node-1"]))
    volumes = plan.placement.volumes
    assert "node-3" in volumes["pvc-big"]
    assert "node-2" in volumes["pvc-mid-a"] and "node-2" in volumes["pvc-mid-b"]


def test_same_input_same_plan():
    cluster = load_cluster(EXAMPLES / "zone-loss.yaml")
    failures = resolve_failures(cluster, [], ["zone-b"])
    first = plan_recovery(cluster, failures).to_document()
    for _ in range(3):
        again = plan_recovery(cluster, failures).to_document()
        for doc in (first, again):
            doc["metrics"].pop("solveSeconds", None)
            doc.pop("solver", None)
        assert again == first


def test_fragile_survives_one_failure_but_not_two():
    from placement.resilience.minima import data_loss_minima
    from placement.resilience.sweep import check_resilience

    cluster = load_cluster(EXAMPLES / "fragile.yaml")
    assert check_resilience(cluster, 1).tolerates is True
    two = check_resilience(cluster, 2)
    assert two.tolerates is False and two.failing == 3
    assert two.counterexample.failed == ("node-1", "node-3") and two.counterexample.data_lost == ("pvc-kafka-0",)
    assert [m.failures for m in data_loss_minima(cluster)] == [2, 3]


def test_fragile_timeline_runs_at_its_slower_links():
    cluster = load_cluster(EXAMPLES / "fragile.yaml")
    timeline = plan_recovery(cluster, resolve_failures(cluster, ["node-1"])).metrics["timeline"]
    assert timeline["nodeBandwidthGbps"] == 1
    # node-1 held two 60 GiB replicas; they are rebuilt from separate sources onto separate nodes
    assert timeline["fullRedundancySeconds"] == pytest.approx(60 * 1024 / (1e9 / 8 / 2**20), abs=0.5)

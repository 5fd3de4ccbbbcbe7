"""Large-failure machinery: candidate restriction is only called optimal when it meets
the unrestricted bounds, and then it agrees with the unrestricted solve."""
from __future__ import annotations

import pytest

from placement.models.failures import resolve_failures
from placement.models.generate import generate_cluster
import placement.solve.planner as planner
from placement.solve.planner import PlanOptions, plan_recovery


def _levels(plan) -> dict:
    return {lv["level"]: lv for st in plan.solver["stages"] for lv in st["levels"] if st["stage"] == "storage and brokers"}


@pytest.mark.parametrize("seed", range(4))
def test_restricted_candidates_agree_with_the_full_model(monkeypatch, seed):
    cluster = generate_cluster(nodes=24, zones=3, brokers=6, volumes=40, partitions=60, seed=seed, storage_gib=2000)
    failures = resolve_failures(cluster, [], ["zone-b"])
    full = plan_recovery(cluster, failures, PlanOptions(time_limit=60))
    assert not full.solver["restrictedCandidates"]
    monkeypatch.setattr(planner, "FULL_MODEL_LIMIT", 50)
    monkeypatch.setattr(planner, "MIN_CANDIDATES_PER_ZONE", 2)
    monkeypatch.setattr(planner, "_judge_start", lambda *args: None)  # the solver's path, even where the start is at the bounds
    restricted = plan_recovery(cluster, failures, PlanOptions(time_limit=60))
    assert restricted.solver["restrictedCandidates"]
    a, b = _levels(full), _levels(restricted)
    if restricted.status.value == "optimal":
        assert full.status.value == "optimal"
        assert {k: v["value"] for k, v in a.items()} == {k: v["value"] for k, v in b.items()}
    else:
        assert restricted.status.value == "feasible"
        first_gap = next(k for k in b if not b[k]["proven"])
        assert b[first_gap]["value"] >= a[first_gap]["value"]  # never better than the truth
    assert full.metrics["copiedGiB"] == restricted.metrics["copiedGiB"]


def test_internal_errors_exit_3(monkeypatch):
    from click.testing import CliRunner

    from placement import cli
    import placement

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(placement, "plan", broken)
    result = CliRunner().invoke(cli.main, ["plan", "examples/seed.yaml", "--fail", "node-2"])
    assert result.exit_code == 3
    assert "internal error" in result.stderr and "Traceback" not in result.stderr

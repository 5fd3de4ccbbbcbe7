"""Proofs: Z3 shows no placement meeting every invariant copies less data than the plan."""
from __future__ import annotations

from functools import cache

import pytest

from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve.metrics import copied_mib
from placement.solve.planner import plan_recovery
from placement.solve.proofs import prove_copied_bound
from tests.smallworld import random_scenario

CASES = [
    ("examples/seed.yaml", ["node-2"], []),
    ("examples/seed.yaml", ["node-3"], []),
    ("examples/zone-loss.yaml", [], ["zone-b"]),
    ("examples/tight-capacity.yaml", ["node-1"], []),
]


@pytest.mark.parametrize("path,fail,zones", CASES)
def test_no_placement_copies_less_than_the_plan(path, fail, zones):
    cluster = load_cluster(path)
    failures = resolve_failures(cluster, fail, zones)
    plan = plan_recovery(cluster, failures)
    assert plan.status.value == "optimal"
    copied = copied_mib(Scenario(cluster, failures), plan.placement)
    proof = prove_copied_bound(Scenario(cluster, failures), copied)
    assert proof.verdict == "proved", proof
    # and the bound is tight: the plan itself meets it, so asking for one MiB more is satisfiable
    looser = prove_copied_bound(Scenario(cluster, failures), copied + 1)
    assert looser.verdict == "refuted"
    assert not [v for v in check_all(Scenario(cluster, failures), looser.witness) if v.invariant in ("I1", "I2", "I3", "I4", "I5")]


def _optimal_with_copying(seed: int) -> bool:
    scenario = random_scenario(seed)
    plan = plan_recovery(scenario.cluster, scenario.failures)
    return plan.status.value == "optimal" and plan.metrics["copiedGiB"] > 0


@cache
def _proof_seeds() -> list[int]:
    """Chosen by planning, so chosen when a test first runs, never at collection."""
    return [s for s in range(200) if _optimal_with_copying(s)][:25]


@pytest.mark.slow  # a long sweep: run by make test, skipped by make test-fast
@pytest.mark.parametrize("nth", range(25))
def test_random_optimal_plans_are_proven_minimal(nth):
    assert len(_proof_seeds()) == 25, "fewer random clusters with an optimal, copying plan than expected"
    seed = _proof_seeds()[nth]
    scenario = random_scenario(seed)
    plan = plan_recovery(scenario.cluster, scenario.failures)
    proof = prove_copied_bound(scenario, copied_mib(scenario, plan.placement))
    assert proof.verdict == "proved"

"""Anytime answers (issue 14 item 4): under any time limit, once a target meeting every invariant
is known (the greedy start, the water-filling start or an incumbent), the plan is returned
``feasible`` with its gap, never as "no placement ... raise --time-limit", and ``optimal`` only
where it is proven."""
from __future__ import annotations

import pytest

from placement.models.plan import Status
from placement.rules import check_all
from placement.solve import planner
from placement.solve.cpsat import SolveOutcome
from placement.solve.planner import PlanOptions, plan_recovery
from tests.smallworld import random_scenario

# random_scenario seeds whose greedy start meets every invariant but not the touched space's
# bounds (with the whole space too large to decide), so CP-SAT is asked to improve on it
NEEDS_THE_SOLVER = (33, 310)


def _gaps(plan) -> list[tuple[str, int, int]]:
    return [(lv["level"], lv["value"], lv["bound"]) for stage in plan.solver["stages"] for lv in stage["levels"]
            if lv["value"] != lv["bound"] or not lv["proven"]]


def _said_no_placement(plan) -> bool:
    return plan.status is Status.INFEASIBLE or any("raise --time-limit" in v.message for v in plan.violations)


@pytest.mark.parametrize("seed", NEEDS_THE_SOLVER)
def test_a_solver_that_times_out_returns_the_start_feasible_with_its_gap(seed, monkeypatch):
    monkeypatch.setattr(planner, "WHOLE_SPACE_LIMIT", 0)
    scenario = random_scenario(seed)
    calls = []

    def times_out(enc, levels, **kwargs):  # CP-SAT finding nothing within the limit
        calls.append(kwargs["time_limit"])
        return SolveOutcome(solved=False, seconds=kwargs["time_limit"])

    monkeypatch.setattr(planner, "solve_lexicographic", times_out)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=0.01))
    assert calls, "the start was not proven, so the solver was asked"
    assert not _said_no_placement(plan)
    assert plan.status is Status.FEASIBLE
    assert plan.solver["proven"] is False
    assert _gaps(plan), "an unproven plan says how far it may be from the bound"
    assert not check_all(scenario, plan.placement)


@pytest.mark.parametrize("seed", NEEDS_THE_SOLVER)
def test_a_tiny_time_limit_never_says_no_placement(seed, monkeypatch):
    monkeypatch.setattr(planner, "WHOLE_SPACE_LIMIT", 0)
    scenario = random_scenario(seed)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=0.01))
    assert not _said_no_placement(plan)
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert not check_all(scenario, plan.placement)
    if plan.status is Status.OPTIMAL:  # only where proven: every level at its bound
        assert plan.solver["proven"] and not _gaps(plan)
    else:
        assert _gaps(plan)


@pytest.mark.parametrize("seed", (0, 1, 3))
def test_a_partitions_stage_that_times_out_keeps_the_water_filling_start(seed, monkeypatch):
    """Where the storage stage falls short (a degraded plan) and CP-SAT finds nothing for the
    partitions within the limit, the plan is the water-filling start with the violations the plain
    checks find, degraded, not 'no placement ... raise --time-limit'."""
    scenario = random_scenario(seed, kafka_heavy=True)
    original = planner.solve_lexicographic
    timed_out = []

    def partitions_time_out(enc, levels, **kwargs):
        if not enc.space.partitions_aggregated:
            timed_out.append(True)
            return SolveOutcome(solved=False, seconds=kwargs["time_limit"])
        return original(enc, levels, **kwargs)

    monkeypatch.setattr(planner, "solve_lexicographic", partitions_time_out)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=5))
    assert timed_out
    assert not _said_no_placement(plan)
    assert plan.status is Status.DEGRADED
    assert plan.solver["proven"] is False
    assert {(v.invariant, v.subject) for v in plan.violations} == \
        {(v.invariant, v.subject) for v in check_all(scenario, plan.placement)}

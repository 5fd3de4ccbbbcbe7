"""Anytime answers when a failure cannot be fully survived (issue 14 item 4): a whole-zone failure
whose greedy start falls short comes back as a ``degraded`` plan -- the start, with its shortfalls
and the proven lower bound -- whenever CP-SAT finds nothing better in time or its model cannot
even be built within the limit; never as "no placement ... raise --time-limit".

At 5,000 nodes (``n5000-z3-f65-rareq --fail-zone dc1-hall-a``) building the storage stage's
model took longer than the whole limit, CP-SAT was left 0.05 s, completing the hint failed, and
the plan said "no placement was found". The small zone-tight cluster below has the same shape:
a zone fails, the zone left smallest cannot take every replica it must, racks are required."""
from __future__ import annotations

import pytest

from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import Status, Violation
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve import planner, shortfall
from placement.solve.cpsat import SolveOutcome
from placement.solve.greedy import greedy_placement
from placement.solve.leaders import elect_leaders
from placement.solve.planner import PlanOptions, plan_recovery
from tests.zonetight import zone_tight_cluster


def _short_zone_failure(seed: int) -> Scenario:
    doc = zone_tight_cluster(seed, slack=0.6)  # zone d has room for 60% of what it must take
    doc["policy"]["rackAware"] = "required"
    cluster = parse_cluster(doc, f"short-zone-{seed}")
    return Scenario(cluster, resolve_failures(cluster, [], ["zone-a"]))


def _said_no_placement(plan) -> bool:
    return plan.status is Status.INFEASIBLE or any("raise --time-limit" in v.message for v in plan.violations)


def _storage_levels(plan) -> list[dict]:
    return next(stage["levels"] for stage in plan.solver["stages"] if stage["stage"] == "storage and brokers")


def _judged_like_the_checks(scenario: Scenario, plan) -> None:
    assert {(v.invariant, v.subject) for v in plan.violations} == \
        {(v.invariant, v.subject) for v in check_all(scenario, plan.placement)}


def _start_falls_short(scenario: Scenario):
    start = greedy_placement(scenario, spread=True)
    broken = check_all(scenario, elect_leaders(scenario, start, even_out=False))
    assert any(v.invariant in ("I1", "I2") for v in broken), "the case must be one the greedy start cannot survive"
    return start


def _the_start_with_its_bound(scenario: Scenario, start, plan) -> None:
    """The plan's target is the greedy start; its first level counts the start's shortfalls, with
    the LP's bound over every placement, proven only where it meets it; nothing later is proven."""
    for name in scenario.touched_volumes:
        assert sorted(plan.placement.volumes.get(name, ())) == sorted(start.volumes.get(name, ()))
    first, *later = _storage_levels(plan)
    assert first["level"] == "invariants" and first["value"] > 0
    assert first["bound"] == shortfall.major_shortfall_bound(planner._whole_space(scenario))
    assert first["bound"] <= first["value"]
    assert first["proven"] == (first["value"] == first["bound"])
    assert not any(level["proven"] for level in later)
    assert plan.solver["proven"] is False


@pytest.mark.parametrize("seed", (0, 1))
def test_cp_sat_finding_nothing_in_time_returns_the_start_degraded(seed, monkeypatch):
    scenario = _short_zone_failure(seed)
    start = _start_falls_short(scenario)
    asked = []

    def finds_nothing(enc, levels, **kwargs):  # CP-SAT within the limit: not even the hint completed
        asked.append(enc.space.partitions_aggregated)
        return SolveOutcome(solved=False, seconds=kwargs["time_limit"])

    monkeypatch.setattr(planner, "complete_hint", lambda *args, **kwargs: None)
    monkeypatch.setattr(planner, "solve_lexicographic", finds_nothing)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=5))
    assert True in asked, "the storage stage asked CP-SAT"
    assert not _said_no_placement(plan)
    assert plan.status is Status.DEGRADED and plan.violations
    assert plan.steps, "a degraded plan still says how to get to its target"
    _judged_like_the_checks(scenario, plan)
    _the_start_with_its_bound(scenario, start, plan)


@pytest.mark.parametrize("seed", (0, 1))
def test_a_model_too_slow_to_build_in_time_is_not_built(seed, monkeypatch):
    """Where building the model would take more than half the time left (here: any model), the
    start that falls short is the answer at once: no CP-SAT, no encoding of the storage stage."""
    scenario = _short_zone_failure(seed)
    start = _start_falls_short(scenario)
    monkeypatch.setattr(planner, "MODEL_SECONDS_PER_ITEM", 1e6)

    def never(*args, **kwargs):
        raise AssertionError("the storage stage's model was built with no time to build it")

    monkeypatch.setattr(planner, "_solve_in", never)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=60))
    assert not _said_no_placement(plan)
    assert plan.status is Status.DEGRADED
    _judged_like_the_checks(scenario, plan)
    _the_start_with_its_bound(scenario, start, plan)


def test_a_model_that_fits_the_time_left_is_still_solved(monkeypatch):
    """The guard is a time estimate, not a size limit: with the whole limit ahead, the same small
    model is built and CP-SAT improves on the start (never worse than it)."""
    scenario = _short_zone_failure(0)
    start = _start_falls_short(scenario)
    solved = []
    original = planner._solve_in

    def spy(*args, **kwargs):
        outcome = original(*args, **kwargs)
        solved.append(outcome[0])
        return outcome

    monkeypatch.setattr(planner, "_solve_in", spy)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=20))
    assert solved and solved[0].solved
    assert plan.status is Status.DEGRADED
    _judged_like_the_checks(scenario, plan)
    start_short = sum(planner._deficit(v) for v in check_all(scenario, elect_leaders(scenario, start, even_out=False))
                      if v.invariant != "I7")
    assert _storage_levels(plan)[0]["value"] <= start_short


@pytest.mark.parametrize("violation, deficit", [
    (Violation.measured("I1", "volume v keeps 1 of 3 replicas", "volume v", 1, 3), 2),
    (Violation.measured("I2", "volume v spans 2 zones", "volume v", 2, 3), 1),
    (Violation("I3", "broker 4 can run nowhere", "broker 4"), 1),
    (Violation.measured("I5", "node n holds too much", "node n", 120.5, "<= 100"), 1),
])
def test_a_violation_counts_its_shortfall(violation, deficit):
    assert planner._deficit(violation) == deficit


def _deficit_of(scenario: Scenario, target) -> int:
    return sum(planner._deficit(v) for v in check_all(scenario, elect_leaders(scenario, target, even_out=False))
               if v.invariant != "I7")


@pytest.mark.parametrize("seed", range(6))
def test_best_fit_leaves_fewer_shortfalls_where_room_runs_out(seed, monkeypatch):
    """Where the zone left smallest cannot take every replica it must, the greedy start's best-fit
    ways (``greedy.BEST_FITS``) leave fewer shortfalls than the spreading and the roomiest-first
    ways alone (5,000-node zone failures: 528 -> 124 and 3,921 -> 538), never fewer than the LP
    proves unavoidable, and never break capacity to do it."""
    from placement.solve import greedy

    scenario = _short_zone_failure(seed)
    with_best_fit = greedy_placement(scenario, spread=True)
    monkeypatch.setattr(greedy, "BEST_FITS", ())
    without = greedy_placement(scenario, spread=True)
    assert _deficit_of(scenario, with_best_fit) < _deficit_of(scenario, without)
    assert _deficit_of(scenario, with_best_fit) >= shortfall.major_shortfall_bound(planner._whole_space(scenario))
    assert not [v for v in check_all(scenario, with_best_fit) if v.invariant == "I5"]

"""The budget of a search at scale from a start that falls short (``shortfall.degraded_pace(at_scale=True,
start_falls_short=True)``, the planner's deadline and ``scale_model_pairs``): every level of every solve
together gets 10% of --time-limit, the invariants level on a light presolve with no stall rule,
the later levels what the earlier ones left (each stopped after 1 s without improving); below scale, or from
a start that meets every invariant, the rules are those of before. A level stopped early is unproven
and shows its value and the unrestricted bound; the plan is ``degraded``, its claims hold."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import placement
from placement.models.failures import resolve_failures
from placement.models.plan import Status
from placement.scenario import Scenario
from placement.solve import planner, shortfall
from placement.solve.cpsat import LevelResult
from placement.solve.greedy import greedy_placement
from placement.solve.planner import PlanOptions, plan_recovery
from placement.solve.space import Space

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from varied import largest_zone, varied_cluster  # noqa: E402


def _level(name: str, value: int, seconds: float) -> LevelResult:
    return LevelResult(name, value, 0, False, seconds)


def test_the_budget_at_scale_from_a_short_start_is_a_tenth_of_the_limit_over_every_level_and_solve():
    pace = shortfall.degraded_pace(60.0, at_scale=True, start_falls_short=True)
    first = pace("invariants", [], 198, 50.0)
    # the whole budget, no stall rule, no first share; a light presolve
    assert (first.seconds, first.stall, first.after, first.untried, first.light) == (6.0, None, 0.0, 0.0, True)
    assert pace("invariants", [], 0, 4.0).seconds == 4.0  # the planner's deadline, when nearer
    # the later levels: what the levels above left of the same 6 s, each stopped after 1 s without improving
    short = _level("invariants", 1634, 2.5)
    copied = pace("copied", [short], 0, 40.0)
    assert abs(copied.seconds - 3.5) < 1e-9 and copied.stall == 1.0 and not copied.light
    waiting = pace("waiting", [short, _level("copied", 10, 3.0)], 0, 40.0)
    assert abs(waiting.seconds - 0.5) < 1e-9
    assert pace("balance", [short, _level("copied", 10, 3.5)], 0, 40.0).seconds == 0.0
    # a second solve (the re-solve over wider candidates) gets what the first left
    again = pace("invariants", [], 198, 40.0)
    assert again.seconds == 0.0
    # a larger --time-limit searches longer
    long = shortfall.degraded_pace(600.0, at_scale=True, start_falls_short=True)("invariants", [], 198, 590.0)
    assert (long.seconds, long.stall) == (60.0, None)


def test_the_budget_applies_only_at_scale_and_from_a_short_start():
    """Below scale, and at scale from a start that meets every invariant, the rules of before."""
    for pace in (shortfall.degraded_pace(60.0), shortfall.degraded_pace(60.0, start_falls_short=True),
                 shortfall.degraded_pace(60.0, at_scale=True)):
        first = pace("invariants", [], 0, 60.0)
        assert (first.seconds, first.stall, first.after, first.untried, first.light) == (60.0, 3.0, 12.0, 12.0, False)
        later = pace("copied", [_level("invariants", 7, 1.0)], 0, 50.0)
        assert later.seconds == 6.0 and later.stall == 1.0
    met = shortfall.degraded_pace(60.0, at_scale=True, start_falls_short=True)("copied", [_level("invariants", 0, 1.0)],
                                                                              0, 50.0)
    assert met.seconds == 3.0 and met.stall == 1.2  # CP-SAT met every invariant: the feasible pacing at scale


def test_a_model_is_sized_to_its_budget():
    assert shortfall.scale_model_pairs(6.0) == 6 * shortfall.SCALE_PAIRS_PER_SECOND
    assert shortfall.scale_model_pairs(60.0) == 10 * shortfall.scale_model_pairs(6.0)
    assert shortfall.scale_model_pairs(0.1) == shortfall.SCALE_MIN_PAIRS


def _unsurvivable(monkeypatch):
    """A varied 60-node cluster at 85% losing its largest zone (shortfalls are unavoidable), with the
    restriction threshold lowered so that the planner treats it as at scale (as 1,000 nodes are)."""
    monkeypatch.setattr(planner, "FULL_MODEL_LIMIT", 300)
    cluster = varied_cluster(5, nodes=60, brokers=12, volumes=180, partitions=600, fill=0.85)
    return cluster, resolve_failures(cluster, [], [largest_zone(cluster)])


def test_the_windows_shrink_with_the_budget(monkeypatch):
    cluster, failures = _unsurvivable(monkeypatch)
    scenario = Scenario(cluster, failures)
    touched = Space.for_planning(scenario)
    start = greedy_placement(scenario, spread=True)
    small, restricted = planner.decidable(scenario, touched, start, pairs=shortfall.SCALE_MIN_PAIRS // 4)
    large, _ = planner.decidable(scenario, touched, start, pairs=40 * shortfall.SCALE_MIN_PAIRS)
    assert restricted and small.pairs() < large.pairs() <= touched.pairs()
    # each volume keeps what the start gives it, whatever the budget
    assert all(set(start.volumes[v]) <= small.members(nodes) for v, nodes in small.volume_domain.items())


def test_a_degraded_plan_at_scale_searches_a_tenth_of_its_limit_and_says_what_it_did_not_prove(monkeypatch):
    cluster, failures = _unsurvivable(monkeypatch)
    scenario = Scenario(cluster, failures)
    assert planner._start_verdict(scenario, greedy_placement(scenario, spread=True))
    limit = 120
    tick = time.monotonic()
    plan = plan_recovery(cluster, failures, PlanOptions(time_limit=limit, verify_with_z3=False))
    took = time.monotonic() - tick
    assert plan.status is Status.DEGRADED and plan.violations and plan.solver["restrictedCandidates"]
    levels = plan.solver["stages"][0]["levels"]
    assert sum(level["seconds"] for level in levels) <= shortfall.SCALE_SEARCH_SHARE * limit + 0.5
    assert took < 0.2 * limit, took  # the budget, building the models and what follows the search
    first = levels[0]
    assert first["value"] > 0 and first["bound"] <= first["value"]
    # its bound is the unrestricted problem's (each shortfall weighs 1 here: no rebalance)
    assert first["bound"] == shortfall.major_shortfall_bound(planner._whole_space(scenario))
    assert first["proven"] == (first["value"] == first["bound"]) and not plan.solver["proven"]
    assert all(not level["proven"] for level in levels[1:])  # nothing bounds them after a degraded first level
    verdict = placement.verify(cluster, json.loads(json.dumps(plan.to_document())))
    assert verdict.false_claims == () and not verdict.ok

"""The shortfall bound (``placement.solve.shortfall``) against exhaustive brute force, and the pacing of
degraded plans: the bound never exceeds the fewest shortfalls any placement has (over the touched
items and over the unrestricted problem), a shortfall level the planner calls proven is that
minimum, and a degraded plan ends well before a long time limit with a status and gaps that hold."""
from __future__ import annotations

import time

import pytest

import json

import placement
from placement.models.plan import Status
from placement.solve import planner
from placement.solve.planner import PlanOptions, plan_recovery
from placement.solve.shortfall import major_shortfall_bound
from placement.solve.space import Space
from tests.smallworld import (brute_force, brute_force_whole, random_scenario, room_scenario, search_size,
                              whole_search_size)

SIZE_LIMIT = 60_000  # candidate combinations the brute force walks per case


def _cases():
    """Small degraded-prone scenarios: tight random clusters, Kafka-heavy ones (brokers that cannot
    run), and capacity-tight ones; each small enough to walk every placement."""
    out = []
    for seed in range(160):
        for kind, make in (("tight", lambda s: random_scenario(s)),
                           ("kafka", lambda s: random_scenario(s, kafka_heavy=True)),
                           ("room", room_scenario)):
            scenario = make(seed)
            if search_size(scenario) <= SIZE_LIMIT and whole_search_size(scenario) <= SIZE_LIMIT:
                out.append((kind, seed))
    return out


CASES = _cases()


def _scenario(kind: str, seed: int):
    return {"tight": lambda: random_scenario(seed), "kafka": lambda: random_scenario(seed, kafka_heavy=True),
            "room": lambda: room_scenario(seed)}[kind]()


def test_the_cases_cover_what_the_bound_counts():
    """Enough cases, and among them some where the bound proves a shortfall, with zone spread and
    with brokers required on their data, so that the comparison below is not vacuous."""
    assert len(CASES) >= 150
    positive = [(k, s) for k, s in CASES if major_shortfall_bound(Space.for_planning(_scenario(k, s))) > 0]
    assert len(positive) >= 20
    policies = [_scenario(k, s).cluster.policy for k, s in positive]
    assert any(p.zone_spread for p in policies)
    assert any(p.broker_placement.value == "required" for p in policies)


@pytest.mark.parametrize("kind,seed", CASES)
def test_bound_never_exceeds_the_brute_force_minimum(kind, seed):
    scenario = _scenario(kind, seed)
    narrow = brute_force(scenario)
    if narrow is not None:
        assert major_shortfall_bound(Space.for_planning(scenario)) <= narrow[0]
    whole = brute_force_whole(scenario)
    if whole is not None:
        assert major_shortfall_bound(planner._whole_space(scenario)) <= whole[0]


@pytest.mark.parametrize("kind,seed", CASES[::3])
def test_a_proven_shortfall_level_is_the_minimum(kind, seed):
    """Where the plan says its shortfall level is proven, it is the brute-force minimum over the
    unrestricted problem; a plan with shortfalls is degraded."""
    scenario = _scenario(kind, seed)
    whole = brute_force_whole(scenario)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=20, verify_with_z3=False))
    if not plan.solver.get("stages"):
        return
    first = plan.solver["stages"][0]["levels"][0]
    assert first["level"] == "invariants" and first["bound"] <= first["value"]
    if whole is not None:
        assert first["bound"] <= whole[0]
        if first["proven"]:
            assert first["value"] == whole[0]
    if first["value"] > 0:
        assert plan.status is Status.DEGRADED


def _degraded_zone_failure():
    """A 60-node cluster of the second generator at 85% full losing its largest zone: shortfalls are
    unavoidable (more replicas than the zones left can hold)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from varied import largest_zone, varied_cluster

    from placement.models.failures import resolve_failures

    cluster = varied_cluster(5, nodes=60, brokers=12, volumes=180, partitions=600, fill=0.85)
    return cluster, resolve_failures(cluster, [], [largest_zone(cluster)])


@pytest.mark.slow
def test_a_degraded_plan_ends_long_before_a_large_time_limit():
    """The stall rule and the short budget of the levels after a degraded first level: a plan with
    shortfalls under --time-limit 120 ends in a fraction of it, degraded, its gaps true (the claims
    check accepts the document) and the first level's bound proven by the shortfall bound."""
    cluster, failures = _degraded_zone_failure()
    limit = 120
    tick = time.monotonic()
    plan = plan_recovery(cluster, failures, PlanOptions(time_limit=limit, verify_with_z3=False))
    took = time.monotonic() - tick
    assert plan.status is Status.DEGRADED and plan.violations
    first = plan.solver["stages"][0]["levels"][0]
    assert first["value"] > 0 and first["bound"] > 0  # a shortfall is proven unavoidable
    assert first["bound"] <= first["value"]
    assert not plan.solver["proven"] or first["value"] == first["bound"]
    assert took < 0.6 * limit, took  # without the rules: the whole limit
    later = [level for level in plan.solver["stages"][0]["levels"][1:]]
    assert all(not level["proven"] for level in later)  # no bounds after a degraded first level: nothing claimed
    verdict = placement.verify(cluster, json.loads(json.dumps(plan.to_document())))
    assert verdict.false_claims == () and not verdict.ok  # degraded: its violations are the truth


def test_a_survivable_cluster_is_not_degraded_by_the_stall_rule():
    """The same generator at 40% full: every invariant can hold, and the plan meets them all."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from varied import largest_zone, varied_cluster

    from placement.models.failures import resolve_failures

    cluster = varied_cluster(2, nodes=60, brokers=12, volumes=120, partitions=600, fill=0.40)
    failures = resolve_failures(cluster, [], [largest_zone(cluster)])
    plan = plan_recovery(cluster, failures, PlanOptions(time_limit=30, verify_with_z3=False))
    assert plan.status is not Status.DEGRADED, plan.violations
    assert plan.solver["stages"][0]["levels"][0]["value"] == 0


def test_the_stall_rule_gives_cp_sat_a_first_share_while_it_has_not_beaten_the_start():
    """Whatever the shortfall bound, the invariants level is not stopped before 20% of the limit
    while CP-SAT's incumbent is no better than the start it was given; once it is, only the stall
    (and, with a bound of 0, the 20%) count; the later levels of a degraded plan keep their short
    shared budget, with no such wait."""
    from placement.solve.cpsat import LevelResult, _Progress
    from placement.solve.shortfall import degraded_pace

    pace = degraded_pace(60.0)
    proven_short = pace("invariants", [], 5, 60.0)
    assert (proven_short.after, proven_short.untried, proven_short.stall) == (0.0, 12.0, 3.0)
    unproven = pace("invariants", [], 0, 60.0)
    assert (unproven.after, unproven.untried) == (12.0, 12.0)
    later = pace("copied", [LevelResult("invariants", 7, 5, False, 1.0)], 0, 50.0)
    assert later.untried == 0.0 and later.seconds == 6.0 and later.stall == 1.0
    reporter = _Progress("invariants", False, start_value=10)
    assert not reporter.beat_start
    reporter.report(10, 0)  # CP-SAT's first incumbent: the start itself
    assert not reporter.beat_start and reporter.improved is not None
    reporter.report(9, 0)
    assert reporter.beat_start

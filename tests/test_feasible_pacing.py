"""The pacing of plans that meet every invariant at scale (``shortfall.degraded_pace(at_scale=True)``):
the levels after the first share 5% of the time limit, each stopped after max(1 s, 2%) without
improving; below scale, and for the first level, nothing changes. A level stopped this way is
unproven and says so: the plan is ``feasible`` with its gap, never ``optimal``."""
from __future__ import annotations

import json
import time
from types import SimpleNamespace

import placement
from placement.models.plan import Status
from placement.solve import planner, shortfall
from placement.solve.planner import PlanOptions, plan_recovery
from placement.models.failures import resolve_failures
from bench.varied import varied_cluster


def _met(seconds: float = 0.0):
    return SimpleNamespace(name="invariants", value=0, proven=True, seconds=seconds)


def test_levels_after_the_first_are_paced_only_at_scale():
    below = shortfall.degraded_pace(60.0)
    assert below("copied", [_met()], 0, 50.0) is None
    pace = shortfall.degraded_pace(60.0, at_scale=True)
    first = pace("copied", [_met()], 0, 50.0)
    assert first is not None and first.seconds == 3.0 and first.stall == 1.2
    # the share is spent across levels: a second level gets what the first left
    used = SimpleNamespace(name="copied", value=5, proven=False, seconds=2.5)
    second = pace("untouched", [_met(), used], 0, 40.0)
    assert abs(second.seconds - 0.5) < 1e-9
    # a longer --time-limit searches longer
    assert shortfall.degraded_pace(600.0, at_scale=True)("copied", [_met()], 0, 500.0).seconds == 30.0


def test_a_restricted_plan_ends_long_before_a_large_time_limit_with_true_gaps(monkeypatch):
    """A varied cluster losing a zone, its space forced to be restricted (as at 1,000 nodes): the
    plan meets every invariant, ends in a fraction of --time-limit 120, and a level not proven says
    so (the claims check accepts the document)."""
    monkeypatch.setattr(planner, "FULL_MODEL_LIMIT", 300)
    cluster = varied_cluster(1, nodes=60, brokers=12, volumes=180, partitions=600, fill=0.45)
    zone = sorted({n.zone for n in cluster.nodes})[0]
    failures = resolve_failures(cluster, fail_zones=[zone])
    tick = time.monotonic()
    plan = plan_recovery(cluster, failures, PlanOptions(time_limit=120, verify_with_z3=False))
    took = time.monotonic() - tick
    assert plan.solver["restrictedCandidates"] and plan.status is Status.FEASIBLE and not plan.violations
    assert took < 0.25 * 120, took  # without the pacing: the whole limit
    levels = plan.solver["stages"][0]["levels"]
    assert levels[0]["proven"] and any(not level["proven"] for level in levels[1:])
    assert sum(level["seconds"] for level in levels[1:]) <= 0.05 * 120 + 1.0  # the shared share, and one stall's slack
    verdict = placement.verify(cluster, json.loads(json.dumps(plan.to_document())))
    assert verdict.false_claims == ()


def test_at_scale_a_valid_start_is_the_answer_where_its_model_would_take_the_search_share(monkeypatch):
    """At scale, a greedy start that meets every invariant: a model is built only where building it
    takes at most half of the search's share (``FEASIBLE_SHARE`` of --time-limit); otherwise the
    start is the plan, ``feasible`` with its gaps (claims accepted). Where it is built (here: the
    real building time) CP-SAT searches, and its answer is no worse than the start."""
    monkeypatch.setattr(planner, "FULL_MODEL_LIMIT", 300)
    cluster = varied_cluster(3, nodes=60, brokers=12, volumes=180, partitions=600, fill=0.3)  # a valid greedy start
    zone = sorted({n.zone for n in cluster.nodes})[0]
    failures = resolve_failures(cluster, fail_zones=[zone])
    budgets, solves = [], []
    real_worth, real_solve_in = planner._worth_building, planner._solve_in

    def worth(scenario, space, deadline):
        budgets.append(deadline - time.monotonic())
        return real_worth(scenario, space, deadline)
    monkeypatch.setattr(planner, "_worth_building", worth)
    monkeypatch.setattr(planner, "_solve_in", lambda *a, **k: solves.append(1) or real_solve_in(*a, **k))
    monkeypatch.setattr(planner, "MODEL_SECONDS_PER_ITEM", 1.0)  # every model takes far too long to build
    plan = plan_recovery(cluster, failures, PlanOptions(time_limit=20, verify_with_z3=False))
    assert plan.status is Status.FEASIBLE and not plan.violations
    assert budgets and budgets[0] <= shortfall.FEASIBLE_SHARE * 20 + 1e-6  # judged against the share, not the limit
    assert solves == []  # the start is the answer: no model built
    levels = plan.solver["stages"][0]["levels"]
    assert levels[0]["proven"] and any(not level["proven"] for level in levels[1:])
    assert placement.verify(cluster, json.loads(json.dumps(plan.to_document()))).false_claims == ()
    monkeypatch.setattr(planner, "MODEL_SECONDS_PER_ITEM", real_model_seconds)
    searched = plan_recovery(cluster, failures, PlanOptions(time_limit=20, verify_with_z3=False))
    assert solves, "a model quick to build is built and searched"
    assert searched.status in (Status.FEASIBLE, Status.OPTIMAL) and not searched.violations
    assert [level["value"] for level in searched.solver["stages"][0]["levels"]] <= [level["value"] for level in levels]


real_model_seconds = planner.MODEL_SECONDS_PER_ITEM

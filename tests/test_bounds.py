"""The lower bounds of the unrestricted problem (placement.solve.bounds) never exceed the brute
force's optimum, the knapsack is exact, and the making-room space (what the planner decides on
clusters too large to decide whole) is judged honestly against them."""
from __future__ import annotations

import random
from itertools import combinations

import pytest

from placement.models.plan import Status
from placement.solve import planner
from placement.solve.bounds import _cheapest_set, _Item, unrestricted_lower_bounds
from placement.solve.metrics import copied_mib
from placement.solve.planner import PlanOptions, plan_recovery
from tests.smallworld import (brute_force_whole, disturbed, only_room_helps, operation_scenario, random_scenario,
                              room_scenario, whole_search_size)


@pytest.mark.parametrize("seed", range(300))
def test_knapsack_is_exact(seed):
    rng = random.Random(seed)
    items = [_Item(rng.choice([50, 100, 150, 300]) * 1024, rng.choice([0, 10, 40, 100]) * 1024, rng.choice([0, 1]))
             for _ in range(rng.randint(1, 7))]
    excess = rng.randint(1, sum(i.size for i in items))
    best = min((sum(items[i].copy for i in s), sum(items[i].disturbs for i in s))
               for k in range(len(items) + 1) for s in combinations(range(len(items)), k)
               if sum(items[i].size for i in s) >= excess)
    copy, fewest, chosen = _cheapest_set(items, excess)
    assert (copy, fewest) == best
    assert sum(items[i].size for i in chosen) >= excess
    assert (sum(items[i].copy for i in chosen), sum(items[i].disturbs for i in chosen)) == best


def _scenarios():
    for seed in range(120):
        yield "random", seed
    for kind in ("drain", "rebalance", "return", "imperfect"):
        for seed in range(120):
            yield kind, seed


@pytest.mark.parametrize("kind,seed", list(_scenarios()))
def test_bounds_never_exceed_the_optimum(kind, seed):
    scenario = random_scenario(seed) if kind == "random" else operation_scenario(seed, kind)
    if whole_search_size(scenario) > 2_000_000:
        pytest.skip("too large for the brute force")
    shortfall, copied, moved = brute_force_whole(scenario)
    bounds = unrestricted_lower_bounds(scenario)
    if shortfall:
        return  # the bounds hold only where every invariant can be met
    assert bounds.copied <= copied
    assert bounds.untouched <= moved
    if bounds.copied == copied:
        assert bounds.untouched_at_copied <= moved


@pytest.mark.parametrize("seed", range(200))
def test_over_full_starts_shed_exactly_the_bound(seed):
    """A start over its storage is planned optimal where the brute force meets every invariant, the
    greedy start shedding the knapsack's choice."""
    scenario = operation_scenario(seed, "rebalance")
    if not scenario.over_limit_nodes or whole_search_size(scenario) > 2_000_000:
        pytest.skip("nothing over the limit, or too large")
    shortfall, copied, _ = brute_force_whole(scenario)
    if shortfall:
        pytest.skip("no placement meets every invariant")
    assert unrestricted_lower_bounds(scenario).copied <= copied


def test_the_making_room_space_is_judged_against_the_bounds(monkeypatch):
    """Where the cluster is too large to decide whole, the planner decides the healthy items that
    could make room: on the tight clusters where only that helps, it meets every invariant in most
    cases, never claims optimal unless it copies what the brute force does, and says feasible (with
    its gap) otherwise."""
    monkeypatch.setattr(planner, "WHOLE_SPACE_LIMIT", 0)
    seeds = [s for s in range(400) if only_room_helps(room_scenario(s))]
    met = 0
    for seed in seeds:
        scenario = room_scenario(seed)
        plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=20))
        assert plan.solver["decided"] in ("making room", "touched")
        storage_levels = plan.solver["stages"][0]["levels"]
        if storage_levels[0]["value"] == 0:
            met += 1
            _, copied, moved = brute_force_whole(scenario)
            if plan.solver["proven"]:
                assert copied_mib(scenario, plan.placement) == copied
                assert disturbed(scenario, plan.placement) == moved
            else:
                assert plan.status in (Status.FEASIBLE, Status.DEGRADED)
                assert any(not lv["proven"] for lv in storage_levels)
    assert len(seeds) >= 15 and met >= 0.8 * len(seeds)


@pytest.mark.parametrize("seed", range(200))
def test_one_node_each_matching_is_maximal(seed):
    """The greedy start's matching finds a node for every item exactly when one exists."""
    from itertools import permutations

    from placement.solve.greedy import _match_one_each

    rng = random.Random(seed)
    nodes = [f"n{i}" for i in range(rng.randint(1, 5))]
    options = [rng.sample(nodes, rng.randint(0, len(nodes))) for _ in range(rng.randint(1, 4))]
    exists = any(all(p[i] in options[i] for i in range(len(options)))
                 for p in permutations(nodes, len(options))) if len(options) <= len(nodes) else False
    owner = _match_one_each(options)
    assert (owner is not None) == exists
    if owner is not None:
        assert sorted(owner.values()) == list(range(len(options)))
        assert all(node in options[item] for node, item in owner.items())

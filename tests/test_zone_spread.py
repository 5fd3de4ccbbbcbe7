"""Zone spread when the largest of unequal zones fails and the smallest is tight (a stranger's
1,000-node files: the planner answered ``degraded`` with I2 violations where a 110-line greedy
found a target meeting every invariant).

- the greedy start places the replicas whose zone is forced first, largest first, and meets
  every invariant where the earlier order did not (``tests.zonetight`` seeds checked below);
- the planner finds a valid target on those clusters, also with its candidates restricted and
  from a start that leaves volumes short: the short volumes get every node of the zones they
  lack before a shortfall is the answer, and a shortfall from a space that still excludes a fix
  says so in the plan;
- on small worlds, against brute force over the unrestricted problem: whenever a target meeting
  every invariant exists, the planner (default options) does not answer ``degraded``."""
from __future__ import annotations

import pytest

from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import Placement, Status
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve import planner
from placement.solve.greedy import greedy_placement
from placement.solve.leaders import elect_leaders
from placement.solve.planner import PlanOptions, plan_recovery
from placement.solve.space import Space, widening_for_short
from tests.smallworld import brute_force_whole, random_scenario, room_scenario, whole_search_size
from tests.zonetight import zone_tight_cluster

# seeds whose greedy start used to leave some volume short of zones (the earlier order: 1 to 2 I2
# each), and that a simple greedy -- the forced replicas first, largest first -- places in full
TIGHT = (3, 4, 5, 6, 7, 8)


def _zone_a_fails(seed: int) -> Scenario:
    cluster = parse_cluster(zone_tight_cluster(seed))
    return Scenario(cluster, resolve_failures(cluster, fail_zones=["zone-a"]))


def _short_of_zones(scenario: Scenario, placement: Placement) -> list[str]:
    zone = {n.name: n.zone for n in scenario.cluster.nodes}
    return [v.name for v in scenario.cluster.volumes if scenario.has_data(v.name)
            and len({zone[n] for n in placement.volumes.get(v.name, ())}) < scenario.zones_needed(v)]


@pytest.mark.parametrize("seed", TIGHT)
def test_the_greedy_start_meets_zone_spread_on_a_tight_small_zone(seed):
    scenario = _zone_a_fails(seed)
    start = greedy_placement(scenario, spread=True)
    assert not check_all(scenario, elect_leaders(scenario, start, even_out=False))
    # the pattern: every touched volume needs zone d, and d has little room to spare
    zone = {n.name: n.zone for n in scenario.cluster.nodes}
    forced = [name for name in scenario.touched_volumes
              if "zone-d" not in {zone[n] for n in scenario.survivors(name)}]
    assert len(forced) >= 10
    room = sum(scenario.storage_limit_mib(n.name) - scenario.start_storage_mib[n.name]
               for n in scenario.cluster.nodes if n.zone == "zone-d")
    need = sum(scenario.cluster.volume[name].size_mib for name in forced)
    assert need <= room < 1.1 * need


@pytest.mark.parametrize("seed", TIGHT[:3])
def test_the_planner_finds_the_valid_target(seed):
    scenario = _zone_a_fails(seed)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=20, verify_with_z3=False))
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert not plan.violations and not check_all(scenario, plan.placement)


def _restricted(monkeypatch):
    """A cluster this small decided as a large one is: restricted candidates (a few nodes per zone)."""
    monkeypatch.setattr(planner, "WHOLE_SPACE_LIMIT", 0)
    monkeypatch.setattr(planner, "FULL_MODEL_LIMIT", 100)
    monkeypatch.setattr(planner, "MIN_CANDIDATES_PER_ZONE", 1)


# a larger tight zone d (8 nodes): windows of a node or two per zone miss the ones a volume needs;
# seed 2's restricted space without the widening answered degraded (1 I2), with it meets every invariant
WIDE_ZONES = {"zone-a": 16, "zone-b": 12, "zone-c": 10, "zone-d": 8}


def test_restricted_candidates_from_a_short_start_still_find_the_valid_target(monkeypatch):
    """The start keeps only the surviving replicas (every touched volume short of a zone): the
    windows alone miss nodes of zone d some volume needs; the short volumes get them all."""
    _restricted(monkeypatch)
    cluster = parse_cluster(zone_tight_cluster(2, 1.05, WIDE_ZONES, 120))
    scenario = Scenario(cluster, resolve_failures(cluster, fail_zones=["zone-a"]))
    current = Placement.current(cluster)
    start = Placement(brokers=current.brokers, partitions=current.partitions,
                      volumes={name: tuple(n for n in nodes if scenario.is_alive(n))
                               for name, nodes in current.volumes.items()})
    # 20 s, not 6: on 2 cores loaded 13-15 a 6 s limit left CP-SAT too little to find the valid
    # target (degraded on main as well); the search ends in about 5 s once it has it
    plan = plan_recovery(cluster, scenario.failures, PlanOptions(time_limit=20, verify_with_z3=False), start=start)
    assert plan.solver["restrictedCandidates"] is True
    assert plan.solver.get("widenedCandidates", 0) > 0
    assert plan.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert not plan.violations and not check_all(scenario, plan.placement)


def test_the_widening_gives_a_short_volume_every_node_of_the_zones_it_lacks(monkeypatch):
    _restricted(monkeypatch)
    scenario = _zone_a_fails(TIGHT[0])
    space, restricted = planner.decidable(scenario, Space.for_planning(scenario), greedy_placement(scenario))
    assert restricted
    short_start = Placement.current(scenario.cluster)  # zone a's replicas: not in the space, so no zone
    zone_d = [n.name for n in scenario.cluster.nodes if n.zone == "zone-d"]
    widen, left_out = widening_for_short(scenario, space, short_start, budget=10**6)
    assert left_out == 0 and widen
    for name, extra in widen.items():
        domain = set(space.volume_domain[name])
        assert set(extra) == {n for n in zone_d if n not in domain} or "zone-d" in {
            scenario.cluster.node[n].zone for n in scenario.survivors(name)}
    wider, _ = planner.decidable(scenario, Space.for_planning(scenario), greedy_placement(scenario), widen)
    zone = {n.name: n.zone for n in scenario.cluster.nodes}
    for name in widen:
        lacking = {"zone-b", "zone-c", "zone-d"} - {zone[n] for n in scenario.survivors(name)}
        assert {n for n in wider.volume_domain[name] if zone[n] in lacking} == \
            {n.name for n in scenario.cluster.nodes if n.zone in lacking}
    # with no budget, nothing is added, and every short volume whose fix is excluded is counted
    none, counted = widening_for_short(scenario, space, short_start, budget=0)
    assert none == {} and counted == len(widen)


# Small worlds: the planner with its default options against exhaustive search of the whole problem.
SIZE_LIMIT = 200_000
WORLDS = [("room", s) for s in range(0, 120, 3) if not room_scenario(s).lost_volumes] + \
         [("random", s) for s in range(200) if not random_scenario(s).lost_volumes
          and whole_search_size(random_scenario(s)) <= SIZE_LIMIT][:30]


@pytest.mark.slow
@pytest.mark.parametrize("kind,seed", WORLDS)
def test_never_degraded_where_a_valid_target_exists(kind, seed):
    scenario = room_scenario(seed) if kind == "room" else random_scenario(seed)
    best = brute_force_whole(scenario)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=20, verify_with_z3=False))
    if best is not None and best[0] == 0:
        assert plan.status is not Status.DEGRADED, plan.violations
        assert not check_all(scenario, plan.placement)
    else:
        assert plan.status is Status.DEGRADED

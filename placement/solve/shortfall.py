"""A proven lower bound on the invariants level: the fewest shortfalls any placement of a space has.

The first level of the storage-and-brokers stage minimises the weighted sum of the shortfall
variables the rules create (``CpEncoding.invariant_terms``): ``W * major + minor``, where each
minor shortfall (a rebalance's storage limit, at most 1 each) weighs 1 and every other one weighs
``W = 1 + (sum of the minor ones' upper bounds)``. Since ``minor >= 0``, ``W * L`` bounds the
level wherever ``L`` bounds ``major``; ``L`` counts only shortfalls it can prove, each kind from
its own variables (so the parts add up):

- I1 (``short = RF - replicas``) and I2 (``short >= zones needed - zones covered``), per decided
  volume with data. A replica of volume v may sit on node n only where n is a candidate, may hold
  it (``Scenario.may_hold_replica``) and has room for it beside what the space does not decide
  (``room(n) = max(storage limit, physical storage) - fixed storage``: I5 caps the decided
  replicas there at that, the physical storage being the most a minor shortfall allows). Call
  those nodes ``D(v)``. The fewest shortfalls are at least the optimum of this linear relaxation,
  over zones z (every placement gives a feasible point: ``x[v,z]`` its replicas of v in zone z,
  ``c[v,z] = 1`` where it covers z):

      minimise  sum_v (RF_v - sum_z x[v,z]) + s[v]
      s[v] >= needed_v - sum_z c[v,z],  s[v] >= 0,   0 <= c[v,z] <= 1,  c[v,z] <= x[v,z]
      sum_z x[v,z] <= RF_v,   x[v,z] <= |D(v) in z|           (a node holds one replica of v)
      sum_v size_v x[v,z] <= sum of room(n) over z's candidate nodes            (capacity)
      for thresholds t: the replicas of size >= t fit only on nodes with room >= t:
          sum_{size_v >= t} size_v x[v,z] <= sum_{room(n) >= t} room(n)
          sum_{size_v >= t} x[v,z]        <= sum_n floor(room(n) / t)

  (``x = c + e``, ``c`` in [0, 1], makes ``c <= x`` implicit.) Its optimum, rounded up (a small
  margin first, for the LP's tolerances), bounds the integer sum of I1 and I2 shortfalls.
- I3, per decided broker that is not retired (``short = 1 - runs``): 1 where it can run nowhere --
  no candidate node, or (``brokerPlacement: required``) no candidate node that could hold a
  replica of each of its volumes (in ``D(v)`` for a decided volume, holding one for a fixed one).

Nothing else is counted (partition shortfalls, a fixed broker's replica, minor ones: each >= 0).
The LP has O(V Z) variables and constraints (V decided volumes, Z zones) and is solved by GLOP
(milliseconds to a fraction of a second at 3,000 volumes); the rest is O(N + V R + B) plus each
volume's candidates where they are not the shared open nodes (a restricted space: k per zone).
Tested against exhaustive search on small clusters (tests/test_shortfall_bound.py).
"""
from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict

from placement.models.cluster import NodeState

THRESHOLD_QUANTILES = (0.5, 0.75, 0.9, 0.97, 1.0)  # sizes of the decided volumes where capacity is split


def room_of(space) -> dict[str, int]:
    """Node -> storage its decided replicas may take at most (see the module's docstring)."""
    scenario = space.scenario
    fixed = space.fixed_load
    return {n.name: max(0, max(scenario.storage_limit_mib(n.name), n.storage_mib) - fixed[n.name].storage_mib)
            for n in scenario.cluster.nodes}


def major_shortfall_bound(space) -> int:
    """A lower bound on the (unweighted) count of non-minor shortfalls of every placement of ``space``."""
    scenario = space.scenario
    cluster = scenario.cluster
    room = room_of(space)
    zone_of = {n.name: n.zone for n in cluster.nodes}
    by_domain: dict[int, tuple[dict[str, list[int]], list[str]]] = {}
    seen_domains: dict[int, tuple[str, ...]] = {}

    def shape(nodes: tuple[str, ...]):
        """(zone -> sorted rooms of the domain's READY candidates, the other candidates) per domain."""
        key = id(nodes)
        if key not in by_domain:
            rooms: dict[str, list[int]] = defaultdict(list)
            others = []
            for n in nodes:
                node = cluster.node[n]
                if node.state is NodeState.READY and node.is_storage and scenario.is_alive(n) \
                        and not scenario.is_drained(n):
                    rooms[zone_of[n]].append(room[n])
                else:
                    others.append(n)
            for values in rooms.values():
                values.sort()
            by_domain[key] = (rooms, others)
            seen_domains[key] = nodes
        return by_domain[key]

    volumes = []  # (name, size, rf, needed, zone -> nodes of D(v) there)
    for v, nodes in space.decided_volumes_with_data():
        rooms, others = shape(nodes)
        fits = {z: len(values) - bisect_left(values, v.size_mib) for z, values in rooms.items()}
        for n in others:
            if scenario.may_hold_replica(v, n) and room[n] >= v.size_mib:
                fits[zone_of[n]] = fits.get(zone_of[n], 0) + 1
        fits = {z: k for z, k in fits.items() if k > 0}
        volumes.append((v.name, v.size_mib, v.replication_factor, scenario.zones_needed(v), fits))
    bound = _volumes_bound(volumes, _zone_rooms(seen_domains.values(), room, zone_of))
    return bound + _brokers_that_cannot_run(space, room)


def weight(enc) -> int:
    """What one non-minor shortfall weighs in the encoding's invariants level (``invariant_terms``)."""
    return 1 + sum(upper for _, _, upper in enc.minor_shortfalls)


def weighted_bound(enc) -> int:
    """The bound on the invariants level of an encoding (its terms weighted as ``invariant_terms``)."""
    return weight(enc) * major_shortfall_bound(enc.space)


def _zone_rooms(domains, room: dict[str, int], zone_of: dict[str, str]) -> dict[str, list[int]]:
    """Zone -> rooms of the nodes some decided volume may use (each node once)."""
    nodes: set[str] = set()
    for domain in domains:
        nodes.update(domain)
    rooms: dict[str, list[int]] = defaultdict(list)
    for n in sorted(nodes):
        rooms[zone_of[n]].append(room[n])
    return rooms


def _volumes_bound(volumes, zone_rooms: dict[str, list[int]]) -> int:
    """The I1 + I2 part: the LP of the module's docstring, rounded up (0 when nothing can fall short)."""
    if not volumes:
        return 0
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    # sizes as fractions of the largest: better numbers (1 when every volume is empty: nothing to scale)
    scale = max(size for _, size, _, _, _ in volumes) or 1
    objective = solver.Objective()
    in_zone: dict[str, list[tuple[float, int, object]]] = defaultdict(list)  # zone -> (size, MiB, x-part)
    # Volumes alike (size, RF, zones needed, nodes per zone) share one set of variables, each bound
    # times their count m: the LP's optimum is the same (a solution of the aggregate split evenly is
    # one of the original, and summing one of the original gives one of the aggregate), and a zone
    # failure at 5,000 nodes has tens of kinds instead of 16,000 volumes (12 s of GLOP to milliseconds).
    kinds: dict[tuple, int] = defaultdict(int)
    for _, size, rf, needed, fits in volumes:
        kinds[size, rf, needed, tuple(sorted(fits.items()))] += 1
    for (size, rf, needed, fits), m in sorted(kinds.items()):
        total = solver.Constraint(-solver.infinity(), m * rf)  # sum_z x[v,z] <= RF
        spread = solver.Constraint(m * needed, solver.infinity()) if needed else None  # s + sum_z c >= needed
        if spread is not None:
            s = solver.NumVar(0, m * needed, "")
            spread.SetCoefficient(s, 1)
            objective.SetCoefficient(s, 1)
        for z, k in fits:
            c = solver.NumVar(0, m, "")
            parts = [c]
            if min(rf, k) > 1:
                parts.append(solver.NumVar(0, m * (min(rf, k) - 1), ""))
            for var in parts:
                total.SetCoefficient(var, 1)
                objective.SetCoefficient(var, -1)
                in_zone[z].append((size / scale, size, var))
            if spread is not None:
                spread.SetCoefficient(c, 1)
    for z, items in in_zone.items():
        rooms = sorted(zone_rooms.get(z, ()))
        sizes = sorted({size for _, size, _ in items})
        thresholds = sorted({sizes[0]} | {sizes[min(len(sizes) - 1, int(q * (len(sizes) - 1)))]
                                          for q in THRESHOLD_QUANTILES})
        for t in thresholds:
            held = [r for r in rooms if r >= t]
            big = [(w, var) for w, size, var in items if size >= t]
            if not big:
                continue
            capacity = solver.Constraint(-solver.infinity(), sum(held) / scale)
            for w, var in big:
                capacity.SetCoefficient(var, w)
            if t > 0:  # empty volumes (size 0) fit any number to a node: no count to bound
                count = solver.Constraint(-solver.infinity(), sum(r // t for r in held))
                for _, var in big:
                    count.SetCoefficient(var, 1)
    objective.SetMinimization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return 0  # no proof: no bound
    value = sum(rf for _, _, rf, _, _ in volumes) + objective.Value()  # the objective leaves out sum_v RF_v
    return max(0, math.ceil(value - 1e-4 * max(1.0, abs(value)) - 1e-3))


def _brokers_that_cannot_run(space, room: dict[str, int]) -> int:
    """Decided brokers that are not retired and have no node to run on (I3: each one shortfall)."""
    scenario = space.scenario
    cluster = scenario.cluster
    count = 0
    for bid, nodes in space.broker_domain.items():
        if scenario.is_removed(bid):
            continue
        b = cluster.broker[bid]
        hyperconverged = scenario.hyperconverged
        # one host is enough: stop at the first (every host of every broker took 2 s at 5,000 nodes)
        count += not any(scenario.may_host_broker(b, n) and
                         (not hyperconverged or all(_may_hold(space, room, v, n) for v in b.volumes))
                         for n in nodes)
    return count


def _may_hold(space, room: dict[str, int], volume: str, node: str) -> bool:
    """Some placement of the space has a replica of the volume on the node."""
    scenario = space.scenario
    if volume not in space.volume_domain:
        return space.fixed_volume_count(volume, node) > 0
    v = scenario.cluster.volume[volume]
    return scenario.has_data(volume) and node in space.members(space.volume_domain[volume]) \
        and scenario.may_hold_replica(v, node) and room[node] >= v.size_mib


# -- the pacing of a degraded solve ------------------------------------------------------------
# A level whose bound cannot be met has no proof to wait for: CP-SAT would search it until the time
# limit. These shares of ``--time-limit`` end such a solve in seconds, claiming nothing it did not prove.
STALL_SHARE, MIN_STALL = 0.05, 1.0  # the invariants level stops after this long without improving
SEARCH_SHARE = 0.2  # ... but only after this share of the limit where no shortfall is proven unavoidable
#                     or while CP-SAT has not beaten its start
LATER_SHARE = 0.1  # the levels after a first level with shortfalls, together (no bounds: nothing to prove)
# At scale (candidates restricted), a level that meets every invariant but not its bound is rarely
# proven within the limit (the restricted model cannot reach the unrestricted bound it is judged by):
# CP-SAT's late gains there were 0.01-0.1% of the copied data after 40 s. Those levels share this
# much of the limit, each stopped after ``FEASIBLE_STALL_SHARE`` of it without improving.
FEASIBLE_SHARE = 0.05
FEASIBLE_STALL_SHARE = 0.02
# At scale from a start that falls short (a zone of 1,000 nodes that cannot be fully survived), the
# search is a small share of the limit: everything the storage stage does after the greedy start --
# each model built, its hint completed, every level solved, a re-solve over wider candidates --
# ends within ``SCALE_SEARCH_SHARE`` of it (``scale_search_seconds``; the planner's deadline), and
# each model is sized to that budget (``scale_model_pairs``). Measured before this rule on seven
# such 1,000-node zone failures (clean-room and varied clusters): 20-40 s of CP-SAT per plan, of
# which presolve took most, never improved the greedy start's shortfall.
SCALE_SEARCH_SHARE = 0.1  # the invariants level may search all of it: no stall rule within so small a
#                           budget (CP-SAT's first gain on a varied cluster came 23 s into its search)
# A model's candidate pairs per second of the budget: its windows take a quarter, its widenings half;
# each volume's own replicas, its start and at least one window node and one emptiest node per zone
# come on top. At the default limit (6 s) the windows are at that minimum on the 1,000-node zone
# failures measured: 24,000-45,000 pairs, 2-4 s of CPU to build, complete the hint and presolve;
# --time-limit 600 (60 s): windows of about 15 nodes per zone.
SCALE_PAIRS_PER_SECOND = 4_000
SCALE_MIN_PAIRS = 12_000  # the least a model gets (a short --time-limit): room to widen a hundred short volumes


def scale_search_seconds(time_limit: float) -> float:
    """The storage stage's whole search after a start that falls short, at scale: a share of the limit."""
    return SCALE_SEARCH_SHARE * time_limit


def scale_model_pairs(seconds: float) -> int:
    """The candidate pairs (volume-node and broker-node) a model built within ``seconds`` of that
    budget may have: proportional to it, so a larger ``--time-limit`` searches a wider space longer."""
    return max(SCALE_MIN_PAIRS, int(SCALE_PAIRS_PER_SECOND * seconds))


def degraded_pace(time_limit: float, at_scale: bool = False, start_falls_short: bool = False):
    """The pacing (``cpsat.solve_lexicographic``'s ``pacing``) of a storage-and-brokers solve.

    Not at scale (every candidate decided):

    - the invariants level, once it has an incumbent above its lower bound: stopped when CP-SAT has
      not improved it for ``max(1 s, 5%)`` of the time limit (the stall rule), but never before 20% of
      the limit has passed when that bound is 0 (nothing proves that a shortfall is unavoidable, and
      a longer search may still meet every invariant), nor, whatever the bound, while its incumbent
      is still no better than the start it was given (the greedy start: CP-SAT has its fair first
      share of the search before the start is the answer); an incumbent at the bound stops it at once;
    - the levels after a first level that is not 0 (a degraded plan: they have no lower bounds):
      10% of the time limit together -- over every solve this pacing serves (the planner shares
      one between the touched items and the wider spaces that make room) -- each level also
      stopped by the stall rule (1 s);
    - with no shortfall, the time limit alone (None).

    ``at_scale`` (a space too large to decide at once, whose candidates are restricted):

    - a start that falls short (``start_falls_short``: the greedy start breaks an invariant):
      every level of every solve together searches at most 10% of the time limit
      (``SCALE_SEARCH_SHARE``; the planner also ends its models' building and re-solves by then,
      and sizes each model to that budget: ``scale_model_pairs``), with no first share: the
      invariants level, on a light presolve (``Pace.light``: the full one of a large model would
      take the whole budget), may search all of the budget (no stall rule: within a tenth of the
      limit it would only cut short what a larger limit asks for), each later level what the
      levels above left of it, stopped after 1 s without improving;
    - a plan that meets every invariant: the levels after the first share 5% of the time limit
      over every solve, each stopped once CP-SAT has not improved it for ``max(1 s, 2%)`` of the
      limit (such a level ends ``feasible`` with its value and bound); the planner builds no model
      where building it would take more than half of that 5% (``planner._worth_building``): a
      greedy start meeting every invariant is then the plan, ``feasible`` with its gaps.

    A level stopped this way is unproven and shows its value and CP-SAT's bound, so the plan's gaps
    stay true; a plan with shortfalls is ``degraded`` and claims no optimality; a larger
    ``--time-limit`` searches longer. A level whose incumbent meets its bound is still proven at once."""
    from placement.solve.cpsat import Pace

    budgeted = at_scale and start_falls_short
    stall = max(MIN_STALL, STALL_SHARE * time_limit)
    # seconds of later levels in earlier solves and in this one; of every level of earlier solves and
    # of this one (as far as seen: a solve's last level is known to the planner's deadline only)
    spent = {"before": 0.0, "this": 0.0, "searched": 0.0, "all": 0.0}

    def pace(name: str, above, lower_bound, remaining: float):
        if not above:  # the invariants level: a new solve
            spent["before"] += spent["this"]
            spent["searched"] += spent["all"]
            spent["this"] = spent["all"] = 0.0
            if budgeted:
                return Pace(min(remaining, max(0.0, scale_search_seconds(time_limit) - spent["searched"])),
                            light=True)
            return Pace(remaining, stall, 0.0 if lower_bound else SEARCH_SHARE * time_limit,
                        untried=SEARCH_SHARE * time_limit)
        spent["this"] = sum(level.seconds for level in above[1:])
        spent["all"] = sum(level.seconds for level in above)
        if above[0].value == 0:
            if not at_scale:
                return None
            feasible_stall = max(MIN_STALL, FEASIBLE_STALL_SHARE * time_limit)
            return Pace(max(0.0, FEASIBLE_SHARE * time_limit - spent["before"] - spent["this"]), feasible_stall)
        if budgeted:
            return Pace(max(0.0, scale_search_seconds(time_limit) - spent["searched"] - spent["all"]), MIN_STALL)
        return Pace(max(0.0, LATER_SHARE * time_limit - spent["before"] - spent["this"]), MIN_STALL)

    return pace

"""The planner's objective, in priority order (DESIGN.md "Planning semantics").

Each ``Level`` is a list of (coefficient, term) pairs, minimised in turn and
fixed before the next, with a proven lower bound where one is known:

1. invariants   meet every invariant; where impossible, the fewest shortfalls
                (missing replicas, zones, brokers not running, partition replicas)
2. copied       the least data copied over the network (MiB)
3. untouched    move nothing healthy: keep surviving replicas and healthy brokers
4. waiting      displaced brokers serve soonest: on a node that already holds a
                surviving replica of each of their volumes
5. racks        rack awareness (``rackAware: preferred``)
6. balance      spread new replicas over nodes (storage-and-brokers stage: min-max
                of counts) and partition replicas over brokers within each rack
                (partitions stage: the sum over racks of most - fewest). Bytes are
                evened only as a tie-break of the partitions stage's start
                (byte-weighted min-max stalls proofs); leaders are spread
                afterwards (placement.solve.leaders), moving no data.

The planner solves in two stages, named by what they decide: the storage-and-
brokers stage (``storage_and_brokers_levels``: volume replicas and where brokers
run, partitions judged in aggregate) and the partitions stage
(``partitions_levels``: which brokers take the partition replicas of brokers that
do not run).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from placement.rules import kafka

STORAGE_AND_BROKERS = "storage and brokers"
PARTITIONS = "partitions"

LowerBound = int | Callable[[Sequence[Any]], int] | None


@dataclass(frozen=True)
class Level:
    """One objective level: minimise the sum of coefficient * term, once the levels above are fixed."""

    name: str
    terms: list[tuple[int, Any]]
    # a proven lower bound on the level's value; a callable receives the results of the levels
    # above, for bounds that hold only given them (most hold once every invariant is met)
    lower_bound: LowerBound = None

    def bound_given(self, above: Sequence[Any]) -> int | None:
        return self.lower_bound(above) if callable(self.lower_bound) else self.lower_bound


def _invariants_met(above: Sequence[Any]) -> bool:
    """The first level (the shortfalls) was proven to be zero: every invariant holds."""
    return bool(above) and above[0].proven and above[0].value == 0


def storage_and_brokers_levels(enc, lower_bounds: dict | None = None) -> list[Level]:
    """The storage-and-brokers stage's levels; ``lower_bounds`` are proven lower bounds
    (see ``unrestricted_lower_bounds``), valid once every invariant is met."""
    space = enc.space
    scenario = space.scenario
    cluster = scenario.cluster
    copied, kept, new_at = [], [], {}
    for name, nodes in space.volume_domain.items():
        survivors = set(scenario.survivors(name))
        v = cluster.volume[name]
        for n in nodes:
            if n in survivors:
                if scenario.may_hold_replica(v, n):
                    kept += [(1, 1), (-1, enc.vol(name, n))]  # a dropped surviving replica costs 1
            else:
                copied.append((scenario.copy_cost_mib(name, n), enc.vol(name, n)))  # new, or a stale one resynced
                new_at.setdefault(n, []).append(enc.vol(name, n))
    for b, nodes in space.broker_domain.items():
        broker = cluster.broker[b]
        if scenario.is_alive(broker.node) and broker.node in nodes:
            kept += [(1, 1), (-1, enc.brk(b, broker.node))]  # a restarted healthy broker costs 1
    waiting = []
    for b, nodes in space.broker_domain.items():
        volumes = cluster.broker[b].volumes
        if not volumes:
            continue
        ready = set.intersection(*(set(scenario.survivors(v)) for v in volumes))
        waiting += [(1, enc.brk(b, n)) for n in nodes if n not in ready]
    bounds = lower_bounds if lower_bounds is not None else unrestricted_lower_bounds(scenario, space)

    def once_invariants_met(name: str):
        return lambda above: bounds[name] if _invariants_met(above) else 0

    levels = [
        Level("invariants", [(1, s) for _, s in enc.shortfalls], 0),
        Level("copied", copied + enc.partition_copy, once_invariants_met("copied")),
        Level("untouched", kept, once_invariants_met("untouched")),
        Level("waiting", waiting, once_invariants_met("waiting")),
    ]
    if scenario.rack_preferred:
        levels.append(Level("racks", kafka.rack_conflicts(enc), once_invariants_met("racks")))
    levels.append(Level("balance", _min_max(enc, list(new_at.values()), "new_replicas"), once_invariants_met("balance")))
    return levels


def partitions_levels(enc) -> list[Level]:
    space = enc.space
    scenario = space.scenario
    cluster = scenario.cluster
    copied = []
    new_at: dict[int, list] = {}
    for key, brokers in space.partition_domain.items():
        p = cluster.partition[key]
        for b in brokers:
            if b not in p.replicas:
                copied.append((p.size_mib, enc.part(key, b)))
                new_at.setdefault(b, []).append(enc.part(key, b))
    running = {b: n for b, n in space.base.brokers.items() if n is not None}
    held = {b: 0 for b in running}
    for key, target in space.base.partitions.items():
        kept = space.fixed_members.get(key, target.replicas) if key in space.partition_domain else target.replicas
        for b in kept:
            if b in held:
                held[b] += 1
    # balance within each rack when racks matter (a rack-aware move stays in its rack), else overall
    by_rack = scenario.rack_required or scenario.rack_preferred
    groups: dict[str, list[int]] = {}
    for b, node in sorted(running.items()):
        groups.setdefault(cluster.node[node].zone if by_rack else "all", []).append(b)
    # bounds: with every invariant met each vacated replica is refilled (copied), and a partition
    # covers at most its kept zones plus one per refill, and no more zones than brokers run in
    must_copy, most_cover = 0, 0
    zone_of = {b: cluster.node[n].zone for b, n in running.items()}
    for key, domain in space.partition_domain.items():
        p = cluster.partition[key]
        kept = space.fixed_members.get(key, ())
        vacated = len(p.replicas) - len(kept)
        must_copy += p.size_mib * min(vacated, len(set(domain) - set(kept)))
        covered = {zone_of[b] for b in kept}
        reachable = covered | {zone_of[b] for b in domain if b not in kept}
        most_cover += min(len(reachable), len(covered) + vacated)

    levels = [Level("invariants", [(1, s) for _, s in enc.shortfalls], 0),
              Level("copied", copied, lambda above: must_copy if _invariants_met(above) else 0)]
    if scenario.rack_preferred:
        levels.append(Level("racks", kafka.rack_spread(enc), -most_cover))
    # lower bound: per rack, water-filling as if any of its brokers could take any replica
    # moved into it, at the best of the counts that may land there
    spread_bound = 0
    for brokers in groups.values():
        if any(new_at.get(b) for b in brokers):
            low, high = _moved_into(space, brokers)
            loads = [held[b] for b in brokers]
            spread_bound += min(_waterfill_spread(loads, units) for units in range(low, high + 1))
    levels.append(Level("balance", _spread(enc, groups, held, new_at), spread_bound))
    return levels


def _moved_into(space, brokers: list[int]) -> tuple[int, int]:
    """(fewest, most) moved replicas that can land on these brokers: at least the vacated
    slots whose every candidate is among them (when all are filled), at most every slot
    with a candidate among them."""
    members = set(brokers)
    fewest = most = 0
    for key, domain in space.partition_domain.items():
        kept = space.fixed_members.get(key, ())
        candidates = set(domain) - set(kept)
        vacated = len(space.scenario.cluster.partition[key].replicas) - len(kept)
        inside = len(candidates & members)
        most += min(vacated, inside)
        if candidates and candidates <= members:
            fewest += min(vacated, inside)
    return fewest, most


def _waterfill_spread(held: list[int], units: int) -> int:
    """The least (most - fewest) reachable by adding ``units`` to ``held``, one at a time, anywhere."""
    loads = sorted(held)
    n = len(loads)
    if not n:
        return 0
    # raise the lowest brokers level by level
    i = 1
    level = loads[0]
    while units > 0:
        while i < n and loads[i] <= level:
            i += 1
        step = (loads[i] - level) if i < n else None
        if step is not None and units >= step * i:
            units -= step * i
            level = loads[i]
        else:
            level += units // i
            remainder = units % i
            low = level
            high = max(loads[-1], level + (1 if remainder else 0))
            return high - low
    return loads[-1] - level


def _spread(enc, groups: dict[str, list[int]], held: dict[int, int], new_at: dict[int, list]) -> list:
    """Sum over groups of (most - fewest) partition replicas per broker after the move."""
    terms = []
    for name, brokers in sorted(groups.items()):
        if not any(new_at.get(b) for b in brokers):
            continue
        top = max(held[b] for b in brokers) + sum(len(new_at.get(b, [])) for b in brokers)
        loads = []
        for b in brokers:
            load = enc.new_int(0, top, f"replicas[{b}]")
            enc.model.Add(load == held[b] + sum(new_at.get(b, [])))
            loads.append(load)
        most = enc.new_int(0, top, f"most[{name}]")
        fewest = enc.new_int(0, top, f"fewest[{name}]")
        enc.model.AddMaxEquality(most, loads)
        enc.model.AddMinEquality(fewest, loads)
        enc.model.Add(len(brokers) * most >= sum(loads))  # averaging bounds, explicit
        enc.model.Add(len(brokers) * fewest <= sum(loads))
        terms += [(1, most), (-1, fewest)]
    return terms


def _min_max(enc, groups: list[list], name: str) -> list[tuple[int, object]]:
    """One variable bounding every group's sum from above, with the averaging
    lower bound made explicit (DESIGN.md: it lets the solver prove min-max fast)."""
    groups = [g for g in groups if any(not isinstance(t, int) for t in g)]
    if not groups:
        return []
    top = max(len(g) + sum(t for t in g if isinstance(t, int)) for g in groups)
    peak = enc.new_int(0, top, f"max_{name}")
    loads = []
    for i, g in enumerate(groups):
        load = enc.new_int(0, top, f"{name}[{i}]")
        enc.model.Add(load == sum(g))
        loads.append(load)
    enc.model.AddMaxEquality(peak, loads)  # exact in every solution, so a reported value is the real peak
    enc.model.Add(len(groups) * peak >= sum(loads))  # the averaging bound, explicit
    return [(1, peak)]


def unrestricted_lower_bounds(scenario, full_space) -> dict:
    """Lower bounds of each storage-and-brokers level over the unrestricted decision space.

    When a restricted solve meets all of them, it is optimal for the whole problem.
    Bounds below "invariants" hold when every invariant is met (the first level is 0).
    """
    cluster = scenario.cluster
    copied = untouched = 0
    missing = {}
    for name in full_space.volume_domain:
        if not scenario.has_data(name):
            continue
        v = cluster.volume[name]
        keepable = [n for n in scenario.survivors(name) if scenario.may_hold_replica(v, n)]
        missing[name] = max(0, v.replication_factor - len(keepable))
        untouched += max(0, len(keepable) - v.replication_factor)
        # each missing replica copies at least the cheapest of what is left: a stale replica's
        # resync where one may be kept, else a new replica's used MiB
        resyncs = sorted(mib for n, mib in scenario.stale_replicas(name).items() if scenario.may_hold_replica(v, n))
        costs = resyncs + [v.used_mib] * missing[name]
        copied += sum(costs[:missing[name]])
    conflicts = kafka.conflict_counts(full_space)
    racks = 0
    for b, nodes in full_space.broker_domain.items():
        zones = {cluster.node[n].zone for n in nodes}
        if zones:
            racks += min(conflicts.get((b, z), 0) for z in zones)
    open_nodes = {n for nodes in full_space.volume_domain.values() for n in nodes}
    new = sum(missing.values())
    waiting = 0
    load = full_space.fixed_load
    for b, nodes in full_space.broker_domain.items():
        broker = cluster.broker[b]
        if not broker.volumes or not nodes:
            continue
        ready = set.intersection(*(set(scenario.survivors(v)) for v in broker.volumes))
        if not any(cluster.broker_fits(broker, n, load[n]) for n in nodes if n in ready):
            waiting += 1  # every node already holding its data is full: it must wait for a resync
    return {
        "invariants": 0,
        "copied": copied,
        "untouched": untouched,
        "waiting": waiting,
        "racks": racks,
        "balance": -(-new // len(open_nodes)) if new and open_nodes else 0,
    }


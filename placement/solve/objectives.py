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
do not run, and, with ``rackAware: required``, which replicas of a partition whose
running replicas share a zone move to the zones it lacks).
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, combinations
from typing import Any, Callable, Sequence

from placement.rules import kafka
from placement.solve.bounds import LowerBounds, unrestricted_lower_bounds
from placement.solve.matching import assign

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


def storage_and_brokers_levels(enc, bounds: LowerBounds | None = None, invariants_bound: int = 0) -> list[Level]:
    """The storage-and-brokers stage's levels; ``bounds`` are proven lower bounds of the
    unrestricted problem (``placement.solve.bounds``), valid once every invariant is met;
    ``invariants_bound`` one of the first level over this space (``placement.solve.shortfall``)."""
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
        if scenario.is_alive(broker.node) and broker.node in space.members(nodes):
            kept += [(1, 1), (-1, enc.brk(b, broker.node))]  # a restarted healthy broker costs 1
    waiting = []
    for b, nodes in space.broker_domain.items():
        volumes = cluster.broker[b].volumes
        if not volumes:
            continue
        ready = set.intersection(*(set(scenario.survivors(v)) for v in volumes))
        waiting += [(1, enc.brk(b, n)) for n in nodes if n not in ready]
    if bounds is None:
        bounds = unrestricted_lower_bounds(scenario, narrow_later_bounds(scenario, space))

    def bound(name: str):
        return lambda above: bounds.for_level(name, above)

    terms = {"invariants": lambda: enc.invariant_terms(), "copied": lambda: copied + enc.partition_copy,
             "untouched": lambda: kept, "waiting": lambda: waiting, "racks": lambda: kafka.rack_conflicts(enc),
             "balance": lambda: _min_max(enc, list(new_at.values()), "new_replicas")}
    return [Level(name, terms[name](), invariants_bound if name == "invariants" else bound(name))
            for name in storage_level_names(scenario)]


def storage_level_names(scenario) -> list[str]:
    """The storage-and-brokers stage's levels, in order (racks only with ``rackAware: preferred``)."""
    return ["invariants", "copied", "untouched", "waiting"] + (["racks"] if scenario.rack_preferred else []) + ["balance"]


def storage_level_values(space, target) -> dict[str, int]:
    """The storage-and-brokers levels of a target that meets every invariant and lies in ``space``,
    in plain Python: the sums ``storage_and_brokers_levels`` builds as terms, evaluated (tested
    against the solver's values). With every invariant met, each vacated partition replica is
    refilled, so the partitions' copy is their size times the members that stop running, plus,
    with required racks, once per zone a partition still lacks (a rack move).
    O(V R + B + partitions of the decided brokers x RF)."""
    scenario = space.scenario
    cluster = scenario.cluster
    copied = untouched = waiting = racks = 0
    new_at: dict[str, int] = defaultdict(int)
    for name, nodes in space.volume_domain.items():
        v = cluster.volume[name]
        survivors = scenario.survivors(name)
        chosen = set(target.volumes.get(name, ()))
        for n in chosen:
            if n not in survivors:
                copied += scenario.copy_cost_mib(name, n)
                new_at[n] += 1
        domain = space.members(nodes)
        untouched += sum(1 for n in set(survivors) if n in domain and scenario.may_hold_replica(v, n) and n not in chosen)
    decided = space.broker_domain
    conflicts = rack_conflicts(scenario, decided) if scenario.rack_preferred else None
    for b, nodes in decided.items():
        broker = cluster.broker[b]
        to = target.brokers.get(b)
        domain = space.members(nodes)
        if scenario.is_alive(broker.node) and broker.node in domain and to != broker.node:
            untouched += 1  # a restarted healthy broker
        if to is None or to not in domain:
            continue
        if broker.volumes and not all(to in scenario.survivors(v) for v in broker.volumes):
            waiting += 1
        if conflicts is not None:
            racks += conflicts(b, cluster.node[to].zone)
    for p in _partitions_of_brokers(scenario, decided):
        vacated = sum(1 for b in p.replicas if b in decided and target.brokers.get(b) is None)
        copied += p.size_mib * vacated
        if scenario.rack_required:  # the rack moves of a partition whose running replicas share zones
            covered = {cluster.node[target.brokers[b]].zone for b in p.replicas if target.brokers.get(b) is not None}
            copied += p.size_mib * max(0, scenario.racks_needed(p) - len(covered) - vacated)
    values = {"invariants": 0, "copied": copied, "untouched": untouched, "waiting": waiting, "racks": racks,
              "balance": max(new_at.values(), default=0)}
    return {name: values[name] for name in storage_level_names(scenario)}


def _partitions_of_brokers(scenario, brokers) -> list:
    """Each partition with a replica on one of the brokers, once, in the cluster's order."""
    seen: dict = {}
    for b in brokers:
        for p in scenario.partitions_of(b):
            seen[p.key] = p
    return list(seen.values())


def rack_conflicts(scenario, decided) -> Callable[[int, str], int]:
    """(decided broker, zone) -> partitions of the broker with another replica, on a broker that is
    not decided, in that zone: ``kafka.conflict_counts`` read through the index of each broker's
    partitions (O(partitions of the decided brokers x RF) instead of every partition)."""
    cluster = scenario.cluster
    decided = set(decided)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for b in sorted(decided):
        for p in scenario.partitions_of(b):
            for other in p.replicas:
                if other != b and other not in decided and other in cluster.broker:
                    counts[b, cluster.node[cluster.broker[other].node].zone] += 1
    return lambda b, zone: counts.get((b, zone), 0)


def partitions_levels(enc) -> list[Level]:
    space = enc.space
    scenario = space.scenario
    cluster = scenario.cluster
    copied = []
    new_at: dict[int, list] = {}
    for key, brokers in space.partition_domain.items():
        p = cluster.partition[key]
        fixed = space.fixed_members.get(key, ())
        for b in brokers:
            if b in fixed:
                continue
            if b not in p.replicas:
                copied.append((p.size_mib, enc.part(key, b)))  # a new replica: a copy
            new_at.setdefault(b, []).append(enc.part(key, b))  # a new one, or a rack move's kept one
    shape = _PartitionsShape.of(space)
    levels = [Level("invariants", enc.invariant_terms(), 0),
              Level("copied", copied, lambda above: shape.must_copy if _invariants_met(above) else 0)]
    if scenario.rack_preferred:
        levels.append(Level("racks", kafka.rack_spread(enc), -shape.most_cover))
    levels.append(Level("balance", _spread(enc, shape.groups, shape.held, new_at), shape.spread_bound))
    return levels


@dataclass(frozen=True)
class _PartitionsShape:
    """What the partitions stage's levels and bounds need of its space: the running brokers grouped
    for balance (by rack when racks matter, a rack-aware move staying in its rack), the replicas
    each holds before the move, and the bounds. Made once per space (``of``):
    O(P R + P_d (R + Z) + B log B) -- a decided partition's candidates are counted per zone
    (``Space.candidate_zones``), never walked."""

    groups: dict[str, list[int]]
    held: dict[int, int]
    must_copy: int  # with every invariant met each vacated replica is refilled, and each zone lacking gets a new one
    most_cover: int  # a partition covers at most its kept zones plus one per refill, and no more than brokers run in
    spread_bound: int  # per rack, water-filling as if any of its brokers could take any replica moved into it
    receiving: frozenset[str]  # groups some moved replica may go to (a group without one is not balanced)

    @classmethod
    def of(cls, space) -> "_PartitionsShape":
        made = space.__dict__.get("_partitions_shape")
        if made is None:
            made = space.__dict__["_partitions_shape"] = cls._of(space)
        return made

    @classmethod
    def _of(cls, space) -> "_PartitionsShape":
        scenario = space.scenario
        cluster = scenario.cluster
        zone_of, _ = space.running_zones
        held = {b: 0 for b in zone_of}
        for key, target in space.base.partitions.items():
            kept = space.fixed_members.get(key, target.replicas) if key in space.partition_domain else target.replicas
            for b in kept:
                if b in held:
                    held[b] += 1
        by_rack = scenario.rack_required or scenario.rack_preferred
        group_of = (lambda z: z) if by_rack else (lambda z: "all")
        groups: dict[str, list[int]] = {}
        for b in sorted(zone_of):
            groups.setdefault(group_of(zone_of[b]), []).append(b)
        must_copy, most_cover = 0, 0
        receiving: set[str] = set()
        fewest: dict[str, int] = defaultdict(int)  # per group, the moved replicas that can land only there
        most: dict[str, int] = defaultdict(int)  # ... and that can land there at all
        for key in space.partition_domain:
            p = cluster.partition[key]
            kept = space.fixed_members.get(key, ())
            slots = len(p.replicas) - len(kept)
            old = [b for b in p.replicas if b in zone_of]  # running replicas: kept, or a rack move's choices
            counts = space.candidate_zones(key)
            new = sum(n for n, _ in counts.values())
            must_copy += p.size_mib * min(new, max(len(p.replicas) - len(old),
                                                   scenario.racks_needed(p) - len({zone_of[b] for b in old})
                                                   if scenario.rack_required else 0))
            covered = {zone_of[b] for b in kept if b in zone_of}
            reachable = covered | {z for z, (n, o) in counts.items() if n + o}
            most_cover += min(len(reachable), len(covered) + slots)
            inside: dict[str, int] = defaultdict(int)
            for z, (n, o) in counts.items():
                inside[group_of(z)] += n + o
            total = sum(inside.values())
            for g, count in inside.items():
                if count:
                    receiving.add(g)
                    most[g] += min(slots, count)
                    if count == total:
                        fewest[g] += min(slots, count)
        spread_bound = 0
        for g, brokers in groups.items():
            if g in receiving:
                spread_bound += _least_waterfill_spread([held[b] for b in brokers], fewest[g], most[g])
        return cls(groups, held, must_copy, most_cover, spread_bound, frozenset(receiving))


def partitions_level_names(scenario) -> list[str]:
    return ["invariants", "copied"] + (["racks"] if scenario.rack_preferred else []) + ["balance"]


def partitions_bounds(space) -> Callable[[str, Sequence[Any]], int]:
    """(level, the levels above) -> the partitions stage's lower bound on that level."""
    shape = _PartitionsShape.of(space)
    return lambda name, above: {"invariants": 0, "copied": shape.must_copy if _invariants_met(above) else 0,
                                "racks": -shape.most_cover, "balance": shape.spread_bound}[name]


def partitions_level_values(space, target) -> dict[str, int]:
    """The partitions stage's levels of a target that meets every invariant and lies in ``space``,
    in plain Python (the sums ``partitions_levels`` builds as terms, evaluated)."""
    scenario = space.scenario
    cluster = scenario.cluster
    shape = _PartitionsShape.of(space)
    copied = covered = 0
    new_at: dict[int, int] = defaultdict(int)
    zone_of = {b: cluster.node[n].zone for b, n in space.base.brokers.items() if n is not None}
    for key, domain in space.partition_domain.items():
        p = cluster.partition[key]
        chosen = set(target.partitions[key].replicas) & set(domain)
        fixed = space.fixed_members.get(key, ())
        for b in chosen:
            if b not in p.replicas:
                copied += p.size_mib
            if b not in fixed:
                new_at[b] += 1
        covered += len({zone_of[b] for b in chosen if b in zone_of})
    spread = 0
    for g, brokers in shape.groups.items():
        if g in shape.receiving:
            loads = [shape.held[b] + new_at[b] for b in brokers]
            spread += max(loads) - min(loads)
    values = {"invariants": 0, "copied": copied, "racks": -covered, "balance": spread}
    return {name: values[name] for name in partitions_level_names(scenario)}


def _least_waterfill_spread(held: list[int], low: int, high: int) -> int:
    """min of ``_waterfill_spread(held, u)`` over u in [low, high], in O(n log n): water-filling
    never raises (most - fewest) while the lowest are below the highest (the highest stays, the
    lowest only rise), so below the units that level every broker at the highest the least is
    at ``high``; from there on it is 0 where the units share out evenly, else 1."""
    n = len(held)
    if not n or high < low:
        return 0
    level_all = n * max(held) - sum(held)  # units that bring every broker to the highest
    if high < level_all:
        return _waterfill_spread(held, high)
    first = max(low, level_all)
    even = first + (-(sum(held) + first)) % n  # the first count from there that shares out evenly
    return 0 if even <= high else 1


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


def narrow_later_bounds(scenario, full_space) -> dict[str, int]:
    """Lower bounds of the levels below "untouched" over the narrow space with every candidate
    (``full_space``), valid once every invariant is met. Where a solution meets the unrestricted
    copied and untouched bounds, every solution as good lies in that space, so these bound the
    unrestricted problem too. Some hold only given what the levels above reached
    (``LowerBounds.for_level`` picks the strongest that holds):

    - waiting: every decided broker with a volume runs (I3); those on a node already holding an
      in-sync replica of each of its volumes form an assignment within the nodes' free broker
      slots, so at most a maximum matching of them serve at once (``placement.solve.matching``);
    - racks: each decided broker shares racks with at least the fewest partitions any zone it may
      run in gives. ``@kept`` (untouched 0: every surviving replica stays, so each volume gains
      exactly its missing replicas, in the zones I2 leaves it): only zones where the broker can
      find its volumes count. ``@waiting`` (waiting at its bound): the brokers serving at once form
      a maximum matching, so the least-cost one bounds them -- brokers stay near their data;
    - balance: the new replicas spread over every node that could take one; ``@kept``: for each
      set of zones, the new replicas that may only go there, over its nodes' free storage
      (``_zone_hall_bound``).

    And two additions to the copied and untouched bounds (``copied@homes``, ``untouched@homes``,
    added by ``bounds.unrestricted_lower_bounds``): the displaced brokers that must drop a
    survivor of their own volumes to find a home (``_homeless_brokers``).

    O(V R + B + N + partitions of the decided brokers x RF + 2^Z (V + N) log V + the matchings)."""
    cluster = scenario.cluster
    conflicts = rack_conflicts(scenario, full_space.broker_domain)
    load = full_space.fixed_load
    kept = _KeptShape.of(scenario, full_space)
    zone_counts: dict[int, dict[str, int]] = {}
    racks = racks_kept = runs_with_data = 0
    options: dict[int, list[tuple[str, int]]] = {}
    options_kept: dict[int, list[tuple[str, int]]] = {}
    for b, nodes in full_space.broker_domain.items():
        if not nodes:
            continue
        if id(nodes) not in zone_counts:
            counts: dict[str, int] = defaultdict(int)
            for n in nodes:
                counts[cluster.node[n].zone] += 1
            zone_counts[id(nodes)] = counts
        least = min(conflicts(b, z) for z in zone_counts[id(nodes)])
        broker = cluster.broker[b]
        domain = full_space.members(nodes)
        # without hyperconvergence a broker runs anywhere that fits it: its volumes narrow nothing
        allowed = kept.broker_zones(broker, domain, zone_counts[id(nodes)],
                                    lambda n, broker=broker: cluster.broker_fits(broker, n, load[n])) \
            if scenario.hyperconverged else zone_counts[id(nodes)]
        least_kept = min((conflicts(b, z) for z in allowed), default=least)
        racks += least
        racks_kept += least_kept
        if not broker.volumes:
            continue
        runs_with_data += 1
        ready = set.intersection(*(set(scenario.survivors(v)) for v in broker.volumes))
        fits = [n for n in sorted(ready) if n in domain and cluster.broker_fits(broker, n, load[n])]
        options[b] = [(n, conflicts(b, cluster.node[n].zone) - least) for n in fits]
        options_kept[b] = [(n, max(0, conflicts(b, cluster.node[n].zone) - least_kept)) for n in fits]
    slots = {n: cluster.policy.brokers_per_node - load[n].brokers for b in options for n, _ in options[b]}
    serving = assign(options, slots)
    serving_kept = assign(options_kept, slots)
    new = sum(kept.missing.values())
    receiving: set[str] = set()  # every node a new replica (or a resync: a cordoned node's stale one) may take
    for nodes in {id(d): d for d in full_space.volume_domain.values()}.values():
        receiving.update(nodes)
    receivers = len(receiving)
    homeless = _homeless_brokers(scenario, full_space, kept)
    return {
        "copied@homes": sum(copy for _, copy in homeless),
        "untouched@homes": len(homeless),
        "waiting": runs_with_data - serving.size,
        "racks": racks,
        "racks@waiting": racks + serving.cost,
        "racks@kept": racks_kept,
        "racks@kept+waiting": racks_kept + serving_kept.cost,
        "balance": max(-(-new // receivers) if new and receivers else 0, _home_bound(scenario, full_space)),
        "balance@kept": max(kept.zone_hall_bound(), _home_bound(scenario, full_space, kept)),
        **({"balance@racks": _home_bound(scenario, full_space, conflicts=conflicts),
            "balance@kept+racks": _home_bound(scenario, full_space, kept, conflicts)} if scenario.rack_preferred else {}),
    }


def _home_bound(scenario, space, kept: "_KeptShape | None" = None,
                conflicts: Callable[[int, str], int] | None = None) -> int:
    """The most new replicas a decided broker's new home must take (balance, valid for every
    placement of ``space`` that meets every invariant, whatever the levels above reached). With
    ``brokerPlacement: required`` a decided broker with volumes runs (I3) on a node holding a replica
    of each of them (I3), so each of its volumes without an in-sync surviving replica there gains a
    new one there (a replica there that is not a survivor is new, resynced or copied). Its home is
    one of its candidate nodes that fits it next to what is not decided (slots, CPU, memory), has
    the free storage for those new replicas and, with ``rackAware: required``, lies in a zone where
    each of its partitions whose other replicas are not decided still covers the racks it needs
    (a running broker keeps its partitions). So the busiest node takes at least, for every such
    broker, the fewest volumes it lacks on any such home; the bound is the largest (0 where some
    broker has no home: no placement meets every invariant).

    With ``kept`` (untouched 0: every surviving replica stays, so each volume gains exactly the
    replicas it misses, in the zones zone spread leaves it, ``_KeptShape``), a home must also be
    where each volume it lacks may gain one, with the storage left once every survivor stays.
    O(B (R V_b + a few candidates) + the partitions of the decided brokers x RF): nodes holding none
    of a broker's volumes all lack every one, so the first that fits settles them (each may be a
    scan of the candidates where none fits).

    With ``conflicts`` (``rackAware: preferred``, the racks level at its plain bound, the sum of
    each decided broker's fewest conflicts over the zones it may run in), every decided broker runs
    in a zone of its fewest conflicts, and only there."""
    if not scenario.hyperconverged:
        return 0
    cluster = scenario.cluster
    decided = set(space.broker_domain)
    load = space.fixed_load
    zone_of = {n.name: n.zone for n in cluster.nodes}
    zones_in: dict[int, set[str]] = {}  # the zones of a domain, once per distinct tuple
    best = 0
    for b, nodes in sorted(space.broker_domain.items()):
        broker = cluster.broker[b]
        if not nodes or not broker.volumes:
            continue
        volumes = sorted(set(broker.volumes))
        banned = _rack_banned_zones(scenario, space, b, decided, zone_of) if scenario.rack_required else frozenset()
        if conflicts is not None:
            if id(nodes) not in zones_in:
                zones_in[id(nodes)] = {zone_of[n] for n in nodes}
            least = min(conflicts(b, z) for z in zones_in[id(nodes)])
            banned = banned.union(z for z in zones_in[id(nodes)] if conflicts(b, z) > least)
        domain = space.members(nodes)
        held: dict[str, list[str]] = defaultdict(list)  # candidate node -> the broker's volumes in sync there
        for v in volumes:
            for n in scenario.survivors(v):
                if n in domain:
                    held[n].append(v)

        def lacks(n: str) -> int | None:
            """The volumes the broker lacks at ``n``, or None where it cannot run there."""
            if zone_of[n] in banned or not cluster.broker_fits(broker, n, load[n]):
                return None
            lacking = [v for v in volumes if v not in held.get(n, ())]
            if any(v not in space.volume_domain or n not in space.members(space.volume_domain[v]) for v in lacking):
                return None  # a volume not decided here keeps its replicas: none can be added
            if kept is not None and not all(kept.takes(v, zone_of[n]) for v in lacking):
                return None
            room = kept.free[n] if kept is not None and n in kept.free else \
                scenario.storage_limit_mib(n) - load[n].storage_mib
            return len(lacking) if sum(cluster.volume[v].size_mib for v in lacking) <= room else None

        fewest = min((k for k in map(lacks, sorted(held)) if k is not None), default=None)
        if fewest is None or fewest == len(volumes):
            fewest = next((k for n in nodes if n not in held for k in [lacks(n)] if k is not None), fewest)
        if fewest is None:
            return 0  # the broker cannot run anywhere: no placement meets every invariant
        best = max(best, fewest)
    return best


def _rack_banned_zones(scenario, space, broker: int, decided: set[int], zone_of: dict[str, str]) -> frozenset[str]:
    """Zones where the running broker would leave a partition short of racks (``rackAware:
    required``): a partition of it whose other replicas are all on brokers not decided covers the
    zones of those that run plus the broker's own, and needs ``racks_needed``."""
    cluster = scenario.cluster
    banned: set[str] = set()
    for p in scenario.partitions_of(broker):
        others = [o for o in p.replicas if o != broker]
        if any(o in decided for o in others):
            continue
        covered = {zone_of[space.base.brokers[o]] for o in others if space.base.brokers.get(o) is not None}
        needed = scenario.racks_needed(p)
        if len(covered) + 1 < needed:
            return frozenset(cluster.zones)  # short wherever it runs
        if len(covered) < needed:
            banned.update(covered)  # short only where it adds no zone of its own
    return frozenset(banned)


def _homeless_brokers(scenario, full_space, kept: "_KeptShape") -> list[tuple[int, int]]:
    """(broker, least extra copy) for each decided broker that no node can host while every
    surviving replica of its volumes stays, judged by replicas and zones alone
    (``_KeptShape.has_kept_home``): I3 puts it on a node holding each of its volumes, so some
    survivor of one of them is dropped and built again elsewhere -- one more healthy replica
    disturbed (untouched) and one more new replica of that volume (copied: at least its
    ``usedGiB``). Counted only where nothing else counts the same drop: the broker's node may not
    host it (so ``bounds._brokers_kept_off_their_data`` skips it), each of its volumes is its own,
    has data, no surplus (the surplus is counted already) and no stale replica (a resync may cost
    less), no node is over its storage limit (the knapsacks), and it is no rebalance (brokers stay).
    Sound for the unrestricted problem: moving healthy items makes no replica and no zone available
    to the broker's own volumes. O(B x volumes x (held nodes + zones))."""
    cluster = scenario.cluster
    if not scenario.hyperconverged or scenario.failures.max_used_percent is not None or scenario.over_limit_nodes:
        return []
    owners: dict[str, int] = defaultdict(int)
    for b in cluster.brokers:
        for v in b.volumes:
            owners[v] += 1
    homeless = []
    for b in sorted(full_space.broker_domain):
        broker = cluster.broker[b]
        if not broker.volumes or scenario.is_removed(b) or scenario.may_host_broker(broker, broker.node):
            continue
        volumes = [cluster.volume[v] for v in broker.volumes]
        if not all(v.name in kept.keep and owners[v.name] == 1 and not scenario.stale_replicas(v.name)
                   and len(kept.keep[v.name]) <= v.replication_factor for v in volumes):
            continue
        if kept.has_kept_home(broker.volumes, scenario.zones_with_ready_storage):
            continue
        droppable = [v.used_mib for v in volumes if kept.keep[v.name]]
        if droppable:
            homeless.append((b, min(droppable)))
    return homeless


@dataclass(frozen=True)
class _KeptShape:
    """The decided volumes once every surviving replica they may keep stays (untouched 0): the
    replicas each still misses, the zones I2 leaves those (None: any), and each open node's free
    storage for new replicas."""

    zone_of: dict[str, str]
    keep: dict[str, frozenset[str]]  # volume -> surviving replicas it keeps
    missing: dict[str, int]  # volume -> new replicas it needs
    allowed: dict[str, frozenset[str] | None]  # volume -> zones its new replicas may take (None: any)
    free: dict[str, int]  # open node -> storage left for new replicas
    sizes: dict[str, int]
    resync_elsewhere: bool = False  # some new replica may land on a node outside ``free``
    closed: tuple[str, ...] = ()  # candidate nodes that take nothing new (cordoned ones keeping a replica)

    @classmethod
    def of(cls, scenario, space) -> "_KeptShape":
        cluster = scenario.cluster
        zone_of = {n.name: n.zone for n in cluster.nodes}
        open_nodes: set[str] = set()
        closed: set[str] = set()
        for nodes in {id(d): d for d in space.volume_domain.values()}.values():
            open_nodes.update(n for n in nodes if cluster.node[n].state.value == "ready")
            closed.update(n for n in nodes if cluster.node[n].state.value != "ready")
        free = {n: scenario.storage_limit_mib(n) - space.fixed_load[n].storage_mib for n in open_nodes}
        keep, missing, allowed, sizes = {}, {}, {}, {}
        resync_elsewhere = False
        for name in space.volume_domain:
            if not scenario.has_data(name):
                continue
            v = cluster.volume[name]
            # a stale replica resynced on a node that takes nothing new (cordoned) is a new replica there
            resync_elsewhere = resync_elsewhere or any(n not in free and scenario.may_hold_replica(v, n)
                                                       for n in scenario.stale_replicas(name))
            held = frozenset(n for n in scenario.survivors(name) if scenario.may_hold_replica(v, n))
            for n in held:
                if n in free:
                    free[n] -= v.size_mib
            covered = {zone_of[n] for n in held}
            need = max(0, v.replication_factor - len(held))
            strict = need > 0 and scenario.zones_needed(v) - len(covered) >= need
            keep[name], missing[name], sizes[name] = held, need, v.size_mib
            allowed[name] = frozenset(z for z in scenario.zones_with_ready_storage if z not in covered) if strict else None
        return cls(zone_of, keep, missing, allowed, free, sizes, resync_elsewhere, tuple(sorted(closed)))

    def takes(self, volume: str, zone: str) -> bool:
        """The volume gains a new replica that may land in ``zone``."""
        return self.missing.get(volume, 0) > 0 and (self.allowed[volume] is None or zone in self.allowed[volume])

    def broker_zones(self, broker, domain: frozenset[str], zone_counts: dict[str, int],
                     fits: Callable[[str], bool] = lambda n: True) -> set[str]:
        """Zones of the broker's candidate nodes where it can run with every volume it has there:
        a node where the broker ``fits`` (a slot, CPU and memory beside what is not decided) and
        where each volume keeps a replica, or gains one (it misses one, and I2 lets it take that
        zone) within the node's free storage (``free``: what is left once everything undecided and
        every kept replica stays; other new replicas only take more). Nodes holding one of its
        volumes are judged one by one; the others of a zone need room for all of its volumes, so
        the zone's open nodes are scanned by free storage, most first, up to the first that has
        too little (a node that takes nothing new, e.g. cordoned, is not judged by room).
        O(volumes x (held nodes + zones) + nodes scanned)."""
        volumes = [v for v in broker.volumes if v in self.keep]
        if len(volumes) != len(broker.volumes):
            return set(zone_counts)  # a volume not decided here: no narrowing
        zones: set[str] = set()
        held = {n for v in volumes for n in self.keep[v] if n in domain}

        def takes(v: str, zone: str) -> bool:
            return self.missing[v] > 0 and (self.allowed[v] is None or zone in self.allowed[v])

        def room(n: str, adds: list[str]) -> bool:
            return n not in self.free or self.free[n] >= sum(self.sizes[v] for v in adds)

        for n in held:
            zone = self.zone_of[n]
            adds = [v for v in volumes if n not in self.keep[v]]
            if all(takes(v, zone) for v in adds) and room(n, adds) and fits(n):
                zones.add(zone)
        total = sum(self.sizes[v] for v in volumes)
        closed = [n for n in self.closed if n in domain and n not in held]
        for zone in zone_counts:
            if zone in zones or not all(takes(v, zone) for v in volumes):
                continue
            if any(self.zone_of[n] == zone and fits(n) for n in closed):
                zones.add(zone)
                continue
            for n in self.by_room.get(zone, ()):
                if self.free[n] < total:
                    break  # the roomiest nodes come first: none further has room
                if n in domain and n not in held and fits(n):
                    zones.add(zone)
                    break
        return zones

    def has_kept_home(self, volumes: Sequence[str], zones) -> bool:
        """Whether some node could hold every one of ``volumes`` with each keeping its surviving
        replicas and gaining only the ones it misses, in the zones I2 leaves it -- room, broker
        slots and which nodes exist aside (a relaxation: False proves no such node). A node
        holding some of them is judged as itself; any other node only by its zone."""
        def takes(v: str, zone: str) -> bool:
            return self.missing[v] > 0 and (self.allowed[v] is None or zone in self.allowed[v])

        for n in sorted({n for v in volumes for n in self.keep[v]}):
            if all(n in self.keep[v] or takes(v, self.zone_of[n]) for v in volumes):
                return True
        return any(all(takes(v, zone) for v in volumes) for zone in sorted(zones))

    @cached_property
    def by_room(self) -> dict[str, list[str]]:
        """Each zone's open nodes, the most free storage first."""
        zones: dict[str, list[str]] = defaultdict(list)
        for n in sorted(self.free, key=lambda n: (-self.free[n], n)):
            zones[self.zone_of[n]].append(n)
        return zones

    def zone_hall_bound(self, max_zones: int = 6) -> int:
        """The most new replicas some node must take: for each set S of zones, the new replicas
        that may only go to S (their allowed zones within S) fit on S's open nodes only as far as
        each node's free storage holds them (at most its count of the smallest), so some node takes
        at least the least k with sum over S's nodes of min(k, that count) >= their number. With
        more than ``max_zones`` zones, single zones and all of them only."""
        zones = sorted({self.zone_of[n] for n in self.free})
        if not zones or self.resync_elsewhere:
            return 0  # the nodes that could take a new replica are not all counted: no bound
        every = frozenset(zones)
        groups: dict[frozenset[str], list[int]] = defaultdict(list)
        for name, need in self.missing.items():
            if need:
                groups[self.allowed[name] or every] += [self.sizes[name]] * need
        if not groups:
            return 0
        nodes_in: dict[str, list[int]] = defaultdict(list)
        for n, room in self.free.items():
            nodes_in[self.zone_of[n]].append(room)
        if len(zones) <= max_zones:
            subsets = [frozenset(c) for k in range(1, len(zones) + 1) for c in combinations(zones, k)]
        else:
            subsets = [frozenset([z]) for z in zones] + [every]
        best = 0
        for subset in subsets:
            sizes = sorted(size for allowed, group in groups.items() if allowed <= subset for size in group)
            if not sizes:
                continue
            prefix = list(accumulate(sizes))
            fits = [bisect_right(prefix, room) for z in subset for room in nodes_in[z]]
            count = len(sizes)
            low, high = 1, count
            if sum(fits) < count:
                continue  # no placement meets every invariant here: nothing to bound
            while low < high:  # the least k with sum(min(k, f)) >= count
                mid = (low + high) // 2
                if sum(min(mid, f) for f in fits) >= count:
                    high = mid
                else:
                    low = mid + 1
            best = max(best, low)
        return best

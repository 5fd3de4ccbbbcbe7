"""A greedy placement, two uses:

- the baseline the benchmark compares against (STORK-style scoring: a new
  replica goes to the eligible node with the most free space, a broker to the
  first of its volume's replica nodes that fits), with ``spread=False``;
- the planner's start, with ``spread=True``: new replicas go to nodes that have
  received fewer new replicas (the volumes whose zones I2 forces first, each group largest
  first, so a small zone's room goes to what can go nowhere else; where some volume is still
  short, once more by room alone, and then by best fit in the ways of ``BEST_FITS``, the best
  kept), and displaced brokers are assigned by a min-cost
  matching (``placement.solve.matching``): as many as possible onto nodes already
  holding their data (the "waiting" level), then the fewest partitions sharing a
  rack (the "racks" level). That is the assignment the lower bounds of those
  levels are computed from (``objectives.narrow_later_bounds``), so on most
  failures the start meets them and the planner needs no solver for them.
  With ``rackAware: required`` a broker's node decides its partitions' racks
  (I6): the matching counts the rack shortfalls of each home first (shortfalls
  come first in the objective), then the rack moves it needs (a partition that
  keeps an in-sync replica moves a replica out of a zone it holds twice: a copy,
  not a shortfall), and leaves a broker not running only where every home would
  cost more shortfalls than its not running does (``_RackShortfalls``); vacated
  partition replicas go to brokers in racks the partition lacks, then rack moves.

It knows the capacity rules but proves nothing; plans from it are judged like
any other.

Complexity (V touched volumes, R their replication factor, Z zones, C distinct counts
of new replicas per node, N nodes, B touched brokers, P partitions): O(N + V R Z C log N)
for the volumes (the nodes of each zone kept in heaps by the greedy's preference, never
scanned per replica; a best-fit way, only where volumes are left short, keeps each zone's nodes
in a sorted list: O(log N) to find a node, an O(N) move of memory to update one), O(P R + F) for the brokers (F: the min-cost flow over their few
candidate nodes; the rack shortfalls of required racks are O(P R) more), O(P R Z log B)
for the partitions' start (one heap of brokers per zone). No step scans every node per
replica or every partition per broker.
"""
from __future__ import annotations

import bisect
import heapq
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from placement.models.cluster import Broker, NodeLoad
from placement.models.plan import Placement, PartitionTarget
from placement.scenario import Scenario
from placement.solve.bounds import replicas_to_shed
from placement.solve.matching import assign
from placement.solve.objectives import rack_conflicts


def greedy_placement(scenario: Scenario, *, spread: bool = False,
                     as_now: tuple[dict[str, int], dict[str, NodeLoad]] | None = None) -> Placement:
    """``as_now`` (optional, for callers judging many scenarios of one cluster): each node's free
    storage under the scenario's limits and its brokers' load with every replica and broker placed
    as now; the greedy's room is then that with the touched items given back (the same room,
    without a pass over every volume and broker)."""
    greedy = _Greedy(scenario, spread, as_now)
    volumes = greedy.place_volumes()
    brokers = greedy.place_brokers(volumes)
    zone_of = {b: scenario.cluster.node[n].zone for b, n in brokers.items() if n is not None} \
        if spread and scenario.rack_required else None
    return Placement(brokers=brokers, volumes=volumes,
                     partitions=_fill_partition_replicas(scenario.cluster, brokers, zone_of, scenario))


_IDLE = ("not running",)  # the matching's option of leaving a broker not running (never a node's name)


class _RackShortfalls:
    """``rackAware: required``: where a displaced (decided) broker runs decides its partitions'
    racks (I6). Per partition p of a decided broker b, the racks it covers are those of its
    replicas on brokers that stay (running, not decided), b's zone, and -- at best -- one each
    for its other decided members; it falls short by ``needed - covered`` where that is positive.
    A partition that keeps an in-sync replica running (b's own counts) makes that up by moving
    a replica sharing a zone to a zone it lacks (a rack move, ``_fill_partition_replicas``): a
    copy (``moves``), not a shortfall.

    ``extra(b, z)``: the shortfalls of b's partitions with b in zone z beyond those with b in a
    zone none of its other replicas covers (what every home costs at least); ``moves(b, z)``
    the same count of rack moves;
    ``idle(b)``: the same beyond that least, if b does not run: its own I3 shortfall, and for
    each of its partitions with no other in-sync replica on a broker that stays, 2 (its replica
    is not refilled, and the partition is offline); its other vacated replicas are refilled in
    racks of their own at best (``_fill_partition_replicas``, the partitions stage).
    O(partitions of the decided brokers x RF)."""

    def __init__(self, scenario: Scenario, decided: set[int], zone_of: dict[str, str]):
        cluster = scenario.cluster
        stays = {b.id: zone_of[b.node] for b in cluster.brokers
                 if b.id not in decided and b.node is not None and scenario.is_alive(b.node)}
        self._extra: dict[tuple[int, str], int] = defaultdict(int)
        self._moves: dict[tuple[int, str], int] = defaultdict(int)
        self._idle: dict[int, int] = {}
        self._refills: dict[int, int] = {}
        for b in sorted(decided):
            offline = 0
            partitions = scenario.partitions_of(b)
            for p in partitions:
                others = [o for o in p.replicas if o != b]
                zones = {stays[o] for o in others if o in stays}
                unknown = sum(1 for o in others if o in decided)
                needed = scenario.racks_needed(p)
                elsewhere = max(0, needed - len(zones) - 1 - unknown)
                inside = max(0, needed - len(zones) - unknown)
                sources = scenario.sources(p)
                movable = any(s in stays or s in decided for s in sources)  # b running, it keeps a source
                if inside > elsewhere:
                    for z in zones:
                        (self._moves if movable else self._extra)[b, z] += inside - elsewhere
                if not any(s in stays or (s in decided and s != b) for s in sources if s != b):
                    offline += 1
            self._idle[b] = 1 + 2 * offline
            self._refills[b] = len(partitions) - offline

    def extra(self, broker: int, zone: str) -> int:
        return self._extra.get((broker, zone), 0)

    def moves(self, broker: int, zone: str) -> int:
        return self._moves.get((broker, zone), 0)

    def refills(self, broker: int) -> int:
        """Its partitions refilled elsewhere if it does not run (each a copy, as a rack move is)."""
        return self._refills.get(broker, 0)

    def cost(self, broker: int, zone: str) -> int:
        """Shortfalls first, then rack moves (fewer than ``MOVES`` per broker-zone)."""
        return self.extra(broker, zone) * self.MOVES + self.moves(broker, zone)

    MOVES = 1 << 24

    def idle(self, broker: int) -> int:
        return self._idle.get(broker, 1)

    def worth_running(self, broker: int, zone: str) -> bool:
        """Running the broker in the zone costs no more shortfalls than its not running."""
        return self.extra(broker, zone) <= self.idle(broker)


class _NodeHeaps:
    """The eligible nodes of each zone in the greedy's order of preference for a new replica:
    fewest new replicas so far (with ``spread``), then the most free storage, then the name.
    One heap per (zone, count) of (-free, name); an entry whose node has changed since is
    dropped when it surfaces (each change pushes a fresh one), so finding the best node of a
    zone with room, skipping a few excluded ones, takes O(C log N) amortised."""

    def __init__(self, nodes, zone_of: dict[str, str], free: dict[str, int], new_count: dict[str, int],
                 spread: bool, valid: Callable[[str], bool] = lambda n: True):
        self.zone_of, self.free, self.new_count, self.spread, self.valid = zone_of, free, new_count, spread, valid
        self.heaps: dict[tuple[str, int], list] = defaultdict(list)
        self.counts: dict[str, set[int]] = defaultdict(set)
        for n in nodes:
            self.push(n)

    def count(self, n: str) -> int:
        """The node's rank by new replicas so far (0 for all without ``spread``)."""
        return self.new_count[n] if self.spread else 0

    def push(self, n: str) -> None:
        zone, count = self.zone_of[n], self.count(n)
        heapq.heappush(self.heaps[zone, count], (-self.free[n], n))
        self.counts[zone].add(count)

    def best(self, zone: str, size: int, exclude, accept: Callable[[str], bool] | None = None):
        """(count, -free, name) of the zone's best node with ``size`` free that is not excluded
        (and that ``accept`` takes), or None."""
        for count in sorted(self.counts[zone]):
            entry = _first_fresh(
                self.heaps[zone, count],
                stale=lambda e: self.count(e[1]) != count or self.free[e[1]] != -e[0] or not self.valid(e[1]),
                stop=lambda e: -e[0] < size,  # the roomiest node of this count has no room: none has
                skip=lambda e: e[1] in exclude or (accept is not None and not accept(e[1])))
            if entry is not None:
                return count, entry[0], entry[1]
        return None


def _first_fresh(heap: list, *, stale, skip, stop=None):
    """The first entry of a lazy-deletion heap that is neither out of date (``stale``: popped for
    good) nor skipped (``skip``: left in the heap), or None; ``stop``: a fresh entry at which the
    search ends with None (the heap's order says no later entry will do). O(k log n) for k
    entries looked at."""
    skipped, found = [], None
    while heap:
        entry = heap[0]
        if stale(entry):
            heapq.heappop(heap)
            continue
        if stop is not None and stop(entry):
            break
        if skip(entry):
            skipped.append(heapq.heappop(heap))
            continue
        found = entry
        break
    for entry in skipped:
        heapq.heappush(heap, entry)
    return found

@dataclass(frozen=True)
class _BestFit:
    """A best-fit way of placing the new replicas (``place_volumes``' third and later ways): in
    which order, and whether a replica that needs a zone the volume lacks may go elsewhere.

    Where not every replica fits, the fewest volumes are left short by different ways on different
    clusters (5,000-node zone failures: the smallest first left 538 short where the others left
    3,921; the largest first, each needing a zone taking no other, left 37 where the others left
    528): each is tried while some volume is still short, and the best is kept."""

    smallest_first: bool  # else the order of the first ways (forced zones first, largest first)
    zones_first: bool  # a replica that needs a zone it lacks takes no node of a zone it has


BEST_FITS = (_BestFit(smallest_first=True, zones_first=False), _BestFit(smallest_first=False, zones_first=True))


class _TightestNodes:
    """The eligible nodes of each zone for best fit: the node with the least free storage that still
    takes the replica (the third way of ``place_volumes``; at high fill it leaves far fewer volumes
    short than the roomiest node first, which breaks every node's room into slivers too small for
    the large volumes still to come: 528 short volumes against 37 on a 5,000-node zone failure). One
    list per zone sorted by (free, name); finding a node is a bisection (skipping the excluded), a
    change of a node's room a deletion and an insertion (O(N) memory moves, in C)."""

    def __init__(self, nodes, zone_of: dict[str, str], free: dict[str, int]):
        self.zone_of, self.free = zone_of, free
        self.lists: dict[str, list] = defaultdict(list)
        self.entry: dict[str, tuple[int, str]] = {}
        for n in nodes:
            self.entry[n] = (free[n], n)
            self.lists[zone_of[n]].append(self.entry[n])
        for entries in self.lists.values():
            entries.sort()

    def count(self, n: str) -> int:
        return 0  # no spreading by new replicas: room alone decides

    def push(self, n: str) -> None:
        """The node's free storage changed."""
        entries = self.lists[self.zone_of[n]]
        old = self.entry.get(n)
        if old is not None:  # (a node not listed yet, as the heaps would take it: one of the volume's own)
            del entries[bisect.bisect_left(entries, old)]
        self.entry[n] = (self.free[n], n)
        bisect.insort(entries, self.entry[n])

    def best(self, zone: str, size: int, exclude, accept: Callable[[str], bool] | None = None):
        """(0, -free, name) of the zone's node with the least free storage of at least ``size`` that
        is not excluded (and that ``accept`` takes), or None."""
        entries = self.lists.get(zone, ())
        for i in range(bisect.bisect_left(entries, (size, "")), len(entries)):
            room, n = entries[i]
            if n not in exclude and (accept is None or accept(n)):
                return 0, -room, n
        return None


class _Greedy:
    """The room left once everything untouched stays, then the touched volumes, then the touched brokers."""

    def __init__(self, scenario: Scenario, spread: bool,
                 as_now: tuple[dict[str, int], dict[str, NodeLoad]] | None = None):
        cluster = scenario.cluster
        self.scenario, self.cluster, self.spread = scenario, cluster, spread
        self.fit: _BestFit | None = None  # the way new replicas are being placed (``_place_new``)
        self.touched_volumes = set(scenario.touched_volumes)
        self.touched_brokers = set(scenario.touched_brokers)
        self.zone_of = {n.name: n.zone for n in cluster.nodes}
        self.room = _BrokerRoom(cluster)
        if as_now is None:
            self.free = {n.name: scenario.storage_limit_mib(n.name) for n in cluster.nodes}  # storage left, MiB
            for v in cluster.volumes:
                if v.name not in self.touched_volumes:
                    for n in v.replicas:
                        self.free[n] -= v.size_mib
            for b in cluster.brokers:
                if b.id not in self.touched_brokers:
                    self.room.take(b, b.node)
        else:  # the same room: everything as now, the touched items given back
            self.free, self.room.load = dict(as_now[0]), dict(as_now[1])
            for name in scenario.touched_volumes:
                v = cluster.volume[name]
                for n in v.replicas:
                    self.free[n] += v.size_mib
            for bid in scenario.touched_brokers:
                b = cluster.broker[bid]
                self.room.load[b.node] = self.room.load[b.node].minus(NodeLoad.of_broker(b))
        self.eligible = [n.name for n in cluster.nodes if n.is_storage and scenario.is_alive(n.name)
                         and n.state.value == "ready" and not scenario.is_drained(n.name)]
        self.eligible_set = set(self.eligible)
        self.zones = sorted({self.zone_of[n] for n in self.eligible})
        # nodes over their storage limit (a rebalance, or an over-full start) shed the cheapest replicas
        self.shed = replicas_to_shed(scenario) if scenario.over_limit_nodes else {}
        # what a displaced broker's home costs its partitions' racks: with required racks I6
        # shortfalls (the first level), else, with spread, the racks level's conflicts
        self.racks = _RackShortfalls(scenario, self.touched_brokers, self.zone_of) \
            if spread and scenario.rack_required else None
        if self.racks is not None:
            self.conflicts = self.racks.cost
        else:
            self.conflicts = rack_conflicts(scenario, self.touched_brokers) if spread else (lambda b, z: 0)

    # -- volumes -------------------------------------------------------------------
    def place_volumes(self) -> dict[str, tuple[str, ...]]:
        scenario, cluster, free = self.scenario, self.cluster, self.free
        volumes = {v.name: v.replicas for v in cluster.volumes
                   if v.name not in self.touched_volumes and scenario.has_data(v.name)}
        kept = {}
        for name in scenario.touched_volumes:  # surviving replicas take their room first
            v = cluster.volume[name]
            kept[name] = [n for n in scenario.survivors(name) if scenario.may_hold_replica(v, n)
                          and name not in self.shed.get(n, ())][: v.replication_factor]
            for n in kept[name]:
                free[n] -= v.size_mib
        spare = dict(self.room.slots)
        needs_slot, homeless = self._brokers_needing_a_slot(kept, spare)
        before_new = dict(free)  # the room once the kept replicas are placed, before any new one
        new_count: dict[str, int] = defaultdict(int)
        chosen_of = {name: list(kept[name]) for name in scenario.touched_volumes}
        # the state the new replicas change, to start again from when the first way leaves some short
        snapshot = (dict(free), dict(spare), dict(needs_slot), {name: list(c) for name, c in chosen_of.items()},
                    {name: list(c) for name, c in kept.items()})
        short = self._place_new(chosen_of, kept, free, spare, new_count, needs_slot, homeless, spread=self.spread)
        # Some volume is short of replicas or zones: try again packing by room alone (the most free
        # node of a zone the volume lacks, like first fit decreasing), then by each best fit (the node
        # with the least room that takes the replica), each from the same snapshot; the way that
        # leaves the fewest volumes short is kept.
        for fit in (None, *BEST_FITS):
            if not (short and self.spread):
                break
            best = (dict(free), dict(spare), dict(new_count), chosen_of, kept)
            for target, saved in zip((free, spare, needs_slot), snapshot[:3]):
                target.clear()
                target.update(saved)
            chosen_of = {name: list(c) for name, c in snapshot[3].items()}
            kept = {name: list(c) for name, c in snapshot[4].items()}
            new_count = defaultdict(int)
            tried = self._place_new(chosen_of, kept, free, spare, new_count, needs_slot, homeless, spread=False,
                                    fit=fit)
            if tried >= short:
                for target, saved in zip((free, spare, new_count), best[:3]):
                    target.clear()
                    target.update(saved)
                chosen_of, kept = best[3], best[4]
            short = min(short, tried)
        for name in scenario.touched_volumes:
            volumes[name] = tuple(chosen_of[name])
        if self.spread and new_count and max(new_count.values()) > 1:
            self._one_new_replica_per_node(volumes, kept, before_new)
        return volumes

    def _place_new(self, chosen_of: dict[str, list[str]], kept: dict[str, list[str]], free: dict[str, int],
                   spare: dict[str, int], new_count: dict[str, int], needs_slot: dict[str, Broker],
                   homeless: list[Broker], *, spread: bool, fit: "_BestFit | None" = None) -> int:
        """The new replicas of the touched volumes (``chosen_of`` grows; ``free``, ``spare``,
        ``new_count`` and ``needs_slot`` follow): first a node for each displaced broker with several
        volumes, then each volume in ``_placing_order``. With ``spread`` a node with fewer new
        replicas comes before a roomier one; without, the roomiest first; with ``fit``, the node with
        the least room that takes it (best fit), in its order. Returns how many volumes are left
        short of replicas or of zones."""
        scenario, cluster = self.scenario, self.cluster
        pool = _TightestNodes(self.eligible, self.zone_of, free) if fit is not None else \
            _NodeHeaps(self.eligible, self.zone_of, free, new_count, spread)
        self.fit = fit
        slot_pool = _NodeHeaps([n for n in self.eligible if spare[n] > 0], self.zone_of, free, new_count, True,
                               valid=lambda n: spare[n] > 0) if needs_slot or homeless else None

        def take(name: str, n: str) -> None:
            chosen_of[name].append(n)
            free[n] -= cluster.volume[name].size_mib
            new_count[n] += 1
            pool.push(n)
            if slot_pool is not None and spare[n] > 0:
                slot_pool.push(n)

        # replicas a broker needs where they are: no home moves them away
        pinned = {(b.node, v) for b in cluster.brokers if b.id not in self.touched_brokers for v in b.volumes}
        pinned |= {(n, v) for bid, n in self._matched.items() for v in cluster.broker[bid].volumes}
        # the nodes holding some volume of each broker still to place: taking one of those for
        # another broker may leave that one without a home in its zone, so they come last
        wanted: dict[str, int] = defaultdict(int)
        for b in homeless:
            for n in {n for v in b.volumes for n in kept.get(v, ())}:
                wanted[n] += 1
        for b in homeless:  # brokers with several volumes: a node for all of them first
            for n in {n for v in b.volumes for n in kept.get(v, ())}:
                wanted[n] -= 1
            found = self._home(b, chosen_of, kept, spare, slot_pool, pinned, wanted)
            if found is None:
                continue
            home, adds, moves = found
            spare[home] -= 1
            for v in adds:
                take(v.name, home)
            for v, away in moves:  # the same zone: a kept replica moves under the broker
                chosen_of[v.name].remove(away)
                kept[v.name].remove(away)
                free[away] += v.size_mib
                pool.push(away)
                take(v.name, home)
            pinned |= {(home, v) for v in b.volumes}
        short = 0
        for name in self._placing_order(chosen_of):
            v = cluster.volume[name]
            chosen = chosen_of[name]
            resyncable = [n for n in scenario.stale_replicas(name) if scenario.may_hold_replica(v, n)]
            own = set(v.replicas)
            specials = list(dict.fromkeys(resyncable + [n for n in v.replicas if n in self.eligible_set]))
            while len(chosen) < v.replication_factor:
                broker = needs_slot.get(name) if self.spread else None
                pick = self._pick(v, chosen, specials, own, pool, broker, spare, slot_pool)
                if pick is None:
                    break
                if broker is not None and self._has_slot(broker, pick, spare):
                    spare[pick] -= 1
                    needs_slot.pop(name)
                take(name, pick)
            if len(chosen) < v.replication_factor or \
                    len({self.zone_of[n] for n in chosen}) < scenario.zones_needed(v):
                short += 1
        return short

    def _placing_order(self, chosen_of: dict[str, list[str]]) -> list[str]:
        """The touched volumes in the order their new replicas are placed: those whose zones are
        forced first (I2 leaves them the fewest zones to choose from: every zone they lack, when as
        many as they need), each group largest first (first fit decreasing), so that a small zone's
        room goes to the replicas that can go nowhere else, and the big ones find it before the
        small ones have broken it up. O(V log V)."""
        scenario = self.scenario
        ready_zones = len(self.zones)

        def slack(name: str) -> int:
            v = self.cluster.volume[name]
            chosen = chosen_of[name]
            covered = len({self.zone_of[n] for n in chosen})
            new_zones = scenario.zones_needed(v) - covered
            if new_zones <= 0 or len(chosen) >= v.replication_factor:
                return ready_zones + 1  # any zone will do (or nothing to place)
            return ready_zones - covered - new_zones  # 0: every zone it lacks, it needs

        if self.fit is not None and self.fit.smallest_first:
            return sorted(scenario.touched_volumes, key=lambda name: (self.cluster.volume[name].size_mib, name))
        return sorted(scenario.touched_volumes,
                      key=lambda name: (slack(name), -self.cluster.volume[name].size_mib, name))

    def _has_slot(self, broker: Broker, n: str, spare: dict[str, int]) -> bool:
        return spare[n] > 0 and self.scenario.may_host_broker(broker, n) and self.room.resources_fit(broker, n)

    def _pick(self, v, chosen: list[str], specials: list[str], own: set[str], pool: _NodeHeaps,
              broker: Broker | None, spare: dict[str, int], slot_pool: _NodeHeaps | None) -> str | None:
        """The node for the volume's next replica, by the key (a zone it does not cover yet, the
        least copy, [with ``spread``: a free broker slot for the broker that needs one, its rack
        conflicts, fewest new replicas,] most free storage, name): its own replica nodes (survivors
        and stale ones, each its own copy cost) judged one by one, every other eligible node through
        the zone heaps."""
        scenario, free, size = self.scenario, self.free, v.size_mib
        covered = {self.zone_of[n] for n in chosen}
        taken = set(chosen)
        needs_zone = scenario.zones_needed(v) - len(covered) >= v.replication_factor - len(chosen)  # I2: only new zones

        def key(n: str, count: int, copy: int, slot: bool) -> tuple:
            zone = self.zone_of[n]
            room = free[n] if self.fit is not None else -free[n]  # best fit: the least room; else the most
            if not self.spread:
                return (zone in covered, copy, room, n)
            if broker is None:
                return (zone in covered, copy, False, count, room, n)
            # the broker that runs on this replica: a free slot, then its partitions' racks, before spreading
            return (zone in covered and needs_zone, copy, not slot, self.conflicts(broker.id, zone),
                    zone in covered, count, room, n)

        options = [key(n, pool.count(n), scenario.copy_cost_mib(v.name, n),
                       broker is not None and self._has_slot(broker, n, spare))
                   for n in specials if n not in taken and free[n] >= size]
        exclude = own | taken
        used = v.used_mib
        for zone in self.zones:
            best = pool.best(zone, size, exclude)
            if best is not None:
                count, _, n = best
                options.append(key(n, count, used, False if broker is None else self._has_slot(broker, n, spare)))
            if slot_pool is not None and broker is not None:
                with_slot = slot_pool.best(zone, size, exclude, accept=lambda n: self._has_slot(broker, n, spare))
                if with_slot is not None:
                    count, _, n = with_slot
                    options.append(key(n, count, used, True))
        if self.fit is not None and self.fit.zones_first and needs_zone:
            # a replica that needs a zone takes no other: one in a zone it has would fix I1 and leave
            # I2 short, at the cost of room others may need whole
            options = [o for o in options if self.zone_of[o[-1]] not in covered]
        if not options:
            return None
        return min(options)[-1]

    def _one_new_replica_per_node(self, volumes: dict, kept: dict, room: dict[str, int]) -> None:
        """Where a node took two new replicas or more, try to give every new replica a node of its
        own in the same zone (a matching; the balance level's bound is often one): moves nothing
        when not every one finds one. Brokers' volumes keep the nodes chosen for their slots."""
        scenario, cluster = self.scenario, self.cluster
        brokers_volumes = {v for b in scenario.touched_brokers for v in cluster.broker[b].volumes}
        new = [(name, n) for name in scenario.touched_volumes if name not in brokers_volumes
               for n in volumes[name] if n not in kept[name] and n not in scenario.stale_replicas(name)]
        fixed = [n for name in scenario.touched_volumes if name in brokers_volumes
                 for n in volumes[name] if n not in kept[name]]
        taken = {n: 1 for n in fixed}
        if len(new) > sum(1 for m in self.eligible if m not in taken):
            return  # more new replicas than nodes: some node takes two whatever the matching
        by_zone: dict[str, list[str]] = defaultdict(list)
        for m in self.eligible:
            if m not in taken:
                by_zone[self.zone_of[m]].append(m)
        options = []
        for name, n in new:
            v = cluster.volume[name]
            holds = set(volumes[name])
            options.append([m for m in by_zone[self.zone_of[n]] if (m == n or m not in holds) and room[m] >= v.size_mib])
        owner = _match_one_each(options)
        if owner is None:
            return  # not every new replica finds a node of its own: keep the greedy choice
        given = {i: m for m, i in owner.items()}
        moved: dict[str, list[str]] = defaultdict(list)
        for i, (name, n) in enumerate(new):
            moved[name].append(given[i])
        for name, nodes in moved.items():
            volumes[name] = tuple(kept[name]) + tuple(n for n in volumes[name] if n not in kept[name]
                                                      and n in scenario.stale_replicas(name)) + tuple(nodes)

    def _brokers_needing_a_slot(self, kept: dict[str, list[str]],
                                spare: dict[str, int]) -> tuple[dict[str, Broker], list[Broker]]:
        """Displaced brokers that cannot all run on nodes already holding their data: the most that
        can, by a matching within the free broker slots, do (their slots are kept for them). Of the
        others, each with one volume needs its new replica on a node with a free slot (volume ->
        broker); each with several needs a node for all of them (the list, largest first)."""
        scenario = self.scenario
        self._matched: dict[int, str] = {}
        if not (self.spread and scenario.hyperconverged):
            return {}, []
        options = {}
        for bid in scenario.touched_brokers:
            b = self.cluster.broker[bid]
            if not b.volumes or scenario.is_removed(bid) or scenario.lost_a_volume(b):
                continue
            ready = set.intersection(*(set(kept.get(v, ())) for v in b.volumes))
            options[bid] = [(n, self.conflicts(bid, self.zone_of[n])) for n in sorted(ready)
                            if scenario.may_host_broker(b, n) and self.room.resources_fit(b, n)
                            and (not scenario.must_stay(b) or n == b.node)]
        matched = assign(options, spare).chosen
        self._matched = dict(matched)
        needs_slot: dict[str, Broker] = {}
        homeless: list[Broker] = []
        for bid in options:
            b = self.cluster.broker[bid]
            if bid in matched:
                spare[matched[bid]] -= 1  # kept for it
            elif len(b.volumes) == 1:
                needs_slot[b.volumes[0]] = b
            elif not scenario.must_stay(b):
                homeless.append(b)
        homeless.sort(key=lambda b: (-sum(self.cluster.volume[v].size_mib for v in b.volumes), b.id))
        return needs_slot, homeless

    def _home(self, b: Broker, chosen_of: dict[str, list[str]], kept: dict[str, list[str]],
              spare: dict[str, int], slot_pool: _NodeHeaps, pinned: set[tuple[str, str]],
              wanted: dict[str, int] | None = None):
        """A node for a displaced broker with several volumes, and how its volumes get there:
        (node, volumes that gain a new replica there, (volume, node) replicas that move there).
        The node has a free slot and room; a volume not there yet gains a new replica there where
        its replication factor and I2 allow, or else moves one of its kept replicas from another
        node of the same zone (zones unchanged; one surviving replica disturbed, so only where no
        node does without) that no broker needs (``pinned``). Least data moved first, then fewest moved
        replicas (each costs its copy and a healthy replica: levels above racks, copied above
        untouched), then fewest rack conflicts, then nodes
        that fewest brokers still to place hold data on (``wanted``), fewest new replicas, fewest
        new so far, most free storage. Nodes
        holding some of its volumes are judged one by one, the others through the zone heaps of
        nodes with a free slot. O(held nodes x volumes x RF + zones x heap work)."""
        scenario, cluster, free = self.scenario, self.cluster, self.free
        volumes = [cluster.volume[name] for name in b.volumes]

        def plan_for(n: str):
            """(volumes gaining a replica on n, (volume, node) replicas moving to n), or None."""
            if n not in self.eligible_set or not self._has_slot(b, n, spare):
                return None
            zone = self.zone_of[n]
            adds, moves = [], []
            for v in volumes:
                chosen = chosen_of[v.name]
                if n in chosen:
                    continue
                covered = {self.zone_of[m] for m in chosen}
                strict = zone in covered and scenario.zones_needed(v) - len(covered) >= v.replication_factor - len(chosen)
                if len(chosen) < v.replication_factor and not strict:
                    adds.append(v)
                    continue
                away = next((m for m in chosen if self.zone_of[m] == zone and m in kept[v.name]
                             and (m, v.name) not in pinned), None)
                if away is None:
                    return None
                moves.append((v, away))
            if free[n] < sum(v.size_mib for v in adds) + sum(v.size_mib for v, _ in moves):
                return None
            return adds, moves

        def key(n: str, plan) -> tuple:
            adds, moves = plan
            return (sum(v.used_mib for v, _ in moves), len(moves), self.conflicts(b.id, self.zone_of[n]),
                    (wanted or {}).get(n, 0), len(adds) + len(moves), slot_pool.new_count[n], -free[n], n)

        held = {n for v in volumes for n in chosen_of[v.name]}
        options = {}
        for n in sorted(held):
            plan = plan_for(n)
            if plan is not None:
                options[n] = key(n, plan)
        total = sum(v.size_mib for v in volumes)
        for zone in self.zones:
            best = slot_pool.best(zone, total, held, accept=lambda n: not (wanted or {}).get(n) and plan_for(n) is not None) \
                or slot_pool.best(zone, total, held, accept=lambda n: plan_for(n) is not None)
            if best is not None:
                options[best[2]] = key(best[2], plan_for(best[2]))
        if not options:
            return None
        home = min(options, key=options.__getitem__)
        adds, moves = plan_for(home)
        return home, adds, moves

    # -- brokers -------------------------------------------------------------------
    def place_brokers(self, volumes: dict[str, tuple[str, ...]]) -> dict[int, str | None]:
        """``volumes`` may change: a broker left without a node is re-homed with its volume's new replica."""
        scenario, cluster, room = self.scenario, self.cluster, self.room
        brokers = {b.id: b.node for b in cluster.brokers if b.id not in self.touched_brokers}
        options: dict[int, list[str]] = {}
        for bid in sorted(scenario.touched_brokers):
            b = cluster.broker[bid]
            if scenario.is_removed(bid) or (scenario.hyperconverged and scenario.lost_a_volume(b)):
                brokers[bid] = None
                continue
            options[bid] = self._nodes_for(b, volumes)
        if self.spread:
            chosen = self._assign(options)
        else:
            chosen = _first_fit(options, room, cluster)
        for bid in options:
            node = chosen.get(bid)
            brokers[bid] = node
            if node is not None and self.spread:
                room.take(cluster.broker[bid], node)
        if self.spread and scenario.hyperconverged:
            worth = (lambda bid, zone: True) if self.racks is None else self.racks.worth_running
            _rehome(scenario, [bid for bid in options if chosen.get(bid) is None], volumes, brokers, self.free, room,
                    worth)
        return brokers

    def _assign(self, options: dict[int, list[str]]) -> dict[int, str | None]:
        """As many brokers as possible within the free broker slots (CPU and memory are left to the
        checks: a start that breaks them is simply not one), then the most on nodes already holding
        their data, then the fewest partitions sharing a rack: a min-cost matching. With required
        racks, a home's rack shortfalls come first (one weighs more than every broker waiting),
        and not running is an option too, costing its own shortfalls (``_RackShortfalls.idle``)."""
        scenario, cluster = self.scenario, self.cluster
        ready_of = {}
        worst = 0
        for bid, nodes in options.items():
            b = cluster.broker[bid]
            ready_of[bid] = {n for n in nodes if all(n in scenario.survivors(v) for v in b.volumes)} if b.volumes else set(nodes)
            worst += max((self.conflicts(bid, self.zone_of[n]) for n in nodes), default=0)
        if self.racks is not None:
            return self._assign_with_racks(options, ready_of)
        waits = worst + 1  # one broker waiting weighs more than every rack conflict together
        costs = {bid: [(n, (0 if n in ready_of[bid] else waits) + self.conflicts(bid, self.zone_of[n])) for n in nodes]
                 for bid, nodes in options.items()}
        chosen = assign(costs, self.room.slots).chosen
        return {bid: chosen.get(bid) for bid in options}

    def _assign_with_racks(self, options: dict[int, list[str]], ready_of: dict[int, set[str]]) -> dict[int, str | None]:
        """``_assign`` under required racks: cost ``S * (shortfalls, rack moves) + waiting`` per home
        (``_RackShortfalls.cost``), where ``S`` exceeds the small costs of every broker together,
        and ``S * (idle, refills) + 2`` for not running (on a tie a broker runs, even waiting)."""
        scale = 2 * len(options) + 1
        slots = dict(self.room.slots)
        slots[_IDLE] = len(options)
        costs = {}
        racks = self.racks
        for bid, nodes in options.items():
            costs[bid] = [(n, scale * racks.cost(bid, self.zone_of[n]) + (0 if n in ready_of[bid] else 1))
                          for n in nodes]
            costs[bid].append((_IDLE, scale * (racks.idle(bid) * racks.MOVES + racks.refills(bid)) + 2))
        chosen = assign(costs, slots).chosen
        return {bid: None if chosen.get(bid) in (None, _IDLE) else chosen[bid] for bid in options}

    def _nodes_for(self, b: Broker, volumes: dict[str, tuple[str, ...]]) -> list[str]:
        """The nodes the broker fits on: with hyperconvergence those holding each of its volumes, else
        those and every eligible node; a broker whose restart would take a partition below
        min.insync.replicas only where it runs (``Scenario.must_stay``)."""
        scenario = self.scenario
        if scenario.hyperconverged:
            if b.volumes:
                holders = [n for n in volumes.get(b.volumes[0], ()) if all(n in volumes.get(v, ()) for v in b.volumes)]
            else:
                holders = self.eligible
        else:
            holders = list(dict.fromkeys([n for v in b.volumes for n in volumes.get(v, ())] + self.eligible))
        if self.spread and scenario.must_stay(b):
            holders = [n for n in holders if n == b.node]
        return [n for n in holders if scenario.may_host_broker(b, n) and self.room.fits(b, n)]


def _fill_partition_replicas(cluster, brokers: dict[int, str | None], zone_of: dict[int, str] | None = None,
                             scenario: Scenario | None = None) -> dict:
    """Each partition keeps its running replicas; a vacated one goes to the running broker holding
    the fewest replicas so far; with ``zone_of`` (broker -> zone: required racks), to one in a
    zone the partition's replicas do not cover yet where some broker runs there. Then, with
    ``zone_of``, a partition still short of the zones it needs (``scenario.racks_needed``) moves
    a replica sharing a zone with another (not its last in-sync one) to the least-loaded broker
    of a zone it lacks: a rack move. One heap of (load, broker) per zone (a single one without
    ``zone_of``), stale entries skipped: O(P R Z log B)."""
    running = {b for b, n in brokers.items() if n is not None}
    group = (lambda b: zone_of[b]) if zone_of is not None else (lambda b: "")
    load = defaultdict(int)
    for p in cluster.partitions:
        for b in p.replicas:
            load[b] += 1
    heaps: dict[str, list] = defaultdict(list)
    for b in sorted(running):
        heaps[group(b)].append((load[b], b))
    for heap in heaps.values():
        heapq.heapify(heap)

    def best_of(heap: list, taken: list[int]):
        """The heap's least-loaded (load, broker) not in ``taken`` (left in the heap), or None."""
        return _first_fresh(heap, stale=lambda e: e[0] != load[e[1]], skip=lambda e: e[1] in taken)

    current = Placement.current(cluster).partitions
    partitions = {}
    for p in cluster.partitions:
        replicas = [b for b in p.replicas if b in running]
        if len(replicas) == len(p.replicas) and p.leader is not None and \
                (zone_of is None or scenario is None or len({zone_of[b] for b in replicas}) >= scenario.racks_needed(p)):
            partitions[p.key] = current[p.key]  # unchanged: the very same target (compared by identity later)
            continue
        while len(replicas) < len(p.replicas):
            covered = {group(b) for b in replicas}
            options = []
            for zone, heap in heaps.items():
                top = best_of(heap, replicas)
                if top is not None:
                    options.append((zone in covered, top, zone))
            if not options:
                break
            _, (count, b), zone = min(options)
            heapq.heappop(heaps[zone])
            replicas.append(b)
            load[b] += 1
            heapq.heappush(heaps[zone], (load[b], b))
        if zone_of is not None and scenario is not None:
            _rack_moves(scenario, p, replicas, zone_of, heaps, load, best_of)
        leader = p.leader if p.leader in replicas else (replicas[0] if replicas else None)
        partitions[p.key] = PartitionTarget(p.topic, p.id, tuple(replicas) or p.replicas, leader)
    return partitions


def _rack_moves(scenario: Scenario, p, replicas: list[int], zone_of: dict[int, str], heaps: dict[str, list],
                load: dict[int, int], best_of) -> None:
    """``_fill_partition_replicas``' rack moves, in place: while the partition covers fewer zones
    than it needs, a replica in a zone it holds twice (the most loaded, never the last in-sync
    one) gives its place to the least-loaded broker of a zone it lacks."""
    needed = scenario.racks_needed(p)
    sources = set(scenario.sources(p))
    if not any(b in sources for b in replicas):
        return  # offline: nothing to copy from
    while True:
        covered = {zone_of[b] for b in replicas}
        if len(covered) >= needed:
            return
        shared = [b for b in replicas if sum(1 for o in replicas if zone_of[o] == zone_of[b]) > 1
                  and not (b in sources and sum(1 for o in replicas if o in sources) == 1)]
        lacking = []
        for zone, heap in heaps.items():
            if zone not in covered:
                top = best_of(heap, replicas)
                if top is not None:
                    lacking.append((top, zone))
        if not shared or not lacking:
            return
        leaving = max(shared, key=lambda b: (load[b], b))
        (count, b), zone = min(lacking)
        heapq.heappop(heaps[zone])
        replicas[replicas.index(leaving)] = b
        load[b] += 1
        heapq.heappush(heaps[zone], (load[b], b))
        load[leaving] -= 1
        heapq.heappush(heaps[zone_of[leaving]], (load[leaving], leaving))


class _BrokerRoom:
    """The brokers each node runs so far, to ask whether one more fits (``Cluster.broker_fits``)."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.load = {n.name: NodeLoad() for n in cluster.nodes}

    @property
    def slots(self) -> dict[str, int]:
        """Free broker slots per node."""
        per_node = self.cluster.policy.brokers_per_node
        return {n: per_node - load.brokers for n, load in self.load.items()}

    def resources_fit(self, b: Broker, node: str) -> bool:
        """CPU and memory only (broker slots are counted apart, by the matching)."""
        return self.cluster.broker_fits(b, node, self.load[node]._replace(brokers=0))

    def fits(self, b: Broker, node: str) -> bool:
        return self.cluster.broker_fits(b, node, self.load[node])

    def take(self, b: Broker, node: str) -> None:
        self.load[node] = self.load[node].plus(NodeLoad.of_broker(b))


def _rehome(scenario: Scenario, homeless: list[int], volumes: dict, brokers: dict, free, room: _BrokerRoom,
            worth: Callable[[int, str], bool] = lambda bid, zone: True) -> None:
    """A broker left without a node: move its volume's new replica to a node of the same zone
    that also has room for the broker, and run the broker there (where running in that zone is
    ``worth`` it: with required racks, no more shortfalls than not running)."""
    cluster = scenario.cluster
    for bid in homeless:
        b = cluster.broker[bid]
        if len(b.volumes) != 1 or scenario.is_removed(bid) or scenario.lost_a_volume(b):
            continue
        v = cluster.volume[b.volumes[0]]
        survivors = set(scenario.survivors(v.name))
        for old in [n for n in volumes.get(v.name, ()) if n not in survivors]:
            zone = cluster.node[old].zone
            if not worth(bid, zone):
                continue
            fits = [n.name for n in cluster.nodes if n.zone == zone and n.name not in volumes[v.name]
                    and scenario.may_hold_replica(v, n.name) and n.state.value == "ready" and free[n.name] >= v.size_mib
                    and scenario.may_host_broker(b, n.name) and room.fits(b, n.name)]
            if not fits:
                continue
            home = max(fits, key=lambda n: (free[n], n))
            volumes[v.name] = tuple(home if n == old else n for n in volumes[v.name])
            free[old] += v.size_mib
            free[home] -= v.size_mib
            brokers[bid] = home
            room.take(b, home)
            break


def _first_fit(options: dict[int, list[str]], room: _BrokerRoom, cluster) -> dict[int, str | None]:
    """The baseline: each broker, in turn, takes the first of its nodes that still fits it."""
    chosen: dict[int, str | None] = {}
    for bid, fits in options.items():
        b = cluster.broker[bid]
        node = next((n for n in fits if room.fits(b, n)), None)
        chosen[bid] = node
        if node is not None:
            room.take(b, node)
    return chosen


def _match_one_each(options: list[list[str]], budget: int = 2_000_000) -> dict[str, int] | None:
    """A node for each item, no node twice (augmenting paths, iteratively, within a work budget);
    node -> item, or None when some item finds none (or the budget runs out)."""
    owner: dict[str, int] = {}
    for start in range(len(options)):
        # depth-first search for an augmenting path from ``start``
        parent: dict[str, tuple[int, str | None]] = {}  # node -> (item reaching it, node that item held)
        stack = [(start, None, iter(options[start]))]
        found = None
        while stack and found is None:
            item, via, nodes = stack[-1]
            step = next(nodes, None)
            budget -= 1
            if budget < 0:
                return None
            if step is None:
                stack.pop()
                continue
            if step in parent:
                continue
            parent[step] = (item, via)
            if step not in owner:
                found = step
            else:
                stack.append((owner[step], step, iter(options[owner[step]])))
        if found is None:
            return None
        node = found
        while node is not None:  # flip the path: each item on it takes the node it reached
            item, via = parent[node]
            owner[node] = item
            node = via
    return owner


def fill_partitions(space) -> Placement:
    """The partitions stage's start: each vacated partition replica goes to the candidate broker that
    holds the fewest replicas so far (water-filling), then the fewest bytes, largest partitions
    first. With ``rackAware: required``, to a zone the partition does not cover yet first; a
    partition short of zones (a rack move, ``Space.for_partitions``) keeps one replica per zone
    it holds (an in-sync one first, to lead and copy from) and fills the rest from the zones it
    lacks. Candidates come from one heap of (replicas, bytes, broker) per zone, stale entries
    skipped: O(P R Z log B), never walking a partition's whole domain."""
    scenario = space.scenario
    cluster = scenario.cluster
    rack = scenario.rack_required
    zone_of = {b: cluster.node[n].zone for b, n in space.base.brokers.items() if n is not None}
    load: dict[int, int] = defaultdict(int)
    data: dict[int, int] = defaultdict(int)
    for key, t in space.base.partitions.items():
        size = cluster.partition[key].size_mib
        for b in (space.fixed_members.get(key, ()) if key in space.partition_domain else t.replicas):
            load[b] += 1
            data[b] += size
    heaps: dict[str, list] = defaultdict(list)
    for b in sorted(zone_of):
        heaps[zone_of[b]].append((load[b], data[b], b))
    for heap in heaps.values():
        heapq.heapify(heap)

    def top_of(heap: list, taken: list[int]):
        """The heap's first broker not in ``taken`` (left in the heap), or None."""
        entry = _first_fresh(heap, stale=lambda e: (e[0], e[1]) != (load[e[2]], data[e[2]]),
                             skip=lambda e: e[2] in taken)
        return None if entry is None else entry[2]

    partitions = dict(space.base.partitions)
    for key in sorted(space.partition_domain, key=lambda k: (-cluster.partition[k].size_mib, k)):
        p = cluster.partition[key]
        chosen = list(space.fixed_members.get(key, ()))
        covered = {zone_of[b] for b in chosen if b in zone_of}

        def take(b: int) -> None:
            chosen.append(b)
            covered.add(zone_of[b])
            load[b] += 1
            data[b] += p.size_mib
            if b in zone_of:
                heapq.heappush(heaps[zone_of[b]], (load[b], data[b], b))

        # a rack move's replicas sharing a zone: one per zone stays (an in-sync one first)
        sources = set(scenario.sources(p))
        spare = [b for b in p.replicas if b in zone_of and b not in chosen]
        if spare:
            lead = not any(b in sources for b in chosen)
            for b in sorted(spare, key=lambda b: (not (lead and b in sources), load[b], data[b], b)):
                if zone_of[b] not in covered:
                    take(b)
        zones = sorted(space.partition_zones.get(key, ()))
        while len(chosen) < len(p.replicas):
            options = []
            for zone in zones:
                b = top_of(heaps[zone], chosen + list(p.replicas))
                if b is not None:
                    options.append((rack and zone in covered, 1, load[b], data[b], b))
            options += [(rack and zone_of[b] in covered, 0, load[b], data[b], b) for b in spare if b not in chosen]
            if not options:
                break
            take(min(options)[-1])
        partitions[key] = PartitionTarget(key[0], key[1], tuple(chosen) or p.replicas, None)
    return Placement(brokers=space.base.brokers, volumes=space.base.volumes, partitions=partitions)

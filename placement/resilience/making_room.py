"""Making room without a search: a greedy certificate, and trimming a making-room recovery.

When a failure's replicas find no node with room in the zone they need (the greedy start
breaks I1 or I2 on a full cluster), the cluster may still survive by moving healthy replicas
out of the way (CONTRACT 5, "making room"). The sweep used to ask CP-SAT every such set; this
module tries first what an operator would do:

- ``make_room``: for each touched volume the greedy start left short (fewer replicas than its
  replication factor, or fewer zones than I2 asks), its new replicas are chosen again: a node
  with room where one exists, else the node of an allowed zone that becomes roomy by moving the
  least healthy data away -- one healthy replica (the smallest that frees enough), or else the
  largest few -- each moved replica going to the roomiest node that may hold it (alive, ready
  storage, not drained; a cordoned node takes nothing new), keeping its volume's zones, never
  one a broker on that node needs (hyperconvergence) and never one whose volume the failure
  touches. Nothing else changes: the touched brokers stay where the greedy put them.
- ``trim``: a recovery that moved healthy items (this greedy's, or the solver's) with every
  healthy volume and broker put back where it is now, one at a time, where the plain checks
  still pass: the recovery kept for larger sets then changes as little as possible, and when
  nothing healthy is left moved it is composable again.

Neither proves anything: the caller counts a result only when ``check_all`` finds nothing
(``make_room`` returns only such targets; ``trim`` keeps a revert only when the checks pass).

Complexity (S short volumes, N nodes, H healthy replicas on a candidate node): O(S N (H + N))
for ``make_room``; ``trim`` runs the plain checks once per healthy item moved.
"""
from __future__ import annotations

from typing import Callable

from placement.models.cluster import NodeState
from placement.models.plan import Placement
from placement.resilience.composition import Footprint
from placement.scenario import Scenario

PASSES = 2  # short volumes are placed again at most this many times (a move may help the next)


def _all_pass(scenario: Scenario, target: Placement) -> bool:
    from placement.rules import check_all

    return not check_all(scenario, target)


def make_room(scenario: Scenario, start: Placement, passes: Callable[[Scenario, Placement], bool] = _all_pass
              ) -> Placement | None:
    """A target meeting every invariant (judged by ``passes``: ``check_all`` finds nothing, or an
    equivalent such as ``placement.resilience.changed.valid``), made from ``start`` by placing its
    short touched volumes again where room can be made, or None."""
    from placement.solve.leaders import elect_leaders

    room = _Room(scenario, start)
    if not room.short():
        return None  # nothing this greedy knows how to fix
    for _ in range(PASSES):
        short = room.short()
        if not short:
            break
        for name in short:
            room.refill(name)
    if room.short():
        return None
    target = elect_leaders(scenario, room.placement(), even_out=False)
    return target if passes(scenario, target) else None


class _Room:
    """The target being built: replica nodes per volume, storage left per node."""

    def __init__(self, scenario: Scenario, start: Placement):
        cluster = scenario.cluster
        self.scenario, self.cluster, self.start = scenario, cluster, start
        self.volumes = dict(start.volumes)
        self.zone_of = {n.name: n.zone for n in cluster.nodes}
        # the room as the cluster stands, corrected where the start differs from now (the
        # volumes it places otherwise or not at all): no pass over every replica
        from placement.resilience.changed import _indexes

        used = cluster.storage_used_mib
        self.free = {n.name: scenario.storage_limit_mib(n.name) - used[n.name] for n in cluster.nodes}
        self._listed = _indexes(cluster)[1]  # node -> the volumes listing a replica there now
        self._on_node: dict[str, set[str]] = {}  # node -> the volumes on it here (made when first changed)
        by_name = cluster.volume
        differ = [name for name, nodes in self.volumes.items() if nodes is not by_name[name].replicas]
        differ += [name for name in by_name.keys() - self.volumes.keys()]
        for name in differ:
            v = by_name[name]
            for n in v.replicas:
                self.free[n] += v.size_mib
                self._on(n).discard(name)
            for n in self.volumes.get(name, ()):
                self.free[n] -= v.size_mib
                self._on(n).add(name)
        self.ready = sorted((n.name for n in cluster.nodes if n.is_storage and n.state is NodeState.READY
                             and scenario.is_alive(n.name) and not scenario.is_drained(n.name)))
        self.touched = set(scenario.touched_volumes)
        # replicas a broker needs under it (where the target runs it): never moved away
        self.pinned = {(node, v) for bid, node in start.brokers.items() if node is not None
                       for v in cluster.broker[bid].volumes}
        self.moved: set[str] = set()  # healthy volumes moved (each once at most)
        self._by_room: dict[str, list[str]] | None = None  # zone -> its ready nodes, roomiest first (until ``free`` changes)

    def _on(self, node: str) -> set[str]:
        """The volumes with a replica on the node in the target being built."""
        found = self._on_node.get(node)
        if found is None:
            found = self._on_node[node] = set(self._listed.get(node, ()))
        return found

    def placement(self) -> Placement:
        return Placement(brokers=self.start.brokers, volumes=self.volumes, partitions=self.start.partitions)

    def _zones(self, nodes) -> int:
        return len({self.zone_of[n] for n in nodes})

    def short(self) -> list[str]:
        """Touched volumes below their replication factor or their zones (largest first)."""
        out = []
        for name in sorted(self.touched):
            if name not in self.volumes:
                continue  # lost its data: nothing to place
            v = self.cluster.volume[name]
            nodes = self.volumes[name]
            if len(set(nodes)) < v.replication_factor or self._zones(nodes) < self.scenario.zones_needed(v):
                out.append(name)
        return sorted(out, key=lambda name: (-self.cluster.volume[name].size_mib, name))

    def _set(self, name: str, nodes: tuple[str, ...]) -> None:
        size = self.cluster.volume[name].size_mib
        self._by_room = None
        for n in self.volumes.get(name, ()):
            self.free[n] += size
            self._on(n).discard(name)
        for n in nodes:
            self.free[n] -= size
            self._on(n).add(name)
        self.volumes[name] = nodes

    def refill(self, name: str) -> None:
        """Choose the volume's new replicas again: its survivors (and stale replicas it keeps)
        stay, the rest go where there is room, or where room is made."""
        scenario, v = self.scenario, self.cluster.volume[name]
        keep = [n for n in self.volumes[name] if n in scenario.survivors(name) or n in scenario.stale_replicas(name)]
        self._set(name, tuple(keep))
        chosen = list(keep)
        needed = scenario.zones_needed(v)
        while len(chosen) < v.replication_factor:
            covered = {self.zone_of[n] for n in chosen}
            must_spread = needed - len(covered) >= v.replication_factor - len(chosen)
            # (a ready node -- alive, READY storage, not drained -- may hold any volume's replica)
            allowed = [n for n in self.ready if n not in chosen and not (must_spread and self.zone_of[n] in covered)]
            roomy = [n for n in allowed if self.free[n] >= v.size_mib]
            if roomy:
                pick = max(roomy, key=lambda n: (self.zone_of[n] not in covered, self.free[n], n))
            else:
                pick = self._make_room(v, allowed, chosen + [name])
                if pick is None:
                    break
            chosen.append(pick)
            self._set(name, tuple(chosen))

    def _make_room(self, v, allowed: list[str], busy: list[str]) -> str | None:
        """The allowed node that becomes roomy for ``v`` by moving the least healthy data away
        (moves made), or None."""
        best = None
        # what a node's moves free is at least its deficit: the smallest deficits first, and none
        # whose deficit exceeds the best cost found can beat it
        for deficit, n in sorted((v.size_mib - self.free[n], n) for n in allowed):
            if best is not None and deficit > best[0][0]:
                break
            moves = self._evictions(n, deficit)
            if moves is not None:
                cost = (sum(self.cluster.volume[w].size_mib for w, _ in moves), len(moves), n)
                if best is None or cost < best[0]:
                    best = (cost, n, moves)
        if best is None:
            return None
        _, n, moves = best
        for w, dest in moves:
            self._set(w, tuple(dest if m == n else m for m in self.volumes[w]))
            self.moved.add(w)
        return n

    def _evictions(self, node: str, deficit: int) -> list[tuple[str, str]] | None:
        """Healthy replicas on ``node`` to move, with their new nodes, freeing ``deficit`` MiB:
        the smallest one that frees enough, else the largest first; None when they cannot."""
        candidates = sorted((w for w in self._on(node) if w not in self.touched and w not in self.moved
                             and (node, w) not in self.pinned and self.volumes.get(w) == self.cluster.volume[w].replicas),
                            key=lambda w: (self.cluster.volume[w].size_mib, w))
        if not candidates:
            return None
        taken: dict[str, int] = {}
        for w in candidates:  # one replica that frees enough
            if self.cluster.volume[w].size_mib >= deficit:
                dest = self._destination(w, node, taken)
                if dest is not None:
                    return [(w, dest)]
        moves, freed = [], 0
        for w in reversed(candidates):  # else the largest first
            dest = self._destination(w, node, taken)
            if dest is None:
                continue
            size = self.cluster.volume[w].size_mib
            taken[dest] = taken.get(dest, 0) + size
            moves.append((w, dest))
            freed += size
            if freed >= deficit:
                return moves
        return None

    def _destination(self, w: str, away: str, taken: dict[str, int]) -> str | None:
        """The roomiest node that may take ``w``'s replica from ``away``, keeping its zones."""
        v = self.cluster.volume[w]
        here = self.volumes[w]
        other_zones = {self.zone_of[m] for m in here if m != away}
        zones_before = self._zones(here)
        if self._by_room is None:
            by_zone: dict[str, list[str]] = {}
            for m in sorted(self.ready, key=lambda m: (self.free[m], m), reverse=True):
                by_zone.setdefault(self.zone_of[m], []).append(m)
            self._by_room = by_zone
        # keeping its zones: any zone when the others cover as many without ``away``, else a new one
        spread = len(other_zones) < zones_before
        free, best = self.free, None
        for zone, nodes in self._by_room.items():
            if spread and zone in other_zones:
                continue
            for m in nodes:  # alive, ready storage, not drained: may hold any volume's replica
                if best is not None and (free[m], m) < best:
                    break  # what is left of a node is at most its free storage: none further is better
                if free[m] < v.size_mib:
                    break  # the roomiest first: none further has room
                left = free[m] - taken.get(m, 0)
                if left < v.size_mib or m in here:
                    continue
                if best is None or (left, m) > best:
                    best = (left, m)
        return best[1] if best is not None else None


# -- trimming a making-room recovery --------------------------------------------------

def healthy_changes(scenario: Scenario, target: Placement) -> tuple[list[str], list[int]]:
    """The healthy volumes and brokers (not touched by the failure) the target changes."""
    cluster = scenario.cluster
    touched_v, touched_b = set(scenario.touched_volumes), set(scenario.touched_brokers)
    volumes = sorted(name for name, nodes in target.volumes.items()
                     if name not in touched_v and nodes != cluster.volume[name].replicas)
    brokers = sorted(bid for bid, node in target.brokers.items()
                     if bid not in touched_b and node != cluster.broker[bid].node)
    return volumes, brokers


def trim(scenario: Scenario, target: Placement, passes: Callable[[Scenario, Placement], bool] = _all_pass
         ) -> Placement:
    """``target`` (valid) with each healthy volume and broker it moved put back where it is
    now, one at a time, wherever the plain checks still pass (``passes``, as in ``make_room``)."""
    cluster = scenario.cluster
    volumes, brokers = healthy_changes(scenario, target)
    if not volumes and not brokers:
        return target
    current = dict(target.volumes)
    for name in volumes:
        undone = Placement(target.brokers, {**current, name: cluster.volume[name].replicas}, target.partitions)
        if passes(scenario, undone):
            current[name] = cluster.volume[name].replicas
            target = undone
    where = dict(target.brokers)
    for bid in brokers:
        undone = Placement({**where, bid: cluster.broker[bid].node}, target.volumes, target.partitions)
        if passes(scenario, undone):
            where[bid] = cluster.broker[bid].node
            target = undone
    return target


def composable(scenario: Scenario, fp: Footprint) -> bool:
    """Does this recovery change only what the failure touches (so composition covers it)?"""
    touched_v, touched_b = set(scenario.touched_volumes), set(scenario.touched_brokers)
    if any(v not in touched_v for v in fp.volumes) or any(b not in touched_b for b in fp.brokers):
        return False
    return all(touched_b.intersection(scenario.cluster.partition[key].replicas) for key in fp.partitions)


__all__ = ["composable", "healthy_changes", "make_room", "trim"]

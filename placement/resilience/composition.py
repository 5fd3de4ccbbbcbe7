"""Composing the recoveries of two failure sets into one for their union.

A valid target for failure set S changes only what S touches, placed on nodes that survive S;
everything else stays as it is, and the cluster as it stands is valid (the sweep composes only
then). A ``Footprint`` keeps just what a recovery *changes*: each volume, broker and partition
whose target differs from the cluster as it is, and the load it adds to or frees from each node.

Two recoveries A (of S1) and B (of S2) merge into a target for S1 | S2 when

- neither places anything on a node the other one fails;
- every volume both change still works out: the replicas neither drops plus the ones each adds
  (no node added twice) are exactly its replication factor and cover the zones it needs with
  the zones left after both failures;
- no broker is moved by both, and every moved broker still sits on a replica of each of its
  volumes in the merged target (hyperconvergence);
- no partition is changed by both, and no partition one changes names a broker (as a replica
  or a source) that the other moves; with ``rackAware: required``, a partition whose brokers
  both move keeps its racks distinct;
- every node both add to fits the sum (storage, broker slots, CPU, memory).

Every invariant is about one volume, one broker, one partition or one node, and each is
checked above for what the two both decide; what only one decides holds as it did in that
one's valid target, because fewer zones survive the union, so zone-spread and rack
requirements only get weaker. ``tests/test_resilience.py`` checks composed targets with the
plain checks (``check_all``) on random clusters.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from placement.models.cluster import BrokerPlacement, Cluster, NodeLoad, NodeState, RackAware
from placement.models.plan import Placement, PartitionTarget
from placement.scenario import Scenario

PKey = tuple[str, int]
ZERO = NodeLoad()


def _plus(a: NodeLoad, b: NodeLoad) -> NodeLoad:
    return NodeLoad(a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


def _minus(a: NodeLoad, b: NodeLoad) -> NodeLoad:
    return NodeLoad(a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3])


@dataclass(frozen=True)
class Footprint:
    """What a valid recovery of ``failed`` changes, and what it relies on."""

    failed: frozenset[str]
    volumes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # changed volume -> target nodes
    brokers: dict[int, str | None] = field(default_factory=dict)  # moved broker -> target node (None: cannot run)
    partitions: dict[PKey, PartitionTarget] = field(default_factory=dict)  # changed partition -> target
    places: frozenset[str] = frozenset()  # nodes it puts new replicas or moved brokers on
    relies_on: frozenset[int] = frozenset()  # brokers its changed partitions name (replicas and sources)
    delta: dict[str, NodeLoad] = field(default_factory=dict)  # node -> the load it adds there (negative: frees)


def footprint(scenario: Scenario, target: Placement) -> Footprint:
    """The changes a valid target makes to the cluster as it is."""
    cluster = scenario.cluster
    volumes = {}
    for v in cluster.volumes:
        nodes = tuple(target.volumes.get(v.name, ()))
        if v.name in target.volumes and nodes != v.replicas:
            volumes[v.name] = nodes
    brokers = {b.id: target.brokers.get(b.id) for b in cluster.brokers
               if b.id in target.brokers and target.brokers.get(b.id) != b.node}
    partitions = {}
    for p in cluster.partitions:
        t = target.partitions.get(p.key)
        if t is not None and (tuple(t.replicas) != p.replicas or t.leader != p.leader):
            partitions[p.key] = t
    delta: dict[str, NodeLoad] = {}

    def add(node: str, load: NodeLoad, sign: int) -> None:
        delta[node] = _plus(delta.get(node, ZERO), load if sign > 0 else _minus(ZERO, load))

    for name, nodes in volumes.items():
        replica = NodeLoad(storage_mib=cluster.volume[name].size_mib)
        before = cluster.volume[name].replicas
        for n in nodes:
            if n not in before:
                add(n, replica, +1)
        for n in before:
            if n not in nodes:
                add(n, replica, -1)
    for bid, node in brokers.items():
        b = cluster.broker[bid]
        if node is not None:
            add(node, NodeLoad.of_broker(b), +1)
        add(b.node, NodeLoad.of_broker(b), -1)
    delta = {n: d for n, d in delta.items() if d != ZERO}
    places = {n for name, nodes in volumes.items() for n in nodes if n not in cluster.volume[name].replicas}
    places |= {n for n in brokers.values() if n}
    relies = {b for key, t in partitions.items() for b in (*t.replicas, *cluster.partition[key].isr)}
    return Footprint(scenario.failures.nodes, volumes, brokers, partitions, frozenset(places), frozenset(relies), delta)


class NodeRoom:
    """The cluster's facts composition needs: each node's usage and limits as the cluster stands,
    the zones that keep a ready storage node, and (for required racks) each broker's partitions."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.used = {n: NodeLoad(storage_mib=mib) for n, mib in cluster.storage_used_mib.items()}
        for b in cluster.brokers:
            self.used[b.node] = self.used[b.node].plus(NodeLoad.of_broker(b))
        self.limits = {n.name: cluster.limits(n.name) for n in cluster.nodes}
        self.zone = {n.name: n.zone for n in cluster.nodes}
        self.zone_spread = cluster.policy.zone_spread
        self.hyperconverged = cluster.policy.broker_placement is BrokerPlacement.REQUIRED
        self.rack_required = cluster.policy.rack_aware is RackAware.REQUIRED
        ready = [n for n in cluster.nodes if n.state is NodeState.READY]
        storage = [n for n in ready if n.is_storage]
        self.storage_zone_nodes = _by_zone(storage)  # zone -> its ready storage nodes (sorted)
        self.rack_zone_nodes = self.storage_zone_nodes if self.hyperconverged else _by_zone(ready)
        self.current = {v.name: v.replicas for v in cluster.volumes}
        # where a replaced replica goes first: the most free space as the cluster stands
        self.roomiest = [n.name for n in sorted(storage, key=lambda n: (self.used[n.name].storage_mib - n.storage_mib,
                                                                        n.name))]
        self.ready_nodes = [n.name for n in ready]
        self.volume_index = {v.name: i for i, v in enumerate(cluster.volumes)}
        self.node_index = {n.name: i for i, n in enumerate(cluster.nodes)}
        self.volumes_on: dict[str, list[str]] = {}  # node -> the volumes with a replica there now
        for v in cluster.volumes:
            for n in v.replicas:
                self.volumes_on.setdefault(n, []).append(v.name)
        self.brokers_on: dict[str, list[int]] = {}  # node -> the brokers running there now
        for b in cluster.brokers:
            self.brokers_on.setdefault(b.node, []).append(b.id)
        self.partitions_of: dict[int, list[PKey]] = {}
        if self.rack_required:
            for p in cluster.partitions:
                for b in p.replicas:
                    self.partitions_of.setdefault(b, []).append(p.key)

    def fits(self, node: str, *deltas: NodeLoad) -> bool:
        """Whatever the deltas add together fits the node's limits (what they free or leave
        as it is never makes a node that is already over a limit fail here)."""
        added = deltas[0] if len(deltas) == 1 else ZERO
        if len(deltas) > 1:
            for d in deltas:
                added = _plus(added, d)
        for used, more, limit in zip(self.used[node], added, self.limits[node]):
            if limit is not None and more > 0 and used + more > limit:
                return False
        return True

    def is_ready(self, node: str) -> bool:
        return self.cluster.node[node].state is NodeState.READY

    @staticmethod
    def zones_left(zone_nodes: dict[str, tuple[str, ...]], down: frozenset[str]) -> int:
        return sum(1 for nodes in zone_nodes.values() if not down.issuperset(nodes))


def _by_zone(nodes) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for n in nodes:
        out.setdefault(n.zone, []).append(n.name)
    return {z: tuple(sorted(s)) for z, s in out.items()}


def compose(a: Footprint, b: Footprint, room: NodeRoom) -> Footprint | None:
    """The footprint of a valid recovery of ``a.failed | b.failed`` made of the two, or None.
    A new replica or a moved broker that one recovery put on a node the other fails is placed
    again (repaired) on a node that can take it, when there is one."""
    if a.brokers.keys() & b.brokers.keys() or a.partitions.keys() & b.partitions.keys():
        return None
    if a.relies_on & b.brokers.keys() or b.relies_on & a.brokers.keys():
        return None
    down = a.failed | b.failed
    cluster = room.cluster
    delta = dict(a.delta)
    recheck: set[str] = set()  # nodes whose load must be checked again
    for node, d in b.delta.items():
        mine = delta.get(node)
        if mine is None:
            delta[node] = d
        else:
            delta[node] = _plus(mine, d)
            recheck.add(node)
    volumes = dict(a.volumes)
    redo: list[str] = []  # volumes to refill and check again: changed by both, or on a failed node
    for name, tb in b.volumes.items():
        ta = volumes.get(name)
        if ta is None:
            volumes[name] = tb
            continue
        merged = _merge_volume(cluster.volume[name], ta, tb, delta, recheck)
        if merged is None:
            return None
        volumes[name] = merged
        redo.append(name)
    stray = a.places & b.failed or b.places & a.failed  # something placed on a node the other fails
    if stray:
        redo += [name for name, nodes in volumes.items() if down.intersection(nodes) and name not in redo]
    brokers = {**a.brokers, **b.brokers}
    rehost = sorted(bid for bid, node in brokers.items() if node in down) if stray else []
    return _finish(room, down, volumes, redo, brokers, rehost, {**a.partitions, **b.partitions},
                   set(a.places | b.places), a.relies_on | b.relies_on, delta, recheck,
                   racks=bool(a.brokers and b.brokers))


def fail_more(a: Footprint, extra: frozenset[str], room: NodeRoom) -> Footprint | None:
    """``a``'s recovery with the nodes ``extra`` failing too: every replica and broker they hold
    (as the cluster stands, or as ``a`` placed them) placed again where there is room, or None.
    With ``a`` the empty recovery, a single node's recovery without a search."""
    if a.relies_on & {b for n in extra for b in room.brokers_on.get(n, ())}:
        return None  # a partition it changed names a broker that must move now
    down = a.failed | extra
    volumes = dict(a.volumes)
    redo = sorted({name for n in extra for name in room.volumes_on.get(n, ()) if name not in volumes}
                  | {name for name, nodes in volumes.items() if extra.intersection(nodes)})
    for name in redo:
        volumes.setdefault(name, room.current[name])
    brokers = dict(a.brokers)
    for n in sorted(extra):
        for bid in room.brokers_on.get(n, ()):
            brokers.setdefault(bid, n)
    rehost = sorted(bid for bid, node in brokers.items() if node in extra)
    return _finish(room, down, volumes, redo, brokers, rehost, dict(a.partitions), set(a.places), a.relies_on,
                   dict(a.delta), set(), racks=False)


def _finish(room: NodeRoom, down: frozenset[str], volumes: dict, redo: list[str], brokers: dict, rehost: list[int],
            partitions: dict, places: set[str], relies_on: frozenset[int], delta: dict[str, NodeLoad],
            recheck: set[str], *, racks: bool) -> Footprint | None:
    """Refill the volumes in ``redo``, move the brokers in ``rehost`` again, and check what that
    and the merge may have broken: hyperconvergence, racks, and every node's load."""
    cluster = room.cluster
    zones = room.zones_left(room.storage_zone_nodes, down) if room.zone_spread else 0
    if rehost and room.hyperconverged:
        rehost = [bid for bid in rehost if not _with_new_replica(cluster.broker[bid], volumes, set(redo), down, brokers,
                                                                 delta, room, recheck, places)]
    if redo:
        for name in sorted(set(redo)):
            refilled = _refill(cluster.volume[name], volumes[name], down, delta, room, zones, recheck, places)
            if refilled is None:
                return None
            volumes[name] = refilled
    for bid in rehost:
        node = _rehost(cluster.broker[bid], volumes, down, delta, room)
        if node is None:
            return None
        brokers[bid] = node  # (where it ran is failed: the recovery that moved it freed that already)
        recheck.add(node)
        places.add(node)
    for bid in [bid for bid, node in brokers.items() if node == cluster.broker[bid].node]:
        del brokers[bid]  # back where it runs: no change
    if room.hyperconverged and (redo or rehost):
        for bid, node in brokers.items():
            if node is not None and any(node not in volumes.get(v, room.current[v])
                                        for v in cluster.broker[bid].volumes):
                return None
    if room.rack_required and (racks or rehost) and not _racks_hold(brokers, room, down):
        return None
    for node in recheck:
        if node not in down and not room.fits(node, delta[node]):
            return None
    places -= down
    if down.intersection(delta):
        delta = {n: d for n, d in delta.items() if n not in down}
    return Footprint(down, volumes, brokers, partitions, frozenset(places), relies_on, delta)


def _with_new_replica(broker, volumes: dict, redo: set[str], down: frozenset[str], brokers: dict,
                      delta: dict[str, NodeLoad], room: NodeRoom, recheck: set[str], places: set[str]) -> bool:
    """Move a broker whose node failed to a node of the same zone (so its partitions keep their
    racks) that takes a new replica of each of its volumes, when each lost a replica anyway and
    that zone holds none of its surviving replicas; the volumes are then refilled around it."""
    zone = room.zone[broker.node]
    if not broker.volumes or any(v not in redo for v in broker.volumes):
        return False
    kept = {v: [n for n in volumes[v] if n not in down] for v in broker.volumes}
    if any(room.zone[n] == zone for nodes in kept.values() for n in nodes):
        return False
    need = NodeLoad.of_broker(broker)
    for v in broker.volumes:
        need = _plus(need, NodeLoad(storage_mib=room.cluster.volume[v].size_mib))
    for candidate in room.storage_zone_nodes.get(zone, ()):
        if candidate not in down and room.fits(candidate, _plus(delta.get(candidate, ZERO), need)):
            for v in broker.volumes:
                volumes[v] = tuple(kept[v]) + (candidate,)
            delta[candidate] = _plus(delta.get(candidate, ZERO), need)
            brokers[broker.id] = candidate
            recheck.add(candidate)
            places.add(candidate)
            return True
    return False


def _merge_volume(volume, ta: tuple[str, ...], tb: tuple[str, ...], delta: dict[str, NodeLoad],
                  recheck: set[str]) -> tuple[str, ...] | None:
    """One volume both recoveries change: what neither drops, plus what each adds."""
    current = volume.replicas
    added_a = [n for n in ta if n not in current]
    added_b = [n for n in tb if n not in current]
    if set(added_a) & set(added_b):
        return None
    replica = NodeLoad(storage_mib=volume.size_mib)
    for n in current:  # both deltas freed a replica both dropped: it is freed once
        if n not in ta and n not in tb:
            delta[n] = _plus(delta.get(n, ZERO), replica)
            recheck.add(n)
    return tuple([n for n in current if n in ta and n in tb] + added_a + added_b)


def _refill(volume, nodes: tuple[str, ...], down: frozenset[str], delta: dict[str, NodeLoad], room: NodeRoom,
            zones: int, recheck: set[str], places: set[str]) -> tuple[str, ...] | None:
    """The volume's target without replicas on failed nodes, refilled to its replication factor
    on ready storage nodes with room (new zones first while zones must spread), then checked:
    its replication factor on distinct nodes over the zones it needs."""
    replica = NodeLoad(storage_mib=volume.size_mib)
    kept = [n for n in nodes if n not in down]
    needed_zones = min(volume.replication_factor, zones)
    order = room.roomiest
    # where the scan starts depends on the volume and the failed nodes, so that recoveries of
    # different failures choose different nodes and merge without colliding (deterministic)
    first = (room.volume_index[volume.name] * 7919 + sum(room.node_index[n] for n in down) * 104729) \
        % max(1, len(order))
    while len(kept) < volume.replication_factor:
        have = {room.zone[n] for n in kept}
        spread = room.zone_spread and len(have) < needed_zones
        choice = None
        for candidate in order[first:] + order[:first]:
            if candidate in down or candidate in kept or (spread and room.zone[candidate] in have):
                continue
            if room.fits(candidate, _plus(delta.get(candidate, ZERO), replica)):
                choice = candidate
                break
        if choice is None:
            return None
        kept.append(choice)
        delta[choice] = _plus(delta.get(choice, ZERO), replica)
        recheck.add(choice)
        places.add(choice)
    if len(kept) != volume.replication_factor or len(set(kept)) != len(kept):
        return None
    if room.zone_spread and len({room.zone[n] for n in kept}) < needed_zones:
        return None
    return tuple(kept)


def _rehost(broker, volumes: dict[str, tuple[str, ...]], down: frozenset[str], delta: dict[str, NodeLoad],
            room: NodeRoom) -> str | None:
    """A node for a broker whose chosen node the other recovery fails: one holding each of its
    volumes in the merged target (hyperconverged) or any ready node, with a broker slot, CPU and memory."""
    load = NodeLoad.of_broker(broker)
    if room.hyperconverged:
        holders = [set(volumes.get(v, room.current[v])) for v in broker.volumes]
        candidates = sorted(set.intersection(*holders)) if holders else room.ready_nodes
    else:
        candidates = room.ready_nodes
    zone = room.zone[broker.node]  # its own zone first: its partitions keep their racks
    candidates = [n for n in candidates if room.zone[n] == zone] + [n for n in candidates if room.zone[n] != zone]
    for n in candidates:
        if n in down or not room.is_ready(n):
            continue
        if room.fits(n, _plus(delta.get(n, ZERO), load)):
            delta[n] = _plus(delta.get(n, ZERO), load)
            return n
    return None


def _racks_hold(brokers: dict[int, str | None], room: NodeRoom, down: frozenset[str]) -> bool:
    """rackAware required: every partition of a moved broker keeps its replicas in distinct racks."""
    cluster = room.cluster
    racks = room.zones_left(room.rack_zone_nodes, down)
    for key in {k for bid in brokers for k in room.partitions_of.get(bid, ())}:
        p = cluster.partition[key]
        nodes = [brokers.get(x, cluster.broker[x].node) for x in p.replicas]
        if None in nodes or len({room.zone[n] for n in nodes}) < min(len(p.replicas), racks):
            return False
    return True


def apply_footprint(cluster: Cluster, fp: Footprint) -> Placement:
    """The whole target a footprint stands for (for checking compositions)."""
    from placement.resilience.changed import _indexes

    current = Placement.current(cluster)
    volumes = dict(current.volumes)
    volumes_on = _indexes(cluster)[1]
    for n in fp.failed:  # the volumes with a replica on a failed node: dropped (the footprint's stay)
        for v in volumes_on.get(n, ()):
            volumes.pop(v, None)
    volumes.update(fp.volumes)
    brokers = {**current.brokers, **fp.brokers}
    partitions = {**current.partitions, **fp.partitions}
    return Placement(brokers=brokers, volumes=volumes, partitions=partitions)


def overlay(scenario: Scenario, base: Placement, fp: Footprint) -> Placement:
    """``base`` with the decisions of an earlier recovery that still apply in ``scenario``:
    those that use no node failed here, and partitions whose brokers all still run."""
    down = scenario.failures.nodes
    volumes = dict(base.volumes)
    volumes.update({v: nodes for v, nodes in fp.volumes.items() if v in volumes and not down.intersection(nodes)})
    brokers = dict(base.brokers)
    brokers.update({b: n for b, n in fp.brokers.items() if n is not None and n not in down})
    partitions = dict(base.partitions)
    partitions.update({k: t for k, t in fp.partitions.items() if all(brokers.get(b) for b in t.replicas)})
    return Placement(brokers=brokers, volumes=volumes, partitions=partitions)


__all__ = ["Footprint", "NodeRoom", "apply_footprint", "compose", "fail_more", "footprint", "overlay"]

"""Composing the recoveries of two failure sets into one for their union.

A valid target for failure set S changes only what S touches: its touched
volumes, brokers and partitions (``Scenario.touched_*``), placed on nodes that
survive S. Everything else stays as it is, and the cluster as it stands is
valid. For two failure sets S1 and S2 whose recoveries

- touch disjoint volumes, brokers and partitions,
- place nothing on a node of the other set,
- rely on no broker the other one moves or stops (a partition's replicas and
  leader are brokers; moving one would change its rack), and
- together fit every node they both add to (storage, CPU, memory, broker slots),

both targets applied together form a valid target for S1 and S2 failing at once:
every invariant is about one volume, one broker, one partition or one node, and
each is decided by at most one of the two (the nodes by the sums checked here).
Fewer zones survive the union, so zone-spread and rack requirements can only
get weaker. The union touches exactly what the two touch, unless it loses a
volume's data, which is tested before composing. ``tests/test_resilience.py``
checks composed targets with the plain checks on random clusters.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from placement.models.cluster import Cluster, NodeLoad
from placement.models.plan import Placement, PartitionTarget
from placement.scenario import Scenario

PKey = tuple[str, int]


@dataclass(frozen=True)
class Footprint:
    """What a valid recovery of ``failed`` decides, and what it relies on."""

    failed: frozenset[str]
    volumes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # touched volume -> target nodes
    brokers: dict[int, str | None] = field(default_factory=dict)  # touched broker -> target node
    partitions: dict[PKey, PartitionTarget] = field(default_factory=dict)  # touched partition -> target
    places: frozenset[str] = frozenset()  # nodes it puts touched replicas or brokers on
    relies_on: frozenset[int] = frozenset()  # brokers its partitions' targets name
    delta: dict[str, NodeLoad] = field(default_factory=dict)  # node -> the load it adds there (negative: frees)


def footprint(scenario: Scenario, target: Placement) -> Footprint:
    cluster = scenario.cluster
    volumes = {v: tuple(target.volumes.get(v, ())) for v in scenario.touched_volumes}
    brokers = {b: target.brokers.get(b) for b in scenario.touched_brokers}
    partitions = {k: target.partitions[k] for k in scenario.touched_partitions}
    delta: dict[str, NodeLoad] = defaultdict(NodeLoad)
    for name, nodes in volumes.items():
        replica = NodeLoad(storage_mib=cluster.volume[name].size_mib)
        for n in nodes:
            delta[n] = delta[n].plus(replica)
        for n in cluster.volume[name].replicas:
            delta[n] = delta[n].minus(replica)
    for bid, node in brokers.items():
        b = cluster.broker[bid]
        if node is not None:
            delta[node] = delta[node].plus(NodeLoad.of_broker(b))
        delta[b.node] = delta[b.node].minus(NodeLoad.of_broker(b))
    places = {n for nodes in volumes.values() for n in nodes} | {n for n in brokers.values() if n}
    relies = {b for t in partitions.values() for b in t.replicas}
    return Footprint(scenario.failures.nodes, volumes, brokers, partitions, frozenset(places), frozenset(relies),
                     dict(delta))


class NodeRoom:
    """Each node's usage as the cluster stands and its limits, to add footprints onto."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.used = {n: NodeLoad(storage_mib=mib) for n, mib in cluster.storage_used_mib.items()}
        for b in cluster.brokers:
            self.used[b.node] = self.used[b.node].plus(NodeLoad.of_broker(b))

    def fits(self, node: str, *deltas: NodeLoad) -> bool:
        """Whatever the deltas add together fits the node's limits (what they free or leave
        as it is never makes a node that is already over a limit fail here)."""
        added = NodeLoad()
        for d in deltas:
            added = added.plus(d)
        for used, more, limit in zip(self.used[node], added, self.cluster.limits(node)):
            if limit is not None and more > 0 and used + more > limit:
                return False
        return True


def compose(a: Footprint, b: Footprint, room: NodeRoom) -> Footprint | None:
    """The footprint of a valid recovery of ``a.failed | b.failed`` made of the two, or None."""
    if a.volumes.keys() & b.volumes.keys() or a.brokers.keys() & b.brokers.keys() \
            or a.partitions.keys() & b.partitions.keys():
        return None
    if a.places & b.failed or b.places & a.failed:
        return None
    if a.relies_on & b.brokers.keys() or b.relies_on & a.brokers.keys():
        return None
    for node in a.delta.keys() & b.delta.keys():
        if not room.fits(node, a.delta[node], b.delta[node]):
            return None
    delta = dict(a.delta)
    for node, d in b.delta.items():
        delta[node] = delta.get(node, NodeLoad()).plus(d)
    return Footprint(a.failed | b.failed, {**a.volumes, **b.volumes}, {**a.brokers, **b.brokers},
                     {**a.partitions, **b.partitions}, a.places | b.places, a.relies_on | b.relies_on, delta)


def apply_footprint(cluster: Cluster, fp: Footprint) -> Placement:
    """The whole target a footprint stands for (for checking compositions)."""
    current = Placement.current(cluster)
    volumes = {v: r for v, r in current.volumes.items() if not any(n in fp.failed for n in r)}
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


__all__ = ["Footprint", "NodeRoom", "apply_footprint", "compose", "footprint", "overlay"]

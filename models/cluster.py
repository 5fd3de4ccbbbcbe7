"""The cluster as the user described it: immutable, validated, integer units inside.

Every type here is a frozen dataclass; a new state is derived, never mutated.
Sizes are MiB and cpu is millicores (see models.units); the GiB figures the
user wrote are kept beside them so nothing the user gave is lost.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Iterator, NamedTuple


class NodeState(str, Enum):
    READY = "ready"
    FAILED = "failed"
    CORDONED = "cordoned"  # keeps what it has, receives nothing new


class BrokerPlacement(str, Enum):
    REQUIRED = "required"
    PREFERRED = "preferred"


class RackAware(str, Enum):
    REQUIRED = "required"
    PREFERRED = "preferred"
    OFF = "off"


@dataclass(frozen=True)
class Policy:
    volume_replication_factor: int = 3
    zone_spread: bool = True
    broker_placement: BrokerPlacement = BrokerPlacement.REQUIRED
    brokers_per_node: int = 1
    min_insync_replicas: int = 1
    rack_aware: RackAware = RackAware.PREFERRED
    node_bandwidth_gbps: float = 10.0  # network per node, each direction, shared by concurrent copies

    @property
    def node_bandwidth_mib_s(self) -> float:
        return self.node_bandwidth_gbps * 1e9 / 8 / 2**20


@dataclass(frozen=True)
class Node:
    name: str
    zone: str = "default"
    state: NodeState = NodeState.READY
    storage_mib: int = 0  # 0: storageless, holds no replica
    cpu_millicores: int | None = None  # None: unlimited
    memory_mib: int | None = None
    storage_gib: float = 0

    @property
    def is_storage(self) -> bool:
        return self.storage_mib > 0


@dataclass(frozen=True)
class Volume:
    name: str
    size_mib: int  # space taken on every node that holds a replica
    used_mib: int  # data copied to build a new replica
    replication_factor: int
    replicas: tuple[str, ...]  # current replica nodes, failed ones included
    size_gib: float = 0
    used_gib: float = 0
    # replicas that exist but are behind (a resync in progress, a node back from a failure):
    # (node, GiB to copy to bring it in sync), each node also listed in ``replicas``
    stale: tuple[tuple[str, float], ...] = ()

    @property
    def stale_mib(self) -> dict[str, int]:
        """Stale replica node -> MiB a resync copies to bring it in sync."""
        from placement.models.units import size_mib

        return {node: size_mib(gib) for node, gib in self.stale}

    @property
    def in_sync_replicas(self) -> tuple[str, ...]:
        """Listed replicas that are not stale (on failed nodes too)."""
        behind = {node for node, _ in self.stale}
        return tuple(n for n in self.replicas if n not in behind)


@dataclass(frozen=True)
class Broker:
    id: int
    node: str
    volumes: tuple[str, ...]
    cpu_millicores: int = 0
    memory_mib: int = 0


@dataclass(frozen=True)
class Partition:
    topic: str
    id: int
    replicas: tuple[int, ...]  # broker ids; replicas[0] is the preferred leader
    leader: int | None  # None: no leader (Kafka's "Leader: none", -1 in the cluster file)
    isr: tuple[int, ...]  # may be empty, and may miss the leader, in a state Kafka reports mid-election
    size_mib: int = 0
    size_gib: float = 0

    @cached_property
    def key(self) -> tuple[str, int]:  # made once: every pass over 150,000 partitions asks for it
        return (self.topic, self.id)

    @property
    def label(self) -> str:
        return f"{self.topic}-{self.id}"


@dataclass(frozen=True)
class Topic:
    name: str
    min_insync_replicas: int
    partitions: tuple[Partition, ...]


class NodeLoad(NamedTuple):
    """What a node carries, in one order everywhere: replica storage, brokers, and the
    brokers' CPU and memory (MiB and millicores). As limits, None means unlimited."""

    storage_mib: int = 0
    brokers: int = 0
    cpu_millicores: int = 0
    memory_mib: int = 0

    @classmethod
    def of_broker(cls, broker: Broker) -> "NodeLoad":
        return cls(0, 1, broker.cpu_millicores, broker.memory_mib)

    def plus(self, other: "NodeLoad") -> "NodeLoad":
        return NodeLoad(*(a + b for a, b in zip(self, other)))

    def minus(self, other: "NodeLoad") -> "NodeLoad":
        return NodeLoad(*(a - b for a, b in zip(self, other)))


@dataclass(frozen=True)
class Cluster:
    name: str
    policy: Policy
    nodes: tuple[Node, ...]
    volumes: tuple[Volume, ...]
    brokers: tuple[Broker, ...]
    topics: tuple[Topic, ...] = field(default=())
    source: str = field(default="", compare=False)  # the file it was read from, for messages

    @cached_property
    def node(self) -> dict[str, Node]:
        return {n.name: n for n in self.nodes}

    @cached_property
    def volume(self) -> dict[str, Volume]:
        return {v.name: v for v in self.volumes}

    @cached_property
    def broker(self) -> dict[int, Broker]:
        return {b.id: b for b in self.brokers}

    @cached_property
    def topic(self) -> dict[str, Topic]:
        return {t.name: t for t in self.topics}

    @cached_property
    def partitions(self) -> tuple[Partition, ...]:
        return tuple(p for t in self.topics for p in t.partitions)

    @cached_property
    def partition(self) -> dict[tuple[str, int], Partition]:
        return {p.key: p for p in self.partitions}

    @cached_property
    def storage_used_mib(self) -> dict[str, int]:
        """Space the replicas each node holds now take there (failed nodes included)."""
        used = {n.name: 0 for n in self.nodes}
        for v in self.volumes:
            for n in v.replicas:
                used[n] += v.size_mib
        return used

    @cached_property
    def zones(self) -> tuple[str, ...]:
        return tuple(sorted({n.zone for n in self.nodes}))

    def nodes_in_zone(self, zone: str) -> Iterator[Node]:
        return (n for n in self.nodes if n.zone == zone)

    def min_insync(self, partition: Partition) -> int:
        return self.topic[partition.topic].min_insync_replicas

    def limits(self, node: str) -> NodeLoad:
        """What the node can carry (None: unlimited): its storage, brokersPerNode, its CPU and memory."""
        n = self.node[node]
        return NodeLoad(n.storage_mib, self.policy.brokers_per_node, n.cpu_millicores, n.memory_mib)

    def broker_fits(self, broker: Broker, node: str, load: NodeLoad) -> bool:
        """Does ``broker`` fit on ``node`` next to ``load``: a free broker slot, and its CPU and memory.
        (Storage is the volumes' business: a broker takes none.)"""
        after = load.plus(NodeLoad.of_broker(broker))
        limits = self.limits(node)
        return all(limit is None or used <= limit
                   for used, limit in zip(after[1:], limits[1:]))

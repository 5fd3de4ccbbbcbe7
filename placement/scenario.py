"""A cluster seen through its failures: what survives, what is lost, what may receive what.

Every rule and every solver reads these facts from here, so that the plain
checks and the encodings agree on what "eligible", "survivor" and "lost" mean.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from placement.models.cluster import Broker, BrokerPlacement, Cluster, Node, NodeState, Partition, RackAware, Volume
from placement.models.failures import Failures


@dataclass(frozen=True)
class Scenario:
    cluster: Cluster
    failures: Failures
    allow_unclean: bool = False  # may an out-of-sync replica become leader (losing what it lacks)?

    # -- nodes -------------------------------------------------------------
    def is_failed(self, node: str) -> bool:
        return node in self.failures.nodes

    def is_alive(self, node: str) -> bool:
        return node not in self.failures.nodes

    @cached_property
    def alive_nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.cluster.nodes if n.name not in self.failures.nodes)

    def may_hold_replica(self, volume: Volume, node: str) -> bool:
        """A volume's target replica may sit here: alive storage node, and new ones never on a cordoned node."""
        n = self.cluster.node[node]
        if self.is_failed(node) or not n.is_storage:
            return False
        return n.state is not NodeState.CORDONED or node in self.survivors(volume.name)

    def may_host_broker(self, broker: Broker, node: str) -> bool:
        """A broker may run here: alive node, and never moved onto a cordoned one."""
        n = self.cluster.node[node]
        if self.is_failed(node):
            return False
        return n.state is not NodeState.CORDONED or node == broker.node

    @cached_property
    def zones_with_ready_storage(self) -> tuple[str, ...]:
        return tuple(sorted({n.zone for n in self.alive_nodes if n.is_storage and n.state is NodeState.READY}))

    # -- volumes -----------------------------------------------------------
    def survivors(self, volume: str) -> tuple[str, ...]:
        return self._survivors[volume]

    @cached_property
    def _survivors(self) -> dict[str, tuple[str, ...]]:
        return {v.name: tuple(n for n in v.replicas if n not in self.failures.nodes) for v in self.cluster.volumes}

    def has_data(self, volume: str) -> bool:
        return bool(self._survivors[volume])

    @cached_property
    def lost_volumes(self) -> tuple[Volume, ...]:
        return tuple(v for v in self.cluster.volumes if not self._survivors[v.name])

    def zones_needed(self, volume: Volume) -> int:
        """I2: distinct zones a volume's replicas must cover."""
        if not self.cluster.policy.zone_spread:
            return 0
        return min(volume.replication_factor, len(self.zones_with_ready_storage))

    # -- brokers -----------------------------------------------------------
    def is_removed(self, broker: int) -> bool:
        return broker in self.failures.removed_brokers

    def broker_lost_data(self, broker: Broker) -> bool:
        """Its persistent data is gone: a volume lost every replica, or it had none and its node failed."""
        if not broker.volumes:
            return self.is_failed(broker.node)
        return any(not self.has_data(v) for v in broker.volumes)

    @property
    def hyperconverged(self) -> bool:
        return self.cluster.policy.broker_placement is BrokerPlacement.REQUIRED

    # -- partitions --------------------------------------------------------
    def partition_lost_data(self, partition: Partition) -> bool:
        return partition.key in self.lost_partitions

    @cached_property
    def lost_partitions(self) -> frozenset[tuple[str, int]]:
        """Partitions every broker of which lost its data."""
        lost_brokers = {b.id for b in self.cluster.brokers if self.broker_lost_data(b)}
        if not lost_brokers:
            return frozenset()
        return frozenset(p.key for p in self.cluster.partitions if lost_brokers.issuperset(p.replicas))

    def sources(self, partition: Partition) -> tuple[int, ...]:
        """Brokers that may lead the partition and feed new replicas: its in-sync replicas,
        or, with ``allow_unclean``, any of its replicas."""
        return partition.replicas if self.allow_unclean else partition.isr

    @cached_property
    def rack_zones(self) -> tuple[str, ...]:
        """The racks a broker can run in: zones with a ready node that could host one
        (with hyperconvergence, a ready storage node). "Where zones allow" counts these,
        so that moving a broker out of a rack never makes that rack not count."""
        if self.hyperconverged:
            return self.zones_with_ready_storage
        return tuple(sorted({n.zone for n in self.alive_nodes if n.state is NodeState.READY}))

    def racks_needed(self, partition: Partition) -> int:
        return min(len(partition.replicas), len(self.rack_zones))

    @property
    def rack_required(self) -> bool:
        return self.cluster.policy.rack_aware is RackAware.REQUIRED

    @property
    def rack_preferred(self) -> bool:
        return self.cluster.policy.rack_aware is RackAware.PREFERRED

    # -- what the failure touches -------------------------------------------
    @cached_property
    def touched_brokers(self) -> tuple[int, ...]:
        """Brokers the plan must decide: on a failed node, retired, or not where their volumes are."""
        result = []
        for b in self.cluster.brokers:
            misplaced = self.hyperconverged and any(b.node not in self.survivors(v) for v in b.volumes)
            if self.is_failed(b.node) or self.is_removed(b.id) or self.broker_lost_data(b) or misplaced \
                    or not self.may_host_broker(b, b.node):
                result.append(b.id)
        return tuple(result)

    @cached_property
    def touched_volumes(self) -> tuple[str, ...]:
        """Volumes with data whose replica set must be decided: damaged, misspread, or a touched broker's."""
        touched_broker_volumes = {v for b in self.touched_brokers for v in self.cluster.broker[b].volumes}
        zones = {n.name: n.zone for n in self.cluster.nodes}
        result = []
        for v in self.cluster.volumes:
            alive = self.survivors(v.name)
            if not alive:
                continue
            covered = len({zones[n] for n in alive})
            if (len(alive) != v.replication_factor or covered < self.zones_needed(v)
                    or len(alive) != len(v.replicas) or v.name in touched_broker_volumes):
                result.append(v.name)
        return tuple(result)

    @cached_property
    def touched_partitions(self) -> tuple[tuple[str, int], ...]:
        touched = set(self.touched_brokers)
        return tuple(p.key for p in self.cluster.partitions if touched.intersection(p.replicas))

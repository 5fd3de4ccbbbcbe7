"""A cluster seen through what happens to it: what survives, what is lost, what may receive what.

Every rule and every solver reads these facts from here, so that the plain
checks and the encodings agree on what "eligible", "survivor", "stale" and
"lost" mean (SEMANTICS.md section 2):

- a *survivor* is an in-sync replica on a node that did not fail: it keeps the
  data alive and is a source for copies (on a drained node too, while the steps run);
- a *stale* replica on a live node takes its full space, is no source, keeps no
  data alive, and counts towards the replication factor only once resynced,
  which copies its stale MiB instead of the volume's ``usedGiB``;
- a volume with no survivor has lost its data (I7), stale replicas or not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

from placement.models.cluster import Broker, BrokerPlacement, Cluster, Node, NodeLoad, NodeState, Partition, RackAware, Volume
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

    def is_drained(self, node: str) -> bool:
        return node in self.failures.drained

    @cached_property
    def alive_nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self.cluster.nodes if n.name not in self.failures.nodes)

    def may_hold_replica(self, volume: Volume, node: str) -> bool:
        """A target replica of ``volume`` may sit here: an alive storage node that is not drained,
        and READY, or CORDONED and already holding a replica of the volume (in sync or stale:
        a cordoned node keeps what it has, and resyncing what it has is nothing new)."""
        n = self.cluster.node[node]
        if self.is_failed(node) or not n.is_storage or self.is_drained(node):
            return False
        return n.state is NodeState.READY or (n.state is NodeState.CORDONED and node in volume.replicas)

    def may_host_broker(self, broker: Broker, node: str) -> bool:
        """A broker may run here: alive, not drained, and READY, or CORDONED where it already runs."""
        n = self.cluster.node[node]
        if self.is_failed(node) or self.is_drained(node):
            return False
        return n.state is NodeState.READY or (n.state is NodeState.CORDONED and node == broker.node)

    @cached_property
    def zones_with_ready_storage(self) -> tuple[str, ...]:
        """Zones with an alive READY storage node that is not drained (what I2's spread counts)."""
        return tuple(sorted({n.zone for n in self.alive_nodes
                             if n.is_storage and n.state is NodeState.READY and not self.is_drained(n.name)}))

    def storage_limit_mib(self, node: str) -> int:
        """What the node's replicas may take in the target: its storage, or under
        ``--rebalance --max-used p`` the floor of p percent of it."""
        storage = self.cluster.node[node].storage_mib
        p = self.failures.max_used_percent
        if p is None:
            return storage
        return math.floor(storage * Fraction(repr(p)) / 100)

    @cached_property
    def start_storage_mib(self) -> dict[str, int]:
        """Space the replicas each node holds at the start take there (stale ones included)."""
        return self.cluster.storage_used_mib

    @cached_property
    def over_limit_nodes(self) -> tuple[str, ...]:
        """Alive nodes whose replicas at the start exceed ``storage_limit_mib``."""
        return tuple(n.name for n in self.alive_nodes if self.start_storage_mib[n.name] > self.storage_limit_mib(n.name))

    @cached_property
    def over_broker_limit_nodes(self) -> tuple[str, ...]:
        """Alive nodes whose brokers at the start exceed brokersPerNode, CPU or memory."""
        cluster = self.cluster
        load: dict[str, NodeLoad] = {}
        for b in cluster.brokers:
            if self.is_alive(b.node) and not self.is_removed(b.id):
                load[b.node] = load.get(b.node, NodeLoad()).plus(NodeLoad.of_broker(b))
        over = []
        for node, used in sorted(load.items()):
            limits = cluster.limits(node)
            if any(limit is not None and have > limit for have, limit in zip(used[1:], limits[1:])):
                over.append(node)
        return tuple(over)

    # -- volumes -----------------------------------------------------------
    def survivors(self, volume: str) -> tuple[str, ...]:
        """In-sync replicas on nodes that did not fail (drained ones included), in the file's order."""
        return self._survivors[volume]

    @cached_property
    def _survivors(self) -> dict[str, tuple[str, ...]]:
        return {v.name: tuple(n for n in v.in_sync_replicas if n not in self.failures.nodes) for v in self.cluster.volumes}

    def stale_replicas(self, volume: str) -> dict[str, int]:
        """Stale replicas on nodes that did not fail: node -> MiB a resync copies."""
        return self._stale[volume]

    @cached_property
    def _stale(self) -> dict[str, dict[str, int]]:
        return {v.name: {n: mib for n, mib in sorted(v.stale_mib.items()) if n not in self.failures.nodes}
                for v in self.cluster.volumes}

    def has_data(self, volume: str) -> bool:
        """Some in-sync replica survives; stale replicas alone do not keep the data alive (I7)."""
        return bool(self._survivors[volume])

    def copy_cost_mib(self, volume: str, node: str) -> int:
        """Data copied for a target replica of ``volume`` on ``node``: nothing for a survivor,
        the stale MiB for a stale replica brought in sync, the volume's used MiB for a new one."""
        if node in self._survivor_sets[volume]:
            return 0
        stale = self._stale[volume].get(node)
        return stale if stale is not None else self.cluster.volume[volume].used_mib

    @cached_property
    def _survivor_sets(self) -> dict[str, frozenset[str]]:
        return {name: frozenset(nodes) for name, nodes in self._survivors.items()}

    @cached_property
    def lost_volumes(self) -> tuple[Volume, ...]:
        return tuple(v for v in self.cluster.volumes if not self._survivors[v.name])

    def zones_needed(self, volume: Volume) -> int:
        """I2: distinct zones a volume's replicas must cover."""
        if not self.cluster.policy.zone_spread:
            return 0
        return min(volume.replication_factor, len(self.zones_with_ready_storage))

    def min_replicas(self, volume: Volume) -> int:
        """The fewest in-sync replicas the volume keeps while the steps run: ``--min-replicas``
        when given, else RF - 1 (at least 1) for drains and rebalances, and 1 for a recovery
        (never lose the last in-sync replica)."""
        if self.failures.min_replicas is not None:
            return self.failures.min_replicas
        if self.failures.planned:
            return max(1, volume.replication_factor - 1)
        return 1

    # -- brokers -----------------------------------------------------------
    def is_removed(self, broker: int) -> bool:
        return broker in self.failures.removed_brokers

    def broker_lost_data(self, broker: Broker) -> bool:
        """Its persistent data is gone: a volume lost every in-sync replica, or it had no volume
        and its node failed (its log lived on that node's disk)."""
        if not broker.volumes:
            return self.is_failed(broker.node)
        return self.lost_a_volume(broker)

    def lost_a_volume(self, broker: Broker) -> bool:
        """A volume of the broker lost every in-sync replica: with hyperconvergence it can run
        nowhere (a broker without volumes can run on any node that fits it)."""
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
        return tuple(sorted({n.zone for n in self.alive_nodes
                             if n.state is NodeState.READY and not self.is_drained(n.name)}))

    def racks_needed(self, partition: Partition) -> int:
        return min(len(partition.replicas), len(self.rack_zones))

    @property
    def rack_required(self) -> bool:
        return self.cluster.policy.rack_aware is RackAware.REQUIRED

    @property
    def rack_preferred(self) -> bool:
        return self.cluster.policy.rack_aware is RackAware.PREFERRED

    def may_move_healthy(self, broker: Broker) -> bool:
        """A broker that need not move may be moved to make room only if its pod's restart keeps
        every partition it is in sync for at or above min.insync.replicas (and one already below
        loses no more): moving it must not cost the cluster its serving guarantees."""
        for p in self._partitions_of.get(broker.id, ()):
            if broker.id not in p.isr:
                continue
            running = sum(1 for b in p.isr if b in self.cluster.broker and self.is_alive(self.cluster.broker[b].node)
                          and not self.is_removed(b))
            if running - 1 < self.cluster.min_insync(p):
                return False
        return True

    def must_stay(self, broker: Broker) -> bool:
        """A running broker that could stay where it is, and whose restart would take a partition it
        is in sync for below min.insync.replicas (``may_move_healthy`` false): no plan moves it. Where
        it cannot stay -- its node failed or is drained, it is retired, or its node may not hold its
        volumes -- it moves, and its steps' model check says what that costs."""
        host = broker.node
        if self.is_failed(host) or self.is_removed(broker.id) or not self.may_host_broker(broker, host):
            return False
        if self.hyperconverged and not all(self.has_data(v) and self.may_hold_replica(self.cluster.volume[v], host)
                                           for v in broker.volumes):
            return False
        return not self.may_move_healthy(broker)

    @cached_property
    def partition_keys(self) -> list[tuple[str, int]]:
        """Every partition's key, sorted: the order leaders are elected in (sorted once per scenario)."""
        keys = [p.key for p in self.cluster.partitions]
        return keys if all(a < b for a, b in zip(keys, keys[1:])) else sorted(keys)

    def partitions_of(self, broker: int) -> tuple[Partition, ...] | list[Partition]:
        """The partitions with a replica on the broker (an index built once: O(partitions x RF))."""
        return self._partitions_of.get(broker, ())

    @cached_property
    def _partitions_of(self) -> dict[int, list[Partition]]:
        index: dict[int, list[Partition]] = {}
        for p in self.cluster.partitions:
            for b in p.replicas:
                index.setdefault(b, []).append(p)
        return index

    # -- what the plan must decide -------------------------------------------
    def broker_must_move(self, b: Broker) -> bool:
        """The broker cannot keep running where it is: its node failed or is drained, it is
        retired, it lost its data, or (hyperconverged) its node holds no in-sync replica of a volume."""
        misplaced = self.hyperconverged and any(b.node not in self._survivor_sets[v] for v in b.volumes)
        return (self.is_failed(b.node) or self.is_removed(b.id) or self.broker_lost_data(b) or misplaced
                or not self.may_host_broker(b, b.node))

    @cached_property
    def touched_brokers(self) -> tuple[int, ...]:
        """Brokers the plan must decide: those that must move, and those on a node already
        over brokersPerNode, CPU or memory."""
        crowded = set(self.over_broker_limit_nodes)
        return tuple(b.id for b in self.cluster.brokers if self.broker_must_move(b) or b.node in crowded)

    @cached_property
    def touched_volumes(self) -> tuple[str, ...]:
        """Volumes with data whose replica set must be decided: damaged (a replica failed or stale),
        above or below their replication factor, short of zones, with a replica on a drained node
        or on a node over its storage limit, or a touched broker's."""
        touched_broker_volumes = {v for b in self.touched_brokers for v in self.cluster.broker[b].volumes}
        zones = {n.name: n.zone for n in self.cluster.nodes}
        over = set(self.over_limit_nodes)
        result = []
        for v in self.cluster.volumes:
            alive = self.survivors(v.name)
            if not alive:
                continue
            covered = len({zones[n] for n in alive})
            if (len(alive) != v.replication_factor or covered < self.zones_needed(v)
                    or len(alive) != len(v.replicas) or v.name in touched_broker_volumes
                    or any(self.is_drained(n) or n in over for n in v.replicas)):
                result.append(v.name)
        return tuple(result)

    @cached_property
    def touched_partitions(self) -> tuple[tuple[str, int], ...]:
        touched = set(self.touched_brokers)
        return tuple(p.key for p in self.cluster.partitions if touched.intersection(p.replicas))

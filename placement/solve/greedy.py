"""A greedy placement, two uses:

- the baseline the benchmark compares against (STORK-style scoring: a new
  replica goes to the eligible node with the most free space, a broker to the
  first of its volume's replica nodes that fits), with ``spread=False``;
- a starting point (hint) for CP-SAT on large failures, with ``spread=True``,
  which also prefers nodes that have received fewer new replicas and broker
  nodes that keep partitions rack-aware.

It knows the capacity rules but proves nothing; plans from it are judged like
any other.
"""
from __future__ import annotations

from collections import defaultdict

from placement.models.cluster import Broker, NodeLoad
from placement.models.plan import Placement, PartitionTarget
from placement.scenario import Scenario


def greedy_placement(scenario: Scenario, *, spread: bool = False) -> Placement:
    greedy = _Greedy(scenario, spread)
    volumes = greedy.place_volumes()
    brokers = greedy.place_brokers(volumes)
    return Placement(brokers=brokers, volumes=volumes, partitions=_fill_partition_replicas(scenario.cluster, brokers))


class _Greedy:
    """The room left once everything untouched stays, then the touched volumes, then the touched brokers."""

    def __init__(self, scenario: Scenario, spread: bool):
        cluster = scenario.cluster
        self.scenario, self.cluster, self.spread = scenario, cluster, spread
        self.touched_volumes = set(scenario.touched_volumes)
        self.touched_brokers = set(scenario.touched_brokers)
        self.free = {n.name: scenario.storage_limit_mib(n.name) for n in cluster.nodes}  # storage left, MiB
        for v in cluster.volumes:
            if v.name not in self.touched_volumes:
                for n in v.replicas:
                    self.free[n] -= v.size_mib
        self.room = _BrokerRoom(cluster)
        for b in cluster.brokers:
            if b.id not in self.touched_brokers:
                self.room.take(b, b.node)
        self.eligible = [n.name for n in cluster.nodes if n.is_storage and scenario.is_alive(n.name)
                         and n.state.value == "ready" and not scenario.is_drained(n.name)]

    # -- volumes -------------------------------------------------------------------
    def place_volumes(self) -> dict[str, tuple[str, ...]]:
        scenario, cluster, free = self.scenario, self.cluster, self.free
        volumes = {v.name: v.replicas for v in cluster.volumes
                   if v.name not in self.touched_volumes and scenario.has_data(v.name)}
        kept = {}
        for name in scenario.touched_volumes:  # surviving replicas take their room first
            v = cluster.volume[name]
            kept[name] = [n for n in scenario.survivors(name) if scenario.may_hold_replica(v, n)][: v.replication_factor]
            for n in kept[name]:
                free[n] -= v.size_mib
        spare = dict(self.room.slots)
        needs_slot = self._brokers_needing_a_slot(kept, spare)
        new_count: dict[str, int] = defaultdict(int)
        for name in scenario.touched_volumes:
            v = cluster.volume[name]
            chosen = list(kept[name])
            resyncable = [n for n in scenario.stale_replicas(name) if scenario.may_hold_replica(v, n)]
            while len(chosen) < v.replication_factor:
                covered = {cluster.node[n].zone for n in chosen}
                options = [n for n in dict.fromkeys(resyncable + self.eligible) if n not in chosen and free[n] >= v.size_mib]
                if not options:
                    break
                if self.spread:
                    broker = needs_slot.get(name)

                    def no_slot(n: str) -> bool:
                        return broker is not None and not (spare[n] > 0 and scenario.may_host_broker(broker, n)
                                                           and self.room.resources_fit(broker, n))

                    pick = min(options, key=lambda n: (cluster.node[n].zone in covered, scenario.copy_cost_mib(name, n),
                                                       no_slot(n), new_count[n], -free[n], n))
                    if broker is not None and not no_slot(pick):
                        spare[pick] -= 1
                        needs_slot.pop(name)
                else:
                    pick = min(options, key=lambda n: (cluster.node[n].zone in covered, scenario.copy_cost_mib(name, n),
                                                       -free[n], n))
                chosen.append(pick)
                free[pick] -= v.size_mib
                new_count[pick] += 1
            volumes[name] = tuple(chosen)
        return volumes

    def _brokers_needing_a_slot(self, kept: dict[str, list[str]], spare: dict[str, int]) -> dict[str, Broker]:
        """A displaced broker with one volume whose surviving replicas all sit on nodes without a
        free broker slot needs its new replica on a node that has one (and keeps that slot)."""
        scenario = self.scenario
        needs_slot: dict[str, Broker] = {}
        if self.spread and scenario.hyperconverged:
            for bid in scenario.touched_brokers:
                b = self.cluster.broker[bid]
                if len(b.volumes) == 1 and not scenario.is_removed(bid):
                    if not any(spare[n] > 0 and scenario.may_host_broker(b, n) for n in kept.get(b.volumes[0], ())):
                        needs_slot[b.volumes[0]] = b
        return needs_slot

    # -- brokers -------------------------------------------------------------------
    def place_brokers(self, volumes: dict[str, tuple[str, ...]]) -> dict[int, str | None]:
        """``volumes`` may change: a broker left without a node is re-homed with its volume's new replica."""
        scenario, cluster, room = self.scenario, self.cluster, self.room
        brokers = {b.id: b.node for b in cluster.brokers if b.id not in self.touched_brokers}
        options: dict[int, list[str]] = {}
        for bid in self._choosing_order():
            b = cluster.broker[bid]
            if scenario.is_removed(bid) or (scenario.hyperconverged and scenario.lost_a_volume(b)):
                brokers[bid] = None
                continue
            options[bid] = self._nodes_for(b, volumes, brokers)
        chosen = _match(options, room.slots) if self.spread else _first_fit(options, room, cluster)
        for bid in options:
            node = chosen.get(bid)
            brokers[bid] = node
            if node is not None and self.spread:
                room.take(cluster.broker[bid], node)
        if self.spread and scenario.hyperconverged:
            _rehome(scenario, [bid for bid in options if chosen.get(bid) is None], volumes, brokers, self.free, room)
        return brokers

    def _choosing_order(self) -> list[int]:
        """With ``spread``, brokers with the fewest nodes already holding their data choose first."""
        scenario = self.scenario

        def ready_nodes(bid: int) -> int:
            b = self.cluster.broker[bid]
            if not b.volumes:
                return len(self.eligible)
            return len(set.intersection(*(set(scenario.survivors(v)) for v in b.volumes)))

        return sorted(scenario.touched_brokers, key=lambda b: (ready_nodes(b), b) if self.spread else b)

    def _nodes_for(self, b: Broker, volumes: dict[str, tuple[str, ...]], brokers: dict[int, str | None]) -> list[str]:
        """The nodes the broker fits on, best first: with ``spread``, those already holding its data,
        then those in the zones its partitions' other replicas use least."""
        scenario, cluster = self.scenario, self.cluster
        if scenario.hyperconverged:
            if b.volumes:
                holders = [n for n in volumes.get(b.volumes[0], ()) if all(n in volumes.get(v, ()) for v in b.volumes)]
            else:
                holders = self.eligible
        else:
            holders = list(dict.fromkeys([n for v in b.volumes for n in volumes.get(v, ())] + self.eligible))
        fits = [n for n in holders if scenario.may_host_broker(b, n) and self.room.fits(b, n)]
        if self.spread and fits:
            ready = {n for n in fits if all(n in scenario.survivors(v) for v in b.volumes)}
            others: dict[str, int] = defaultdict(int)
            for p in cluster.partitions:
                if b.id in p.replicas:
                    for o in p.replicas:
                        if o != b.id and brokers.get(o):
                            others[cluster.node[brokers[o]].zone] += 1
            fits.sort(key=lambda n: (n not in ready, others[cluster.node[n].zone]))
        return fits


def _fill_partition_replicas(cluster, brokers: dict[int, str | None]) -> dict:
    """Each partition keeps its running replicas; a vacated one goes to the running broker holding
    the fewest replicas so far."""
    running = sorted(b for b, n in brokers.items() if n is not None)
    load = defaultdict(int)
    for p in cluster.partitions:
        for b in p.replicas:
            load[b] += 1
    partitions = {}
    for p in cluster.partitions:
        replicas = [b for b in p.replicas if b in running]
        for _ in range(len(p.replicas) - len(replicas)):
            options = [b for b in running if b not in replicas]
            if not options:
                break
            pick = min(options, key=lambda b: (load[b], b))
            replicas.append(pick)
            load[pick] += 1
        leader = p.leader if p.leader in replicas else (replicas[0] if replicas else None)
        partitions[p.key] = PartitionTarget(p.topic, p.id, tuple(replicas), leader)
    return partitions


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


def _rehome(scenario: Scenario, homeless: list[int], volumes: dict, brokers: dict, free, room: _BrokerRoom) -> None:
    """A broker left without a node: move its volume's new replica to a node of the same zone
    that also has room for the broker, and run the broker there."""
    cluster = scenario.cluster
    for bid in homeless:
        b = cluster.broker[bid]
        if len(b.volumes) != 1 or scenario.is_removed(bid) or scenario.lost_a_volume(b):
            continue
        v = cluster.volume[b.volumes[0]]
        survivors = set(scenario.survivors(v.name))
        for old in [n for n in volumes.get(v.name, ()) if n not in survivors]:
            zone = cluster.node[old].zone
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


def _match(options: dict[int, list[str]], slots: dict[str, int]) -> dict[int, str | None]:
    """As many brokers as possible on their nodes within each node's free broker slots
    (augmenting paths), each broker trying its preferred nodes first. CPU and memory are
    left to the checks: a certificate that breaks them is simply not one."""
    assigned: dict[str, list[int]] = defaultdict(list)
    chosen: dict[int, str | None] = {}

    def place(bid: int, seen: set[str]) -> bool:
        for n in options[bid]:
            if n in seen:
                continue
            seen.add(n)
            if len(assigned[n]) < slots[n]:
                assigned[n].append(bid)
                chosen[bid] = n
                return True
            for other in list(assigned[n]):
                if place(other, seen):
                    assigned[n].remove(other)
                    assigned[n].append(bid)
                    chosen[bid] = n
                    return True
        return False

    for bid in options:
        if not place(bid, set()):
            chosen[bid] = None
    return chosen


def fill_partitions(space) -> Placement:
    """The partitions stage's start: each vacated partition replica goes to the candidate broker that
    holds the fewest replicas so far (water-filling), then the fewest bytes, largest
    partitions first."""
    load: dict[int, int] = defaultdict(int)
    data: dict[int, int] = defaultdict(int)
    sizes = {p.key: p.size_mib for p in space.scenario.cluster.partitions}
    for key, t in space.base.partitions.items():
        for b in (space.fixed_members.get(key, ()) if key in space.partition_domain else t.replicas):
            load[b] += 1
            data[b] += sizes[key]
    partitions = dict(space.base.partitions)
    cluster = space.scenario.cluster
    for key in sorted(space.partition_domain, key=lambda k: (-sizes[k], k)):
        p = cluster.partition[key]
        chosen = list(space.fixed_members.get(key, ()))
        options = [b for b in space.partition_domain[key] if b not in chosen]
        for _ in range(len(p.replicas) - len(chosen)):
            if not options:
                break
            pick = min(options, key=lambda b: (load[b], data[b], b))
            options.remove(pick)
            chosen.append(pick)
            load[pick] += 1
            data[pick] += p.size_mib
        partitions[key] = PartitionTarget(key[0], key[1], tuple(chosen), None)
    return Placement(brokers=space.base.brokers, volumes=space.base.volumes, partitions=partitions)

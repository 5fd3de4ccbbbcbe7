"""The decision space: which parts of the target are decided, and over which candidates.

Solver-agnostic (in the spirit of cvxpy's problem/backend split): the CP-SAT and
Z3 backends both read a Space and expose the same vocabulary to the rules --
``vol(v, n)``, ``brk(b, n)``, ``runs(b)``, ``part(p, b)``, ``lead(p, b)`` -- as a
solver variable where the space decides and as a constant where it does not.

Three spaces are built:
- ``Space.for_planning``: only what the failure touches is decided, candidates
  are the eligible nodes; partitions are judged in aggregate (the storage-and-brokers
  stage), and ``Space.for_partitions`` decides them explicitly for brokers that cannot
  run (the partitions stage).
- ``Space.around``: every item decided, candidates taken from a given placement
  (and the current one); used to verify a plan and to test encodings against checks.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable

from placement.models.cluster import NodeLoad, NodeState
from placement.models.plan import Placement
from placement.rules import distinct_replicas
from placement.scenario import Scenario

PKey = tuple[str, int]


@dataclass
class Space:
    scenario: Scenario
    base: Placement  # values of everything not decided
    volume_domain: dict[str, tuple[str, ...]]  # decided volumes -> candidate nodes
    broker_domain: dict[int, tuple[str, ...]]  # decided brokers -> candidate nodes (not running is always possible)
    partition_domain: dict[PKey, tuple[int, ...]]  # decided partitions -> candidate brokers
    partitions_aggregated: bool = False  # storage-and-brokers stage: touched partitions judged by broker counts only
    max_multiplicity: int = 1  # >1 lets a verified plan list a node or broker twice
    fixed_members: dict[PKey, tuple[int, ...]] = field(default_factory=dict)  # partitions stage: kept replicas
    # partitions stage: the zones whose running brokers (those not among its replicas) are a
    # partition's candidates, so that a start need not walk its domain
    partition_zones: dict[PKey, frozenset[str]] = field(default_factory=dict)

    # -- construction --------------------------------------------------------
    @classmethod
    def around(cls, scenario: Scenario, target: Placement) -> "Space":
        """Every item decided; candidates are what the target and the current state name (a
        partition's in no particular order: sorted where the target changes it, as the cluster
        lists them where it does not)."""
        cluster = scenario.cluster
        volumes = {}
        for v in cluster.volumes:
            nodes = set(v.replicas) | set(target.volumes.get(v.name, ()))
            volumes[v.name] = tuple(sorted(nodes))
        brokers = {}
        for b in cluster.brokers:
            nodes = {b.node} | ({target.brokers[b.id]} if target.brokers.get(b.id) else set())
            brokers[b.id] = tuple(sorted(nodes))
        partitions = {}
        chosen_of = target.partitions.get
        # a partition the target keeps as listed has its own brokers as its domain, the very tuple where
        # the cluster lists each broker once (150,000 partitions: no set, sort or tuple made for them)
        distinct = distinct_replicas(cluster)
        most, seen = 1, 0
        for p in cluster.partitions:
            chosen = chosen_of(p.key)
            if chosen is None or chosen.replicas == p.replicas:  # most partitions: their own replicas
                partitions[p.key] = p.replicas if distinct else tuple(sorted(set(p.replicas)))
                if chosen is not None:
                    seen += 1
                    if not distinct:
                        most = max(most, _most(chosen.replicas))
            else:
                partitions[p.key] = tuple(sorted(set(p.replicas).union(chosen.replicas)))
                seen += 1
                most = max(most, _most(chosen.replicas))
        if seen != len(target.partitions):  # the target names partitions the cluster does not have
            most = max([most] + [_most(t.replicas) for t in target.partitions.values()])
        multiplicity = max([most] + [_most(t) for t in target.volumes.values()])
        return cls(scenario, target, volumes, brokers, partitions, max_multiplicity=multiplicity)

    @classmethod
    def for_planning(cls, scenario: Scenario, candidates_per_zone: int | None = None,
                     also: Placement | None = None, volumes: Iterable[str] | None = None,
                     brokers: Iterable[int] | None = None,
                     widen: dict[str, Iterable[str]] | None = None) -> "Space":
        """The storage-and-brokers stage: the touched volumes and brokers (or those given: the
        making-room and unrestricted spaces) decided over the nodes that may take them;
        partitions in aggregate.

        With ``candidates_per_zone``, each volume's new replicas may only go to that
        many nodes per zone (a rotating window, so that together the volumes see
        every node, plus the emptiest nodes), and those ``widen`` gives it (the planner's
        widening for volumes left short: every node of the zones they lack). The planner then
        proves optimality only where the answer meets lower bounds of the unrestricted problem.

        O(N + V R + B) without ``candidates_per_zone`` (N nodes, V decided volumes of R replicas,
        B decided brokers): a volume whose candidates are every open node (and a broker whose
        nodes are those) shares one tuple of them instead of a copy, so counting the pairs of a
        space too large to solve costs nothing per pair. With it, O(N log N + V (R + kZ) log(kZ)),
        k candidates per zone: no step walks every node per volume.
        """
        cluster = scenario.cluster
        base = Placement.current(cluster)
        order = _node_order(cluster)
        open_nodes = tuple(n.name for n in cluster.nodes if n.is_storage and scenario.is_alive(n.name)
                           and n.state is NodeState.READY and not scenario.is_drained(n.name))
        open_set = frozenset(open_nodes)
        shared: dict[int, frozenset[str]] = {id(open_nodes): open_set}

        def members(nodes: tuple[str, ...]) -> frozenset[str]:
            return shared[id(nodes)] if id(nodes) in shared else frozenset(nodes)

        windows = _zone_windows(scenario, list(open_nodes), candidates_per_zone) if candidates_per_zone else None
        if volumes is not None:
            wanted = set(volumes)  # once: a set per volume made this O(V^2) (14 s at 5,000 nodes)
        decided = scenario.touched_volumes if volumes is None else \
            tuple(v.name for v in cluster.volumes if v.name in wanted and scenario.has_data(v.name))
        volume_domain = {}
        for i, name in enumerate(decided):
            v = cluster.volume[name]
            # what it has (in sync or stale) where it may stay, and new replicas on open nodes
            keep = [n for n in v.replicas if scenario.may_hold_replica(v, n)]
            if windows is None:
                extra = [n for n in keep if n not in open_set]  # e.g. a cordoned node keeping its replica
                volume_domain[name] = open_nodes if not extra else _in_order(open_set.union(extra), order)
                continue
            allowed = set(keep) | set(windows(i)) | (set(also.volumes.get(name, ())) & open_set if also else set())
            if widen and name in widen:
                allowed |= open_set.intersection(widen[name])
            volume_domain[name] = _in_order(allowed, order)
        if brokers is not None:
            wanted_brokers = set(brokers)
        chosen = scenario.touched_brokers if brokers is None else \
            tuple(b.id for b in cluster.brokers if b.id in wanted_brokers)
        hosts = tuple(n.name for n in cluster.nodes if scenario.is_alive(n.name) and not scenario.is_drained(n.name)
                      and n.state is NodeState.READY)  # every broker may run here (and, cordoned, where it runs)
        shared[id(hosts)] = frozenset(hosts)
        broker_domain = {}
        for bid in chosen:
            b = cluster.broker[bid]
            if scenario.is_removed(bid) or (scenario.hyperconverged and scenario.lost_a_volume(b)):
                broker_domain[bid] = ()
                continue
            if scenario.must_stay(b):
                nodes: tuple[str, ...] = (b.node,)  # its restart would take a partition below min.insync.replicas
            elif scenario.may_host_broker(b, b.node) and cluster.node[b.node].state is not NodeState.READY:
                nodes = _in_order(set(hosts) | {b.node}, order)  # cordoned: it may stay where it runs
            else:
                nodes = hosts
            if scenario.hyperconverged:
                for v in b.volumes:  # on nodes holding each of its volumes
                    allowed = volume_domain.get(v, base.volumes[v])
                    if allowed is nodes or (nodes is hosts and allowed is open_nodes):
                        nodes = allowed  # every open node may host it: nothing to filter
                    elif len(allowed) < len(nodes):
                        inside = members(nodes)
                        nodes = _in_order({n for n in allowed if n in inside}, order)
                    else:
                        inside = members(allowed)
                        nodes = tuple(n for n in nodes if n in inside)
            broker_domain[bid] = nodes
        return cls(scenario, base, volume_domain, broker_domain, {}, partitions_aggregated=True)

    def members(self, nodes: tuple[str, ...]) -> frozenset[str]:
        """A domain's nodes as a set, made once per distinct tuple (domains share their tuples)."""
        cache = self.__dict__.setdefault("_members", {})
        hit = cache.get(id(nodes))
        if hit is None:
            hit = cache[id(nodes)] = (nodes, frozenset(nodes))  # the tuple kept, so its id stays its own
        return hit[1]

    def pairs(self) -> int:
        """Volume-node and broker-node candidate pairs: the size of the decision (O(V + B))."""
        return sum(len(d) for d in self.volume_domain.values()) + sum(len(d) for d in self.broker_domain.values())

    @classmethod
    def for_partitions(cls, scenario: Scenario, storage_and_brokers: Placement) -> "Space":
        """The partitions stage: brokers and volumes fixed (as ``storage_and_brokers`` has them);
        partitions with a replica on a broker that does not run choose replacements among running
        brokers. Running replicas are kept (no move without need), except, with ``rackAware:
        required``, a partition short of zones (``rack_moves``): its replicas in a zone it holds
        twice become choices too, beside the running brokers of the zones it lacks, so that one may
        move there (a copy, as a refill is)."""
        cluster = scenario.cluster
        running = sorted(b for b, n in storage_and_brokers.brokers.items() if n is not None)
        zone = {b: cluster.node[storage_and_brokers.brokers[b]].zone for b in running}
        racks = scenario.rack_required or scenario.rack_preferred
        by_zone: dict[str, list[int]] = defaultdict(list)
        for b in running:
            by_zone[zone[b]].append(b)
        domain: dict[PKey, tuple[int, ...]] = {}
        kept: dict[PKey, tuple[int, ...]] = {}
        zones_of: dict[PKey, frozenset[str]] = {}
        every_zone = frozenset(by_zone)
        required = scenario.rack_required
        zone_get = zone.get
        for p in cluster.partitions:
            zones_held = [zone_get(b) for b in p.replicas]  # None: the broker does not run
            whole = None not in zones_held
            if whole and (not required or len(set(zones_held)) == len(zones_held)):
                continue  # every replica runs, in zones of their own where racks are required
            short = required and _short_of_zones(scenario, p, zone, every_zone)
            if whole and not short:
                continue
            keep = tuple(b for b in p.replicas if b in zone)
            online = any(s in zone for s in scenario.sources(p))
            vacated = len(p.replicas) - len(keep)
            covered = {zone[b] for b in keep}
            fixed = keep
            if required and online and short:
                # a rack move: one of the replicas sharing a zone leaves for a zone the partition lacks
                fixed = tuple(b for b in keep if sum(1 for o in keep if zone[o] == zone[b]) == 1)
                lacking = every_zone - covered
                fresh = [b for z in sorted(lacking) for b in by_zone[z]]
                domain[p.key] = tuple(sorted(set(keep) | set(fresh)))
                kept[p.key] = fixed
                zones_of[p.key] = lacking
                continue
            # an offline partition (no in-sync replica runs) has nothing to copy from
            candidates = [b for b in running if b not in keep] if online else []
            zones_of[p.key] = every_zone if online else frozenset()
            if racks:
                # Exact reduction: when the uncovered zones can take every vacated replica, every
                # rack-optimal answer puts them there, so the other brokers need no variables.
                fresh = [b for b in candidates if zone[b] not in covered]
                if len({zone[b] for b in fresh}) >= vacated:
                    candidates = fresh
                    zones_of[p.key] = zones_of[p.key] - covered
            domain[p.key] = tuple(sorted(set(keep) | set(candidates)))
            kept[p.key] = fixed
        return cls(scenario, storage_and_brokers, {}, {}, domain, fixed_members=kept, partition_zones=zones_of)

    @cached_property
    def running_zones(self) -> tuple[dict[int, str], dict[str, list[int]]]:
        """(running broker -> its zone, zone -> its running brokers in id order), as ``base`` places them."""
        cluster = self.scenario.cluster
        zone_of = {b: cluster.node[n].zone for b, n in self.base.brokers.items() if n is not None}
        by_zone: dict[str, list[int]] = defaultdict(list)
        for b in sorted(zone_of):
            by_zone[zone_of[b]].append(b)
        return zone_of, dict(by_zone)

    def candidate_zones(self, key: PKey) -> dict[str, list[int]]:
        """A decided partition's candidates that are not fixed, counted per zone: zone -> [new ones
        (no replica of it before), old ones]. Read from ``for_partitions``' shape where the domain
        has it (its running replicas and every running broker of its candidate zones): O(R + Z);
        else by walking the domain."""
        zone_of, by_zone = self.running_zones
        p = self.scenario.cluster.partition[key]
        domain = self.partition_domain[key]
        fixed = self.fixed_members.get(key, ())
        zones = self.partition_zones.get(key)
        running = [b for b in dict.fromkeys(p.replicas) if b in zone_of]
        counts: dict[str, list[int]] = {}
        inside = sum(1 for b in running if zones is not None and zone_of[b] in zones)
        if zones is not None and len(domain) == len(running) + sum(len(by_zone.get(z, ())) for z in zones) - inside:
            for z in zones:
                new = len(by_zone.get(z, ())) - sum(1 for b in running if zone_of[b] == z)
                if new > 0:
                    counts[z] = [new, 0]
            for b in running:
                if b not in fixed:
                    counts.setdefault(zone_of[b], [0, 0])[1] += 1
            return counts
        old = set(p.replicas)
        for b in domain:
            if b in fixed or b not in zone_of:
                continue
            counts.setdefault(zone_of[b], [0, 0])[0 if b not in old else 1] += 1
        return counts

    # -- what the rules iterate over ------------------------------------------

    def broker_nodes(self, broker: int) -> tuple[str, ...]:
        if broker in self.broker_domain:
            return self.broker_domain[broker]
        node = self.base.brokers.get(broker)
        return (node,) if node else ()

    def partition_brokers(self, key: PKey) -> tuple[int, ...]:
        if key in self.partition_domain:
            return self.partition_domain[key]
        target = self.base.partitions.get(key)
        return tuple(dict.fromkeys(target.replicas)) if target else ()

    def decided_volumes_with_data(self):
        """(volume, candidate nodes) for every decided volume that still has data."""
        cluster = self.scenario.cluster
        for name, nodes in self.volume_domain.items():
            if self.scenario.has_data(name):
                yield cluster.volume[name], nodes

    def fixed_volume_count(self, volume: str, node: str) -> int:
        return sum(1 for n in self.base.volumes.get(volume, ()) if n == node)

    def fixed_partition_count(self, key: PKey, broker: int) -> int:
        target = self.base.partitions.get(key)
        return sum(1 for b in target.replicas if b == broker) if target else 0

    @cached_property
    def decided_volumes_at(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for v, nodes in self.volume_domain.items():
            for n in nodes:
                index[n].append(v)
        return index

    @cached_property
    def decided_brokers_at(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = defaultdict(list)
        for b, nodes in self.broker_domain.items():
            for n in nodes:
                index[n].append(b)
        return index

    @cached_property
    def nodes_with_decisions(self) -> tuple[str, ...]:
        names = set(self.decided_volumes_at) | set(self.decided_brokers_at)
        return tuple(n.name for n in self.scenario.cluster.nodes if n.name in names)

    @cached_property
    def fixed_load(self) -> dict[str, NodeLoad]:
        """Per node: the load of what is not decided."""
        cluster = self.scenario.cluster
        storage: dict[str, int] = defaultdict(int)
        for v, nodes in self.base.volumes.items():
            if v in self.volume_domain:
                continue
            for n in nodes:
                storage[n] += cluster.volume[v].size_mib
        count: dict[str, int] = defaultdict(int)
        cpu: dict[str, int] = defaultdict(int)
        mem: dict[str, int] = defaultdict(int)
        for b, node in self.base.brokers.items():
            if b in self.broker_domain or node is None:
                continue
            broker = cluster.broker[b]
            count[node] += 1
            cpu[node] += broker.cpu_millicores
            mem[node] += broker.memory_mib
        return {n.name: NodeLoad(storage[n.name], count[n.name], cpu[n.name], mem[n.name]) for n in cluster.nodes}


def widening_for_short(scenario: Scenario, space: Space, target: Placement,
                       budget: int) -> tuple[dict[str, tuple[str, ...]], int]:
    """The candidates a restricted space must add before a shortfall in it says anything: each
    decided volume the target leaves short of zones (I2) gets every open node of the zones it lacks,
    one short of replicas (I1) only, every open node with room for it at the start -- where its
    candidates miss some of them. Returns (volume -> nodes to add, within ``budget`` added pairs
    taken in the volumes' order; the number of short volumes left out for the budget).
    O(N + V R + the pairs added)."""
    cluster = scenario.cluster
    used = scenario.start_storage_mib
    by_zone: dict[str, list[str]] = defaultdict(list)
    for n in cluster.nodes:
        if n.is_storage and scenario.is_alive(n.name) and n.state is NodeState.READY \
                and not scenario.is_drained(n.name):
            by_zone[n.zone].append(n.name)
    zone_of = {n.name: n.zone for n in cluster.nodes}
    widen: dict[str, tuple[str, ...]] = {}
    left_out = 0
    for v, domain in space.decided_volumes_with_data():
        inside = space.members(domain)
        nodes = {n for n in target.volumes.get(v.name, ()) if n in inside}  # what the space may keep
        covered = {zone_of[n] for n in nodes}
        if len(covered) < scenario.zones_needed(v):
            wanted = [n for z in sorted(by_zone) if z not in covered for n in by_zone[z]]
        elif len(nodes) < v.replication_factor:
            wanted = [n for z in sorted(by_zone) for n in by_zone[z] if n not in nodes
                      and scenario.storage_limit_mib(n) - used[n] >= v.size_mib]
        else:
            continue
        extra = tuple(n for n in wanted if n not in inside)
        if not extra:
            continue
        if len(extra) > budget:
            left_out += 1
            continue
        budget -= len(extra)
        widen[v.name] = extra
    return widen, left_out


def _short_of_zones(scenario: Scenario, partition, zone_of: dict[int, str],
                    every_zone: frozenset[str] | None = None) -> bool:
    """``rackAware: required``: the partition's running replicas share a zone, and together they
    cover fewer zones than it needs even with each vacated replica refilled in a zone of its own
    (the zones it lacks have running brokers: otherwise no move helps)."""
    running = [b for b in partition.replicas if b in zone_of]
    covered = {zone_of[b] for b in running}
    if len(covered) == len(running):
        return False
    vacated = len(partition.replicas) - len(running)
    needed = scenario.racks_needed(partition)
    zones = every_zone if every_zone is not None else set(zone_of.values())  # where some broker runs
    return len(covered) + vacated < needed and len(zones - covered) > vacated


def _most(items) -> int:
    """How often the most repeated item occurs (1 without repeats: the common case, in O(len))."""
    if len(set(items)) == len(items):
        return 1
    return max(_counts(items).values(), default=1)


def _counts(items) -> dict:
    counts: dict = defaultdict(int)
    for item in items:
        counts[item] += 1
    return counts


def _zone_windows(scenario: Scenario, open_nodes: list[str], per_zone: int):
    """i -> candidate nodes of the i-th touched volume: a window rotating through each
    zone's nodes, plus the emptiest nodes of the zone (for room-hungry volumes)."""
    cluster = scenario.cluster
    used: dict[str, int] = defaultdict(int)
    for v in cluster.volumes:
        for n in scenario.survivors(v.name):
            used[n] += v.size_mib
    zones: dict[str, list[str]] = defaultdict(list)
    for n in open_nodes:
        zones[cluster.node[n].zone].append(n)
    emptiest = {z: sorted(ns, key=lambda n: (used[n] - cluster.node[n].storage_mib, n))[: max(1, per_zone // 4)]
                for z, ns in zones.items()}

    def window(i: int) -> list[str]:
        chosen: list[str] = []
        for z, ns in sorted(zones.items()):
            start = (i * per_zone) % len(ns)
            chosen += [ns[(start + k) % len(ns)] for k in range(min(per_zone, len(ns)))]
            chosen += emptiest[z]
        return chosen

    return window


def _node_order(cluster) -> dict[str, int]:
    return {n.name: i for i, n in enumerate(cluster.nodes)}


def _in_order(nodes, order: dict[str, int]) -> tuple[str, ...]:
    """Nodes in the cluster's order (the order every domain lists them in)."""
    return tuple(sorted(nodes, key=order.__getitem__))


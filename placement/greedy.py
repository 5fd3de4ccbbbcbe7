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

from models.plan import Placement, PartitionTarget
from placement.scenario import Scenario


def greedy_placement(scenario: Scenario, *, spread: bool = False) -> Placement:
    cluster = scenario.cluster
    policy = cluster.policy
    touched_v = set(scenario.touched_volumes)
    touched_b = set(scenario.touched_brokers)
    free = {n.name: n.storage_mib for n in cluster.nodes}
    for v in cluster.volumes:
        if v.name not in touched_v:
            for n in v.replicas:
                free[n] -= v.size_mib
    slots = {n.name: policy.brokers_per_node for n in cluster.nodes}
    cpu = {n.name: n.cpu_millicores for n in cluster.nodes}
    mem = {n.name: n.memory_mib for n in cluster.nodes}
    for b in cluster.brokers:
        if b.id not in touched_b:
            slots[b.node] -= 1
            if cpu[b.node] is not None:
                cpu[b.node] -= b.cpu_millicores
            if mem[b.node] is not None:
                mem[b.node] -= b.memory_mib
    eligible = [n.name for n in cluster.nodes if n.is_storage and scenario.is_alive(n.name) and n.state.value == "ready"]
    new_count: dict[str, int] = defaultdict(int)
    volumes = {v.name: v.replicas for v in cluster.volumes if v.name not in touched_v and scenario.has_data(v.name)}
    kept = {}
    for name in scenario.touched_volumes:  # surviving replicas take their room first
        v = cluster.volume[name]
        kept[name] = [n for n in scenario.survivors(name) if scenario.may_hold_replica(v, n)][: v.replication_factor]
        for n in kept[name]:
            free[n] -= v.size_mib
    for name in scenario.touched_volumes:
        v = cluster.volume[name]
        chosen = list(kept[name])
        while len(chosen) < v.replication_factor:
            covered = {cluster.node[n].zone for n in chosen}
            options = [n for n in eligible if n not in chosen and free[n] >= v.size_mib]
            if not options:
                break
            if spread:
                pick = min(options, key=lambda n: (cluster.node[n].zone in covered, new_count[n], -free[n], n))
            else:
                pick = min(options, key=lambda n: (cluster.node[n].zone in covered, -free[n], n))
            chosen.append(pick)
            free[pick] -= v.size_mib
            new_count[pick] += 1
        volumes[name] = tuple(chosen)
    brokers = {b.id: b.node for b in cluster.brokers if b.id not in touched_b}
    zone_of = lambda n: cluster.node[n].zone  # noqa: E731
    def ready_nodes(bid: int) -> int:
        b = cluster.broker[bid]
        return len(set.intersection(*(set(scenario.survivors(v)) for v in b.volumes))) if b.volumes else len(eligible)

    # brokers with the fewest nodes already holding their data choose first
    for bid in sorted(scenario.touched_brokers, key=lambda b: (ready_nodes(b), b) if spread else b):
        b = cluster.broker[bid]
        if scenario.is_removed(bid):
            brokers[bid] = None
            continue
        if scenario.hyperconverged:
            if scenario.broker_lost_data(b):
                brokers[bid] = None
                continue
            holders = [n for n in volumes.get(b.volumes[0], ()) if all(n in volumes.get(v, ()) for v in b.volumes)] if b.volumes else eligible
        else:
            holders = list(dict.fromkeys([n for v in b.volumes for n in volumes.get(v, ())] + eligible))
        fits = [n for n in holders if scenario.may_host_broker(b, n) and slots[n] > 0
                and (cpu[n] is None or cpu[n] >= b.cpu_millicores) and (mem[n] is None or mem[n] >= b.memory_mib)]
        if spread and fits:
            ready = {n for n in fits if all(n in scenario.survivors(v) for v in b.volumes)}
            others = defaultdict(int)
            for p in cluster.partitions:
                if bid in p.replicas:
                    for o in p.replicas:
                        if o != bid and brokers.get(o):
                            others[zone_of(brokers[o])] += 1
            fits.sort(key=lambda n: (n not in ready, others[zone_of(n)]))
        node = fits[0] if fits else None
        brokers[bid] = node
        if node is not None:
            slots[node] -= 1
            if cpu[node] is not None:
                cpu[node] -= b.cpu_millicores
            if mem[node] is not None:
                mem[node] -= b.memory_mib
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
    return Placement(brokers=brokers, volumes=volumes, partitions=partitions)


def fill_partitions(space) -> Placement:
    """Stage B's start: each vacated partition replica goes to the candidate broker that
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

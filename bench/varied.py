"""A second generator of clusters, unlike ``models/generate.py``, for the worst cases of the benchmarks.

It varies what the first one keeps fixed: 3 to 5 zones of unequal size, storage filled to a
target between 40% and 85%, volume sizes spread over two orders of magnitude, replication
factors 2 and 3 mixed, brokers placed at random (not round robin) on one of their volume's
replicas, one or two brokers a node, partitions at RF 2 or 3 with min.insync.replicas 1 or 2,
and the policy's broker placement and rack awareness. The start is valid (every invariant
holds), so ``placement check`` judges failures rather than the start.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from placement.models import units
from placement.models.cluster import (Broker, BrokerPlacement, Cluster, Node, Partition, Policy, RackAware, Topic,
                                      Volume)


@dataclass(frozen=True)
class Shape:
    zones: int
    fill: float  # target share of storage the replicas take
    rf3_share: float  # share of volumes at RF 3 (the rest RF 2)
    brokers_per_node: int
    broker_placement: BrokerPlacement
    rack_aware: RackAware

    def words(self) -> str:
        return (f"{self.zones} zones, {self.fill:.0%} full, {self.rf3_share:.0%} of volumes at RF 3, "
                f"{self.brokers_per_node} broker(s) a node, brokers {self.broker_placement.value} on their data, "
                f"racks {self.rack_aware.value}")


def shape_of(seed: int) -> Shape:
    rng = random.Random(seed * 7907 + 3)
    return Shape(zones=rng.choice([3, 4, 5]), fill=rng.uniform(0.40, 0.85), rf3_share=rng.choice([0.3, 0.6, 0.9]),
                 brokers_per_node=rng.choice([1, 1, 2]),
                 broker_placement=rng.choice([BrokerPlacement.REQUIRED, BrokerPlacement.REQUIRED,
                                              BrokerPlacement.PREFERRED]),
                 rack_aware=rng.choice([RackAware.PREFERRED, RackAware.REQUIRED, RackAware.OFF]))


def varied_cluster(seed: int, *, nodes: int, brokers: int, volumes: int, partitions: int) -> Cluster:
    shape = shape_of(seed)
    rng = random.Random(seed)
    zone_names = [f"zone-{chr(ord('a') + z)}" for z in range(shape.zones)]
    weights = [rng.uniform(0.6, 1.4) for _ in zone_names]  # unequal zones
    zone_of = [rng.choices(zone_names, weights)[0] for _ in range(nodes)]
    for i, z in enumerate(zone_names):  # every zone has at least a few nodes
        for j in range(3):
            zone_of[(i * 3 + j) % nodes] = z
    sizes = [round(min(2000.0, rng.lognormvariate(4.5, 0.9)), 1) for _ in range(volumes)]  # ~10 GiB to 2 TiB
    rfs = [3 if rng.random() < shape.rf3_share else 2 for _ in range(volumes)]
    stored = sum(s * r for s, r in zip(sizes, rfs))
    per_node = max(100, int(stored / shape.fill / nodes))
    capacity = [int(per_node * rng.uniform(0.7, 1.3)) for _ in range(nodes)]
    node_list = [Node(name=f"n{i:04d}", zone=zone_of[i], storage_mib=units.capacity_mib(capacity[i]),
                      storage_gib=capacity[i], cpu_millicores=32_000, memory_mib=units.capacity_mib(256))
                 for i in range(nodes)]
    by_zone = {z: [i for i in range(nodes) if zone_of[i] == z] for z in zone_names}
    free = [n.storage_mib for n in node_list]
    vol_list = []
    for v in range(volumes):
        size_mib = units.size_mib(sizes[v])
        zones_here = rng.sample(zone_names, min(rfs[v], len(zone_names)))
        chosen = []
        for z in zones_here:
            options = [i for i in by_zone[z] if free[i] >= size_mib and i not in chosen]
            if options:
                chosen.append(max(rng.sample(options, min(6, len(options))), key=free.__getitem__))
        if len(chosen) < rfs[v]:
            continue  # too full for this one: leave it out (the fill is a target, not a promise)
        for i in chosen:
            free[i] -= size_mib
        used = round(sizes[v] * rng.uniform(0.2, 1.0), 1)
        vol_list.append(Volume(name=f"vol-{v:05d}", size_mib=size_mib, used_mib=units.size_mib(used),
                               replication_factor=rfs[v], replicas=tuple(node_list[i].name for i in chosen),
                               size_gib=sizes[v], used_gib=used))
    hosted: dict[str, int] = {}
    broker_list = []
    for vol in rng.sample(vol_list, len(vol_list)):
        if len(broker_list) == brokers:
            break
        hosts = [n for n in vol.replicas if hosted.get(n, 0) < shape.brokers_per_node]
        if not hosts:
            continue
        host = rng.choice(hosts)
        hosted[host] = hosted.get(host, 0) + 1
        broker_list.append(Broker(id=len(broker_list), node=host, volumes=(vol.name,), cpu_millicores=2000,
                                  memory_mib=units.size_mib(8)))
    zone_of_broker = {b.id: node_list[int(b.node[1:])].zone for b in broker_list}
    topics, made, t = [], 0, 0
    while made < partitions and len(broker_list) >= 3:
        rf = rng.choice([2, 3])
        least = rng.choice([1, rf - 1]) if rf == 3 else 1
        count = min(rng.randint(20, 400), partitions - made)
        parts = []
        for pid in range(count):
            if shape.rack_aware is RackAware.OFF:
                replicas = rng.sample(range(len(broker_list)), rf)
            else:  # distinct zones where zones allow
                zones = rng.sample(sorted(set(zone_of_broker.values())), min(rf, len(set(zone_of_broker.values()))))
                replicas = [rng.choice([b for b, z in zone_of_broker.items() if z == zone]) for zone in zones]
                while len(replicas) < rf:
                    extra = rng.randrange(len(broker_list))
                    if extra not in replicas:
                        replicas.append(extra)
            size = round(rng.uniform(0.1, 8), 1)
            parts.append(Partition(topic=f"t{t:03d}", id=pid, replicas=tuple(replicas), leader=replicas[0],
                                   isr=tuple(replicas), size_mib=units.size_mib(size), size_gib=size))
        topics.append(Topic(name=f"t{t:03d}", min_insync_replicas=least, partitions=tuple(parts)))
        made += count
        t += 1
    policy = Policy(brokers_per_node=shape.brokers_per_node, broker_placement=shape.broker_placement,
                    rack_aware=shape.rack_aware, min_insync_replicas=1)
    return Cluster(name=f"varied-{nodes}n-{seed}", policy=policy, nodes=tuple(node_list), volumes=tuple(vol_list),
                   brokers=tuple(broker_list), topics=tuple(topics))

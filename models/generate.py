"""Seeded generator of realistic clusters, for benchmarks and large tests.

Nodes round-robin over zones; every broker owns one volume with a replica on
its own node (hyperconverged); other workloads' volumes fill the pool; every
volume is spread over distinct zones; partitions are rack-aware, RF 3.
"""
from __future__ import annotations

import random

from placement.models import units
from placement.models.cluster import Broker, Cluster, Node, Partition, Policy, Topic, Volume


def generate_cluster(*, nodes: int, zones: int, brokers: int, volumes: int, partitions: int, seed: int = 0,
                     storage_gib: int = 4000, partitions_per_topic: int = 300, name: str | None = None) -> Cluster:
    rng = random.Random(seed)
    zone_names = [f"zone-{chr(ord('a') + z)}" for z in range(zones)]
    node_list = [Node(name=f"node-{i:04d}", zone=zone_names[i % zones], storage_mib=units.capacity_mib(storage_gib),
                      storage_gib=storage_gib, cpu_millicores=32_000, memory_mib=units.capacity_mib(128))
                 for i in range(nodes)]
    by_zone = {z: [n.name for n in node_list if n.zone == z] for z in zone_names}
    free = {n.name: n.storage_mib for n in node_list}
    # brokers on distinct nodes, spread over zones
    hosts = []
    for i in range(brokers):
        zone_nodes = by_zone[zone_names[i % zones]]
        hosts.append(zone_nodes[(i // zones) % len(zone_nodes)])
    vol_list: list[Volume] = []
    for i in range(volumes):
        size = rng.choice([50, 100, 200, 300, 500])
        used = round(size * rng.uniform(0.3, 0.9), 1)
        rf = min(3, zones) if zones > 1 else 3
        first = hosts[i] if i < brokers else None
        chosen: list[str] = []
        for z in (rng.sample(zone_names, zones) if first is None else
                  [node_list[int(first.split('-')[1])].zone] + [x for x in rng.sample(zone_names, zones) if x != node_list[int(first.split('-')[1])].zone]):
            if len(chosen) == rf:
                break
            if first is not None and not chosen:
                chosen.append(first)
                continue
            candidates = [n for n in rng.sample(by_zone[z], min(8, len(by_zone[z]))) if free[n] >= units.size_mib(size) and n not in chosen]
            if candidates:
                chosen.append(max(candidates, key=lambda n: free[n]))
        if len(chosen) < rf:  # a single zone, or a full zone: any node with room
            roomy = [n.name for n in node_list if n.name not in chosen and free[n.name] >= units.size_mib(size)]
            if len(roomy) < rf - len(chosen):
                raise ValueError(f"{nodes} nodes of {storage_gib} GiB cannot hold {volumes} volumes at RF {rf}")
            chosen += rng.sample(roomy, rf - len(chosen))
        for n in chosen:
            free[n] -= units.size_mib(size)
        vol_list.append(Volume(name=f"pvc-{i:05d}", size_mib=units.size_mib(size), used_mib=units.size_mib(used),
                               replication_factor=rf, replicas=tuple(chosen), size_gib=size, used_gib=used))
    broker_list = [Broker(id=i, node=hosts[i], volumes=(vol_list[i].name,), cpu_millicores=4000, memory_mib=units.size_mib(16))
                   for i in range(brokers)]
    broker_zone = {b.id: node_list[int(b.node.split('-')[1])].zone for b in broker_list}
    per_zone = {z: [b for b in range(brokers) if broker_zone[b] == z] for z in zone_names}
    topics = []
    made = 0
    t = 0
    queue: dict[str, list[int]] = {z: [] for z in zone_names}  # shuffled rounds within each zone: balanced, uncorrelated
    while made < partitions:
        count = min(partitions_per_topic, partitions - made)
        parts = []
        for pid in range(count):
            first = (made + pid) % zones
            zs = [zone_names[(first + k) % zones] for k in range(min(3, zones))]
            if zones >= 3:
                replicas = []
                for z in zs:
                    if not queue[z]:
                        queue[z] = rng.sample(per_zone[z], len(per_zone[z]))
                    replicas.append(queue[z].pop())
                lead = rng.randrange(len(replicas))  # the preferred leader's zone, at random
                replicas = tuple(replicas[lead:] + replicas[:lead])
            else:
                replicas = tuple(rng.sample(range(brokers), 3))
            size = round(rng.uniform(0.1, 5), 1)
            parts.append(Partition(topic=f"topic-{t:03d}", id=pid, replicas=replicas, leader=replicas[0], isr=replicas,
                                   size_mib=units.size_mib(size), size_gib=size))
        topics.append(Topic(name=f"topic-{t:03d}", min_insync_replicas=2, partitions=tuple(parts)))
        made += count
        t += 1
    return Cluster(name=name or f"bench-{nodes}n-{seed}", policy=Policy(), nodes=tuple(node_list), volumes=tuple(vol_list),
                   brokers=tuple(broker_list), topics=tuple(topics))

"""The second generator of clusters, unlike ``models/generate.py``, for the worst cases of the
benchmarks (bench/sweep.py, bench/scale.py): figures must hold on clusters the planner's authors
did not shape (issue 14).

Where ``generate_cluster`` makes every node the same size, round-robins nodes over zones, gives
each broker one volume whose replica sits under it, fills about half the storage with a few
volume sizes at RF 3 and lays partitions out rack-aware, this one draws, per seed (``shape_of``):

- 3 to 5 zones of unequal size, nodes named as cloud hosts;
- nodes of even (+-30%) or tiered (a quarter to four times the mean) storage, uneven CPU and memory;
- a fill between 40% and 85% of the storage (``fill=`` overrides it);
- volume sizes spread over two to three orders of magnitude (log-normal, 1 GiB to 4 TiB);
- replication factors 2 and 3 mixed (30% to 90% at RF 3);
- brokers placed at random on one of their volume's replicas (not round robin), one or two
  brokers a node, some with two or three volumes (each with a replica on the broker's node),
  of uneven CPU and memory;
- topics of RF 2 or 3, min.insync.replicas 1 or 2, rack-aware or (where racks are only
  preferred or off) at random;
- the policy's broker placement (required or preferred) and rack awareness (off, preferred,
  required).

The start meets every invariant wherever the draw allows (``check_start`` finds nothing on the
benchmark's sizes); ``describe`` says what was drawn, for the benchmark's tables.

    python bench/varied.py 3 --nodes 1000     # describe the 1,000-node cluster of seed 3
"""
from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from placement.models import units  # noqa: E402
from placement.models.cluster import (Broker, BrokerPlacement, Cluster, Node, Partition, Policy, RackAware,  # noqa: E402
                                      Topic, Volume)

TIERS = (0.25, 0.5, 1.0, 2.0, 4.0)
TIER_WEIGHTS = (2, 5, 8, 4, 1)


@dataclass(frozen=True)
class Shape:
    zones: int
    fill: float  # target share of storage the replicas take
    rf3_share: float  # share of volumes at RF 3 (the rest RF 2)
    brokers_per_node: int
    broker_placement: BrokerPlacement
    rack_aware: RackAware
    tiered_nodes: bool = False  # node storage a quarter to four times the mean (else +-30%)
    size_sigma: float = 0.9  # spread of the volume sizes (log-normal)
    max_broker_volumes: int = 1  # brokers with up to this many volumes

    def words(self) -> str:
        return (f"{self.zones} zones, {self.fill:.0%} full, {self.rf3_share:.0%} of volumes at RF 3, "
                f"{'tiered' if self.tiered_nodes else 'even'} nodes, sizes sigma {self.size_sigma}, "
                f"{self.brokers_per_node} broker(s) a node with up to {self.max_broker_volumes} volume(s), "
                f"brokers {self.broker_placement.value} on their data, racks {self.rack_aware.value}")


def shape_of(seed: int, fill: float | None = None) -> Shape:
    rng = random.Random(seed * 7907 + 3)
    shape = Shape(zones=rng.choice([3, 4, 5]), fill=rng.uniform(0.40, 0.85), rf3_share=rng.choice([0.3, 0.6, 0.9]),
                  brokers_per_node=rng.choice([1, 1, 2]),
                  broker_placement=rng.choice([BrokerPlacement.REQUIRED, BrokerPlacement.REQUIRED,
                                               BrokerPlacement.PREFERRED]),
                  rack_aware=rng.choice([RackAware.PREFERRED, RackAware.REQUIRED, RackAware.OFF]),
                  tiered_nodes=rng.random() < 0.5, size_sigma=rng.choice([0.6, 0.9, 1.4]),
                  max_broker_volumes=rng.choice([1, 2, 3]))
    if fill is not None:
        shape = Shape(**{**shape.__dict__, "fill": fill})
    return shape


def varied_cluster(seed: int, *, nodes: int, brokers: int, volumes: int, partitions: int,
                   fill: float | None = None) -> Cluster:
    shape = shape_of(seed, fill)
    rng = random.Random(seed)
    extra = random.Random(f"varied-extra-{seed}")  # the draws added later, so the first stream stays
    zone_names = [f"zone-{chr(ord('a') + z)}" for z in range(shape.zones)]
    weights = [rng.uniform(0.6, 1.4) for _ in zone_names]  # unequal zones
    zone_of = [rng.choices(zone_names, weights)[0] for _ in range(nodes)]
    for i, z in enumerate(zone_names):  # every zone has at least a few nodes
        for j in range(3):
            zone_of[(i * 3 + j) % nodes] = z
    sizes = [round(min(4096.0, max(1.0, rng.lognormvariate(4.5, shape.size_sigma))), 1) for _ in range(volumes)]
    rfs = [3 if rng.random() < shape.rf3_share else 2 for _ in range(volumes)]
    stored = sum(s * r for s, r in zip(sizes, rfs))
    per_node = max(100, int(stored / shape.fill / nodes))
    if shape.tiered_nodes:
        tiers = [extra.choices(TIERS, TIER_WEIGHTS)[0] for _ in range(nodes)]
        mean = sum(tiers) / nodes
        capacity = [max(100, int(per_node * t / mean * rng.uniform(0.9, 1.1))) for t in tiers]
    else:
        capacity = [int(per_node * rng.uniform(0.7, 1.3)) for _ in range(nodes)]
    names = [f"ip-10-{i // 250}-{i % 250}-{seed}.compute.internal" for i in range(nodes)]
    node_list = [Node(name=names[i], zone=zone_of[i], storage_mib=units.capacity_mib(capacity[i]),
                      storage_gib=capacity[i], cpu_millicores=units.capacity_millicores(extra.choice((16, 32, 48, 64))),
                      memory_mib=units.capacity_mib(extra.choice((64, 128, 192, 256))))
                 for i in range(nodes)]
    index = {name: i for i, name in enumerate(names)}
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
    on_node: dict[str, list[str]] = {}  # node -> volumes with a replica there, in drawing order
    for vol in vol_list:
        for n in vol.replicas:
            on_node.setdefault(n, []).append(vol.name)
    hosted: dict[str, int] = {}
    taken: set[str] = set()
    cpu_left = {n.name: n.cpu_millicores for n in node_list}
    mem_left = {n.name: n.memory_mib for n in node_list}
    broker_list = []
    for vol in rng.sample(vol_list, len(vol_list)):
        if len(broker_list) == brokers:
            break
        if vol.name in taken:
            continue
        cpu = units.demand_millicores(extra.choice((2, 4, 4, 8)))
        mem = units.size_mib(extra.choice((8, 16, 16, 32)))
        hosts = [n for n in vol.replicas
                 if hosted.get(n, 0) < shape.brokers_per_node and cpu_left[n] >= cpu and mem_left[n] >= mem]
        if not hosts:
            continue
        host = rng.choice(hosts)
        hosted[host] = hosted.get(host, 0) + 1
        cpu_left[host] -= cpu
        mem_left[host] -= mem
        mine = [vol.name]
        more = extra.randint(1, shape.max_broker_volumes) - 1
        for other in on_node.get(host, ()):  # more volumes with a replica on the broker's node
            if len(mine) > more:
                break
            if other not in taken and other not in mine:
                mine.append(other)
        taken.update(mine)
        broker_list.append(Broker(id=len(broker_list), node=host, volumes=tuple(mine), cpu_millicores=cpu,
                                  memory_mib=mem))
    zone_of_broker = {b.id: zone_of[index[b.node]] for b in broker_list}
    broker_zones = sorted(set(zone_of_broker.values()))
    in_zone = {z: [b for b, bz in zone_of_broker.items() if bz == z] for z in broker_zones}
    topics, made, t = [], 0, 0
    while made < partitions and len(broker_list) >= 3:
        rf = rng.choice([2, 3])
        least = rng.choice([1, rf - 1]) if rf == 3 else 1
        count = min(rng.randint(20, 400), partitions - made)
        aware = shape.rack_aware is RackAware.REQUIRED or (
            shape.rack_aware is RackAware.PREFERRED and extra.random() < 0.7)
        parts = []
        for pid in range(count):
            if not aware:
                replicas = rng.sample(range(len(broker_list)), rf)
            else:  # distinct zones where zones allow
                zones = rng.sample(broker_zones, min(rf, len(broker_zones)))
                replicas = [rng.choice(in_zone[zone]) for zone in zones]
                while len(replicas) < rf:
                    extra_broker = rng.randrange(len(broker_list))
                    if extra_broker not in replicas:
                        replicas.append(extra_broker)
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


def describe(cluster: Cluster) -> dict:
    """What was drawn: zones, fill, replication factors, brokers and their volumes."""
    storage = sum(n.storage_mib for n in cluster.nodes)
    used = sum(v.size_mib * len(v.replicas) for v in cluster.volumes)
    return {"nodes": len(cluster.nodes), "zones": len(cluster.zones), "fill": round(used / storage, 3),
            "volumes": len(cluster.volumes), "rf": sorted({v.replication_factor for v in cluster.volumes}),
            "brokers": len(cluster.brokers), "brokerVolumes": sum(len(b.volumes) for b in cluster.brokers),
            "brokersPerNode": cluster.policy.brokers_per_node,
            "brokerPlacement": cluster.policy.broker_placement.value, "rackAware": cluster.policy.rack_aware.value,
            "partitions": len(cluster.partitions),
            "nodeGiB": [min(n.storage_gib for n in cluster.nodes), max(n.storage_gib for n in cluster.nodes)]}


def largest_zone(cluster: Cluster) -> str:
    """The zone whose loss is hardest: the one with the most storage in use."""
    zone_of = {n.name: n.zone for n in cluster.nodes}
    used: dict[str, int] = {}
    for v in cluster.volumes:
        for n in v.replicas:
            used[zone_of[n]] = used.get(zone_of[n], 0) + v.size_mib
    return max(sorted(used), key=used.__getitem__)


def broker_node(cluster: Cluster) -> str:
    """The node of the broker with the most volumes (the first such): one broker's node fails."""
    return max(cluster.brokers, key=lambda b: (len(b.volumes), -b.id)).node


if __name__ == "__main__":
    import argparse
    import json

    from placement.rules import check_start

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seed", type=int)
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    n = args.nodes
    c = varied_cluster(args.seed, nodes=n, brokers=n // 5, volumes=n * 3, partitions=n * 30)
    print(json.dumps({**describe(c), "shape": shape_of(args.seed).words(), "largestZone": largest_zone(c),
                      "startViolations": len(check_start(c))}))

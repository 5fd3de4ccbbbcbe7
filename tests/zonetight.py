"""Clusters of unequal zones whose smallest zone is tight once the largest fails (the pattern of a
stranger's 1,000-node files where the planner once answered ``degraded`` on survivable failures).

Every volume spans three of four zones; those in zones a, b and c must take a new replica in
zone d (the smallest) when zone a fails, and d's free room is only a little more than they need,
in sizes that a careless order breaks up. Brokers (brokersPerNode 1) have one to three volumes
each, placed under ``brokerPlacement: required``."""
from __future__ import annotations

import random

ZONES = {"zone-a": 12, "zone-b": 9, "zone-c": 6, "zone-d": 4}
TRIPLES = (("zone-a", "zone-b", "zone-c"), ("zone-a", "zone-b", "zone-d"), ("zone-a", "zone-c", "zone-d"),
           ("zone-b", "zone-c", "zone-d"))


def zone_tight_cluster(seed: int, slack: float = 1.08, zones: dict[str, int] = ZONES, apps: int = 70) -> dict:
    rng = random.Random(seed)
    nodes = [{"name": f"{zone}-{i:02d}", "zone": zone, "storageGiB": rng.choice([3000, 4000, 6000]), "cpu": 16}
             for zone, count in zones.items() for i in range(count)]
    by_zone = {z: [n for n in nodes if n["zone"] == z] for z in zones}
    used = {n["name"]: 0 for n in nodes}
    volumes: list[dict] = []

    def place(name: str, size: int, zones, first: str | None = None) -> list[str] | None:
        replicas = []
        for z in zones:
            if first is not None and z == nodes_zone[first]:
                n = first
            else:
                n = min(by_zone[z], key=lambda n: (used[n["name"]] / n["storageGiB"], n["name"]))["name"]
            replicas.append(n)
        for n in replicas:
            used[n] += size
        volumes.append({"name": name, "sizeGiB": size, "usedGiB": size // 2, "replicationFactor": 3,
                        "replicas": replicas})
        return replicas

    nodes_zone = {n["name"]: n["zone"] for n in nodes}
    brokers = []
    hosts = rng.sample([n["name"] for n in nodes], 6)
    for bid, host in enumerate(hosts):
        zones = [t for t in TRIPLES if nodes_zone[host] in t]
        triple = rng.choice(zones)
        names = []
        for k in range(rng.randint(1, 3)):
            name = f"pvc-kafka-{bid}-{k}"
            place(name, rng.choice([200, 400, 600]), triple, first=host)
            names.append(name)
        brokers.append({"id": bid, "node": host, "volumes": names, "cpu": 4})
    for i in range(apps):
        place(f"pvc-app-{i:03d}", rng.choice([100, 150, 250, 400, 700, 900]), rng.choice(TRIPLES))
    # zone d: room for a little more than the replicas it must take when zone a fails
    need = sum(v["sizeGiB"] for v in volumes if not any(nodes_zone[n] == "zone-d" for n in v["replicas"]))
    d_nodes = by_zone["zone-d"]
    extra = int(need * slack / len(d_nodes)) + 1
    for n in d_nodes:
        n["storageGiB"] = max(used[n["name"]] + extra, used[n["name"]])
    for n in nodes:  # the other zones roomy: zone d is the tight one
        if n["zone"] != "zone-d":
            n["storageGiB"] = max(n["storageGiB"], used[n["name"]] + 3000)
    topics = [{"name": "events", "partitions": [
        {"id": p, "replicas": rng.sample(range(len(brokers)), 3), "sizeGiB": 1} for p in range(12)]}]
    return {"name": f"zone-tight-{seed}", "policy": {"volumeReplicationFactor": 3, "zoneSpread": True,
                                                     "brokerPlacement": "required", "brokersPerNode": 1,
                                                     "rackAware": "preferred"},
            "nodes": nodes, "volumes": volumes, "brokers": brokers, "topics": topics}

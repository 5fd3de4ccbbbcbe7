#!/usr/bin/env python3
"""Clean-room cluster generator for `placement` (stdlib + PyYAML only).

Who wrote it, and how: an outside tester, a helper session that had not read
this repository's code, wrote it for its own scale test of `placement` (issue
14: figures must hold on clusters from generators other than ours).  It wrote
it from CONTRACT.md sections 1-2 (the cluster file and its invariants) only,
not from models/generate.py or bench/varied.py.  It was brought into bench/
as the benchmark's third generator with its logic, random draws and seeds
unchanged, so the same arguments write byte for byte the same file as the
tester's gen.py (including the first line, which names it foreign/gen.py, as
the tester's files do).  Added here: ``cleanroom_yaml`` and
``write_cleanroom`` (the same file from Python) and ``file_name``, for
bench/scale.py's section "Clean-room clusters".

Written from /work/shared/CONTRACT.md sections 1-2 only.  It builds clusters
the way a shared on-prem / multi-AZ platform team would have them:

* zones of unequal sizes (3, 4 or 5 zones, skewed, e.g. 45/35/20 %);
* three hardware generations with different storage / cpu / memory, plus
  storage-less compute-only nodes (storageGiB: 0);
* Portworx is shared: besides the Kafka JBOD volumes (1-3 per broker) there are
  many volumes of other workloads (databases, search, object caches);
* volume sizes: mostly 100-500 GiB, some 1-4 TiB; RF 3 mostly, some RF 2;
* replicas placed zone-spread by "power of k choices" on the emptiest nodes
  (no per-node perfection: fills differ node to node);
* Kafka StatefulSet: brokers 0..B-1, each pod on a node holding a replica of
  every one of its volumes (hyperconverged), at most one broker per node;
* topics with many partitions, RF 3 mostly and some RF 2, rack-aware placement
  (distinct zones), leaders spread by least-leader-count;
* the storage fill level is reached by adding volumes until the sum of replica
  sizes reaches FILL * total storage.

An `--imperfect` start deliberately breaks a few things (labelled in the file
name and the `name:` field): some volumes below RF, one node already failed,
one cordoned node, one partition with a leader outside its ISR.

Usage:
  python bench/cleanroom.py --nodes 1000 --zones 3 --fill 0.45 --seed 1 -o c1000-z3-f45.yaml

The files of the tester's genall.sh (bench/scale.py uses those at 1,000 and
5,000 nodes; ``GENALL`` lists them):
  --nodes 1000 --zones 3 --fill 0.35 --seed 11 -o files/n1000-z3-f35.yaml
  ... (``file_name`` gives each file's name)
"""
import argparse
import heapq
import random
import sys

import yaml

# zone shares (unequal on purpose)
ZONE_SHARES = {
    3: [0.45, 0.35, 0.20],
    4: [0.34, 0.29, 0.22, 0.15],
    5: [0.29, 0.24, 0.20, 0.16, 0.11],
}
ZONE_NAMES = ["dc1-hall-a", "dc1-hall-b", "dc2-hall-c", "dc2-hall-d", "dc3-hall-e"]

# hardware generations: (label, share, storageGiB, cpu, memoryGiB)
HW = [
    ("g1", 0.30, 6000, 16, 64),       # old 2U boxes, 4 x 1.6 TB SSD
    ("g2", 0.40, 12000, 32, 128),     # 4 x 3.2 TB NVMe
    ("g3", 0.20, 24000, 64, 256),     # 8 x 3.2 TB NVMe, dense
    ("cx", 0.10, 0, 32, 128),         # compute only, no Portworx pool
]

APPS = ["postgres", "elastic", "mongo", "redis", "minio", "cassandra", "prom", "clickhouse"]
TOPIC_WORDS = ["orders", "payments", "clicks", "audit", "inventory", "shipments",
               "sessions", "metrics", "logs", "events", "users", "fraud", "search",
               "billing", "ledger", "notifications", "telemetry", "cdc"]


def volume_size(rng):
    r = rng.random()
    if r < 0.78:
        return rng.choice(range(100, 501, 20))          # 100-500 GiB
    if r < 0.90:
        return rng.choice([600, 750, 800, 900])          # middling
    return rng.choice([1024, 1536, 2048, 3072, 4096])   # 1-4 TiB


def build(nodes_n, zones_n, fill, seed, brokers_n=None, partitions_n=None,
          imperfect=False, rack_aware="preferred", name=None):
    rng = random.Random(seed)
    brokers_n = brokers_n or nodes_n // 5
    partitions_n = partitions_n or nodes_n * 30
    zones = ZONE_NAMES[:zones_n]
    shares = ZONE_SHARES[zones_n]

    # ---------------- nodes
    counts = [int(round(s * nodes_n)) for s in shares]
    counts[0] += nodes_n - sum(counts)
    nodes = []      # dicts written to the file
    cap = {}        # name -> storage
    used = {}       # name -> GiB of replicas
    cpu_free = {}
    mem_free = {}
    zone_of = {}
    by_zone = {z: [] for z in zones}     # storage nodes only
    seq = 0
    for z, cnt in zip(zones, counts):
        for i in range(cnt):
            r = rng.random()
            acc = 0.0
            for hw in HW:
                acc += hw[1]
                if r < acc:
                    break
            label, _, st, cpu, mem = hw
            seq += 1
            nm = f"{z}-{label}-r{rng.randint(1, 40):02d}-{seq:05d}"
            node = {"name": nm, "zone": z}
            if st:
                node["storageGiB"] = st
            node["cpu"] = cpu
            node["memoryGiB"] = mem
            nodes.append(node)
            cap[nm] = st
            used[nm] = 0.0
            cpu_free[nm] = cpu - 2          # daemonsets
            mem_free[nm] = mem - 8
            zone_of[nm] = z
            if st:
                by_zone[z].append(nm)
    total_cap = sum(cap.values())
    # per-node ceiling while generating: not everything perfectly balanced
    ceiling = min(0.90, fill + 0.22)

    def pick_node(z, size, exclude, k=6):
        cands = by_zone[z]
        best = None
        for _ in range(k):
            n = cands[rng.randrange(len(cands))]
            if n in exclude:
                continue
            if used[n] + size > ceiling * cap[n]:
                continue
            f = used[n] / cap[n]
            if best is None or f < best[0]:
                best = (f, n)
        if best is None:        # fall back: scan the zone
            ok = [n for n in cands if n not in exclude and used[n] + size <= ceiling * cap[n]]
            if not ok:
                return None
            return min(ok, key=lambda n: used[n] / cap[n])
        return best[1]

    def zone_free(z):
        return sum(ceiling * cap[n] - used[n] for n in by_zone[z])

    zfree = {z: zone_free(z) for z in zones}

    def pick_zones(k, first=None):
        out = [first] if first else []
        pool = [z for z in zones if z != first]
        while len(out) < k and pool:
            w = [max(zfree[z], 1.0) for z in pool]
            z = rng.choices(pool, weights=w)[0]
            out.append(z)
            pool.remove(z)
        return out

    volumes = []

    def place_volume(vname, size, rf, first_node=None):
        zs = pick_zones(min(rf, zones_n), zone_of[first_node] if first_node else None)
        reps = [first_node] if first_node else []
        for z in zs[len(reps):]:
            n = pick_node(z, size, set(reps))
            if n is None:
                return None
            reps.append(n)
        # rf > zones: extra replicas in any zone (distinct nodes)
        while len(reps) < rf:
            z = rng.choice(zones)
            n = pick_node(z, size, set(reps))
            if n is None:
                return None
            reps.append(n)
        for n in reps:
            used[n] += size
            zfree[zone_of[n]] -= size
        v = {"name": vname, "sizeGiB": size,
             "usedGiB": round(size * rng.uniform(0.2, 0.9), 1)}
        if rf != 3:
            v["replicationFactor"] = rf
        v["replicas"] = reps
        volumes.append(v)
        return v

    # ---------------- brokers (StatefulSet kafka-0..B-1), JBOD volumes
    bcounts = [max(1, int(round(s * brokers_n))) for s in shares]
    bcounts[0] += brokers_n - sum(bcounts)
    broker_zone = []
    for z, c in zip(zones, bcounts):
        broker_zone += [z] * c
    rng.shuffle(broker_zone)
    brokers = []
    taken = set()
    for bid, z in enumerate(broker_zone):
        bcpu = rng.choice([4, 6, 8])
        bmem = rng.choice([16, 24, 32])
        cands = [n for n in by_zone[z] if n not in taken and cpu_free[n] >= bcpu
                 and mem_free[n] >= bmem and cap[n] >= 12000]
        if not cands:
            cands = [n for n in by_zone[z] if n not in taken and cpu_free[n] >= bcpu
                     and mem_free[n] >= bmem]
        node = rng.choice(cands)
        taken.add(node)
        cpu_free[node] -= bcpu
        mem_free[node] -= bmem
        nvol = rng.choices([1, 2, 3], weights=[5, 3, 2])[0]
        vols = []
        for j in range(nvol):
            size = rng.choice([500, 1024, 1024, 2048, 2048, 3072])
            rf = 3 if rng.random() < 0.85 else 2
            v = place_volume(f"data-{j}-kafka-{bid}", size, rf, first_node=node)
            if v is None:
                sys.exit(f"cannot place broker volume for broker {bid}")
            vols.append(v["name"])
        brokers.append({"id": bid, "node": node, "volumes": vols,
                        "cpu": bcpu, "memoryGiB": bmem})

    # ---------------- other workloads' volumes until the fill is reached
    target = fill * total_cap
    placed = sum(used.values())
    i = 0
    misses = 0
    while placed < target and misses < 200:
        app = rng.choice(APPS)
        size = volume_size(rng)
        rf = 3 if rng.random() < 0.8 else 2
        v = place_volume(f"pvc-{app}-{i:05d}", size, rf)
        i += 1
        if v is None:
            misses += 1
            continue
        placed += size * rf

    # ---------------- topics
    bz = {b["id"]: zone_of[b["node"]] for b in brokers}
    zone_brokers = {z: [b for b in bz if bz[b] == z] for z in zones}
    # heaps of (replica count, tiebreak, broker) per zone
    load = {b: 0 for b in bz}
    lead = {b: 0 for b in bz}
    heaps = {z: [(0, rng.random(), b) for b in zone_brokers[z]] for z in zones}
    for h in heaps.values():
        heapq.heapify(h)

    def take(z, exclude):
        h = heaps[z]
        popped = []
        got = None
        while h:
            c, t, b = heapq.heappop(h)
            if c != load[b]:           # stale entry
                heapq.heappush(h, (load[b], t, b))
                continue
            if b in exclude:
                popped.append((c, t, b))
                continue
            got = b
            break
        for e in popped:
            heapq.heappush(h, e)
        if got is not None:
            load[got] += 1
            heapq.heappush(h, (load[got], rng.random(), got))
        return got

    zweights = [len(zone_brokers[z]) for z in zones]
    topics = []
    total_parts = 0
    t_i = 0
    while total_parts < partitions_n:
        nparts = rng.choice([12, 24, 32, 48, 50, 64, 96, 100, 128, 200, 256, 300])
        nparts = min(nparts, partitions_n - total_parts) or 1
        rf = 3 if rng.random() < 0.8 else 2
        isr_min = 2 if rf == 3 else 1
        tname = f"{rng.choice(TOPIC_WORDS)}-{rng.choice(['v1', 'v2', 'raw', 'enriched', 'dlq', 'compacted'])}-{t_i:04d}"
        t_i += 1
        avg = rng.choice([0.05, 0.2, 0.5, 1, 2, 5])
        parts = []
        for p in range(nparts):
            # distinct zones, weighted by broker count
            pool = list(zones)
            w = list(zweights)
            zs = []
            while len(zs) < min(rf, zones_n):
                z = rng.choices(pool, weights=w)[0]
                k = pool.index(z)
                pool.pop(k)
                w.pop(k)
                zs.append(z)
            reps = []
            for z in zs:
                reps.append(take(z, set(reps)))
            while len(reps) < rf:
                reps.append(take(rng.choice(zones), set(reps)))
            # leader: least leading replica, then rotate to front
            ld = min(reps, key=lambda b: (lead[b], b))
            lead[ld] += 1
            reps.remove(ld)
            reps.insert(0, ld)
            part = {"id": p, "replicas": reps,
                    "sizeGiB": round(avg * rng.uniform(0.3, 1.7), 2)}
            parts.append(part)
        topics.append({"name": tname, "minInsyncReplicas": isr_min, "partitions": parts})
        total_parts += nparts

    label = name or f"foreign-n{nodes_n}-z{zones_n}-f{int(fill * 100)}"
    if imperfect:
        label += "-imperfect"
        # 5 volumes below RF (a replica missing), 1 failed node, 1 cordoned node,
        # one partition led by a broker outside its ISR.
        vs = [v for v in volumes if v["name"].startswith("pvc-") and len(v["replicas"]) == 3]
        for v in rng.sample(vs, 5):
            gone = v["replicas"].pop()
            used[gone] -= v["sizeGiB"]
        broker_nodes = {b["node"] for b in brokers}
        plain = [n for n in nodes if n.get("storageGiB") and n["name"] not in broker_nodes]
        dead, cord = rng.sample(plain, 2)
        dead["state"] = "failed"
        cord["state"] = "cordoned"
        p0 = topics[0]["partitions"][0]
        if len(p0["replicas"]) == 3:
            p0["isr"] = p0["replicas"][:2]
            p0["leader"] = p0["replicas"][2]
    for n in nodes:
        n.setdefault("state", "ready")

    doc = {
        "name": label,
        "policy": {"volumeReplicationFactor": 3, "zoneSpread": True,
                   "brokerPlacement": "required", "brokersPerNode": 1,
                   "minInsyncReplicas": 1, "rackAware": rack_aware},
        "nodes": nodes, "volumes": volumes, "brokers": brokers, "topics": topics,
    }
    stats = {
        "name": label, "nodes": len(nodes),
        "storage_nodes": sum(1 for n in nodes if n.get("storageGiB")),
        "zones": {z: c for z, c in zip(zones, counts)},
        "brokers": len(brokers), "volumes": len(volumes),
        "partitions": total_parts, "topics": len(topics),
        "fill": round(sum(used.values()) / total_cap, 3),
        "max_node_fill": round(max(used[n] / cap[n] for n in cap if cap[n]), 3),
        "rackAware": rack_aware,
    }
    return doc, stats


# The tester's genall.sh, file by file: (nodes, zones, fill, seed, rack_aware, imperfect).
GENALL = (
    (100, 3, 0.45, 7, "preferred", False),
    (300, 4, 0.55, 8, "preferred", False),
    (1000, 3, 0.35, 11, "preferred", False),
    (1000, 3, 0.55, 12, "preferred", False),
    (1000, 4, 0.45, 13, "preferred", False),
    (1000, 4, 0.65, 14, "preferred", False),
    (1000, 5, 0.35, 15, "preferred", False),
    (1000, 5, 0.55, 16, "required", False),
    (1000, 3, 0.65, 17, "required", False),
    (1000, 4, 0.45, 18, "preferred", True),
    (5000, 3, 0.45, 21, "preferred", False),
    (5000, 4, 0.55, 22, "preferred", False),
    (5000, 5, 0.35, 23, "preferred", False),
    (5000, 3, 0.65, 24, "required", False),
)


def file_name(nodes, zones, fill, rack_aware="preferred", imperfect=False):
    """The tester's name for the file: n1000-z5-f55-rareq.yaml, n1000-z4-f45-imperfect.yaml."""
    return (f"n{nodes}-z{zones}-f{round(fill * 100)}" + ("-rareq" if rack_aware == "required" else "")
            + ("-imperfect" if imperfect else "") + ".yaml")


def arguments(nodes, zones, fill, seed, rack_aware="preferred", imperfect=False, output=None):
    """The command line genall.sh gives for these (its order), as the file's first line records it."""
    args = ["--nodes", str(nodes), "--zones", str(zones), "--fill", str(fill), "--seed", str(seed)]
    if rack_aware != "preferred":
        args += ["--rack-aware", rack_aware]
    if imperfect:
        args.append("--imperfect")
    return args + ["-o", output or "files/" + file_name(nodes, zones, fill, rack_aware, imperfect)]


def dump(doc, argv):
    """The file's text: a first line naming the command, then the document (as gen.py wrote it)."""
    Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return (f"# generated by foreign/gen.py {' '.join(argv)}\n"
            + yaml.dump(doc, Dumper=Dumper, default_flow_style=None, sort_keys=False, width=200))


def cleanroom(nodes, zones, fill, seed, rack_aware="preferred", imperfect=False, output=None):
    """(file text, document, stats) for these arguments: the text is what the script writes
    for ``arguments(...)``, byte for byte (``output`` only changes the first line)."""
    doc, stats = build(nodes, zones, fill, seed, imperfect=imperfect, rack_aware=rack_aware)
    return dump(doc, arguments(nodes, zones, fill, seed, rack_aware, imperfect, output)), doc, stats


def cleanroom_yaml(nodes, zones, fill, seed, rack_aware="preferred", imperfect=False):
    """The cluster file's text, as the tester's genall.sh wrote it into files/."""
    return cleanroom(nodes, zones, fill, seed, rack_aware, imperfect)[0]


def write_cleanroom(path, nodes, zones, fill, seed, rack_aware="preferred", imperfect=False):
    """Writes the cluster file to ``path`` (the text of ``cleanroom_yaml``); returns
    (document, stats), so a caller need not parse the file back."""
    text, doc, stats = cleanroom(nodes, zones, fill, seed, rack_aware, imperfect)
    with open(path, "w") as f:
        f.write(text)
    return doc, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--zones", type=int, choices=[3, 4, 5], default=3)
    ap.add_argument("--fill", type=float, default=0.45)
    ap.add_argument("--brokers", type=int)
    ap.add_argument("--partitions", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rack-aware", default="preferred", choices=["required", "preferred", "off"])
    ap.add_argument("--imperfect", action="store_true")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    doc, stats = build(a.nodes, a.zones, a.fill, a.seed, a.brokers, a.partitions,
                       a.imperfect, a.rack_aware)
    with open(a.output, "w") as f:
        f.write(dump(doc, sys.argv[1:]))
    print(stats)


if __name__ == "__main__":
    main()

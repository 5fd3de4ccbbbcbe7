"""Benchmark: ``placement check --ok-to-stop`` and ``--waves`` on the 1,000-node benchmark cluster.

    python bench/maintenance.py            # writes bench/RESULTS-maintenance.md (a few minutes)

The cluster (``generate_cluster(nodes=1000, zones=3, brokers=300, volumes=3000,
partitions=30000, seed=1)``) is written as a JSON cluster file first, untimed. Every command
then runs as its own process, the way a user runs it, process start and loading included;
wall time is the median of 3 runs, peak memory the largest resident set of any run.
Targets (issue 12): ok-to-stop of any one node <= 1 s; waves proven <= 60 s.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLUSTER = dict(nodes=1000, zones=3, brokers=300, volumes=3000, partitions=30_000, seed=1)
MEASURE = ("import json, resource, subprocess, sys, time\n"
           "t = time.perf_counter()\n"
           "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
           "print(json.dumps({'seconds': time.perf_counter() - t, 'rc': done.returncode, 'stdout': done.stdout,\n"
           "                  'stderr': done.stderr[-400:],\n"
           "                  'peakMiB': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n")


def cluster_document(cluster) -> dict:
    """A cluster file (CONTRACT section 1) for a Cluster, in the file's units."""
    def node(n) -> dict:
        doc = {"name": n.name, "zone": n.zone, "state": n.state.value, "storageGiB": n.storage_gib}
        if n.cpu_millicores is not None:
            doc["cpu"] = n.cpu_millicores / 1000
        if n.memory_mib is not None:
            doc["memoryGiB"] = n.memory_mib / 1024
        return doc

    p = cluster.policy
    return {
        "name": cluster.name,
        "policy": {"zoneSpread": p.zone_spread, "brokerPlacement": p.broker_placement.value,
                   "brokersPerNode": p.brokers_per_node, "minInsyncReplicas": p.min_insync_replicas,
                   "rackAware": p.rack_aware.value},
        "nodes": [node(n) for n in cluster.nodes],
        "volumes": [{"name": v.name, "sizeGiB": v.size_gib, "usedGiB": v.used_gib, "replicationFactor": v.replication_factor,
                     "replicas": list(v.replicas), **({"stale": dict(v.stale)} if v.stale else {})} for v in cluster.volumes],
        "brokers": [{"id": b.id, "node": b.node, "volumes": list(b.volumes), "cpu": b.cpu_millicores / 1000,
                     "memoryGiB": b.memory_mib / 1024} for b in cluster.brokers],
        "topics": [{"name": t.name, "minInsyncReplicas": t.min_insync_replicas,
                    "partitions": [{"id": q.id, "replicas": list(q.replicas), "leader": q.leader, "isr": list(q.isr),
                                    "sizeGiB": q.size_gib} for q in t.partitions]} for t in cluster.topics],
    }


def measure(args: list[str], repeat: int = 3) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, check=True, cwd=ROOT)
        runs.append(json.loads(out.stdout))
    return {"median": statistics.median(r["seconds"] for r in runs), "runs": [r["seconds"] for r in runs],
            "peakMiB": max(r["peakMiB"] for r in runs), "rc": runs[0]["rc"], "stdout": runs[0]["stdout"],
            "stderr": runs[0]["stderr"]}


def main() -> None:
    from placement.models.generate import generate_cluster

    exe = str(Path(sys.executable).parent / "placement")
    cluster = generate_cluster(**CLUSTER)
    lines = ["# Planned maintenance: `check --ok-to-stop` and `check --waves`", "",
             f"Cluster: `generate_cluster(nodes=1000, zones=3, brokers=300, volumes=3000, partitions=30000, seed=1)` "
             "written as a JSON cluster file. Each command is its own process (start, loading and rendering "
             "included); median of 3 runs, peak resident memory of any run.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench-1000.json"
        path.write_text(json.dumps(cluster_document(cluster)), encoding="utf-8")
        busiest = max(cluster.nodes, key=lambda n: sum(n.name in v.replicas for v in cluster.volumes)).name
        picks = [("a broker's node", cluster.brokers[0].node), ("the node holding most replicas", busiest),
                 ("a storage node without a broker", next(n.name for n in cluster.nodes
                                                          if n.name not in {b.node for b in cluster.brokers})),
                 ("the last node", cluster.nodes[-1].name)]
        lines += ["## ok-to-stop of one node (target <= 1 s, process start included)", "",
                  "| node | verdict | wall time (median) | runs | peak memory |", "|---|---|---|---|---|"]
        worst = 0.0
        for label, name in picks:
            for fmt in ("table", "json"):
                m = measure([exe, "check", str(path), "--ok-to-stop", name, "--format", fmt])
                if m["rc"] not in (0, 1):
                    raise SystemExit(f"ok-to-stop {name} failed: {m['stderr']}")
                worst = max(worst, m["median"])
                verdict = "yes" if m["rc"] == 0 else "no"
                lines.append(f"| {label} ({name}, --format {fmt}) | {verdict} | {m['median']:.2f} s | "
                             f"{', '.join(f'{x:.2f}' for x in m['runs'])} | {m['peakMiB']:.0f} MiB |")
                print(lines[-1], flush=True)
        m = measure([exe, "check", str(path), "--ok-to-stop", picks[0][1], picks[1][1], "--format", "json"])
        doc = json.loads(m["stdout"])
        lines += ["", f"Two nodes of different zones that share a volume ({picks[0][1]}, {picks[1][1]}): "
                      f"ok to stop: {doc['okToStop']}, {len(doc['shortfalls'])} would fall short, "
                      f"{m['median']:.2f} s.", "",
                  f"Slowest single-node ok-to-stop: {worst:.2f} s (target 1 s: {worst / 1.0:.2f} of it).", ""]
        lines += ["## Waves (target: proven in <= 60 s)", "",
                  "| options | waves | proven | lower bound (certificate) | wall time (median) | runs | peak memory |",
                  "|---|---|---|---|---|---|---|"]
        for options in ([], ["--max-wave", "50"], ["--max-wave", "200", "--time-limit", "60"]):
            m = measure([exe, "check", str(path), "--waves", "--format", "json", *options])
            doc = json.loads(m["stdout"])
            cert = doc["certificate"]
            lines.append(f"| {' '.join(options) or '(none)'} | {doc['count']} (sizes "
                         f"{', '.join(str(len(w)) for w in doc['waves'])}) | {doc['proven']} | {doc['lowerBound']} "
                         f"({cert['kind']}) | {m['median']:.2f} s | {', '.join(f'{x:.2f}' for x in m['runs'])} | "
                         f"{m['peakMiB']:.0f} MiB |")
            print(lines[-1], flush=True)
            if not options:
                lines += ["", "Why: " + "; ".join(doc["notes"]) + ". Lower bound: " + cert["why"] + ".", ""]
    lines += ["", "With `--max-wave 200` five waves of exactly 200 nodes would have to mix zones; the bounds give 5 "
                  "and the search finds 6. When CP-SAT neither finds 5 nor proves them impossible within the time "
                  "limit, the answer says `proven: false` with the bound: a timeout is never reported as a proof."]
    (ROOT / "bench" / "RESULTS-maintenance.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Benchmark: planned operations on the 1,000-node benchmark cluster and on varied ones.

    python bench/operations.py            # every case, median of 3 (about 20 minutes)
    python bench/operations.py --quick    # one run each

- drain: ``placement.plan(cluster, drain=[the node of broker 0])`` -- which checks the target
  with the plain checks and Z3 and model-checks its steps -- then ``placement.verify`` of the plan
  document on its own (checks, Z3 and the steps' model check again);
- rebalance: 100 empty nodes join (spread over the zones, as large as the others) and
  ``placement.plan(cluster, max_used=70)``; its status, and where not proven the gap of each
  unproven level (value against the unrestricted lower bound).

Each case runs in a fresh process after start-up (imports and cluster generation are not timed).
The varied clusters change the fill (``storage_gib``), the zones (3 to 5) and the replication
factor (2 zones give RF 2). Figures are written to bench/RESULTS-operations.md.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = dict(nodes=1000, zones=3, brokers=300, volumes=3000, partitions=30_000, seed=1)
VARIANTS = {  # name -> changes to BASE
    "benchmark cluster (3 zones, RF 3, 4000 GiB nodes)": {},
    "4 zones, RF 3": {"zones": 4},
    "5 zones, RF 3": {"zones": 5},
    "2 zones, RF 2": {"zones": 2},
    "3 zones, 3300 GiB nodes": {"storage_gib": 3300},
    "3 zones, 3000 GiB nodes": {"storage_gib": 3000},
    "4 zones, 3000 GiB nodes": {"zones": 4, "storage_gib": 3000},
    "5 zones, 3000 GiB nodes": {"zones": 5, "storage_gib": 3000},
    "2 zones, RF 2, 2000 GiB nodes": {"zones": 2, "storage_gib": 2000},
    "3 zones, 2900 GiB nodes": {"storage_gib": 2900},
}
NEW_NODES = 100
MAX_USED = 70


def _cluster(changes: dict):
    from placement.models.generate import generate_cluster

    return generate_cluster(**{**BASE, **changes})


def _with_new_nodes(cluster):
    from dataclasses import replace

    from placement.models import units
    from placement.models.cluster import Node

    size = cluster.nodes[0].storage_gib
    new = tuple(Node(name=f"node-new-{i:03d}", zone=cluster.zones[i % len(cluster.zones)],
                     storage_mib=units.capacity_mib(size), storage_gib=size,
                     cpu_millicores=cluster.nodes[0].cpu_millicores, memory_mib=cluster.nodes[0].memory_mib)
                for i in range(NEW_NODES))
    return replace(cluster, nodes=cluster.nodes + new)


def _fill(cluster) -> tuple[float, float]:
    used = cluster.storage_used_mib
    live = [n for n in cluster.nodes if n.is_storage]
    mean = sum(used[n.name] for n in live) / sum(n.storage_mib for n in live)
    return mean, max(used[n.name] / n.storage_mib for n in live)


def one_case(case: str, variant: str, time_limit: float) -> dict:
    """In a child process: plan one operation on one variant, then verify the document."""
    import ortools.sat.python.cp_model  # noqa: F401  start-up, not timed
    import z3  # noqa: F401

    import placement
    from placement.scenario import Scenario
    from placement.models.failures import resolve_failures

    cluster = _cluster(VARIANTS[variant])
    mean, peak = _fill(cluster)
    if case == "drain":
        kwargs = {"drain": [cluster.brokers[0].node]}
    else:
        cluster = _with_new_nodes(cluster)
        kwargs = {"max_used": MAX_USED}
    scenario = Scenario(cluster, resolve_failures(cluster, drain=kwargs.get("drain", ()),
                                                  max_used_percent=kwargs.get("max_used")))
    started = time.perf_counter()
    plan = placement.plan(cluster, time_limit=time_limit, **kwargs)
    planned = time.perf_counter() - started
    document = plan.to_document()
    started = time.perf_counter()
    verdict = placement.verify(cluster, document)
    verified = time.perf_counter() - started
    levels = [lv for st in plan.solver.get("stages", []) for lv in st["levels"]]
    gaps = {lv["level"]: [lv["value"], lv["bound"]] for lv in levels if not lv["proven"]}
    return {"case": case, "variant": variant, "planSeconds": planned, "verifySeconds": verified,
            "status": plan.status.value, "verified": verdict.ok, "copiedGiB": plan.metrics.get("copiedGiB"),
            "steps": len(plan.steps), "stepsSafe": plan.metrics.get("execution", {}).get("safe"),
            "violations": [str(v) for v in plan.violations][:3], "gaps": gaps,
            "decided": plan.solver.get("decided"), "restricted": plan.solver.get("restrictedCandidates"),
            "overLimitNodes": len(scenario.over_limit_nodes), "touchedVolumes": len(scenario.touched_volumes),
            "meanFill": mean, "peakFill": peak,
            "peakMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(case: str, variant: str, time_limit: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", case, "--variant", variant,
                          "--time-limit", str(time_limit)], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _gap_words(gaps: dict) -> str:
    return ", ".join(f"{name} {value} (bound {bound})" for name, (value, bound) in gaps.items()) or "none"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--variant")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_case(args.child, args.variant, args.time_limit)))
        return
    repeat = 1 if args.quick else 3
    lines = ["# Planned operations: benchmark results", "",
             f"Base cluster: {BASE['nodes']} nodes, {BASE['brokers']} brokers, {BASE['volumes']} volumes, "
             f"{BASE['partitions']} partitions (seed {BASE['seed']}); variants change zones, RF and node size. "
             f"Median of {repeat} runs per case, each in a fresh process, timed after start-up, "
             f"--time-limit {args.time_limit:g}. 'plan' includes the plain checks, Z3 and the steps' model check; "
             "'verify' is placement.verify of the plan document on its own (the same three again).", ""]
    for case, title in (("drain", f"Drain the node of broker 0"),
                        ("rebalance", f"Rebalance after {NEW_NODES} empty nodes join, --max-used {MAX_USED}")):
        lines += [f"## {title}", "",
                  "| cluster | mean / peak fill | over limit | plan (median) | runs | verify | status | gap "
                  "| copied GiB | steps (safe) | peak memory |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for variant in VARIANTS:
            runs = [run_child(case, variant, args.time_limit) for _ in range(repeat)]
            r = runs[0]
            med = statistics.median(x["planSeconds"] for x in runs)
            ver = statistics.median(x["verifySeconds"] for x in runs)
            statuses = "/".join(sorted({x["status"] for x in runs}))
            times = ", ".join(f"{x['planSeconds']:.2f}" for x in runs)
            lines.append(f"| {variant} | {r['meanFill']:.0%} / {r['peakFill']:.0%} | {r['overLimitNodes']} | {med:.2f} s "
                         f"| {times} | {ver:.2f} s ({r['verified']}) "
                         f"| {statuses} | {_gap_words(r['gaps'])} | {r['copiedGiB']:g} | {r['steps']} ({r['stepsSafe']}) "
                         f"| {max(x['peakMiB'] for x in runs):.0f} MiB |")
            print(lines[-1], flush=True)
            for x in runs:
                if x["violations"]:
                    print("   ", x["violations"], flush=True)
        lines.append("")
    (ROOT / "bench" / "RESULTS-operations.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Benchmark: the planner on a realistic 1,000-node cluster, the seed end to end, and a greedy baseline.

    make bench                      # everything (several minutes)
    python bench/run.py --quick     # fewer repetitions

Each planner case runs in a fresh process (so peak memory is its own) after
start-up (imports and cluster generation are not timed); wall time is the median
of the repetitions. Figures are written to bench/RESULTS.md.
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
sys.path.insert(0, str(ROOT / "bench"))

CLUSTER = dict(nodes=1000, zones=3, brokers=300, volumes=3000, partitions=30_000, seed=1)


def one_case(case: str, time_limit: float) -> dict:
    """Run in a child process: plan (which verifies with the checks and Z3) one failure."""
    import ortools.sat.python.cp_model  # noqa: F401  start-up, not timed
    import z3  # noqa: F401

    from placement.models.failures import resolve_failures
    from placement.models.generate import generate_cluster
    from placement.solve.planner import PlanOptions, plan_recovery

    cluster = generate_cluster(**CLUSTER)
    if case == "node":
        failures = resolve_failures(cluster, [cluster.brokers[0].node])
    else:
        failures = resolve_failures(cluster, [], ["zone-b"])
    started = time.perf_counter()
    plan = plan_recovery(cluster, failures, PlanOptions(time_limit=time_limit))
    seconds = time.perf_counter() - started
    levels = [lv for st in plan.solver.get("stages", []) for lv in st["levels"]]
    gaps = {lv["level"]: lv["value"] - lv["bound"] for lv in levels if lv["value"] != lv["bound"]}
    result = {"case": case, "seconds": seconds, "status": plan.status.value, "failed": len(plan.failed),
              "copiedGiB": plan.metrics["copiedGiB"], "gaps": gaps, "violations": len(plan.violations),
              "restricted": plan.solver.get("restrictedCandidates", False),
              "peakMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "timeline": plan.metrics["timeline"]}
    result["execution"] = execution_figures(cluster, failures, plan)
    return result


def execution_figures(cluster, failures, plan) -> dict:
    """The plan's steps model-checked again on their own: time, states with the reduction,
    the lower bound without it, and what the exhaustive explorer manages meanwhile."""
    from placement.execute.checker import check_execution, check_execution_exhaustively
    from placement.scenario import Scenario

    scenario = Scenario(cluster, failures)
    started = time.perf_counter()
    verdict = check_execution(scenario, plan.steps, plan.placement)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    sample = check_execution_exhaustively(scenario, plan.steps, limit=20)
    sample_seconds = time.perf_counter() - started
    return {"steps": len(plan.steps), "safe": verdict.safe, "seconds": seconds, "states": verdict.states,
            "resources": verdict.resources, "unreducedLog10": verdict.unreduced_log10,
            "exhaustiveStates": sample.states, "exhaustiveSeconds": sample_seconds,
            "naiveSourcesFullRf": naive_sources_full_rf(scenario, plan)}


def naive_sources_full_rf(scenario, plan) -> float:
    """Time to full redundancy if every resync copied from the first surviving replica
    (what choosing the least-loaded source avoids)."""
    from dataclasses import replace

    from placement.execute.timeline import simulate

    steps = tuple(replace(s, args={**s.args, "source": sorted(scenario.survivors(s.args["volume"]))[0]})
                  if s.action == "add-volume-replica" and sorted(scenario.survivors(s.args["volume"])) else s
                  for s in plan.steps)
    return simulate(scenario, plan.placement, steps).full_redundancy


SWEEP_CLUSTER = dict(nodes=100, zones=3, brokers=30, volumes=300, partitions=3000, seed=1)


def check_case(case: str) -> dict:
    """Run in a child process: placement check on the 100-node or the 1,000-node cluster."""
    import ortools.sat.python.cp_model  # noqa: F401  start-up, not timed

    from placement.models.generate import generate_cluster
    from placement.resilience.sweep import check_resilience

    if case.startswith("sweep"):
        cluster = generate_cluster(**SWEEP_CLUSTER)
        jobs = int(case.removeprefix("sweep"))
        started = time.perf_counter()
        r = check_resilience(cluster, 2, jobs=jobs)
    else:
        cluster = generate_cluster(**CLUSTER)
        started = time.perf_counter()
        r = check_resilience(cluster, 0, zones=True, minimum=True, jobs=2)
    seconds = time.perf_counter() - started
    return {"case": case, "seconds": seconds, **r.to_document(),
            "peakMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(case: str, time_limit: float) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", case, "--time-limit", str(time_limit)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def seed_end_to_end(repeat: int) -> list[float]:
    times = []
    exe = Path(sys.executable).parent / "placement"
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([str(exe), "plan", "examples/seed.yaml", "--fail", "node-2"], cwd=ROOT,
                       capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def greedy_baseline() -> dict:
    """How often STORK-style greedy finds no valid placement where the planner does."""
    from placement.models.failures import resolve_failures
    from placement.models.generate import generate_cluster
    from placement.models.loading import load_cluster
    from placement.solve.greedy import greedy_placement
    from placement.solve.planner import plan_recovery
    from placement.rules import check_all
    from placement.scenario import Scenario
    from tests.smallworld import random_scenario

    scenarios = []
    for seed in range(300):
        scenarios.append(("random", random_scenario(seed)))
    tight = load_cluster(ROOT / "examples" / "tight-capacity.yaml")
    scenarios.append(("tight-capacity", Scenario(tight, resolve_failures(tight, ["node-1"]))))
    for seed in range(3):
        c = generate_cluster(nodes=60, zones=3, brokers=20, volumes=100, partitions=600, seed=seed, storage_gib=1500)
        for node in c.nodes[:10]:
            scenarios.append(("60-node, 85% full", Scenario(c, resolve_failures(c, [node.name]))))
    planner_valid = greedy_invalid = 0
    examples = []
    for label, sc in scenarios:
        plan = plan_recovery(sc.cluster, sc.failures)
        if not plan.status.meets_invariants:
            continue
        planner_valid += 1
        if check_all(sc, greedy_placement(sc)):
            greedy_invalid += 1
            if label not in examples:
                examples.append(label)
    return {"cases": len(scenarios), "plannerValid": planner_valid, "greedyInvalid": greedy_invalid, "where": examples}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.child:
        result = check_case(args.child) if args.child.startswith(("sweep", "zones")) else one_case(args.child, args.time_limit)
        print(json.dumps(result))
        return
    repeat = 1 if args.quick else 3
    lines = ["# Benchmark results", "",
             f"Cluster: {CLUSTER['nodes']} nodes in {CLUSTER['zones']} zones, {CLUSTER['brokers']} brokers, "
             f"{CLUSTER['volumes']} volumes, {CLUSTER['partitions']} partitions (seed {CLUSTER['seed']}). "
             f"Median of {repeat}; each run in a fresh process, timed after start-up; planning includes the "
             "plain checks and Z3 verification.", "",
             "| case | wall time (median) | runs | status | gap | copied GiB | peak memory |",
             "|---|---|---|---|---|---|---|"]
    executions: dict[str, list[dict]] = {}
    for case, label in (("node", "one broker node fails"), ("zone", "a whole zone fails (333 nodes)")):
        runs = [run_child(case, args.time_limit) for _ in range(repeat)]
        med = statistics.median(r["seconds"] for r in runs)
        r = runs[0]
        times = ", ".join(f"{x['seconds']:.2f}" for x in runs)
        lines.append(f"| {label} | {med:.2f} s | {times} | {r['status']} | "
                     f"{r['gaps'] or 'none'} | {r['copiedGiB']:g} | {max(x['peakMiB'] for x in runs):.0f} MiB |")
        print(lines[-1], flush=True)
        executions[label] = runs
    lines += ["", "## Execution: the steps model-checked, and the timeline", "",
              "Each plan's steps checked again on their own (every prefix, every order the dependencies allow), "
              "median over the runs above. Without the reduction: a lower bound on the states of the whole plan "
              "(the volumes' configurations multiplied, fences done), and how far the exhaustive explorer "
              "(judging every resource in every state) gets.", "",
              "| case | steps | safe | check time (median) | states with reduction | resources | "
              "states without (at least) | exhaustive explorer | full RF after | same, naive sources | "
              "Kafka rebuild of a displaced broker |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, runs in executions.items():
        e = runs[0]["execution"]
        t = runs[0]["timeline"]
        check = statistics.median(r["execution"]["seconds"] for r in runs)
        rebuild = sorted(t["kafkaRebuildSeconds"].values())
        rebuild_text = f"{statistics.median(rebuild):.0f} s median ({len(rebuild)} brokers)" if rebuild else "-"
        lines.append(f"| {label} | {e['steps']:,} | {e['safe']} | {check:.2f} s | {e['states']:,} | {e['resources']:,} | "
                     f"10^{e['unreducedLog10']:.0f} | {e['exhaustiveStates']} states in {e['exhaustiveSeconds']:.1f} s | "
                     f"{t['fullRedundancySeconds']:.0f} s (bound {t['lowerBoundSeconds']:.0f} s) | "
                     f"{e['naiveSourcesFullRf']:.0f} s | {rebuild_text} |")
        print(lines[-1], flush=True)
    lines += ["", "## Resilience: `placement check`", "",
              f"Sweep cluster: {SWEEP_CLUSTER['nodes']} nodes in 3 zones, {SWEEP_CLUSTER['brokers']} brokers, "
              f"{SWEEP_CLUSTER['volumes']} volumes, {SWEEP_CLUSTER['partitions']} partitions: every set of up to 2 "
              "failed nodes. Zones and minima on the 1,000-node cluster above. Median of the runs, fresh processes.", "",
              "| case | wall time (median) | runs | tolerates | scenarios | solved | without a solver (composed) | "
              "pruned | symmetric | peak memory |", "|---|---|---|---|---|---|---|---|---|---|"]
    sweeps, minima = {}, []
    for case, label in (("sweep1", "100 nodes, --failures 2, --jobs 1"), ("sweep2", "100 nodes, --failures 2, --jobs 2"),
                        ("zones", "1,000 nodes, --zones --minimum, --jobs 2")):
        runs = [run_child(case, args.time_limit) for _ in range(repeat)]
        med = statistics.median(r["seconds"] for r in runs)
        sweeps[case] = med
        r = runs[0]
        times = ", ".join(f"{x['seconds']:.2f}" for x in runs)
        lines.append(f"| {label} | {med:.2f} s | {times} | {r['tolerates']} | "
                     f"{r['scenarios']:,} | {r['solved']:,} | {r['bounded']:,} ({r['composed']:,}) | {r['pruned']:,} | "
                     f"{r['symmetric']:,} | {max(x['peakMiB'] for x in runs):.0f} MiB |")
        print(lines[-1], flush=True)
        for what, m in r.get("minimum", {}).items():
            minima.append(f"Least node failures that lose a {what} on the 1,000-node cluster: {m['failures']} "
                          f"(proven: {m['proven']}), e.g. {', '.join(m['witness'])}.")
    lines += ["", f"Two processes against one on the sweep: {sweeps['sweep1'] / sweeps['sweep2']:.2f}x faster."]
    lines += [line for m in minima for line in ("", m)]
    seed = seed_end_to_end(max(3, repeat))
    lines += ["", f"Seed end to end (`placement plan examples/seed.yaml --fail node-2`, process start included): "
              f"median {statistics.median(seed):.2f} s of {', '.join(f'{t:.2f}' for t in seed)}."]
    print(lines[-1], flush=True)
    g = greedy_baseline()
    lines += ["", f"Greedy baseline (largest free space first, broker to the first replica node that fits): "
              f"of {g['plannerValid']} failures where the planner meets every invariant, greedy breaks one in "
              f"{g['greedyInvalid']} ({', '.join(g['where']) or 'none'})."]
    print(lines[-1], flush=True)
    try:
        import peers

        lines += ["", "## Kafka: removing one broker, against the rebalancers", "",
                  "Same layout for every tool (3 racks, RF 3, a balanced rack-aware start), broker 0 removed. "
                  "Within-rack spread: max - min partition replicas per broker inside each rack (worst rack); "
                  "leader spread: max - min leaders per running broker.", ""]
        lines += peers.main()
    except ImportError as exc:
        lines += ["", f"Peers not compared: {exc} (install the bench extra: pip install -e '.[bench]')."]
    import imports

    lines += [""] + imports.section(repeat)
    results = ROOT / "bench" / "RESULTS.md"
    scale = ""  # the summary bench/scale.py keeps at the top
    if results.exists() and "<!-- scale:" in results.read_text():
        old = results.read_text()
        scale = old[old.index("<!-- scale:"):old.index("<!-- /scale -->") + len("<!-- /scale -->")] + "\n"
    results.write_text("\n".join(lines[:1] + ([""] + [scale] if scale else []) + lines[1:]) + "\n")


if __name__ == "__main__":
    main()

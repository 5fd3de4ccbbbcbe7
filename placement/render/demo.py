"""`placement demo`: the seed story of DESIGN.md, told from examples/seed.yaml
(shipped as package data of ``placement.examples``, so it runs from any folder)."""
from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path
from importlib.resources.abc import Traversable

from rich.console import Console
from rich.rule import Rule

from placement.models.cluster import NodeState
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.models.plan import apply_placement, with_node_state
from placement.render.tables import cluster_table, render_plan
from placement.solve.planner import PlanOptions, plan_recovery

SEED = files("placement.examples") / "seed.yaml"
FAILED_NODE = "node-2"


def run_demo(out: Console, seed: Traversable = SEED, html: Path | None = None) -> int:
    with as_file(seed) as path:
        cluster = load_cluster(path)
    options = PlanOptions(time_limit=30)

    out.print(Rule("1. The cluster"))
    out.print(f"{len(cluster.nodes)} nodes in {len(cluster.zones)} zones, {len(cluster.brokers)} Kafka brokers, "
              f"{len(cluster.partitions)} partitions at Kafka RF 2, every Portworx volume at RF 3.")
    out.print(cluster_table(cluster, "Before the failure"))

    out.print(Rule(f"2. {FAILED_NODE} fails"))
    owner = next(b for b in cluster.brokers if b.node == FAILED_NODE)
    lost = [v.name for v in cluster.volumes if FAILED_NODE in v.replicas]
    out.print(f"Broker {owner.id} and the replicas of {', '.join(lost)} on {FAILED_NODE} are gone.")
    failures = resolve_failures(cluster, [FAILED_NODE])
    plan = plan_recovery(cluster, failures, options)

    out.print(Rule("3. The recovery plan"))
    render_plan(out, cluster, plan)
    recovered = apply_placement(cluster, plan.placement, plan.failed)
    out.print(cluster_table(recovered, "After the plan ran"))
    moved_to = plan.placement.brokers[owner.id]
    out.print(f"Broker {owner.id} runs on {moved_to}, which already held a replica of its volume, "
              f"so it serves after a pod start and a short offset catch-up; Portworx rebuilt RF 3 elsewhere.")
    timeline = plan.metrics["timeline"]
    rebuild = timeline["kafkaRebuildSeconds"].get(str(owner.id))
    if rebuild is not None:
        held = sum(p.size_gib for p in cluster.partitions if owner.id in p.replicas)
        out.print(f"A Kafka-level rebuild instead (an empty disk, its {held:g} GiB of partitions re-fetched) would "
                  f"keep broker {owner.id} out for at least {rebuild:.0f} s at {timeline['nodeBandwidthGbps']:g} Gbit/s; "
                  f"here it serves at once, and every volume is back at RF 3 after ~{timeline['fullRedundancySeconds']:.0f} s.")

    out.print(Rule(f"4. {FAILED_NODE} comes back"))
    returned = with_node_state(recovered, FAILED_NODE, NodeState.READY)
    again = plan_recovery(returned, resolve_failures(returned), options)
    stays = again.placement.brokers[owner.id] == moved_to
    out.print(f"Planned again with nothing failed: status {again.status.value}, {len(again.steps)} steps. "
              f"Broker {owner.id} {'stays on ' + moved_to if stays else 'moves'}: the desired broker count already holds.")
    out.print(f"{FAILED_NODE} is an empty, ready storage node again: Portworx may place new replicas on it.")
    out.print(cluster_table(returned, "After node-2 returned"))
    out.print(Rule("5. Would it survive worse?"))
    from placement.resilience.sweep import check_resilience

    check = check_resilience(cluster, 2, zones=True, minimum=True)
    volume, partition = check.minima
    out.print(f"Any 2 of the 5 nodes failing, or any whole zone ({check.scenarios} scenarios): "
              f"{'survived, every one' if check.tolerates else 'NOT always survived'}. "
              f"Losing data takes at least {volume.failures} node failures for a volume "
              f"(e.g. {', '.join(volume.witness)}) and {partition.failures} for a Kafka partition (proven).")
    if html is not None:
        from placement.render.story import seed_story, write_story

        acts, introduction, epilogue = seed_story(cluster, FAILED_NODE, plan, recovered, returned, again, check)
        write_story(html, acts, title="The seed story, in pictures", introduction=introduction, epilogue=epilogue)
        out.print(f"Pictures of the story: {Path(html) / 'index.html'}")
    ok = plan.status.meets_invariants and again.status.meets_invariants and stays and check.tolerates
    return 0 if ok else 1

"""`placement demo`: the seed story of DESIGN.md, told from examples/seed.yaml
(shipped as package data of ``placement.examples``, so it runs from any folder)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

from rich.console import Console
from rich.rule import Rule

from placement.models.cluster import Cluster, NodeState
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.models.plan import Plan, apply_placement, with_node_state
from placement.render.tables import cluster_table, duration, render_plan
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
    returns = node_returns(cluster, plan, recovered, options)
    waited, rebuilt = returns.waited, returns.rebuilt
    again = rebuilt.plan
    stays = again.placement.brokers[owner.id] == moved_to
    out.print(f"Two ways to have lived through {FAILED_NODE}'s {AWAY_HOURS:g} hours away, each planned when it returns:")
    out.print(f"(a) Portworx waited for {FAILED_NODE}: its volumes stayed at RF 2 meanwhile, taking "
              f"{WRITES_GIB_PER_HOUR:g} GiB of writes an hour each, so its replicas return stale "
              f"({', '.join(f'{v}: {g:g} GiB behind' for v, g in waited.behind.items())}). The plan resyncs them: "
              f"status {waited.plan.status.value}, {waited.copied_gib:g} GiB copied, RF 3 again "
              f"~{waited.resync_seconds:.0f} s after the return; reduced redundancy for {duration(waited.reduced_seconds)}.")
    out.print(f"(b) Rebuilt at once (act 3): {rebuilt.copied_gib:g} GiB copied, RF 3 after ~{rebuilt.resync_seconds:.0f} s; "
              f"{FAILED_NODE} returns empty and the plan then is status {again.status.value} with "
              f"{rebuilt.plan.metrics.get('copiedGiB', 0):g} GiB to copy; reduced redundancy for "
              f"{duration(rebuilt.reduced_seconds)}.")
    out.print(f"Either way broker {owner.id} {'stays on ' + moved_to if stays else 'moves'}: the desired broker count "
              "already holds.")
    out.print(cluster_table(waited.cluster, f"(a) {FAILED_NODE} back with stale replicas"))
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

        acts, introduction, epilogue = seed_story(cluster, FAILED_NODE, plan, recovered, returns, check)
        write_story(html, acts, title="The seed story, in pictures", introduction=introduction, epilogue=epilogue)
        out.print(f"Pictures of the story: {Path(html) / 'index.html'}")
    ok = (plan.status.meets_invariants and again.status.meets_invariants and waited.plan.status.meets_invariants
          and stays and check.tolerates)
    return 0 if ok else 1


AWAY_HOURS = 2.0  # how long node-2 is away in act 4
WRITES_GIB_PER_HOUR = 3.0  # what each of its volumes takes meanwhile (so what a returning replica lacks)


@dataclass(frozen=True)
class Return:
    """One way of living through the node's absence, planned when it returns."""

    cluster: Cluster  # the cluster as the node returns
    plan: Plan  # the plan then
    copied_gib: float  # everything copied over the absence and the return
    resync_seconds: float  # from the copying that restores RF 3 to RF 3 (the timeline's estimate)
    reduced_seconds: float  # time some volume of the node had fewer in-sync replicas than its RF
    behind: dict[str, float]  # volume -> GiB its returning replica lacks


@dataclass(frozen=True)
class NodeReturns:
    waited: Return  # Portworx waited for the node: RF 2 meanwhile, a resync of what changed
    rebuilt: Return  # rebuilt at once elsewhere (the act-3 plan): the node returns empty


def node_returns(cluster: Cluster, plan: Plan, recovered: Cluster, options: PlanOptions) -> NodeReturns:
    """Act 4's two stories, each computed by the planner and the timeline: nothing typed in but how
    long the node is away and how much is written meanwhile."""
    broker_moves = {b: n for b, n in plan.placement.brokers.items() if n is not None}
    behind = {v.name: round(min(v.used_gib, AWAY_HOURS * WRITES_GIB_PER_HOUR), 3)
              for v in cluster.volumes if FAILED_NODE in v.replicas}
    away = replace(cluster, volumes=tuple(replace(v, stale=((FAILED_NODE, behind[v.name]),)) if v.name in behind else v
                                          for v in cluster.volumes),
                   brokers=tuple(replace(b, node=broker_moves.get(b.id, b.node)) for b in cluster.brokers))
    waited_plan = plan_recovery(away, resolve_failures(away), options)
    waited_resync = waited_plan.metrics["timeline"]["fullRedundancySeconds"]
    waited = Return(away, waited_plan, waited_plan.metrics["copiedGiB"], waited_resync,
                    AWAY_HOURS * 3600 + waited_resync, behind)
    returned = with_node_state(recovered, FAILED_NODE, NodeState.READY)
    rebuilt_plan = plan_recovery(returned, resolve_failures(returned), options)
    rebuild = plan.metrics["timeline"]["fullRedundancySeconds"]
    rebuilt = Return(returned, rebuilt_plan, plan.metrics["copiedGiB"] + rebuilt_plan.metrics["copiedGiB"], rebuild,
                     rebuild, {})
    return NodeReturns(waited, rebuilt)

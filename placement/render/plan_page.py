"""``placement plan --format html``: the plan as one self-contained page.

Built from the cluster and the plan document alone (CONTRACT section 4, with
``metrics.timeline`` for the schedule and ``preexisting`` where the document
has it), so it shows what the document says and nothing else. Every piece is
read once: the time to write the page grows with the size of the plan, never
with its square.
"""
from __future__ import annotations

from typing import Any

from placement.models.cluster import Cluster
from placement.render import page, svg
from placement.render.cluster_figure import draw_cluster, legend
from placement.render.scene import scene
from placement.render.timeline_figure import draw_dependencies, draw_timeline, step_words

LIST_OPEN = 200  # tables longer than this start folded
PARTITION_ROWS = 500  # moved partitions listed, at most

STATUS_WORDS = {
    "optimal": ("good", "OPTIMAL: meets every invariant, and optimality is proven"),
    "feasible": ("unproven", "FEASIBLE: meets every invariant; optimality not proven within the time limit"),
    "degraded": ("bad", "DEGRADED: the best that can be done breaks the invariants listed below"),
    "infeasible": ("bad", "INFEASIBLE: no placement could be produced"),
}


def plan_page(cluster: Cluster, plan: dict[str, Any]) -> str:
    failed = plan.get("failed") or []
    title = f"Recovery plan for {plan.get('cluster') or cluster.name}" + (
        f" after {failed_words(cluster, failed)} failed" if failed else "")
    status = plan.get("status", "?")
    cls, words = STATUS_WORDS.get(status, ("bad", status.upper()))
    view = scene(cluster, plan)
    body = [f"<header><h1>{svg.esc(title)}</h1><p class=\"verdict {cls}\" data-status=\"{svg.esc(status)}\">"
            f"{svg.esc(words)}</p></header>",
            page.section("In words", page.facts(_facts(cluster, plan, view)), id_="summary")]

    figure = draw_cluster(view, prefix="plan-cluster", caption=f"{plan.get('cluster') or cluster.name}: before and "
                          "after the plan", subcaption=_subcaption(plan, view))
    body.append(page.section("The cluster and what the plan does",
                             page.figure(legend("plan-legend", stale=any(v.stale for v in cluster.volumes)))
                             + page.figure(figure.svg, figure.mode), id_="cluster"))
    order = [n.name for n in cluster.nodes]
    gantt = draw_timeline(plan, prefix="plan-timeline", node_order=order)
    deps = draw_dependencies(plan, prefix="plan-dependencies")
    if plan.get("steps"):
        content = page.figure(gantt.svg, gantt.mode) if gantt is not None else (
            "<p>The plan document gives no step times (metrics.timeline.stepSeconds): the steps are drawn by what "
            "they wait for, and listed below.</p>")
        if deps is not None:
            content += page.figure(deps.svg)
        body.append(page.section("Steps over time, and what waits for what", content, id_="timeline"))
    body.append(page.section("Every change, listed", _lists(cluster, plan, view), id_="lists"))
    body.append("<footer>Written by placement from the cluster file and the plan document; "
                "one self-contained file (no network, no script).</footer>")
    return page.html_page(title, "\n".join(body))


def failed_words(cluster: Cluster, failed) -> str:
    """Failed nodes in words, whole zones named as such: 'zone-b (333 nodes) and node-7'."""
    failed = set(failed)
    words = []
    for zone in cluster.zones:
        members = [n.name for n in cluster.nodes_in_zone(zone)]
        if len(members) > 1 and failed.issuperset(members):
            words.append(f"{zone} ({len(members):,} nodes)")
            failed -= set(members)
    rest = [n.name for n in cluster.nodes if n.name in failed]
    if rest:
        words.append(_names(rest))
    return " and ".join(words)


def _names(names, limit: int = 6) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def _subcaption(plan: dict, view) -> str:
    m = plan.get("metrics") or {}
    parts = [f"{len(view.failed):,} failed node{'s' if len(view.failed) != 1 else ''}",
             f"{len(view.copies):,} new replica{'s' if len(view.copies) != 1 else ''} "
             f"({svg.gib(float(m.get('copiedGiB', 0)))} copied in all)",
             f"{len(view.moves):,} broker move{'s' if len(view.moves) != 1 else ''}",
             f"{len(view.drops):,} replica{'s' if len(view.drops) != 1 else ''} dropped from live nodes"]
    return "; ".join(parts)


def _facts(cluster: Cluster, plan: dict, view) -> list[tuple[str, str]]:
    e = svg.esc
    m = plan.get("metrics") or {}
    solver = plan.get("solver") or {}
    out = [("Status", e(STATUS_WORDS.get(plan.get("status"), ("", plan.get("status", "?")))[1]))]
    failed = plan.get("failed") or []
    out.append(("Failed", e(failed_words(cluster, failed)) if failed else "nothing"))
    if plan.get("removedBrokers"):
        out.append(("Retired brokers", e(", ".join(map(str, plan["removedBrokers"])))))
    if solver.get("proven"):
        levels = [lv["level"] for st in solver.get("stages", []) for lv in st.get("levels", [])]
        proof = ("optimality proven by CP-SAT at every level of the objective"
                 + (f" ({', '.join(dict.fromkeys(levels))})" if levels else "")
                 + "; the target was judged by the plain checks and by Z3, which agree")
    elif plan.get("status") == "infeasible":
        proof = "no placement was found within the time limit; this is not a proof that none exists"
    else:
        gaps = [f"{lv['level']} {lv['value']} (bound {lv['bound']})" for st in solver.get("stages", [])
                for lv in st.get("levels", []) if not lv.get("proven")]
        proof = "optimality NOT proven within the time limit"
        if gaps:
            proof += f"; unproven levels: {'; '.join(gaps)}"
    out.append(("Proof", e(proof)))
    execution = m.get("execution")
    if execution:
        if execution.get("safe"):
            words = ("the steps are proven safe: every prefix and every order they allow "
                     f"({execution.get('statesExplored', 0):,} states over "
                     f"{execution.get('resources', 0):,} resources)")
        else:
            ces = execution.get("counterexamples") or []
            words = f"the steps are NOT safe ({len(ces)} counterexample{'s' if len(ces) != 1 else ''}): " + "; ".join(
                c.get("message", "") for c in ces[:5])
        out.append(("Steps", e(words)))
    copied = (f"{svg.gib(float(m.get('copiedGiB', 0)))} over the network: {m.get('newVolumeReplicas', 0):,} new volume "
              f"replica{'s' if m.get('newVolumeReplicas', 0) != 1 else ''}, "
              f"{m.get('movedPartitionReplicas', 0):,} moved partition replicas")
    out.append(("Copied data", e(copied)))
    t = m.get("timeline")
    if t:
        words = (f"at {t.get('nodeBandwidthGbps', 0):g} Gbit/s per node: every volume at full replication after "
                 f"~{svg.seconds(t.get('fullRedundancySeconds'))}, every step done after "
                 f"~{svg.seconds(t.get('finishSeconds'))}; no order of the steps can beat "
                 f"~{svg.seconds(t.get('lowerBoundSeconds'))}"
                 + (f" ({t['busiestNode']}'s bytes at full bandwidth)" if t.get("busiestNode") else ""))
        out.append(("Timeline", e(words)))
        serve = t.get("brokersServeSeconds") or {}
        if serve:
            out.append(("Brokers", e(_broker_words(serve, set(m.get("brokersServingAtOnce") or []),
                                                   t.get("kafkaRebuildSeconds") or {}))))
    if m.get("lostVolumes"):
        out.append(("Data lost", e(f"{len(m['lostVolumes']):,} volume(s) lost every replica: "
                                   + _names(m["lostVolumes"], 12))))
    if m.get("uncleanElections"):
        out.append(("Unclean elections", e("the new leader was not in sync and the messages it lacked are lost: "
                                           + _names(m["uncleanElections"], 12))))
    violations = plan.get("violations") or []
    out.append(("Violations", page.violations_list(violations, "none: the target meets every invariant")))
    if "preexisting" in plan:
        out.append(("Before the failure", page.violations_list(plan.get("preexisting") or [],
                                                                "no invariant was broken before the failure")))
    return out


def _broker_words(serve: dict, at_once: set, rebuild: dict) -> str:
    """When the moved brokers serve again: one by one for a few, counted for many."""
    never = sorted((int(b) for b, s in serve.items() if s is None))
    now = sorted(int(b) for b, s in serve.items() if s is not None and int(b) in at_once)
    later = sorted(((int(b), s) for b, s in serve.items() if s is not None and int(b) not in at_once),
                   key=lambda bs: bs[0])
    items = []
    if now:
        items.append(f"{_count(now, 'broker')} serve{'s' if len(now) == 1 else ''} at once "
                     "(their volume already has a replica where they go)")
    if later:
        items.append(f"{_count([b for b, _ in later], 'broker')} serve{'s' if len(later) == 1 else ''} after "
                     f"their new volume replica resyncs (the last after ~{svg.seconds(max(s for _, s in later))})")
    if never:
        items.append(f"{_count(never, 'broker')} cannot run anywhere")
    if rebuild:
        items.append("a Kafka-level rebuild instead (an empty disk, every partition re-fetched) would keep a "
                     f"displaced broker out for at least ~{svg.seconds(min(rebuild.values()))}"
                     + (f" to ~{svg.seconds(max(rebuild.values()))}" if len(rebuild) > 1 else ""))
    return "; ".join(items)


def _count(ids: list[int], what: str) -> str:
    if len(ids) <= 8:
        return f"{what} {', '.join(map(str, ids))}" if len(ids) == 1 else f"{what}s {', '.join(map(str, ids))}"
    return f"{len(ids):,} {what}s ({', '.join(map(str, ids[:6]))}, …)"


def _lists(cluster: Cluster, plan: dict, view) -> str:
    times = ((plan.get("metrics") or {}).get("timeline") or {}).get("stepSeconds") or {}

    def when(step_id) -> str:
        t = times.get(str(step_id))
        return f"{svg.seconds(t[0])} → {svg.seconds(t[1])}" if t else "-"

    parts = []
    copies = view.copies
    parts.append(page.collapsible(
        f"New volume replicas ({len(copies):,})",
        page.table(["volume", "from", "to", "GiB copied", "step", "when"],
                   ([c.volume, c.source, c.target, f"{c.gib:g}", c.step, when(c.step)] for c in copies),
                   numeric=(3, 4), row_attrs=({"data_copy": c.key} for c in copies)) if copies else "<p>none</p>",
        open_=len(copies) <= LIST_OPEN))
    moves = view.moves
    parts.append(page.collapsible(
        f"Broker moves ({len(moves):,})",
        page.table(["broker", "from", "to", "step", "when"],
                   ([m.broker, m.source, m.target, m.step if m.step is not None else "-", when(m.step)] for m in moves),
                   numeric=(0,), row_attrs=({"data_move": m.key} for m in moves)) if moves else "<p>none</p>",
        open_=len(moves) <= LIST_OPEN))
    lost = [r for n in view.nodes for r in n.replicas if r.state in ("lost", "data-lost")]
    dropped = list(view.drops) + lost
    parts.append(page.collapsible(
        f"Dropped replicas ({len(view.drops):,} from live nodes, {len(lost):,} lost with failed nodes)",
        page.table(["volume", "node", "why", "step"],
                   ([r.volume, r.node, {"dropped": "dropped by the plan", "lost": "lost with the node",
                                        "data-lost": "lost with the node: DATA LOST"}[r.state],
                     r.step if r.step is not None else "-"] for r in dropped),
                   row_attrs=({"data_drop": f"{r.volume}|{r.node}"} for r in dropped)) if dropped else "<p>none</p>",
        open_=len(dropped) <= LIST_OPEN))
    moved = []
    target = {(p["topic"], p["partition"]): p for p in (plan.get("placement") or {}).get("partitions", [])}
    for p in cluster.partitions:
        t = target.get(p.key)
        if t is not None and (tuple(t["replicas"]) != p.replicas or t.get("leader") != p.leader):
            moved.append((p.label, list(p.replicas), t["replicas"], p.leader, t.get("leader")))
    if moved:
        rows = moved[:PARTITION_ROWS]
        more = f"<p>and {len(moved) - len(rows):,} more (see the plan document)</p>" if len(moved) > len(rows) else ""
        parts.append(page.collapsible(
            f"Partitions with new replicas or leaders ({len(moved):,})",
            page.table(["partition", "replicas before", "after", "leader before", "after"],
                       ([label, str(a), str(b), la, lb if lb is not None else "none"] for label, a, b, la, lb in rows))
            + more, open_=len(moved) <= LIST_OPEN))
    steps = plan.get("steps") or []
    parts.append(page.collapsible(
        f"Steps ({len(steps):,})",
        page.table(["#", "action", "what", "waits for", "when"],
                   ([s["id"], s["action"], step_words(s), ", ".join(map(str, s.get("after", ()))) or "-", when(s["id"])]
                    for s in steps), numeric=(0,), row_attrs=({"data_step_row": s["id"]} for s in steps))
        if steps else "<p>no steps</p>", open_=len(steps) <= LIST_OPEN))
    return "\n".join(parts)

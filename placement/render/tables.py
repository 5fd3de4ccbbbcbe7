"""Tables for people: what moves where, how much is copied, who serves when.

A plan of a large cluster has thousands of rows: each section shows its first
ROWS_SHOWN rows and says how many more there are and how to see them (``--all``
shows every row, ``--format json`` the whole plan). Every section is built in
time linear in the cluster and the steps (an index per section, never a scan
of the steps per row), so a large plan renders in bounded time.
"""
from __future__ import annotations

from contextlib import contextmanager
from itertools import islice
from typing import Iterable, Iterator

from rich.console import Console
from rich.table import Table
from rich.text import Text

from placement.models.cluster import Cluster
from placement.models.plan import Plan, Status
from placement.models.units import gib_text
from placement.solve.verify import Verdict

STATUS_STYLE = {Status.OPTIMAL: "bold green", Status.FEASIBLE: "bold yellow",
                Status.DEGRADED: "bold red", Status.INFEASIBLE: "bold red"}
ROWS_SHOWN = 20  # rows of one section (or lines of one list) before the rest is summarised
SEE_ALL = "--all shows every row, --format json the whole plan"


def _first(rows: Iterable, limit: int | None) -> tuple[list, int]:
    """The first ``limit`` rows (all of them when limit is None) and how many were left out."""
    rows = iter(rows)
    shown = list(rows if limit is None else islice(rows, limit))
    return shown, sum(1 for _ in rows)


def _summarised(table: Table, hidden: int, what: str, how: str = SEE_ALL) -> Table:
    if hidden:
        table.caption = f"... and {hidden:,} more {what} ({how})"
        table.caption_justify = "left"
    return table


class _Console(Console):
    """Rich's console, but a reader that stops early (``| head``) ends no command: rich's own
    ``on_broken_pipe`` exits 1, which would read as a negative verdict."""

    def on_broken_pipe(self) -> None:
        from placement.render.outputs import discard_stdout

        self.quiet = True
        discard_stdout()


def console(file=None) -> Console:
    return _Console(file=file, width=None if file is None else 120, highlight=False, soft_wrap=True)


def cluster_table(cluster: Cluster, title: str) -> Table:
    holds: dict[str, list[str]] = {n.name: [] for n in cluster.nodes}
    for v in cluster.volumes:
        for n in v.replicas:
            holds[n].append(v.name)
    brokers: dict[str, list[str]] = {n.name: [] for n in cluster.nodes}
    for b in cluster.brokers:
        brokers[b.node].append(str(b.id))
    table = Table(title=title, title_justify="left")
    for col in ("node", "zone", "state", "brokers", "volume replicas"):
        table.add_column(col)
    for n in cluster.nodes:
        state = Text(n.state.value, style="red" if n.state.value == "failed" else "")
        table.add_row(n.name, n.zone, state, ", ".join(brokers[n.name]) or "-", ", ".join(holds[n.name]) or "-")
    return table


def render_plan(out: Console, cluster: Cluster, plan: Plan, *, show_all: bool = False) -> None:
    """The plan for people: the verdict, what moves where, the steps, when it is done, what breaks.
    Each section shows its first ROWS_SHOWN rows unless ``show_all``."""
    limit = None if show_all else ROWS_SHOWN
    _render_heading(out, cluster, plan, limit)
    timeline = plan.metrics.get("timeline", {})
    brokers = _moved_brokers_table(cluster, plan, timeline, limit)
    if brokers.row_count:
        out.print(brokers)
    else:
        out.print("Brokers: every broker stays where it is.")
    for table in (_volume_replicas_table(cluster, plan, limit), _partition_replicas_table(cluster, plan, limit),
                  broker_table(cluster, plan, limit), _steps_table(plan, limit)):
        if table is not None and table.row_count:
            out.print(table)
    _render_outlook(out, plan, timeline, limit, cluster)
    render_violations(out, plan.violations, plan.solver.get("conflict"), limit=limit, how=SEE_ALL)
    render_preexisting(out, plan.preexisting, limit)


def render_preexisting(out: Console, preexisting, limit: int | None = None) -> None:
    """What the start already broke (CONTRACT section 5), apart from what the plan breaks."""
    if not preexisting:
        return
    out.print(Text(f"already broken before the plan ({len(preexisting)}):", style="bold yellow"))
    shown, hidden = _first(list(preexisting), limit)
    for v in shown:
        out.print(f"  [{v.invariant}] {v.message}", markup=False)
    if hidden:
        out.print(f"  ... and {hidden:,} more ({SEE_ALL})")


def _render_heading(out: Console, cluster: Cluster, plan: Plan, limit: int | None = None) -> None:
    status = Text(plan.status.value, style=STATUS_STYLE[plan.status])
    out.print(Text.assemble(*_operation_words(cluster, plan, limit), ": ", status))
    m = plan.metrics
    solved = plan.solver.get("seconds", m.get("solveSeconds", 0))
    out.print(f"copied over the network: {gib_text(m.get('copiedGiB', 0))}   "
              f"new volume replicas: {m.get('newVolumeReplicas', 0)}   solve time: {solved:g} s")
    if not plan.solver.get("proven", False) and plan.status is not Status.INFEASIBLE:
        gaps = [f"{lv['level']} {lv['value']} (bound {lv['bound']})" for st in plan.solver.get("stages", [])
                for lv in st["levels"] if not lv["proven"]]
        out.print(Text("optimality not proven within the time limit; unproven levels: " + "; ".join(gaps), style="yellow"))


def _operation_words(cluster: Cluster, plan: Plan, limit: int | None = None) -> list:
    """What the plan is for: a recovery, a broker retired, a drain, a rebalance (with the failures it
    also handles), or, nothing having failed, the repair of what the cluster already breaks."""
    failed = (_names(plan.failed, limit), "bold")
    operations: list[list] = []
    if plan.removed_brokers:
        ids = _names([str(b) for b in plan.removed_brokers], limit)
        operations.append([f"retire broker{'s' if len(plan.removed_brokers) != 1 else ''} ", (ids, "bold")])
    if plan.drained:
        operations.append(["drain ", (_names(plan.drained, limit), "bold")])
    if plan.max_used_percent is not None:
        operations.append(["every node within ", (f"{plan.max_used_percent:g}%", "bold"), " of its storage"])
    if not operations:
        if plan.failed:
            return ["Recovery plan for ", (cluster.name, "bold"), " after failure of ", failed]
        return ["Plan for ", (cluster.name, "bold"), " (nothing failed)"]
    words: list = ["Plan for ", (cluster.name, "bold"), ": "]
    for i, operation in enumerate(operations):
        words += ([" and "] if i else []) + operation
    if plan.failed:
        words += [" (failed: ", failed, ")"]
    return words


def _moved_brokers_table(cluster: Cluster, plan: Plan, timeline: dict, limit: int | None = None) -> Table:
    serve_at = timeline.get("brokersServeSeconds", {})
    rebuild = timeline.get("kafkaRebuildSeconds", {})
    at_once = set(plan.metrics.get("brokersServingAtOnce", []))
    brokers = Table(title="Brokers", title_justify="left")
    for col in ("broker", "from", "to", "serves", "a Kafka rebuild instead"):
        brokers.add_column(col)
    moved, hidden = _first((b for b in cluster.brokers if plan.placement.brokers.get(b.id) != b.node), limit)
    for b in moved:
        to = plan.placement.brokers.get(b.id)
        if to is None and b.id in plan.removed_brokers:
            serves = Text("retired (runs nowhere)")
        elif to is None:
            serves = Text("cannot run", style="red")
        elif b.id in at_once:
            serves = Text("at once (its volume replicas are already there)", style="green")
        else:
            serves = Text(f"after its volume replica resyncs (~{duration(serve_at.get(str(b.id)))})", style="yellow")
        instead = f">= {duration(rebuild[str(b.id)])} re-fetching its partitions" if str(b.id) in rebuild else "-"
        brokers.add_row(str(b.id), b.node, to or "-", serves, instead)
    return _summarised(brokers, hidden, "moved brokers")


def _volume_replicas_table(cluster: Cluster, plan: Plan, limit: int | None = None) -> Table:
    """The volumes the plan changes: a replica added or dropped (node sets compared, not lists: the
    same nodes in another order is no change), a stale replica resynced, or every replica lost."""
    failed = set(plan.failed)
    resynced = {v.name: [n for n, _ in v.stale if n not in failed and n in plan.placement.volumes.get(v.name, ())]
                for v in cluster.volumes}
    changed, hidden = _first((v for v in cluster.volumes if plan.placement.volumes.get(v.name) is None
                              or set(plan.placement.volumes[v.name]) != set(v.replicas) or resynced[v.name]), limit)
    columns = ["volume", "before", "after", "new (copied from)", "dropped"]
    if any(resynced[v.name] for v in changed):
        columns.append("resynced")
    volumes = Table(title="Volume replicas", title_justify="left")
    for col in columns:
        volumes.add_column(col)
    adds = _adds_by_volume(plan.steps, {v.name for v in changed})
    for v in changed:
        after = plan.placement.volumes.get(v.name)
        before = Text(", ").join(Text(n, style="red strike" if n in failed else "") for n in v.replicas)
        new = ", ".join(f"{s.args['node']} ({s.args['source']})" for s in adds.get(v.name, ())) or "-"
        dropped = ", ".join(n for n in v.replicas if n not in (after or ())) or "-"
        row = [v.name, before, ", ".join(after) if after else Text("lost", style="red"), new, dropped]
        if len(columns) > 5:
            row.append(", ".join(resynced[v.name]) or "-")
        volumes.add_row(*row)
    return _summarised(volumes, hidden, "volumes whose replicas change")


def _adds_by_volume(steps, shown: set[str]) -> dict[str, list]:
    """The add-volume-replica steps of the volumes shown, in step order: one pass over the steps."""
    adds: dict[str, list] = {}
    for s in steps:
        if s.action == "add-volume-replica" and s.args.get("volume") in shown:
            adds.setdefault(s.args["volume"], []).append(s)
    return adds


def _partition_replicas_table(cluster: Cluster, plan: Plan, limit: int | None = None) -> Table | None:
    targets = plan.placement.partitions
    moved, hidden = _first(((p, targets[p.key]) for p in cluster.partitions
                            if p.key in targets and tuple(targets[p.key].replicas) != p.replicas), limit)
    if not moved:
        return None
    parts = Table(title="Partition replicas", title_justify="left")
    for col in ("partition", "before", "after", "leader"):
        parts.add_column(col)
    for p, t in moved:
        parts.add_row(p.label, str(list(p.replicas)), str(list(t.replicas)), str(t.leader))
    return _summarised(parts, hidden, "partitions whose replicas move")


def _steps_table(plan: Plan, limit: int | None = None) -> Table | None:
    if not plan.steps:
        return None
    steps = Table(title="Steps", title_justify="left")
    for col in ("#", "action", "what", "after"):
        steps.add_column(col)
    shown, hidden = _first(plan.steps, limit)
    for s in shown:
        what = ", ".join(f"{k}={v}" for k, v in s.args.items() if k != "partitions")
        if "partitions" in s.args:
            what = f"{len(s.args['partitions'])} partitions"
        steps.add_row(str(s.id), s.action, what, _ids(s.after, limit))
    if hidden:
        counts: dict[str, int] = {}
        for s in plan.steps:
            counts[s.action] = counts.get(s.action, 0) + 1
        every = ", ".join(f"{n:,} {action}" for action, n in sorted(counts.items()))
        return _summarised(steps, hidden, "steps", f"in all {every}; {SEE_ALL}, --format script the commands")
    return steps


def _ids(ids, limit: int | None) -> str:
    """Step ids a step waits for: a step after a thousand others names the first few and counts the rest."""
    shown, hidden = _first(ids, limit)
    return (", ".join(map(str, shown)) or "-") + (f" and {hidden:,} more" if hidden else "")


def _render_outlook(out: Console, plan: Plan, timeline: dict, limit: int | None = None,
                    cluster: Cluster | None = None) -> None:
    """When it is done, whether its steps are proven safe, and what it costs Kafka."""
    m = plan.metrics
    if timeline:
        out.print(f"timeline at {timeline['nodeBandwidthGbps']:g} Gbit/s per node: every volume at full replication "
                  f"after ~{duration(timeline['fullRedundancySeconds'])}, every step done after "
                  f"~{duration(timeline['finishSeconds'])} (no order can beat ~{duration(timeline['lowerBoundSeconds'])})")
    execution = m.get("execution")
    if execution:
        render_execution(out, execution, limit=limit)
    unclean = m.get("uncleanElections") or []
    if unclean:
        out.print(Text(f"WARNING: unclean leader election for {_names(unclean, limit)}: the new leader was not in sync "
                       "and the messages it lacked are lost (--allow-unclean).", style="bold red"))
    after = set(m.get("underMinIsrAfter", []))
    under = [p for p in m.get("underMinIsrBefore", []) if p in after]
    if under:
        out.print(Text(f"below min.insync.replicas before and after the plan: {_names(under, limit)}", style="yellow"))
    if cluster is not None:
        _render_rack_shortfall(out, cluster, plan)


def rack_shortfall(cluster: Cluster, plan: Plan) -> tuple[int, int]:
    """(partitions of the target, partitions of the start) whose replicas span fewer zones (racks)
    than they could: min(replicas, zones where a broker runs). ``rackAware: preferred`` puts racks
    after serving brokers soonest, so a plan may leave some short; it says how many."""
    def short(brokers: dict, replicas_of) -> int:
        zone = {b: cluster.node[n].zone for b, n in brokers.items() if n is not None}
        zones = len(set(zone.values()))
        count = 0
        for p in cluster.partitions:
            replicas = replicas_of(p)
            if replicas is not None and len({zone[b] for b in replicas if b in zone}) < min(len(set(replicas)), zones):
                count += 1
        return count
    targets = plan.placement.partitions
    now = short(plan.placement.brokers, lambda p: targets[p.key].replicas if p.key in targets else None)
    failed = set(plan.failed)
    before = short({b.id: (None if b.node in failed else b.node) for b in cluster.brokers}, lambda p: p.replicas)
    return now, before


def _render_rack_shortfall(out: Console, cluster: Cluster, plan: Plan) -> None:
    from placement.models.cluster import RackAware

    if cluster.policy.rack_aware is not RackAware.PREFERRED:
        return  # required: a shortfall is an I6 violation; off: racks are not asked for
    now, before = rack_shortfall(cluster, plan)
    if now:
        one = now == 1
        out.print(Text(f"{now:,} partition{'' if one else 's'} now span{'s' if one else ''} fewer zones than "
                       f"{'it' if one else 'they'} could ({before:,} before the plan; rackAware: preferred; racks come "
                       "after serving brokers soonest)", style="yellow"))


def _names(names: Iterable[str], limit: int | None) -> str:
    shown, hidden = _first(names, limit)
    return ", ".join(shown) + (f" and {hidden:,} more" if hidden else "")


def broker_table(cluster: Cluster, plan: Plan, limit: int | None = None) -> Table | None:
    """Per broker: partition replicas and leaders before and after, data in and out (GiB)."""
    before_r, after_r, before_l, after_l = {}, {}, {}, {}
    data_in, data_out = {}, {}
    changed = False
    for p in cluster.partitions:
        t = plan.placement.partitions.get(p.key)
        if t is None:
            continue
        changed |= tuple(t.replicas) != p.replicas or t.leader != p.leader
        for b in p.replicas:
            before_r[b] = before_r.get(b, 0) + 1
            if b not in t.replicas:
                data_out[b] = data_out.get(b, 0) + p.size_gib
        for b in t.replicas:
            after_r[b] = after_r.get(b, 0) + 1
            if b not in p.replicas:
                data_in[b] = data_in.get(b, 0) + p.size_gib
        before_l[p.leader] = before_l.get(p.leader, 0) + 1
        if t.leader is not None:
            after_l[t.leader] = after_l.get(t.leader, 0) + 1
    if not changed:
        return None
    table = Table(title="Kafka brokers", title_justify="left")
    for col in ("broker", "replicas before", "after", "leaders before", "after", "GiB in", "GiB out"):
        table.add_column(col, justify="right")
    shown, hidden = _first(sorted(cluster.broker), limit)
    for b in shown:
        table.add_row(str(b), str(before_r.get(b, 0)), str(after_r.get(b, 0)), str(before_l.get(b, 0)),
                      str(after_l.get(b, 0)), f"{data_in.get(b, 0):g}", f"{data_out.get(b, 0):g}")
    return _summarised(table, hidden, "brokers")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def render_execution(out: Console, execution: dict, *, limit: int | None = ROWS_SHOWN) -> None:
    if execution["safe"]:
        out.print(Text.assemble(("steps proven safe", "green"),
                                f": every prefix and every order the steps allow ({execution['statesExplored']:,} states "
                                f"over {execution['resources']:,} resources)"))
        return
    if execution["counterexamples"]:
        out.print(Text(f"the steps are not safe ({len(execution['counterexamples'])} counterexamples):", style="bold red"))
    for why in execution.get("undecided", ()):
        out.print(Text("undecided (not proven safe): ", style="bold red"), Text(why))
    shown, hidden = _first(execution["counterexamples"], limit)
    for c in shown:
        events = c["events"]
        events_shown = ", ".join(events[-8:]) if events else "at the start"
        more = f"... {len(events) - 8} earlier events, " if len(events) > 8 else ""
        out.print(f"  {c['message']}  after: {more}{events_shown}", markup=False)
    if hidden:
        out.print(f"  ... and {hidden:,} more counterexamples")
    if execution.get("moreCounterexamples"):
        out.print(f"  ... and {execution['moreCounterexamples']:,} more problems of the same steps")


def render_violations(out: Console, violations, conflict=None, *, limit: int | None = ROWS_SHOWN,
                      how: str | None = None) -> None:
    if not violations:
        return
    out.print(Text(f"{len(violations)} invariant violation{'s' if len(violations) != 1 else ''}:", style="bold red"))
    shown, hidden = _first(violations, limit)
    for v in shown:
        out.print(f"  [{v.invariant}] {v.message}", markup=False)
    if hidden:
        out.print(f"  ... and {hidden:,} more violations" + (f" ({how})" if how else ""))
    if conflict:
        out.print(f"  rules that cannot all hold together here: {', '.join(conflict)}")


def render_verdict(out: Console, verdict: Verdict, plan_source: str) -> None:
    false_claims = getattr(verdict, "false_claims", ())  # placement.claims.PlanVerdict
    if not verdict.violations and not false_claims:
        out.print(Text.assemble((plan_source, "bold"), ": ", ("verified", "bold green"),
                                " (plain checks and Z3 agree: every invariant holds)"))
    elif not verdict.violations:
        out.print(Text.assemble((plan_source, "bold"), ": ", ("does not verify", "bold red"),
                                " (its target meets every invariant, but what it says about itself does not hold)"))
    else:
        out.print(Text.assemble((plan_source, "bold"), ": ", ("breaks " + ", ".join(verdict.broken), "bold red"),
                                " (plain checks and Z3 agree)"))
        render_violations(out, verdict.violations)
    if false_claims:
        out.print(Text(f"{len(false_claims)} claim{'s' if len(false_claims) != 1 else ''} of the plan that "
                       f"do{'es' if len(false_claims) == 1 else ''} not hold:", style="bold red"))
        for claim in false_claims:
            out.print(f"  {claim}", markup=False)
    if verdict.execution is not None:
        render_execution(out, verdict.execution.to_document())
    else:
        out.print("no steps in the plan: only its target was verified")


FIXES = {
    "I1": "add ready storage nodes, or free capacity, where the lost replicas can be rebuilt",
    "I2": "add storage in another zone, so replicas can spread over zones again",
    "I3": "leave room for the broker on a node that holds (or can receive) its volume, "
          "or set brokerPlacement: preferred",
    "I4": "add nodes for the displaced brokers, or raise brokersPerNode",
    "I5": "add storage, CPU or memory where the displaced replicas and brokers must go",
    "I6": "add brokers (in other zones, with rackAware: required) so partitions keep their replica count",
    "I7": "give such volumes more replicas (replicationFactor 3) on nodes that do not fail together "
          "(zoneSpread: true spreads them over zones)",
}


def fix_advice(cluster: Cluster, violations) -> dict[str, str]:
    """Invariant -> what would help, for the counterexample's violations (objects or their documents).
    Computed from the facts where the general advice could be wrong: a lost volume already at
    replicationFactor 3 is not told to get more replicas."""
    def field(v, name):
        return v.get(name) if isinstance(v, dict) else getattr(v, name, None)

    advice = {}
    for inv in sorted({field(v, "invariant") for v in violations} & set(FIXES)):
        advice[inv] = FIXES[inv]
    lost = sorted({subject.removeprefix("volume ") for v in violations
                   if field(v, "invariant") == "I7" and (subject := field(v, "subject") or "").startswith("volume ")
                   and subject.removeprefix("volume ") in cluster.volume})
    if lost:
        few = [n for n in lost if cluster.volume[n].replication_factor < 3]
        most = [n for n in lost if cluster.volume[n].replication_factor >= 3]
        parts = []
        if few:
            now = sorted({cluster.volume[n].replication_factor for n in few})
            parts.append(f"give {_names(few, 4)} more replicas (replicationFactor 3 instead of {' or '.join(map(str, now))}) "
                         "on nodes that do not "
                         "fail together" + ("" if cluster.policy.zone_spread else " (zoneSpread: true spreads them over zones)"))
        if most:
            parts.append(f"{_names(most, 4)} already {'has' if len(most) == 1 else 'have'} replicationFactor 3, the most "
                         "Portworx allows: that many failures at once can take every replica whatever the placement; "
                         "keep backups of such data, or size the question to the failures that can happen together")
        advice["I7"] = "; ".join(parts)
    return advice


@contextmanager
def sweep_progress(enabled: bool = True):
    """A progress bar on standard error: scenarios done and the estimated time left."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("scenarios"), BarColumn(), MofNCompleteColumn(), TextColumn("left"),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("check", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def render_resilience(out: Console, cluster: Cluster, result) -> None:
    what = []
    if result.max_failures:
        what.append(f"any {result.max_failures} node failure{'s' if result.max_failures != 1 else ''}")
    if result.zones:
        what.append("each whole zone failing")
    asked = " and ".join(what) or "no failure"
    if result.tolerates:
        verdict = Text("yes", style="bold green")
    elif result.tolerates is None:
        verdict = Text("undecided", style="bold yellow")
    else:
        verdict = Text("NO", style="bold red")
    out.print(Text.assemble("Does ", (cluster.name, "bold"), f" survive {asked}? ", verdict))
    out.print(f"{result.scenarios:,} scenarios: {result.solved:,} solved, {result.bounded:,} decided without a solver, "
              f"{result.pruned:,} pruned (a smaller set already fails), {result.symmetric:,} covered by symmetry; "
              f"{result.failing:,} not survived, {result.undecided:,} undecided; {result.seconds:.1f} s")
    c = result.counterexample
    if c is not None and not c.failed:
        out.print(Text("As it is, before anything fails, the cluster already breaks what a failure must leave "
                       "intact (placement plan repairs it):", style="bold"))
        for name in c.data_lost:
            if not any(v.subject == f"volume {name}" and v.invariant == "I7" for v in c.violations):
                out.print(f"  [I7] volume {name} has no surviving in-sync replica: its data is gone", markup=False)
    elif c is not None:
        out.print(Text(f"If {', '.join(c.failed)} fail{'s' if len(c.failed) == 1 else ''}:", style="bold"))
    if c is not None:
        shown, hidden = _first(c.violations, ROWS_SHOWN)
        for v in shown:
            out.print(f"  [{v.invariant}] {v.message}", markup=False)
        if hidden:
            out.print(f"  ... and {hidden:,} more violations (--format json lists them all)")
        if c.conflict:
            out.print(f"  invariants that cannot all hold together then: {', '.join(c.conflict)}")
        advice = fix_advice(cluster, c.violations)
        for inv in sorted({v.invariant for v in c.violations}):
            out.print(f"  fix ({inv}): {advice.get(inv, 'see the violation above')}")
    if result.undecided:
        out.print(Text(f"{result.undecided} scenarios were not decided within the time limit: raise --time-limit",
                       style="yellow"))
    if result.minima:
        table = Table(title="Least node failures that lose data", title_justify="left")
        for col in ("data", "failures", "for example", "loses", "proven"):
            table.add_column(col)
        for m in result.minima:
            loses = ", ".join(m.loses[:4]) + (f" and {len(m.loses) - 4} more" if len(m.loses) > 4 else "")
            table.add_row(f"a {m.what}", "-" if m.failures is None else str(m.failures),
                          ", ".join(m.witness) or "-", loses or "-", "yes" if m.proven else "no (time limit)")
        out.print(table)


def render_check(out: Console, cluster: Cluster, result) -> None:
    """``placement check``'s answer for people: the failure sweep, ok-to-stop or the waves."""
    from placement.resilience.maintenance import StopVerdict, WavePlan

    if isinstance(result, StopVerdict):
        render_ok_to_stop(out, cluster, result)
    elif isinstance(result, WavePlan):
        render_waves(out, cluster, result)
    else:
        render_resilience(out, cluster, result)


SHOWN = 40  # rows of a list shown before it is summarised (--format json has them all)


def _min_replicas_words(min_replicas: int | None) -> str:
    return (f"every volume keeps at least {min_replicas} in-sync replica{'s' if min_replicas != 1 else ''}"
            if min_replicas is not None else
            "every volume keeps its replication factor minus one in-sync replicas (at least 1)") + \
        ", every partition its min.insync.replicas"


def _shortfall_table(title: str, shortfalls) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("volume or partition", "current", "needed", "before", "stopped with", "already short"):
        table.add_column(col)
    for s in shortfalls[:SHOWN]:
        where = ", ".join(s.stopped) or "-"
        if s.brokers:
            where = f"broker{'s' if len(s.brokers) != 1 else ''} {', '.join(map(str, s.brokers))} on {where}"
        table.add_row(f"{s.kind} {s.name}", str(s.current), str(s.needed), str(s.before), where,
                      Text("yes", style="yellow") if s.already_short else "no")
    return table


def _more(out: Console, total: int, what: str) -> None:
    if total > SHOWN:
        out.print(f"... and {total - SHOWN:,} more {what} (--format json lists every one)")


def render_ok_to_stop(out: Console, cluster: Cluster, verdict) -> None:
    nodes = ", ".join(verdict.nodes) or "no node"
    answer = Text("yes", style="bold green") if verdict.ok else Text("NO", style="bold red")
    out.print(Text.assemble("May ", (nodes, "bold"), " of ", (cluster.name, "bold"), " stop now? ", answer))
    out.print(f"asked: {_min_replicas_words(verdict.min_replicas)}, with {nodes} stopped and no step taken")
    for note in verdict.notes:
        out.print(f"note: {note}", markup=False)
    if verdict.ok:
        return
    short = verdict.shortfalls
    plural = "s" if len(short) != 1 else ""
    out.print(_shortfall_table(f"{len(short):,} volume{plural} or partition{plural} would fall short", short))
    _more(out, len(short), "volumes and partitions")
    already = verdict.already_short
    if already:
        out.print(Text(f"{len(already):,} of them {'was' if len(already) == 1 else 'were'} already short before "
                       "stopping anything: no node may stop until they are repaired (placement plan)",
                       style="yellow"))


def render_waves(out: Console, cluster: Cluster, plan) -> None:
    cap = f", at most {plan.max_wave} nodes each" if plan.max_wave else ""
    if not plan.possible:
        out.print(Text.assemble("Maintenance waves for ", (cluster.name, "bold"), f"{cap}: ",
                                ("NONE CAN EXIST", "bold red")))
        out.print(f"asked: {_min_replicas_words(plan.min_replicas)} while a wave is stopped", markup=False)
        for note in plan.notes:
            out.print(note, markup=False)
        out.print(_shortfall_table("Why: each cannot spare its replicas on the node shown, or is already short",
                                   plan.blocking))
        _more(out, len(plan.blocking), "volumes and partitions")
        return
    proven = Text("proven least", style="bold green") if plan.proven else \
        Text(f"not proven least (at least {plan.lower_bound})", style="bold yellow")
    out.print(Text.assemble("Maintenance waves for ", (cluster.name, "bold"), f"{cap}: ",
                            (f"{len(plan.waves)}", "bold"), ", ", proven))
    out.print(f"each wave stops while every other node runs; {_min_replicas_words(plan.min_replicas)}; "
              f"{plan.nodes:,} nodes to maintain; {plan.seconds:.1f} s", markup=False)
    zone = {n.name: n.zone for n in cluster.nodes}
    table = Table(title="Waves", title_justify="left")
    for col in ("wave", "nodes", "zones", "count"):
        table.add_column(col)
    for i, wave in enumerate(plan.waves, 1):
        names = ", ".join(wave[:12]) + (f", ... ({len(wave) - 12:,} more)" if len(wave) > 12 else "")
        table.add_row(str(i), names, ", ".join(sorted({zone[n] for n in wave})), str(len(wave)))
    out.print(table)
    out.print(f"lower bound {plan.lower_bound}: {plan.certificate.get('why', '')}", markup=False)
    if plan.conflicts:
        out.print("why these nodes cannot share a wave:")
        for c in plan.conflicts:
            out.print(f"  {c.message}", markup=False)
    out.print(f"{plan.conflicting_pairs:,} pairs of nodes cannot share a wave in all (--format json for the "
              "certificate)", markup=False)
    for note in plan.notes:
        out.print(f"note: {note}", markup=False)
    if not plan.proven:
        out.print(Text(f"the search stopped at its time limit ({plan.solver.get('seconds', 0):g} s): "
                       f"{len(plan.waves)} waves found, at least {plan.lower_bound} needed; raise --time-limit "
                       "to try to close the gap", style="yellow"))

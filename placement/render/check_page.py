"""``placement check --format html``: the verdict, the counterexample drawn as the cluster with
its failed nodes and what they lose, and the least failures that lose data; for
``--ok-to-stop`` the cluster with the nodes stopped and what would fall short; for ``--waves``
the waves, their lower bound and each wave drawn stopped.

Built from the cluster and the check's document (``ResilienceResult.to_document``,
``StopVerdict.to_document`` or ``WavePlan.to_document``).
"""
from __future__ import annotations

from typing import Any

from placement.models.cluster import Cluster
from placement.render import page, svg
from placement.render.cluster_figure import draw_cluster, legend
from placement.render.plan_page import failed_words
from placement.render.scene import DATA_LOST, DOWN, scene
from placement.render.tables import fix_advice  # the advice the table output gives, in one place

def _question(result: dict[str, Any]) -> str:
    asked = []
    k = result.get("failures") or 0
    if k:
        asked.append(f"any {k} node failure{'s' if k != 1 else ''}")
    if result.get("zones"):
        asked.append("each whole zone failing")
    return " and ".join(asked) or "no failure"


def check_page(cluster: Cluster, result: dict[str, Any]) -> str:
    if "okToStop" in result:
        return ok_to_stop_page(cluster, result)
    if "waves" in result:
        return waves_page(cluster, result)
    e = svg.esc
    tolerates = result.get("tolerates")
    answer, cls = {True: ("YES", "good"), False: ("NO", "bad"), None: ("UNDECIDED", "unproven")}[tolerates]
    title = f"Does {cluster.name} survive {_question(result)}?"
    body = [f"<header><h1>{e(title)}</h1><p class=\"verdict {cls}\" data-verdict=\"{e(answer.lower())}\">"
            f"{e(answer)}</p></header>"]
    counts = (f"{result.get('scenarios', 0):,} failure scenarios considered: {result.get('solved', 0):,} solved, "
              f"{result.get('bounded', 0):,} decided without a solver, {result.get('pruned', 0):,} pruned (a smaller "
              f"set already fails), {result.get('symmetric', 0):,} covered by symmetry; "
              f"{result.get('failing', 0):,} not survived, {result.get('undecided', 0):,} undecided")
    facts = [("Verdict", e({True: "every scenario is survived: no volume loses its data and a recovery meeting "
                                  "every invariant exists for each",
                            False: "not every scenario is survived; the smallest one that is not is drawn below",
                            None: "some scenarios were not decided within the time limit (raise --time-limit); "
                                  "none of the decided ones failed"}[tolerates])),
             ("Scenarios", e(counts))]
    facts += [("Note", e(n)) for n in result.get("notes") or []]
    body.append(page.section("In words", page.facts(facts), id_="summary"))
    has_stale = any(v.stale for v in cluster.volumes)
    body.append(page.figure(legend("check-legend", stale=has_stale)))

    c = result.get("counterexample")
    if c:
        failed = c.get("failed") or []
        view = scene(cluster, failed=failed)
        lost = c.get("dataLost") or list(view.data_lost)
        down = [b.broker for n in view.nodes for b in n.brokers if b.state == DOWN]
        words = [f"If {failed_words(cluster, failed)} fail{'s' if len(failed) == 1 else ''}: " if failed else
                 "As it is, before anything fails, the cluster already breaks what a failure must leave intact "
                 "(placement plan repairs it): "]
        if lost:
            words.append(f"{len(lost):,} volume{'s' if len(lost) != 1 else ''} lose{'s' if len(lost) == 1 else ''} "
                         f"every replica (DATA LOST): {', '.join(lost[:12])}{' …' if len(lost) > 12 else ''}. ")
        if down:
            words.append(f"broker{'s' if len(down) != 1 else ''} {', '.join(map(str, down[:12]))} "
                         f"{'go' if len(down) != 1 else 'goes'} down. ")
        figure = draw_cluster(view, prefix="check-counterexample",
                              caption=f"The counterexample: {failed_words(cluster, failed)} failing" if failed else
                              "The counterexample: the cluster as it is",
                              subcaption=_lost_subcaption(view))
        violations = c.get("violations") or []
        advice = fix_advice(cluster, violations)
        fix_list = "".join(f"<li><span class=\"inv\">{e(i)}</span>: {e(advice[i])}</li>" for i in sorted(advice))
        content = (f"<p data-counterexample=\"{e(' '.join(failed))}\">{e(''.join(words))}"
                   f"Decided by: {e(c.get('decidedBy', '?'))}.</p>"
                   + page.violations_list(violations, "no invariant named")
                   + (f"<p>Invariants that cannot all hold together then: {e(', '.join(c['conflict']))}</p>"
                      if c.get("conflict") else "")
                   + (f"<p>What would help:</p><ul>{fix_list}</ul>" if fix_list else "")
                   + page.figure(figure.svg, figure.mode))
        body.append(page.section("The counterexample", content, id_="counterexample"))
    else:
        view = scene(cluster)
        figure = draw_cluster(view, prefix="check-cluster", caption=f"{cluster.name} as it is",
                              subcaption="no scenario that was asked about breaks it")
        body.append(page.section("The cluster", page.figure(figure.svg, figure.mode), id_="cluster"))

    minima = result.get("minimum") or {}
    if minima:
        rows = []
        figures = []
        for what, m in sorted(minima.items()):
            n = m.get("failures")
            loses = m.get("loses") or []
            rows.append([f"a {what}", "none can" if n is None else n, ", ".join(m.get("witness") or []) or "-",
                         ", ".join(loses[:6]) + (f" and {len(loses) - 6:,} more" if len(loses) > 6 else "") or "-",
                         "yes" if m.get("proven") else "no (time limit)"])
            if m.get("witness"):
                view = scene(cluster, failed=m["witness"])
                figures.append(draw_cluster(
                    view, prefix=f"check-minimum-{what}",
                    caption=f"The fewest failures that lose a {what}: {n} ({', '.join(m['witness'])})",
                    subcaption=f"loses {', '.join(loses[:6])}{' …' if len(loses) > 6 else ''}"
                               + ("" if m.get("proven") else " (the minimum is not proven)")))
        content = (page.table(["data", "least failures that lose it", "for example", "loses", "proven"], rows,
                              row_attrs=({"data_minimum": what} for what in sorted(minima)))
                   + "".join(page.figure(f.svg, f.mode) for f in figures))
        body.append(page.section("The least node failures that lose data", content, id_="minima"))
    body.append("<footer>Written by placement check; one self-contained file (no network, no script).</footer>")
    return page.html_page(title, "\n".join(body))


def _lost_subcaption(view) -> str:
    replicas = sum(1 for n in view.nodes if n.state == "failed" for r in n.replicas)
    data = sum(1 for n in view.nodes for r in n.replicas if r.state == DATA_LOST)
    return (f"{len(view.failed):,} failed node{'s' if len(view.failed) != 1 else ''} held {replicas:,} replica"
            f"{'s' if replicas != 1 else ''}; {len(view.data_lost):,} volume{'s' if len(view.data_lost) != 1 else ''} "
            f"lose every replica ({data:,} replica{'s' if data != 1 else ''} marked DATA LOST)")


SHOWN = 200  # rows of a list on a page before it is summarised (the JSON has them all)
# nodes stopped for maintenance (scene's "stopped" state), styled on these pages only (over the figures'
# own scoped style, hence !important)
STOPPED_STYLE = """<style>
svg.placement .node-box.stopped { fill: #fff3d6 !important; stroke: #a06a00 !important; stroke-width: 2 !important;
                                  stroke-dasharray: 8 3 2 3 !important; }
svg.placement .node-state.stopped { fill: #a06a00 !important; }
svg.placement .broker.stops { fill: #fff !important; stroke: #a06a00 !important; stroke-dasharray: 4 2 !important; }
svg.placement .replica.stopped { fill: #f3ead6 !important; stroke: #a06a00 !important;
                                 stroke-dasharray: 3 2 !important; }
svg.placement .heat.stopped { fill: #e0a526 !important; }
</style>"""
DRAWN_WAVES = 12  # waves drawn one figure each; more are listed only


def _asked(min_replicas) -> str:
    volumes = (f"every volume keeps at least {min_replicas} in-sync replica{'s' if min_replicas != 1 else ''}"
               if min_replicas is not None else
               "every volume keeps its replication factor minus one in-sync replicas (at least 1)")
    return f"{volumes} on running nodes, and every partition its min.insync.replicas on running brokers"


def _shortfall_rows(shortfalls: list[dict]) -> str:
    def where(s: dict) -> str:
        brokers = s.get("brokers") or []
        on = f"broker{'s' if len(brokers) != 1 else ''} {', '.join(map(str, brokers))} on " if brokers else ""
        return on + (", ".join(s["stopped"]) or "-")

    rows = [[f"{s['kind']} {s['name']}", s["current"], s["needed"], s["before"], where(s),
             "yes" if s["alreadyShort"] else "no"] for s in shortfalls[:SHOWN]]
    more = (f"<p>… and {len(shortfalls) - SHOWN:,} more (the JSON output lists every one).</p>"
            if len(shortfalls) > SHOWN else "")
    return page.table(["volume or partition", "current", "needed", "before", "stopped with", "already short"], rows,
                      numeric=(1, 2, 3), row_attrs=({"data_short": f"{s['kind']} {s['name']}"}
                                                    for s in shortfalls[:SHOWN])) + more


def ok_to_stop_page(cluster: Cluster, result: dict[str, Any]) -> str:
    e = svg.esc
    nodes = result.get("nodes") or []
    ok = bool(result.get("okToStop"))
    answer, cls = ("YES", "good") if ok else ("NO", "bad")
    title = f"May {', '.join(nodes) or 'no node'} of {cluster.name} stop now?"
    body = [STOPPED_STYLE, f"<header><h1>{e(title)}</h1><p class=\"verdict {cls}\" "
            f"data-verdict=\"{answer.lower()}\">{answer}</p></header>"]
    shortfalls = result.get("shortfalls") or []
    already = sum(1 for s in shortfalls if s["alreadyShort"])
    verdict = ("every volume and partition keeps what it needs with these nodes stopped" if ok else
               f"{len(shortfalls):,} volume{'s' if len(shortfalls) != 1 else ''} or partition"
               f"{'s' if len(shortfalls) != 1 else ''} would fall short"
               + (f"; {already:,} of them already were before stopping anything: repair them first (placement plan)"
                  if already else ""))
    facts = [("Verdict", e(verdict)), ("Asked", e(_asked(result.get("minReplicas")) + ", no step taken"))]
    facts += [("Note", e(n)) for n in result.get("notes") or []]
    body.append(page.section("In words", page.facts(facts), id_="summary"))
    if shortfalls:
        body.append(page.section("What would fall short", _shortfall_rows(shortfalls), id_="shortfalls"))
    view = scene(cluster, stopped=nodes)
    figure = draw_cluster(view, prefix="ok-to-stop", caption=f"{cluster.name} with {', '.join(nodes) or 'nothing'} "
                          "stopped",
                          subcaption="replicas on the stopped nodes are kept but do not serve while they are down")
    body.append(page.figure(legend("ok-to-stop-legend", stale=any(v.stale for v in cluster.volumes), stopped=True)))
    body.append(page.section("The cluster with the nodes stopped", page.figure(figure.svg, figure.mode),
                             id_="stopped"))
    body.append("<footer>Written by placement check --ok-to-stop; one self-contained file (no network, no script)."
                "</footer>")
    return page.html_page(title, "\n".join(body))


def waves_page(cluster: Cluster, result: dict[str, Any]) -> str:
    e = svg.esc
    waves = result.get("waves") or []
    cap = f", at most {result['maxWave']} nodes each" if result.get("maxWave") else ""
    title = f"Maintenance waves for {cluster.name}{cap}"
    if not result.get("possible", True):
        answer, cls = "NONE CAN EXIST", "bad"
    elif result.get("proven"):
        answer, cls = f"{len(waves)} WAVES, PROVEN LEAST", "good"
    else:
        answer, cls = f"{len(waves)} WAVES, AT LEAST {result.get('lowerBound')} NEEDED", "unproven"
    body = [STOPPED_STYLE, f"<header><h1>{e(title)}</h1><p class=\"verdict {cls}\" "
            f"data-verdict=\"{e(answer.lower())}\">{e(answer)}</p></header>"]
    facts = [("Asked", e("each wave stops while every other node runs; " + _asked(result.get("minReplicas")))),
             ("Nodes to maintain", e(f"{result.get('nodes', 0):,}"))]
    if result.get("possible", True):
        facts.append(("Lower bound", e(f"{result.get('lowerBound')}: {result.get('certificate', {}).get('why', '')}")))
        facts.append(("Conflicts", e(f"{result.get('conflictingPairs', 0):,} pairs of nodes cannot share a wave")))
    facts += [("Note", e(n)) for n in result.get("notes") or []]
    body.append(page.section("In words", page.facts(facts), id_="summary"))
    if not result.get("possible", True):
        body.append(page.section("What forbids it", _shortfall_rows(result.get("blocking") or []), id_="blocking"))
    else:
        zone = {n.name: n.zone for n in cluster.nodes}
        rows = [[i, len(w), ", ".join(sorted({zone[n] for n in w})),
                 ", ".join(w[:40]) + (f" … ({len(w) - 40:,} more)" if len(w) > 40 else "")]
                for i, w in enumerate(waves, 1)]
        body.append(page.section("The waves", page.table(["wave", "nodes", "zones", "which"], rows, numeric=(0, 1),
                                                          row_attrs=({"data_wave": str(i)}
                                                                     for i in range(1, len(waves) + 1))), id_="waves"))
        conflicts = result.get("conflicts") or []
        if conflicts:
            items = "".join(f"<li data-conflict=\"{e(' '.join(c['nodes']))}\">{e(c['message'])}</li>"
                            for c in conflicts)
            body.append(page.section("Why these nodes cannot share a wave", f"<ul>{items}</ul>", id_="conflicts"))
        figures = []
        for i, w in enumerate(waves[:DRAWN_WAVES], 1):
            view = scene(cluster, stopped=w)
            figures.append(draw_cluster(view, prefix=f"wave-{i}", caption=f"Wave {i}: {len(w):,} node"
                                        f"{'s' if len(w) != 1 else ''} stopped",
                                        subcaption="every volume and partition keeps what it needs meanwhile"))
        if figures:
            more = (f"<p>The first {DRAWN_WAVES} of {len(waves):,} waves are drawn.</p>"
                    if len(waves) > DRAWN_WAVES else "")
            body.append(page.figure(legend("waves-legend", stale=any(v.stale for v in cluster.volumes), stopped=True)))
            body.append(page.section("Each wave stopped", "".join(page.figure(f.svg, f.mode) for f in figures) + more,
                                     id_="drawn"))
    body.append("<footer>Written by placement check --waves; one self-contained file (no network, no script).</footer>")
    return page.html_page(title, "\n".join(body))

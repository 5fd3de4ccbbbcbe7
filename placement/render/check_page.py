"""``placement check --format html``: the verdict, the counterexample drawn as the cluster with
its failed nodes and what they lose, and the least failures that lose data.

Built from the cluster and the check's document (``ResilienceResult.to_document``).
"""
from __future__ import annotations

from typing import Any

from placement.models.cluster import Cluster
from placement.render import page, svg
from placement.render.cluster_figure import draw_cluster, legend
from placement.render.plan_page import failed_words
from placement.render.scene import DATA_LOST, DOWN, scene
from placement.render.tables import FIXES  # the advice the table output gives, in one place

def _question(result: dict[str, Any]) -> str:
    asked = []
    k = result.get("failures") or 0
    if k:
        asked.append(f"any {k} node failure{'s' if k != 1 else ''}")
    if result.get("zones"):
        asked.append("each whole zone failing")
    return " and ".join(asked) or "no failure"


def check_page(cluster: Cluster, result: dict[str, Any]) -> str:
    e = svg.esc
    tolerates = result.get("tolerates")
    answer, cls = {True: ("YES", "good"), False: ("NO", "bad"), None: ("UNDECIDED", "unproven")}[tolerates]
    title = f"Does {cluster.name} survive {_question(result)}?"
    body = [f"<header><h1>{e(title)}</h1><p class=\"verdict {cls}\" data-verdict=\"{e(answer.lower())}\">"
            f"{e(answer)}</p></header>"]
    counts = (f"{result.get('scenarios', 0):,} failure scenarios considered: {result.get('solved', 0):,} solved, "
              f"{result.get('bounded', 0):,} decided without a solver, {result.get('pruned', 0):,} pruned (a smaller "
              f"set already loses data), {result.get('symmetric', 0):,} covered by symmetry; "
              f"{result.get('failing', 0):,} not survived, {result.get('undecided', 0):,} undecided")
    facts = [("Verdict", e({True: "every scenario is survived: no volume loses its data and a recovery meeting "
                                  "every invariant exists for each",
                            False: "not every scenario is survived; the smallest one that is not is drawn below",
                            None: "some scenarios were not decided within the time limit (raise --time-limit); "
                                  "none of the decided ones failed"}[tolerates])),
             ("Scenarios", e(counts))]
    body.append(page.section("In words", page.facts(facts), id_="summary"))
    has_stale = any(v.stale for v in cluster.volumes)
    body.append(page.figure(legend("check-legend", stale=has_stale)))

    c = result.get("counterexample")
    if c:
        failed = c.get("failed") or []
        view = scene(cluster, failed=failed)
        lost = c.get("dataLost") or list(view.data_lost)
        down = [b.broker for n in view.nodes for b in n.brokers if b.state == DOWN]
        words = [f"If {failed_words(cluster, failed)} fail{'s' if len(failed) == 1 else ''}: "]
        if lost:
            words.append(f"{len(lost):,} volume{'s' if len(lost) != 1 else ''} lose{'s' if len(lost) == 1 else ''} "
                         f"every replica (DATA LOST): {', '.join(lost[:12])}{' …' if len(lost) > 12 else ''}. ")
        if down:
            words.append(f"broker{'s' if len(down) != 1 else ''} {', '.join(map(str, down[:12]))} "
                         f"{'go' if len(down) != 1 else 'goes'} down. ")
        figure = draw_cluster(view, prefix="check-counterexample",
                              caption=f"The counterexample: {failed_words(cluster, failed)} failing",
                              subcaption=_lost_subcaption(view))
        violations = c.get("violations") or []
        fixes = sorted({v.get("invariant") for v in violations if v.get("invariant") in FIXES})
        fix_list = "".join(f"<li><span class=\"inv\">{e(i)}</span>: {e(FIXES[i])}</li>" for i in fixes)
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

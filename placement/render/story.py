"""``placement demo --html DIR``: the seed story as pictures, one SVG per act and an index.html.

An act is told by one or more panels, each a cluster state with, optionally, a
plan or failed nodes, drawn by ``draw_cluster``; panels of one act stand side
by side (two ways of telling the same moment can be compared). What is drawn
comes from the clusters and plans alone, so an act whose cluster has stale
replicas (a node back from a failure) shows them as such with no change here.

The output is deterministic (no times, no dates): ``make docs`` regenerates
the copies under docs/, and a test fails when they are stale.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from placement.models.cluster import Cluster
from placement.models.errors import InputError, Problem
from placement.render import page, svg
from placement.render.cluster_figure import draw_cluster, legend
from placement.render.scene import scene

PANEL_GAP = 24


@dataclass(frozen=True)
class Panel:
    caption: str
    cluster: Cluster
    plan: dict[str, Any] | None = None  # a plan document drawn on the cluster
    failed: tuple[str, ...] = ()  # nodes drawn as failed (without a plan)
    subcaption: str = ""


@dataclass(frozen=True)
class Act:
    number: int
    title: str
    text: str  # the act told in words
    panels: tuple[Panel, ...]

    @property
    def file_name(self) -> str:
        return f"act-{self.number}.svg"


def act_svg(act: Act) -> str:
    """One SVG for the act: its title, then its panels side by side."""
    figures = [draw_cluster(scene(p.cluster, p.plan, p.failed), prefix=f"act{act.number}-panel{i + 1}",
                            caption=p.caption, subcaption=p.subcaption) for i, p in enumerate(act.panels)]
    head = 40
    x = 0.0
    inner = []
    for f in figures:
        inner.append(f.svg.replace("<svg ", f'<svg x="{svg.num(x)}" y="{head}" ', 1))
        x += f.width + PANEL_GAP
    width = max(x - PANEL_GAP, 400)
    height = head + max((f.height for f in figures), default=0)
    title = f"Act {act.number}. {act.title}"
    body = svg.text(16, 27, title, cls="caption") + "".join(inner)
    return svg.svg_document(body, width, height, prefix=f"act{act.number}", label=f"{title}: {act.text}")


MARK = "Written by placement demo --html"  # in the footer of every index.html it writes


def check_story_directory(directory: str | Path) -> None:
    """Refuse, before any work, a directory holding an index.html or act-N.svg that placement did not write: the
    story would be written over them. Its own earlier pictures (an index.html with its mark) are rewritten."""
    out = Path(directory)
    index = out / "index.html"
    try:
        ours = index.is_file() and MARK in index.read_text(encoding="utf-8", errors="replace")
        theirs = [p.name for p in sorted(out.glob("act-*.svg")) + ([index] if index.exists() else []) if not ours]
    except OSError:
        return  # not a directory that can be read: writing says why
    if theirs:
        raise InputError(str(out), Problem("--html", f"holds {', '.join(theirs[:5])}, not written by placement demo, which "
                                                     "the story's pictures would replace; give a new or empty directory"))


def write_story(directory: str | Path, acts: list[Act], *, title: str, introduction: str,
                epilogue: str = "") -> list[Path]:
    """Write one SVG per act and an index.html that shows them all (inline, so it stands alone)."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
        return _write(out, acts, title, introduction, epilogue)
    except OSError as exc:
        raise InputError(str(out), Problem("", f"the pictures cannot be written there ({exc.strerror or exc}); "
                                               "give a directory you can write to")) from None


def _write(out: Path, acts: list[Act], title: str, introduction: str, epilogue: str) -> list[Path]:
    written = []
    sections = []
    for act in acts:
        drawing = act_svg(act)
        path = out / act.file_name
        path.write_text(drawing + "\n", encoding="utf-8")
        written.append(path)
        sections.append(page.section(f"Act {act.number}. {act.title}",
                                     f"<p>{svg.esc(act.text)}</p>" + page.figure(drawing)
                                     + f"<p class=\"mode\">The same figure alone: <a href=\"{act.file_name}\">"
                                       f"{act.file_name}</a></p>", id_=f"act-{act.number}"))
    stale = any(v.stale for a in acts for p in a.panels for v in p.cluster.volumes)
    body = (f"<header><h1>{svg.esc(title)}</h1></header><p>{svg.esc(introduction)}</p>"
            + page.figure(legend("story-legend", stale=stale)) + "\n".join(sections)
            + (page.section("Epilogue", f"<p>{svg.esc(epilogue)}</p>", id_="epilogue") if epilogue else "")
            + f"<footer>{MARK}; regenerate with make docs.</footer>")
    index = out / "index.html"
    index.write_text(page.html_page(title, body), encoding="utf-8")
    written.append(index)
    return written


def seed_story(cluster: Cluster, failed_node: str, plan, recovered: Cluster, returns,
               check) -> tuple[list[Act], str, str]:
    """The acts of ``placement demo`` (DESIGN.md's story), the introduction and the epilogue, from its
    results; ``returns`` (``placement.render.demo.NodeReturns``) tells act 4's two stories."""
    owner = next(b for b in cluster.brokers if b.node == failed_node)
    lost = [v.name for v in cluster.volumes if failed_node in v.replicas]
    moved_to = plan.placement.brokers[owner.id]
    document = plan.to_document()
    timeline = document["metrics"].get("timeline", {})
    volume, partition = check.minima if check.minima else (None, None)
    waited, rebuilt = returns.waited, returns.rebuilt
    again = rebuilt.plan
    stays = again.placement.brokers.get(owner.id) == moved_to and waited.plan.placement.brokers.get(owner.id) == moved_to
    rebuilt_on = sorted({n for v, nodes in plan.placement.volumes.items() for n in nodes
                         if n not in cluster.volume[v].replicas})
    behind = ", ".join(f"{v} {g:g} GiB" for v, g in waited.behind.items())
    acts = [
        Act(1, "The cluster",
            f"{len(cluster.nodes)} nodes in {len(cluster.zones)} zones, {len(cluster.brokers)} Kafka brokers, "
            f"{len(cluster.partitions)} partitions at Kafka RF 2; every Portworx volume has 3 replicas, and each "
            "broker runs on a node that holds a replica of its volume.",
            (Panel("The seed cluster", cluster, subcaption="every volume at RF 3; zones as bands, nodes as boxes"),)),
        Act(2, f"{failed_node} fails",
            f"Broker {owner.id} and the replicas of {', '.join(lost)} on {failed_node} are gone; every volume still "
            "has two replicas, so no data is lost.",
            (Panel(f"{failed_node} fails", cluster, failed=(failed_node,),
                   subcaption=f"broker {owner.id} is down; {len(lost)} replicas are lost with the node"),)),
        Act(3, "The recovery plan",
            f"Broker {owner.id} is rescheduled onto {moved_to}, which already holds a replica of its volume, so it "
            "serves after a pod start and a short offset catch-up; Portworx builds a new replica of each volume "
            f"on another node ({document['metrics'].get('copiedGiB', 0):g} GiB copied), so RF 3 holds again"
            + (f" after ~{svg.seconds(timeline['fullRedundancySeconds'])}" if timeline else "") + ". The plan is "
            f"{plan.status.value}, and its steps are proven safe in every order they allow.",
            (Panel("The recovery", cluster, document,
                   subcaption=f"status {plan.status.value}; green arrows: new replicas (source → destination); "
                              "dashed: the broker move"),)),
        Act(4, f"{failed_node} comes back",
            f"Two ways to live through {failed_node}'s absence, each planned by placement when it returns. "
            f"(a) Portworx waited for {failed_node}: its volumes kept 2 replicas meanwhile, and its replicas come "
            f"back stale ({behind} behind, the writes made while it was away); the plan resyncs them "
            f"({waited.copied_gib:g} GiB copied, status {waited.plan.status.value}), so the volumes ran at reduced "
            f"redundancy for {svg.seconds(waited.reduced_seconds)}. (b) Rebuilt at once on {', '.join(rebuilt_on)} "
            f"(act 3): {rebuilt.copied_gib:g} GiB copied, RF 3 again after ~{svg.seconds(rebuilt.resync_seconds)}; "
            f"{failed_node} returns empty and the plan then copies {again.metrics.get('copiedGiB', 0):g} GiB "
            f"(status {again.status.value}). Either way broker {owner.id} "
            f"{'stays on ' + moved_to if stays else 'moves'}: the desired broker count already holds.",
            (Panel(f"(a) Portworx waited for {failed_node}", waited.cluster, waited.plan.to_document(),
                   subcaption=f"{waited.copied_gib:g} GiB resynced; reduced redundancy for "
                              f"{svg.seconds(waited.reduced_seconds)}"),
             Panel(f"(b) Rebuilt at once on {', '.join(rebuilt_on)}", rebuilt.cluster, again.to_document(),
                   subcaption=f"{rebuilt.copied_gib:g} GiB copied; reduced redundancy for "
                              f"{svg.seconds(rebuilt.reduced_seconds)}"))),
    ]
    if volume is not None and volume.witness:
        acts.append(Act(
            5, "Would it survive worse?",
            f"Any 2 of the {len(cluster.nodes)} nodes failing, or any whole zone ({check.scenarios} scenarios): "
            f"{'survived, every one' if check.tolerates else 'NOT always survived'}. Losing data takes at least "
            f"{volume.failures} node failures for a volume and {partition.failures} for a Kafka partition "
            f"(proven); here are {volume.failures} that lose a volume.",
            (Panel(f"The fewest failures that lose a volume: {', '.join(volume.witness)}", cluster,
                   failed=tuple(volume.witness), subcaption="DATA LOST: " + ", ".join(volume.loses)),)))
    introduction = ("The story every Kafka-on-Portworx operator knows, told by placement demo: a node fails, its "
                    "broker is rescheduled onto a node that already holds its data while Portworx re-replicates, "
                    "and the node comes back. Each act is one figure; every shape has a label or a tooltip.")
    epilogue = (f"Recovered cluster: {', '.join(f'broker {b.id} on {b.node}' for b in recovered.brokers)}. "
                "Run it yourself: placement demo --html DIR.")
    return acts, introduction, epilogue

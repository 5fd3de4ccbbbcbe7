"""Draw a cluster state and what a plan does to it: zones as bands, nodes as boxes, brokers and
volume replicas on them, arrows for copies and broker moves.

One function, ``draw_cluster``, draws every such picture (a plan, a check's
counterexample, each act of the demo) from a ``Scene``. Its level of detail
follows the size of what changed, so a large plan stays readable and small:

- a cluster of up to ``SMALL_CLUSTER`` nodes is drawn node by node; a larger
  one gets a strip per zone with one bar per node (storage use after the plan,
  failed nodes cross-hatched, a tick under each broker), and only the nodes the
  failure or the plan touches are drawn as boxes;
- up to ``FULL_BOXES`` boxes show each replica and broker by name; more boxes
  are compact (counts in words, a segmented bar with the names in titles);
- up to ``ARROW_LIMIT`` copies and moves are drawn one arrow each; more are
  bundled per pair of zones, with their count and size written on the bundle
  (every single one stays listed on the page that holds the figure).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from placement.render import svg
from placement.render.scene import (ARRIVES, CANNOT_RUN, DATA_LOST, DOWN, DROPPED, LEAVES, LOST, NEW, REPLICA_ORDER,
                                    RETIRED, STOPS, NodeView, Scene)

SMALL_CLUSTER = 40  # nodes: every node drawn as a box
FULL_BOXES = 24  # boxes: each replica and broker drawn by name
FULL_CHIPS = 16  # replicas and brokers on one node, at most, for the full boxes
ARROW_LIMIT = 60  # copies and moves drawn one arrow each

MARGIN = 16
LABEL_W = 150
HEAD_H = 50
FULL_W, FULL_GAP_X, FULL_GAP_Y = 250, 130, 26
COMPACT_W, COMPACT_H, COMPACT_GAP = 150, 68, 10
BROKER_H, REPLICA_H = 18, 17
STRIP_H, STRIP_ROW = 24, 38
BUNDLE_W = 330


@dataclass(frozen=True)
class Figure:
    svg: str
    width: float
    height: float
    mode: str  # how it was drawn, in words, for the page that shows it


@dataclass
class _Box:
    view: NodeView
    x: float
    y: float
    w: float
    h: float
    replica_y: dict[str, float] = field(default_factory=dict)  # volume -> chip centre
    broker_y: dict[int, float] = field(default_factory=dict)

    def anchor_y(self, volume: str | None = None, broker: int | None = None) -> float:
        if volume is not None and volume in self.replica_y:
            return self.replica_y[volume]
        if broker is not None and broker in self.broker_y:
            return self.broker_y[broker]
        return self.y + self.h / 2


def draw_cluster(scene: Scene, *, prefix: str, caption: str, subcaption: str = "") -> Figure:
    summarise = len(scene.nodes) > SMALL_CLUSTER
    drawn = [n for n in scene.nodes if n.touched] if summarise else list(scene.nodes)
    full = len(drawn) <= FULL_BOXES and all(len(n.replicas) + len(n.brokers) <= FULL_CHIPS for n in drawn)
    one_by_one = len(scene.copies) + len(scene.moves) <= ARROW_LIMIT
    box_w, gap_x = (FULL_W, FULL_GAP_X) if full else (COMPACT_W, COMPACT_GAP)
    per_zone = defaultdict(list)
    for n in drawn:
        per_zone[n.zone].append(n)
    cols = max(1, min(4 if full else 6, max((len(v) for v in per_zone.values()), default=1)))
    if summarise:
        cols = 4 if full else 6  # the strips need the width anyway
    content_x = MARGIN + LABEL_W
    content_w = cols * (box_w + gap_x) - (0 if one_by_one and full else gap_x)
    width = content_x + content_w + (0 if one_by_one else BUNDLE_W) + MARGIN
    width = max(width, 560)

    parts: list[str] = [svg.text(MARGIN, 22, caption, cls="caption")]
    if subcaption:
        parts.append(svg.text(MARGIN, 40, subcaption, cls="subcaption"))
    boxes: dict[str, _Box] = {}
    zone_mid: dict[str, float] = {}
    views_by_zone = defaultdict(list)
    for n in scene.nodes:
        views_by_zone[n.zone].append(n)
    y = HEAD_H
    if summarise:  # first every node, one bar each, with the bundles between zones: the whole at a glance
        for zone in scene.zones:
            top = y
            strip, used = _strip(views_by_zone[zone], content_x, top + 6, content_w, scene.has_plan)
            bottom = top + max(used + 10, 96)
            parts.append(svg.rect(MARGIN, top, width - 2 * MARGIN, bottom - top, cls="zone-band", rx=6,
                                  tip=_zone_sentence(zone, views_by_zone[zone]), data_zone=zone))
            parts.append(_zone_label(zone, views_by_zone[zone], top))
            parts.append(strip)
            zone_mid[zone] = (top + bottom) / 2
            y = bottom + 8
        if drawn:
            parts.append(svg.text(MARGIN, y + 22, f"The {len(drawn):,} node{'s' if len(drawn) != 1 else ''} the "
                                  "failure or the plan touches, per zone", cls="caption"))
            y += 36
    for zone in scene.zones:
        zone_boxes = per_zone.get(zone, [])
        if summarise and not zone_boxes:
            continue
        top = y
        body: list[str] = []
        row_y = top + 10
        for start in range(0, len(zone_boxes), cols):
            row = zone_boxes[start:start + cols]
            drawn_row = []
            for i, view in enumerate(row):
                x = content_x + i * (box_w + gap_x)
                box = _full_box(view, x, row_y) if full else _compact_box(view, x, row_y)
                boxes[view.name] = box[0]
                drawn_row.append(box)
            body.extend(b[1] for b in drawn_row)
            row_y += max(b[0].h for b in drawn_row) + (FULL_GAP_Y if full else COMPACT_GAP)
        bottom = max(row_y - (FULL_GAP_Y if full else COMPACT_GAP) + 10, top + 84)
        parts.append(svg.rect(MARGIN, top, width - 2 * MARGIN, bottom - top, cls="zone-band", rx=6,
                              tip=_zone_sentence(zone, views_by_zone[zone]), data_zone=zone))
        parts.append(_zone_label(zone, views_by_zone[zone], top))
        parts.extend(body)
        if not summarise:
            zone_mid[zone] = (top + bottom) / 2
        y = bottom + 10

    # label boxes placed so far, the node boxes first, so that arrow labels keep clear of both
    labels: list[tuple[float, float, float, float]] = [(b.x - 2, b.y - 2, b.x + b.w + 2, b.y + b.h + 2)
                                                       for b in boxes.values()]
    if one_by_one:
        for c in scene.copies:
            if c.source in boxes and c.target in boxes:
                words = f"{svg.fit(c.volume, gap_x - 60, 10.5)} · {svg.gib(c.gib)}"
                parts.append(_arrow(boxes[c.source], boxes[c.target], c.volume, None, words, c.sentence, "copy",
                                    labels, data_copy=c.key))
        for m in scene.moves:
            if m.source in boxes and m.target in boxes:
                parts.append(_arrow(boxes[m.source], boxes[m.target], None, m.broker,
                                    f"broker {m.broker} moves", m.sentence, "move", labels, data_move=m.key))
    else:
        parts.append(_bundles(scene, zone_mid, content_x + content_w + 12, labels))
    height = y + 6
    mode = _mode_words(scene, summarise, full, one_by_one, len(drawn))
    label = f"{caption}. {subcaption}".strip(" .")
    return Figure(svg.svg_document("".join(parts), width, height, prefix=prefix, label=label), width, height, mode)


def _mode_words(scene: Scene, summarise: bool, full: bool, one_by_one: bool, drawn: int) -> str:
    words = []
    if summarise:
        when = "after the plan" if scene.has_plan else "now"
        words.append(f"{drawn:,} of {len(scene.nodes):,} nodes are drawn as boxes (those the failure or the plan "
                     f"touches); every node is a bar in its zone's strip (height and shade: storage use {when}; "
                     "cross-hatched: failed; dotted: cordoned), with a tick under each broker")
    if not full:
        words.append("boxes are compact: replicas are counted in words and in a segmented bar whose parts name "
                     "their volumes on hover")
    if not one_by_one and (scene.copies or scene.moves):
        words.append(f"the {len(scene.copies):,} copies and {len(scene.moves):,} broker moves are bundled per pair "
                     "of zones, each bundle labelled with its count and size; every one is listed below")
    return "; ".join(words)


def _zone_sentence(zone: str, views: list[NodeView]) -> str:
    failed = sum(1 for v in views if v.state == "failed")
    stopped = sum(1 for v in views if v.state == "stopped")
    return f"zone {zone}: {len(views)} nodes, {failed} failed" + (f", {stopped} stopped" if stopped else "")


def _zone_label(zone: str, views: list[NodeView], top: float) -> str:
    failed = sum(1 for v in views if v.state == "failed")
    cordoned = sum(1 for v in views if v.state == "cordoned")
    stopped = sum(1 for v in views if v.state == "stopped")
    new = sum(v.count(NEW) for v in views)
    lines = [f"{len(views):,} node{'s' if len(views) != 1 else ''}"]
    if failed:
        lines.append("all failed" if failed == len(views) else f"{failed:,} failed")
    if stopped:
        lines.append("all stopped" if stopped == len(views) else f"{stopped:,} stopped")
    if cordoned:
        lines.append(f"{cordoned:,} cordoned")
    if new:
        lines.append(f"+{new:,} new replica{'s' if new != 1 else ''}")
    out = [svg.text(MARGIN + 10, top + 22, svg.fit(zone, LABEL_W - 16, 13), cls="zone-label", tip=f"zone {zone}")]
    for i, words in enumerate(lines):
        out.append(svg.text(MARGIN + 10, top + 40 + 14 * i, svg.fit(words, LABEL_W - 16), cls="zone-note"))
    return "".join(out)


def _state_word(view: NodeView) -> str:
    return {"failed": "FAILED", "cordoned": "CORDONED", "stopped": "STOPPED"}.get(view.state, "ready")


def _storage_bar(view: NodeView, x: float, y: float, w: float, h: float) -> str:
    if view.storage_gib <= 0:
        return svg.rect(x, y, w, h, cls="bar-back", tip=view.storage_words)
    before = min(view.used_before_gib / view.storage_gib, 1)
    after = min(view.used_after_gib / view.storage_gib, 1) if view.state != "failed" else 0
    return svg.group(
        svg.rect(x, y, w, h, cls="bar-back")
        + svg.rect(x, y, w * before, h / 2, cls="bar-before")
        + (svg.rect(x, y + h / 2, w * after, h / 2, cls="bar-after") if after else ""),
        tip=f"storage of {view.name}: {view.storage_words} (upper half: before; lower half: after the plan)")


def _cross(x: float, y: float, w: float, h: float) -> str:
    return svg.line(x + 3, y + 3, x + w - 3, y + h - 3, cls="cross") + svg.line(x + w - 3, y + 3, x + 3, y + h - 3,
                                                                                   cls="cross")


def _node_classes(view: NodeView) -> str:
    cls = ["node-box"]
    if view.state in ("failed", "cordoned", "stopped"):
        cls.append(view.state)
    if view.storage_gib <= 0:
        cls.append("storageless")
    if view.touched:
        cls.append("touched")
    return " ".join(cls)


def _full_box(view: NodeView, x: float, y: float) -> tuple[_Box, str]:
    w = FULL_W
    h = 56 + len(view.brokers) * (BROKER_H + 3) + len(view.replicas) * (REPLICA_H + 2) + 6
    box = _Box(view, x, y, w, h)
    inner: list[str] = [
        svg.rect(x, y, w, h, cls=_node_classes(view), rx=5),
        svg.text(x + 8, y + 16, svg.fit(view.name, w - 90, 12), cls="node-name"),
        svg.text(x + w - 8, y + 16, _state_word(view), cls=f"node-state {view.state}", anchor="end"),
        _storage_bar(view, x + 8, y + 24, w - 16, 8),
        svg.text(x + 8, y + 46, svg.fit(view.storage_words, w - 16, 9.5), cls="bar-text"),
    ]
    cy = y + 54
    for b in view.brokers:
        box.broker_y[b.broker] = cy + BROKER_H / 2
        inner.append(svg.group(
            svg.rect(x + 8, cy, w - 16, BROKER_H, cls=f"broker {b.state}", rx=8)
            + svg.text(x + 16, cy + 12.5, svg.fit(b.short, w - 32)),
            cls="broker-chip", tip=b.sentence, data_broker=b.broker, data_node=view.name, data_state=b.state))
        cy += BROKER_H + 3
    for r in view.replicas:
        box.replica_y.setdefault(r.volume, cy + REPLICA_H / 2)
        cls = f"replica {r.state}" + (" stale" if r.stale_gib is not None else "")
        short_room = min(svg.text_width(r.short, 10) + 4, (w - 30) * 0.7) if r.short else 0
        name_room = w - 34 - short_room
        chip = [svg.rect(x + 8, cy, w - 16, REPLICA_H, cls=cls, rx=3),
                svg.text(x + 13, cy + 12, svg.fit(r.volume, name_room, 10.5),
                         cls="data-lost" if r.state == DATA_LOST else "")]
        if r.short:
            chip.append(svg.text(x + w - 13, cy + 12, svg.fit(r.short, short_room, 10), anchor="end",
                                 cls="data-lost" if r.state == DATA_LOST else ""))
        if r.state in (DROPPED, LOST, DATA_LOST):
            chip.append(svg.line(x + 11, cy + REPLICA_H / 2, x + 13 + min(svg.text_width(r.volume, 10.5), name_room),
                                 cy + REPLICA_H / 2, cls="strike"))
        inner.append(svg.group("".join(chip), cls="replica-chip", tip=r.sentence, data_volume=r.volume,
                               data_node=view.name, data_state=r.state))
        cy += REPLICA_H + 2
    if view.state == "failed":
        inner.append(_cross(x, y, w, h))
    return box, svg.group("".join(inner), cls="node", tip=view.sentence, data_node=view.name,
                          data_state=view.state)


def _compact_box(view: NodeView, x: float, y: float) -> tuple[_Box, str]:
    w, h = COMPACT_W, COMPACT_H
    box = _Box(view, x, y, w, h)
    inner: list[str] = [
        svg.rect(x, y, w, h, cls=_node_classes(view), rx=4),
        svg.text(x + 6, y + 13, svg.fit(view.name, w - 60, 11), cls="node-name"),
        svg.text(x + w - 6, y + 13, _state_word(view), cls=f"node-state {view.state}", anchor="end"),
        _storage_bar(view, x + 6, y + 18, w - 12, 6),
    ]
    if view.storage_gib > 0:
        pct = (f"{100 * view.used_before_gib / view.storage_gib:.0f}%"
               + ("" if view.state == "failed" or view.used_after_gib == view.used_before_gib
                  else f" → {100 * view.used_after_gib / view.storage_gib:.0f}%"))
    else:
        pct = "no storage"
    inner.append(svg.text(x + 6, y + 36, pct, cls="bar-text", tip=view.storage_words))
    bx = x + w - 6
    for b in reversed(view.brokers):
        mark = {ARRIVES: "←", LEAVES: "→", DOWN: "✕", CANNOT_RUN: "!", RETIRED: "−",
                STOPS: "‖"}.get(b.state, "")
        words = f"b{b.broker}{mark}"
        bw = svg.text_width(words, 9.5) + 8
        bx -= bw
        box.broker_y[b.broker] = y + 32
        inner.append(svg.group(svg.rect(bx, y + 27, bw, 12, cls=f"broker {b.state}", rx=6)
                               + svg.text(bx + 4, y + 36, words, cls="bar-text"),
                               cls="broker-chip", tip=b.sentence, data_broker=b.broker, data_node=view.name,
                               data_state=b.state))
        bx -= 3
    total = len(view.replicas)
    if total:
        sx = x + 6
        for state in REPLICA_ORDER:
            marks = [r for r in view.replicas if r.state == state]
            if not marks:
                continue
            sw = (w - 12) * len(marks) / total
            stale = any(r.stale_gib is not None for r in marks)
            names = ", ".join(r.volume + (f" (from {r.source})" if r.source else "") for r in marks[:12])
            more = f" and {len(marks) - 12} more" if len(marks) > 12 else ""
            inner.append(svg.rect(sx, y + 44, sw, 8, cls=f"replica {state}" + (" stale" if stale else ""),
                                  tip=f"{len(marks)} {state.replace('-', ' ')} on {view.name}: {names}{more}"))
            sx += sw
    inner.append(svg.text(x + 6, y + 63, svg.fit(view.tally, w - 12, 9.5), cls="bar-text"))
    if view.state == "failed":
        inner.append(_cross(x, y, w, h))
    return box, svg.group("".join(inner), cls="node", tip=view.sentence, data_node=view.name,
                          data_state=view.state)


def _heat_class(view: NodeView) -> tuple[str, float]:
    if view.state == "failed":
        return "heat failed", 1.0
    if view.state == "stopped":
        return "heat stopped", 1.0
    if view.storage_gib <= 0:
        return "heat q0", 0.04
    frac = min(view.used_after_gib / view.storage_gib, 1.0)
    cls = "heat cordoned" if view.state == "cordoned" else f"heat q{min(int(frac * 4), 3)}"
    return cls, max(frac, 0.04)


def _strip(views: list[NodeView], x0: float, y0: float, width: float, planned: bool) -> tuple[str, float]:
    """One bar per node: storage use (after the plan, if any; height and shade), failed cross-hatched; a tick
    under each broker."""
    cw = max(2.0, min(10.0, width / max(len(views), 1)))
    per_row = max(1, min(len(views), int(width / cw + 1e-6)))
    rows = math.ceil(len(views) / per_row)
    when = "after the plan" if planned else "now"
    out = [svg.text(x0, y0 + 10, f"storage use {when}, one bar per node (cross-hatched: failed); ▲ a broker "
                    f"(where it runs {when})", cls="zone-note")]
    top = y0 + 16
    for r in range(rows):
        out.append(svg.rect(x0, top + r * STRIP_ROW, per_row * cw if r < rows - 1 else
                            (len(views) - r * per_row) * cw, STRIP_H, cls="heat-back"))
    for i, view in enumerate(views):
        cx = x0 + (i % per_row) * cw
        cy = top + (i // per_row) * STRIP_ROW
        cls, frac = _heat_class(view)
        bh = STRIP_H * frac
        out.append(svg.rect(cx, cy + STRIP_H - bh, cw, bh, cls=cls, tip=view.sentence, data_node=view.name,
                            data_state=view.state))
        ticks = [b for b in view.brokers if b.state not in (LEAVES,)]
        for k, b in enumerate(ticks):
            kind = "moved" if b.state == ARRIVES else ("cannot-run" if b.state in (CANNOT_RUN, DOWN, RETIRED) else "")
            tx, ty = cx + cw / 2, cy + STRIP_H + 2 + 6 * k
            out.append(svg.el("path", svg.title(b.sentence), d=f"M{svg.num(tx)} {svg.num(ty)}l3 5h-6z",
                              class_=f"broker-tick {kind}".strip(), data_broker=b.broker, data_node=view.name))
    return "".join(out), 16 + rows * STRIP_ROW + 4


def _curve(a: _Box, b: _Box, ya: float, yb: float, side: str) -> tuple[list[tuple[float, float]], str]:
    """A cubic Bézier from box a to box b: across the gap between them, or around their shared side."""
    if b.x >= a.x + a.w:  # b to the right
        p0, p3 = (a.x + a.w, ya), (b.x - 2, yb)
        bend = max(30.0, (p3[0] - p0[0]) / 2)
        p1, p2 = (p0[0] + bend, ya), (p3[0] - bend, yb)
    elif b.x + b.w <= a.x:  # b to the left
        p0, p3 = (a.x, ya), (b.x + b.w + 2, yb)
        bend = max(30.0, (p0[0] - p3[0]) / 2)
        p1, p2 = (p0[0] - bend, ya), (p3[0] + bend, yb)
    else:  # the same column: out of one side and back into it
        out = 1 if side == "right" else -1
        ex = a.x + a.w if out > 0 else a.x
        ex2 = b.x + b.w if out > 0 else b.x
        bend = 34 + min(abs(yb - ya) * 0.12, 40)
        p0, p3 = (ex, ya), (ex2 + 2 * out, yb)
        p1, p2 = (ex + out * bend, ya), (ex2 + out * bend, yb)
    pts = [p0, p1, p2, p3]
    d = "M{} {}C{} {} {} {} {} {}".format(*(svg.num(c) for p in pts for c in p))
    return pts, d


def _place_label(x: float, y: float, words: str, placed: list) -> tuple[float, float]:
    """Near (x, y), clear of the boxes and of the labels placed before (``placed``), where it can be."""
    w = svg.text_width(words, 10.5)
    for step in range(41):
        ty = y + (step + 1) // 2 * 7 * (1 if step % 2 else -1)
        box = (x - w / 2, ty - 10, x + w / 2, ty + 3)
        if not any(box[0] < p[2] and p[0] < box[2] and box[1] < p[3] and p[1] < box[3] for p in placed):
            placed.append(box)
            return x, ty
    placed.append((x - w / 2, y - 10, x + w / 2, y + 3))
    return x, y


def _arrow(a: _Box, b: _Box, volume: str | None, broker: int | None, words: str, sentence: str, kind: str,
           placed: list, **data) -> str:
    ya = a.anchor_y(volume=volume, broker=broker)
    yb = b.anchor_y(volume=volume, broker=broker)
    pts, d = _curve(a, b, ya, yb, "right" if kind == "copy" else "left")
    mx = (pts[0][0] + 3 * pts[1][0] + 3 * pts[2][0] + pts[3][0]) / 8
    my = (pts[0][1] + 3 * pts[1][1] + 3 * pts[2][1] + pts[3][1]) / 8
    lx, ly = _place_label(mx, my + 4, words, placed)
    return svg.group(svg.el("path", d=d, class_=f"{kind}-arrow")
                     + svg.text(lx, ly, words, cls=f"arrow-label {kind}", anchor="middle"),
                     cls=f"arrow {kind}", tip=sentence, **data)


def _bundles(scene: Scene, zone_mid: dict[str, float], x: float, placed: list) -> str:
    """Copies and moves aggregated per (from zone, to zone), drawn in the right margin."""
    zone_of = {n.name: n.zone for n in scene.nodes}
    flows: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for c in scene.copies:
        f = flows["copy", zone_of[c.source], zone_of[c.target]]
        f[0] += 1
        f[1] += c.gib
    for m in scene.moves:
        flows["move", zone_of[m.source], zone_of[m.target]][0] += 1
    if not flows:
        return ""
    most = max(f[0] for f in flows.values())
    out = []
    for i, ((kind, za, zb), (count, gib)) in enumerate(sorted(flows.items())):
        ya, yb = zone_mid[za] + (-8 if kind == "copy" else 8), zone_mid[zb] + (-8 if kind == "copy" else 8)
        width = 1.5 + 6 * count / most
        bend = 40 + 26 * (i % 6)
        if za == zb:
            d = (f"M{svg.num(x)} {svg.num(ya - 10)}C{svg.num(x + bend)} {svg.num(ya - 40)} "
                 f"{svg.num(x + bend)} {svg.num(ya + 40)} {svg.num(x + 2)} {svg.num(ya + 10)}")
            mx, my = x + bend * 0.75, ya
        else:
            d = (f"M{svg.num(x)} {svg.num(ya)}C{svg.num(x + bend)} {svg.num(ya)} "
                 f"{svg.num(x + bend)} {svg.num(yb)} {svg.num(x + 2)} {svg.num(yb)}")
            mx, my = x + bend * 0.75, (ya + yb) / 2
        if kind == "copy":
            words = f"{za} → {zb}: {count:,} new replica{'s' if count != 1 else ''}, {svg.gib(gib)}"
        else:
            words = f"{za} → {zb}: {count:,} broker move{'s' if count != 1 else ''}"
        w = svg.text_width(words, 10.5)
        lx, ly = _place_label(mx + 8 + w / 2, my + 4, words, placed)
        out.append(svg.group(
            svg.el("path", d=d, class_="bundle-arrow" + (" moves" if kind == "move" else ""),
                   stroke_width=svg.num(width))
            + svg.text(lx, ly, words, cls=f"arrow-label {kind}", anchor="middle"),
            cls=f"arrow bundle {kind}", tip=words, data_bundle=f"{kind}|{za}|{zb}", data_count=count))
    return "".join(out)


def legend(prefix: str, *, stale: bool = True, stopped: bool = False) -> str:
    """The shapes, patterns and words the figures use, as a small figure of their own."""
    items = [
        ("node-box", "a node (box; name, state, storage before and after)"),
        ("node-box failed", "a failed node: crossed out, hatched, dashed red border, 'FAILED'"),
        ("node-box cordoned", "a cordoned node: dotted, 'CORDONED' (keeps what it has, receives nothing)"),
        ("broker", "a Kafka broker; '→ node' leaves for it, '← node' arrives from it"),
        ("replica", "a volume replica, kept"),
        ("replica new", "a new replica, 'new ← source' (green arrow: the copy, with its GiB)"),
        ("replica dropped", "a replica the plan drops (struck through, dashed, 'dropped')"),
        ("replica lost", "a replica lost with its node (other replicas survive)"),
        ("replica data-lost", "DATA LOST: no replica of the volume survives"),
    ]
    if stale:
        items.append(("replica stale", "a stale replica (hatched): 'stale, N GiB behind'"))
    if stopped:
        items += [("node-box stopped", "a node stopped for maintenance: amber, dash-dotted, 'STOPPED'"),
                  ("replica stopped", "a replica on a stopped node: kept, but not serving meanwhile")]
    rows = []
    col_w = 470
    for i, (cls, words) in enumerate(items):
        x = MARGIN + (i % 2) * col_w
        y = 10 + (i // 2) * 24
        rows.append(svg.group(svg.rect(x, y, 34, 16, cls=cls, rx=3) + svg.text(x + 42, y + 12, words,
                                                                                   cls="legend-text"),
                              tip=words))
    y = 10 + math.ceil(len(items) / 2) * 24
    rows.append(svg.group(svg.el("path", d=f"M{MARGIN} {y + 8}h34", class_="copy-arrow")
                          + svg.text(MARGIN + 42, y + 12, "a copy (new replica): source → destination, GiB",
                                     cls="legend-text"), tip="copy arrow"))
    rows.append(svg.group(svg.el("path", d=f"M{MARGIN + col_w} {y + 8}h34", class_="move-arrow")
                          + svg.text(MARGIN + col_w + 42, y + 12, "a broker move: from → to", cls="legend-text"),
                          tip="broker move arrow"))
    height = y + 30
    return svg.svg_document("".join(rows), 2 * col_w + MARGIN, height, prefix=prefix,
                            label="Legend: what the shapes mean")


__all__ = ["ARROW_LIMIT", "FULL_BOXES", "Figure", "SMALL_CLUSTER", "draw_cluster", "legend"]

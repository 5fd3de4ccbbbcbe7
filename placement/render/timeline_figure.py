"""The plan's steps over time: a Gantt chart with one row per node, and the dependencies between steps.

Times come from the plan document (``metrics.timeline.stepSeconds``, written by
``placement.execute.timeline``). Each step sits on the row of the node it works on (a
copy on its destination, a broker move on its new node; Kafka reassignments and
elections on a row of their own). The busiest node's bound (its bytes at full
bandwidth: no order of the steps finishes sooner) is a dashed line, its row
marked. A large plan keeps the ``GANTT_ROWS`` rows that finish last and adds a
profile of the copies in flight on all nodes, so the chart stays bounded.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict, deque
from typing import Any

from placement.render import svg
from placement.render.cluster_figure import Figure

GANTT_ROWS = 30
STEP_GRAPH_LIMIT = 30  # steps drawn one by one in the dependency graph; more are grouped by action
LEFT, PLOT_W, LANE_H, MAX_LANES = 170, 900, 12, 4
KAFKA_ROW = "Kafka (partitions)"
PROFILE_BUCKETS = 300


def step_words(step: dict[str, Any]) -> str:
    """A step in a few words, with the names it acts on."""
    a = step.get("action")
    if a == "fence-node":
        return f"fence {step['node']}"
    if a == "drop-volume-replica":
        return f"drop {step['volume']} on {step['node']}"
    if a == "add-volume-replica":
        return f"add {step['volume']} on {step['node']} ← {step['source']}"
    if a == "move-broker":
        return f"move broker {step['broker']}: {step['from']} → {step['to']}"
    if a == "reassign-partitions":
        n = len(step.get("partitions", ()))
        return f"reassign {n} partition{'s' if n != 1 else ''}"
    if a == "elect-leaders":
        n = len(step.get("partitions", ()))
        return f"elect leaders of {n} partition{'s' if n != 1 else ''}"
    names = ", ".join(f"{k}={v}" for k, v in step.items() if k not in ("id", "action", "after"))
    return f"{a} {names}".strip()


def _row_of(step: dict[str, Any]) -> str:
    a = step.get("action")
    if a == "move-broker":
        return step["to"]
    if a in ("reassign-partitions", "elect-leaders"):
        return KAFKA_ROW
    return step.get("node") or "other steps"


TICK_UNITS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)


def _nice_ticks(end: float) -> list[float]:
    """About six ticks at round seconds, minutes or hours."""
    if end <= 0:
        return [0.0]
    unit = next((u for u in TICK_UNITS if u >= end / 6), TICK_UNITS[-1])
    return [i * unit for i in range(int(end / unit) + 1)]


def _lanes(bars: list[tuple[float, float, dict]]) -> list[list[tuple[float, float, dict]]]:
    """Bars that overlap in time go to separate lanes (the extra ones share the last lane)."""
    lanes: list[list] = []
    ends: list[float] = []
    for bar in sorted(bars, key=lambda b: (b[0], b[1], b[2]["id"])):
        for i, end in enumerate(ends):
            if bar[0] >= end - 1e-9:
                lanes[i].append(bar)
                ends[i] = max(bar[1], bar[0] + 1e-6)
                break
        else:
            if len(lanes) < MAX_LANES:
                lanes.append([bar])
                ends.append(max(bar[1], bar[0] + 1e-6))
            else:
                lanes[-1].append(bar)
                ends[-1] = max(ends[-1], bar[1])
    return lanes or [[]]


def draw_timeline(plan: dict[str, Any], *, prefix: str, node_order: list[str] | None = None) -> Figure | None:
    timeline = (plan.get("metrics") or {}).get("timeline") or {}
    times = timeline.get("stepSeconds")
    steps = plan.get("steps") or []
    if not steps or times is None:
        return None
    finish = float(timeline.get("finishSeconds") or 0)
    bound = float(timeline.get("lowerBoundSeconds") or 0)
    full_rf = timeline.get("fullRedundancySeconds")
    busiest = timeline.get("busiestNode")
    end = max(finish, bound, 1e-9) * 1.04
    x_of = lambda t: LEFT + PLOT_W * t / end  # noqa: E731

    rows: dict[str, list[tuple[float, float, dict]]] = defaultdict(list)
    for s in steps:
        start, stop = times.get(str(s["id"]), (0.0, 0.0))
        rows[_row_of(s)].append((float(start), float(stop), s))
    order = {name: i for i, name in enumerate(node_order or [])}
    names = sorted(rows, key=lambda r: (r == KAFKA_ROW, order.get(r, len(order)), r))
    shown = names
    if len(names) > GANTT_ROWS:
        last = sorted(names, key=lambda r: (-max(b[1] for b in rows[r]), r))
        keep = set(last[: GANTT_ROWS - 1]) | ({busiest} if busiest in rows else set()) | (
            {KAFKA_ROW} if KAFKA_ROW in rows else set())
        shown = [r for r in names if r in keep]

    parts: list[str] = []
    y = 44
    hidden = len(names) - len(shown)
    parts.append(svg.text(16, 20, "The steps over time", cls="caption"))
    sub = (f"{len(steps):,} steps on {len(names):,} rows; each bar is a step on the node it works on "
           f"(a copy on its destination), from its start to its finish")
    parts.append(svg.text(16, 36, sub, cls="subcaption"))
    if hidden:
        parts.append(svg.text(16, 52, f"the {len(shown):,} rows that finish last are drawn (the busiest node's among "
                              f"them); the other {hidden:,} are summed in the profile at the bottom", cls="subcaption"))
    y = 60 + (16 if hidden else 0)
    ticks = _nice_ticks(end)
    axis_y = y + 12
    for t in ticks:
        parts.append(svg.text(x_of(t), axis_y - 2, svg.seconds(t), cls="tick-label", anchor="middle"))
    y = axis_y + 6
    grid_top = y
    rows_start = len(parts)  # the grid goes under the rows
    for name in shown:
        lanes = _lanes(rows[name])
        h = len(lanes) * LANE_H + 6
        is_busiest = name == busiest
        label = name + ("  (busiest)" if is_busiest else "")
        row_words = f"{name}: {len(rows[name])} step{'s' if len(rows[name]) != 1 else ''}" + (
            "; the busiest node: its bytes at full bandwidth bound the whole plan" if is_busiest else "")
        parts.append(svg.group(svg.rect(LEFT, y, PLOT_W, h - 2, cls="gantt-row")
                               + svg.text(LEFT - 8, y + h / 2 + 3, svg.fit(label, LEFT - 20), anchor="end",
                                          cls="bound-label" if is_busiest else ""),
                               tip=row_words, data_row=name))
        for li, lane in enumerate(lanes):
            ly = y + 2 + li * LANE_H
            for start, stop, s in lane:
                words = f"step {s['id']}: {step_words(s)}; {svg.seconds(start)} → {svg.seconds(stop)}"
                if s.get("after"):
                    words += f"; waits for step{'s' if len(s['after']) > 1 else ''} " + ", ".join(
                        map(str, s["after"][:8])) + (" …" if len(s["after"]) > 8 else "")
                if stop - start > end * 1e-4:
                    kind = {"add-volume-replica": "", "reassign-partitions": " kafka"}.get(s["action"], " other")
                    w = max(x_of(stop) - x_of(start), 2)
                    inner = svg.rect(x_of(start), ly, w, LANE_H - 3, cls=f"gantt-bar{kind}")
                    label = f"#{s['id']} {s.get('volume', '')}".strip()
                    if w > svg.text_width(label, 9) + 6:
                        inner += svg.text(x_of(start) + 3, ly + LANE_H - 5, label, cls="tick-label")
                else:
                    cx, cy = x_of(start), ly + (LANE_H - 3) / 2
                    inner = svg.el("path", d=f"M{svg.num(cx)} {svg.num(cy - 4.5)}l4.5 4.5l-4.5 4.5l-4.5 -4.5z",
                                   class_=f"gantt-event {s['action']}")
                parts.append(svg.group(inner, tip=words, data_step=s["id"]))
        y += h
    if hidden:
        y += 6
        profile, used = _profile(rows, end, x_of, y)
        parts.append(profile)
        y += used
    grid_bottom = y
    every = ("time axis: seconds from the start of the plan, a line every "
             f"{svg.seconds(ticks[1] if len(ticks) > 1 else end)}")
    parts.insert(rows_start, svg.group("".join(svg.line(x_of(t), grid_top - 4, x_of(t), grid_bottom, cls="grid")
                                               for t in ticks)
                                       + svg.line(LEFT, grid_top - 4, LEFT + PLOT_W, grid_top - 4, cls="axis"),
                                       tip=every))
    marks = []
    if bound > 0:
        who = f"{busiest}'s" if busiest else "the busiest node's"
        marks.append((bound, f"lower bound {svg.seconds(bound)}: {who} bytes at full bandwidth", "bound"))
    if full_rf:
        marks.append((float(full_rf), f"every volume at full replication: {svg.seconds(float(full_rf))}", "full"))
    label_y = grid_bottom + 16
    for t, words, kind in marks:
        x = x_of(t)
        cls = "bound" if kind == "bound" else "mark-line"
        anchor = "end" if x > LEFT + PLOT_W * 0.6 else "start"
        parts.append(svg.group(svg.line(x, grid_top - 10, x, grid_bottom + 4, cls=cls)
                               + svg.text(x + (-4 if anchor == "end" else 4), label_y, words,
                                          cls="bound-label" if kind == "bound" else "tick-label", anchor=anchor),
                               tip=words + (" (no order of the steps can finish sooner)" if kind == "bound" else ""),
                               data_mark=kind))
        label_y += 14
    height = label_y + 8
    width = LEFT + PLOT_W + 30
    return Figure(svg.svg_document("".join(parts), width, height, prefix=prefix,
                                   label="The plan's steps over time, per node"), width, height,
                  f"{len(shown):,} of {len(names):,} rows drawn" if hidden else "")


def _profile(rows: dict, end: float, x_of, y: float) -> tuple[str, float]:
    """Copies in flight over time, on all nodes together: a step function sampled in fixed buckets."""
    starts, stops = [], []
    for bars in rows.values():
        for start, stop, _ in bars:
            if stop > start:
                starts.append(start)
                stops.append(stop)
    starts.sort()
    stops.sort()
    peak = 0
    points = []
    for i in range(PROFILE_BUCKETS + 1):
        t = end * i / PROFILE_BUCKETS
        running = bisect_right(starts, t) - bisect_right(stops, t)
        points.append((t, running))
        peak = max(peak, running)
    h = 60
    d = [f"M{svg.num(x_of(0))} {svg.num(y + h)}"]
    for t, n in points:
        d.append(f"L{svg.num(x_of(t))} {svg.num(y + h - h * n / max(peak, 1))}")
    d.append(f"L{svg.num(x_of(end))} {svg.num(y + h)}Z")
    words = f"copies in flight on all nodes (at most {peak:,} at once)"
    return (svg.group(svg.el("path", d="".join(d), class_="busy-area")
                      + svg.text(LEFT - 8, y + h / 2, "all nodes", anchor="end")
                      + svg.text(LEFT + 4, y + 12, words, cls="tick-label"), tip=words, data_row="profile"),
            h + 6)


def draw_dependencies(plan: dict[str, Any], *, prefix: str) -> Figure | None:
    """Which step waits for which: each step a box (small plans) or each kind of step a box (large ones)."""
    steps = plan.get("steps") or []
    if not steps:
        return None
    by_id = {s["id"]: s for s in steps}
    depth: dict[int, int] = {}
    for s in _topological(steps):
        depth[s["id"]] = 1 + max((depth[a] for a in s.get("after", ()) if a in depth), default=-1)
    if len(steps) <= STEP_GRAPH_LIMIT:
        nodes = [(s["id"], depth[s["id"]], f"#{s['id']} {s['action']}", step_words(s), s["action"]) for s in steps]
        edges = [(a, s["id"], 1) for s in steps for a in s.get("after", ()) if a in by_id]
        caption = "Which step waits for which"
    else:
        groups: dict[str, list[int]] = defaultdict(list)
        for s in steps:
            groups[s["action"]].append(s["id"])
        first = {g: min(depth[i] for i in ids) for g, ids in groups.items()}
        nodes = [(g, first[g], f"{g} × {len(ids):,}", f"depth {first[g]}–{max(depth[i] for i in ids)}", g)
                 for g, ids in groups.items()]
        count: dict[tuple[str, str], int] = defaultdict(int)
        for s in steps:
            for a in s.get("after", ()):
                if a in by_id:
                    count[by_id[a]["action"], s["action"]] += 1
        edges = [(a, b, n) for (a, b), n in sorted(count.items())]
        caption = f"Which kind of step waits for which ({len(steps):,} steps, grouped by action)"
    columns: dict[int, list] = defaultdict(list)
    for n in sorted(nodes, key=lambda n: (n[1], str(n[0]))):
        columns[n[1]].append(n)
    bw, bh, gx, gy = 210, 36, 60, 12
    pos = {}
    parts = [svg.text(16, 20, caption, cls="caption"),
             svg.text(16, 36, "an arrow from A to B: B starts only after A has finished", cls="subcaption")]
    top = 52
    height = top
    for c, col in sorted(columns.items()):
        for r, (key, _, head, words, action) in enumerate(col):
            x, y = 16 + c * (bw + gx), top + r * (bh + gy)
            pos[key] = (x, y)
            parts.append(svg.group(svg.rect(x, y, bw, bh, cls=f"step-box {action}", rx=4)
                                   + svg.text(x + 6, y + 14, svg.fit(head, bw - 12), cls="node-name")
                                   + svg.text(x + 6, y + 29, svg.fit(words, bw - 12, 10), cls="tick-label"),
                                   tip=f"{head}: {words}", data_step=key))
            height = max(height, y + bh)
    for a, b, n in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if a == b:
            continue
        x0, y0, x1, y1 = xa + bw, ya + bh / 2, xb - 2, yb + bh / 2
        if x1 <= x0:  # same column (grouped steps): around the right side
            x0, x1 = xa + bw, xb + bw + 2
            d = f"M{x0} {y0}C{x0 + 40} {y0} {x1 + 40} {y1} {x1} {y1}"
        else:
            mid = (x0 + x1) / 2
            d = f"M{x0} {y0}C{mid} {y0} {mid} {y1} {x1} {y1}"
        words = f"{b} waits for {a}" + (f" ({n:,} times)" if n > 1 else "")
        label = svg.text((x0 + x1) / 2, (y0 + y1) / 2 - 3, f"{n:,}", cls="tick-label", anchor="middle") if n > 1 else ""
        parts.append(svg.group(svg.el("path", d=d, class_="dep") + label, tip=words, data_dep=f"{a}|{b}"))
    width = 16 + (max(columns) + 1) * (bw + gx) + 20
    height += 20
    return Figure(svg.svg_document("".join(parts), width, height, prefix=prefix, label=caption), width, height, "")


def _topological(steps: list[dict]) -> list[dict]:
    """Steps in an order where each comes after those it waits for (the document's order when it already is)."""
    by_id = {s["id"]: s for s in steps}
    waiting = {s["id"]: {a for a in s.get("after", ()) if a in by_id} for s in steps}
    children = defaultdict(list)
    for s in steps:
        for a in waiting[s["id"]]:
            children[a].append(s["id"])
    ready = deque(s["id"] for s in steps if not waiting[s["id"]])
    out = []
    while ready:
        sid = ready.popleft()
        out.append(by_id[sid])
        for c in children[sid]:
            waiting[c].discard(sid)
            if not waiting[c]:
                ready.append(c)
    seen = {s["id"] for s in out}
    return out + [s for s in steps if s["id"] not in seen]  # a cycle (a bad document) keeps its members last

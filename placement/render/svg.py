"""Small SVG building blocks: escaped text, elements with titles, the shared style and patterns.

Every picture is written from these few functions, as strings, so a page is
one self-contained file: no network, no script, no framework. Every shape a
reader should understand carries a text label or a ``<title>`` (what a
browser shows on hover and a screen reader reads), and states differ by
pattern, dash or words as well as by colour.
"""
from __future__ import annotations

from html import escape

FONT = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif"
CHAR_WIDTH = 0.6  # a sans-serif character is about this many font sizes wide


def esc(value) -> str:
    return escape(str(value), quote=True)


def num(x: float) -> str:
    """Coordinates with at most one decimal, without a trailing .0 (pages stay small)."""
    r = round(float(x), 1)
    return str(int(r)) if r == int(r) else str(r)


def attrs(attributes: dict) -> str:
    """``class_`` -> ``class``, ``data_node`` -> ``data-node``; None is left out; numbers are shortened."""
    out = []
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = num(value)
        out.append(f' {name}="{esc(value)}"')
    return "".join(out)


def el(name: str, content: str = "", **attributes) -> str:
    """An element; empty content closes it at once."""
    if content:
        return f"<{name}{attrs(attributes)}>{content}</{name}>"
    return f"<{name}{attrs(attributes)}/>"


def title(text: str) -> str:
    return f"<title>{esc(text)}</title>"


def text(x: float, y: float, words: str, *, cls: str = "", anchor: str | None = None, tip: str | None = None,
         **attributes) -> str:
    return el("text", (title(tip) if tip else "") + esc(words), x=num(x), y=num(y), class_=cls or None,
              text_anchor=anchor, **attributes)


def rect(x: float, y: float, w: float, h: float, *, cls: str = "", tip: str | None = None, rx: float | None = None,
         **attributes) -> str:
    return el("rect", title(tip) if tip else "", x=num(x), y=num(y), width=num(max(w, 0)), height=num(max(h, 0)),
              rx=None if rx is None else num(rx), class_=cls or None, **attributes)


def line(x1: float, y1: float, x2: float, y2: float, *, cls: str = "", **attributes) -> str:
    return el("line", x1=num(x1), y1=num(y1), x2=num(x2), y2=num(y2), class_=cls or None, **attributes)


def group(content: str, *, cls: str = "", tip: str | None = None, **attributes) -> str:
    return el("g", (title(tip) if tip else "") + content, class_=cls or None, **attributes)


def fit(words: str, width: float, size: float = 11) -> str:
    """Cut ``words`` to what fits in ``width`` pixels at font ``size`` (the whole stays in a title)."""
    room = int(width / (size * CHAR_WIDTH))
    if len(words) <= room:
        return words
    return words[: max(room - 1, 1)] + "…"


def text_width(words: str, size: float = 11) -> float:
    return len(words) * size * CHAR_WIDTH


def gib(value: float) -> str:
    """GiB for people: TiB from 10,000 GiB on, thousands separated."""
    if value >= 10_000:
        return f"{value / 1024:,.1f} TiB"
    return f"{value:,.1f} GiB".replace(".0 GiB", " GiB")


def seconds(value: float | None) -> str:
    if value is None:
        return "never"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


STYLE = f"""
svg.placement {{ font-family: {FONT}; font-size: 11px; background: #fff; }}
text {{ fill: #1d1d1d; }}
.caption {{ font-size: 15px; font-weight: bold; }}
.subcaption {{ font-size: 12px; fill: #444; }}
.zone-band {{ fill: #f4f6f8; stroke: #c5ccd3; }}
.zone-label {{ font-size: 13px; font-weight: bold; }}
.zone-note {{ font-size: 11px; fill: #444; }}
.node-box {{ fill: #fff; stroke: #4a5560; stroke-width: 1.2; }}
.node-box.touched {{ stroke-width: 2; }}
.node-box.failed {{ fill: url(#PFX-failed); stroke: #9b1c1c; stroke-dasharray: 5 3; }}
.node-box.cordoned {{ fill: url(#PFX-cordoned); stroke-dasharray: 2 2; }}
.node-box.storageless {{ fill: #fafafa; }}
.node-name {{ font-weight: bold; font-size: 12px; }}
.node-state {{ font-size: 10px; font-weight: bold; letter-spacing: .04em; fill: #6b7580; }}
.node-state.failed {{ fill: #9b1c1c; }}
.node-state.cordoned {{ fill: #7a5b00; }}
.cross {{ stroke: #9b1c1c; stroke-width: 2.5; stroke-linecap: round; opacity: .75; }}
.bar-back {{ fill: #fff; stroke: #8a949e; stroke-width: .8; }}
.bar-before {{ fill: #9db4c8; }}
.bar-after {{ fill: none; stroke: #1d4e7a; stroke-width: 1.5; }}
.bar-text {{ font-size: 9.5px; fill: #333; }}
.broker {{ fill: #ffe3a8; stroke: #a06a00; stroke-width: 1.2; }}
.broker.arrives {{ stroke-width: 2.2; }}
.broker.leaves {{ fill: #fff; stroke-dasharray: 4 2; }}
.broker.down {{ fill: #f6d6d6; stroke: #9b1c1c; stroke-dasharray: 4 2; }}
.broker.cannot-run {{ fill: #f6d6d6; stroke: #9b1c1c; stroke-width: 2.2; }}
.replica {{ fill: #dbe7f3; stroke: #4f7396; stroke-width: 1; }}
.replica.new {{ fill: #cdeccd; stroke: #1f7a1f; stroke-width: 2; }}
.replica.dropped {{ fill: #fff; stroke: #6b6b6b; stroke-dasharray: 3 2; }}
.replica.lost {{ fill: #f6d6d6; stroke: #9b1c1c; stroke-dasharray: 3 2; }}
.replica.data-lost {{ fill: #9b1c1c; stroke: #5c0f0f; stroke-width: 2; }}
text.data-lost {{ fill: #fff; font-weight: bold; }}
.replica.stale {{ fill: url(#PFX-stale); stroke: #8a5a00; stroke-width: 1.5; }}
.strike {{ stroke: #555; stroke-width: 1; }}
.copy-arrow {{ fill: none; stroke: #1f7a1f; stroke-width: 2; marker-end: url(#PFX-copy-head); }}
.move-arrow {{ fill: none; stroke: #6a3d9a; stroke-width: 2; stroke-dasharray: 6 3; marker-end: url(#PFX-move-head); }}
.bundle-arrow {{ fill: none; stroke: #1f7a1f; stroke-opacity: .55; marker-end: url(#PFX-bundle-head); }}
.bundle-arrow.moves {{ stroke: #6a3d9a; stroke-dasharray: 6 3; marker-end: url(#PFX-bundle-move-head); }}
.arrow-label {{ font-size: 10.5px; paint-order: stroke; stroke: #fff; stroke-width: 3.5px; stroke-linejoin: round; }}
.arrow-label.copy {{ fill: #145214; }}
.arrow-label.move {{ fill: #4b2a70; }}
.heat {{ stroke: none; }}
.heat.q0 {{ fill: #c6dbef; }}
.heat.q1 {{ fill: #6baed6; }}
.heat.q2 {{ fill: #2171b5; }}
.heat.q3 {{ fill: #08306b; }}
.heat-back {{ fill: #fff; stroke: #c5ccd3; stroke-width: .5; }}
.heat.failed {{ fill: url(#PFX-failed-dark); }}
.heat.cordoned {{ fill: url(#PFX-cordoned); stroke: #7a5b00; stroke-width: .5; }}
.broker-tick {{ fill: #a06a00; }}
.broker-tick.moved {{ fill: #6a3d9a; }}
.broker-tick.cannot-run {{ fill: #9b1c1c; }}
.legend-text {{ font-size: 11px; }}
.axis {{ stroke: #555; stroke-width: 1; }}
.grid {{ stroke: #dde2e6; stroke-width: 1; }}
.tick-label {{ font-size: 10px; fill: #444; }}
.gantt-row {{ fill: #eef1f4; fill-opacity: .75; }}
.gantt-bar {{ fill: #8fc98f; stroke: #1f7a1f; stroke-width: 1; }}
.gantt-bar.kafka {{ fill: #f2c66d; stroke: #a06a00; }}
.gantt-bar.other {{ fill: #c9c9e8; stroke: #4b4b8a; }}
.gantt-event {{ fill: #fff; stroke: #333; stroke-width: 1.2; }}
.gantt-event.fence-node {{ fill: #9b1c1c; }}
.gantt-event.move-broker {{ fill: #6a3d9a; }}
.bound {{ stroke: #9b1c1c; stroke-width: 2; stroke-dasharray: 6 3; }}
.bound-label {{ fill: #9b1c1c; font-weight: bold; }}
.mark-line {{ stroke: #1f7a1f; stroke-width: 1.5; stroke-dasharray: 2 3; }}
.busy-area {{ fill: #cdeccd; stroke: #1f7a1f; stroke-width: 1; }}
.step-box {{ fill: #fff; stroke: #4a5560; }}
.step-box.add-volume-replica {{ fill: #cdeccd; stroke: #1f7a1f; }}
.step-box.drop-volume-replica {{ fill: #fff; stroke-dasharray: 3 2; }}
.step-box.fence-node {{ fill: #f6d6d6; stroke: #9b1c1c; }}
.step-box.move-broker {{ fill: #e7dcf2; stroke: #6a3d9a; }}
.step-box.reassign-partitions, .step-box.elect-leaders {{ fill: #ffe3a8; stroke: #a06a00; }}
.dep {{ fill: none; stroke: #7b8794; stroke-width: 1.2; marker-end: url(#PFX-dep-head); }}
"""


def defs(prefix: str) -> str:
    """Patterns and arrow heads, under ids unique to one figure (several figures share a page)."""
    return (
        "<defs>"
        f'<pattern id="{prefix}-failed" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="#fbeeee"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#e3b3b3" stroke-width="3"/></pattern>'
        f'<pattern id="{prefix}-failed-dark" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" fill="#f0c4c4"/>'
        '<path d="M0 0L4 4M4 0L0 4" stroke="#9b1c1c" stroke-width="1"/></pattern>'
        f'<pattern id="{prefix}-cordoned" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#fff8e1"/><circle cx="3" cy="3" r="1.1" fill="#c49a00"/>'
        "</pattern>"
        f'<pattern id="{prefix}-stale" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(-45)"><rect width="6" height="6" fill="#fff1cf"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#d9a441" stroke-width="2.5"/></pattern>'
        f'<marker id="{prefix}-copy-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#1f7a1f"/></marker>'
        f'<marker id="{prefix}-move-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#6a3d9a"/></marker>'
        f'<marker id="{prefix}-bundle-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" markerHeight="12" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#1f7a1f"/></marker>'
        f'<marker id="{prefix}-bundle-move-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" '
        'markerHeight="12" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M0 0L10 5L0 10z" fill="#6a3d9a"/></marker>'
        f'<marker id="{prefix}-dep-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#7b8794"/></marker>'
        "</defs>"
    )


def scoped_style(prefix: str) -> str:
    """STYLE with every rule scoped to one figure, so figures inlined in one page never restyle each other."""
    rules = []
    for rule in STYLE.replace("PFX", prefix).strip().splitlines():
        selectors, body = rule.split("{", 1)
        scoped = ", ".join(f"#{prefix}" if s.strip() == "svg.placement" else f"#{prefix} {s.strip()}"
                           for s in selectors.split(","))
        rules.append(f"{scoped} {{{body}")
    return "\n".join(rules)


def svg_document(body: str, width: float, height: float, *, prefix: str, label: str) -> str:
    """A standalone SVG (its own style and patterns), also fit to be inlined in a page."""
    style = scoped_style(prefix)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="placement" id="{esc(prefix)}" role="img" '
            f'aria-label="{esc(label)}" width="{num(width)}" height="{num(height)}" '
            f'viewBox="0 0 {num(width)} {num(height)}">'
            f"{title(label)}<style>{style}</style>{defs(prefix)}{body}</svg>")

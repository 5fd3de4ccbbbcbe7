"""One self-contained HTML page: inline CSS and SVG, no script, no network."""
from __future__ import annotations

from typing import Iterable

from placement.render.svg import esc

CSS = """
:root { color-scheme: light; }
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif; margin: 24px; color: #1d1d1d;
       background: #fff; line-height: 1.45; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d5dbe0; padding-bottom: 4px; }
p, li, dd { max-width: 1100px; }
.verdict { font-size: 16px; font-weight: bold; padding: 8px 12px; border-radius: 4px; display: inline-block;
           border: 2px solid; }
.verdict.good { background: #e8f5e8; border-color: #1f7a1f; }
.verdict.unproven { background: #fff6dd; border-color: #a06a00; }
.verdict.bad { background: #fbeaea; border-color: #9b1c1c; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 12px 0; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
.figure { overflow-x: auto; margin: 8px 0 4px; }
.figure svg { display: block; }
.mode { font-size: 13px; color: #444; max-width: 1100px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { border: 1px solid #d5dbe0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f6f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details > summary { cursor: pointer; font-weight: bold; margin: 6px 0; }
ul.violations li { margin: 2px 0; }
.inv { font-weight: bold; font-family: monospace; }
.panel-row { display: flex; flex-wrap: wrap; gap: 16px; }
footer { margin-top: 32px; font-size: 12px; color: #555; }
"""


def html_page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def table(headers: Iterable[str], rows: Iterable[Iterable], *, numeric: Iterable[int] = (),
          row_attrs: Iterable[dict] | None = None, cls: str = "") -> str:
    """A table; ``row_attrs`` gives each row's data attributes (what the browser tests look for)."""
    from placement.render.svg import attrs

    numeric = set(numeric)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    out = [f"<table{attrs({'class_': cls or None})}><thead><tr>{head}</tr></thead><tbody>"]
    extra = iter(row_attrs) if row_attrs is not None else None
    for row in rows:
        cells = "".join(f"<td class=\"num\">{esc(c)}</td>" if i in numeric else f"<td>{esc(c)}</td>"
                        for i, c in enumerate(row))
        more = attrs(next(extra)) if extra is not None else ""
        out.append(f"<tr{more}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def section(heading: str, content: str, *, id_: str) -> str:
    return f"<section id=\"{esc(id_)}\"><h2>{esc(heading)}</h2>\n{content}\n</section>"


def figure(svg_text: str, mode: str = "") -> str:
    note = f"<p class=\"mode\">{esc(mode[0].upper() + mode[1:])}.</p>" if mode else ""
    return f"<div class=\"figure\">{svg_text}</div>{note}"


def collapsible(summary: str, content: str, *, open_: bool) -> str:
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>\n{content}\n</details>"


def facts(items: Iterable[tuple[str, str]]) -> str:
    """A definition list of (term, already escaped HTML)."""
    return "<dl class=\"facts\">" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def violations_list(violations: list[dict], empty: str) -> str:
    if not violations:
        return esc(empty)
    items = "".join(f"<li><span class=\"inv\">[{esc(v.get('invariant', '?'))}]</span> {esc(v.get('message', ''))}</li>"
                    for v in violations)
    return f"<ul class=\"violations\">{items}</ul>"

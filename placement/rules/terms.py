"""SMT-LIB text the rules write their Z3 encodings with.

Plain strings, so the rules need no solver back end to encode themselves: the
Z3 back end (``placement.solve.smt``) parses the text they produce.
"""
from __future__ import annotations

from typing import Iterable


def smt_sum(terms: Iterable[str]) -> str:
    items = [t for t in terms if t != "0"]
    if not items:
        return "0"
    return items[0] if len(items) == 1 else f"(+ {' '.join(items)})"


def smt_weighted(terms: Iterable[tuple[int, str]]) -> str:
    return smt_sum(t if c == 1 else f"(* {c} {t})" for c, t in terms if c and t != "0")



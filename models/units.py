"""Unit conversion at the border: the file speaks GiB and cores, solvers speak integers.

Sizes a thing *takes* are rounded up and capacities a node *offers* are rounded
down, so an integer placement that fits always fits the real numbers too.
"""
from __future__ import annotations

import math

MIB_PER_GIB = 1024
MILLICORES_PER_CORE = 1000


def size_mib(gib: float) -> int:
    """Space or data taken, in MiB, rounded up."""
    return math.ceil(round(gib * MIB_PER_GIB, 6))


def capacity_mib(gib: float) -> int:
    """Space offered, in MiB, rounded down."""
    return math.floor(round(gib * MIB_PER_GIB, 6))


def demand_millicores(cores: float) -> int:
    return math.ceil(round(cores * MILLICORES_PER_CORE, 6))


def capacity_millicores(cores: float) -> int:
    return math.floor(round(cores * MILLICORES_PER_CORE, 6))


def gib(mib: int) -> float:
    """MiB back to GiB for reports, to three decimals."""
    return round(mib / MIB_PER_GIB, 3)


def gib_text(gib: float) -> str:
    """GiB as a message quotes them: in full to three decimals, thousands separated
    ("848,584.424 GiB", "75 GiB"), never in a form that hides digits (848585, 1.13849e+06)."""
    text = f"{gib:,.3f}".rstrip("0").rstrip(".")
    return f"{'0' if text in ('-0', '') else text} GiB"

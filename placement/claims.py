"""What a plan document says about itself, recomputed.

``verify`` judges a plan's target against the invariants and its steps against the
cluster; a document also claims things about itself -- which cluster it is for,
its verdict (``status``, ``violations``), what the start already broke
(``preexisting``) and what it costs (``metrics``). A claim that does not hold is
a plan that does not verify (exit 1), as a broken invariant is: a tool or a
person reading the document would otherwise trust a verdict nobody checked.
A claim the document does not make (a key left out) is not judged; a claim of
the wrong shape (an unknown status, violations that are not a list of objects)
is a malformed document (exit 2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from placement.models.cluster import Cluster
from placement.models.errors import InputError, Problem, excerpt
from placement.models.plan import Placement, Status
from placement.models.units import gib_text
from placement.scenario import Scenario
from placement.solve.verify import Verdict

# the metrics recomputed from the target (placement.solve.metrics.plan_metrics); the others
# (solveSeconds, timeline, execution) depend on how and where the plan was made
CHECKED_METRICS = ("copiedGiB", "newVolumeReplicas", "droppedVolumeReplicas", "resyncedVolumeReplicas", "movedBrokers",
                   "movedPartitionReplicas", "brokersNotRunning", "lostVolumes")
# copiedGiB is judged against CONTRACT 4's exact sum of the GiB the file gives. A claim may differ
# from it by the three-decimal writing plus float noise (GIB_TOLERANCE), and by at most one MiB per
# replica counted (new volume replicas, resyncs, new partition replicas): our solvers count whole
# MiB, each item rounded up, and a plan that reports that figure is not wrong by more than that.
GIB_TOLERANCE = 0.0015
MIB_PER_ITEM_TOLERANCE_GIB = 1 / 1024


@dataclass(frozen=True)
class FalseClaim:
    """A claim of the plan document that the recomputation contradicts."""

    field: str  # where in the document: "cluster", "status", "metrics.copiedGiB", ...
    message: str  # what it says and what holds

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class PlanVerdict(Verdict):
    """``verify``'s answer on a plan document: the target's and the steps' verdicts, and the claims
    of the document about itself that do not hold. ``ok`` only when all three are clean."""

    false_claims: tuple[FalseClaim, ...] = ()

    @property
    def ok(self) -> bool:
        return Verdict.ok.fget(self) and not self.false_claims


@dataclass(frozen=True)
class Claims:
    """The claims read from a plan document (None: not made)."""

    cluster: Any = None
    status: Status | None = None
    violations: tuple[str, ...] | None = None  # the invariants listed
    preexisting: tuple[str, ...] | None = None
    metrics: dict[str, Any] | None = None


def read_claims(document: dict, source: str) -> Claims:
    """The claims of a plan document; InputError (exit 2) where one has the wrong shape."""
    problems: list[Problem] = []
    status = document.get("status")
    if status is not None:
        try:
            status = Status(status) if isinstance(status, str) else None
        except ValueError:
            status = None
        if status is None:
            problems.append(Problem("status", f"is {excerpt(document.get('status'))}; expected one of "
                                              f"{', '.join(s.value for s in Status)}"))
    lists = {}
    for key in ("violations", "preexisting"):
        raw = document.get(key)
        if raw is None:
            lists[key] = None
        elif not isinstance(raw, list) or not all(isinstance(v, dict) and isinstance(v.get("invariant"), str)
                                                  for v in raw):
            problems.append(Problem(key, "expected a list of objects, each with an invariant (\"I1\"..\"I7\") and a message"))
        else:
            lists[key] = tuple(sorted({v["invariant"] for v in raw}))
    metrics = document.get("metrics")
    if metrics is not None and not isinstance(metrics, dict):
        problems.append(Problem("metrics", f"expected an object such as {{\"copiedGiB\": 35.0}}, got {excerpt(metrics)}"))
    if problems:
        raise InputError(source, problems)
    return Claims(document.get("cluster"), status, lists.get("violations"), lists.get("preexisting"), metrics)


def judge_claims(claims: Claims, scenario: Scenario, target: Placement, verdict: Verdict) -> PlanVerdict:
    """``verdict`` with the claims that the recomputation contradicts."""
    from placement.rules import check_start
    from placement.solve.metrics import copied, plan_metrics

    cluster: Cluster = scenario.cluster
    false: list[FalseClaim] = []
    if claims.cluster is not None and claims.cluster != cluster.name:
        false.append(FalseClaim("cluster", f"names cluster {excerpt(claims.cluster)}, but it is judged against cluster "
                                           f"{cluster.name!r}: a plan made for another cluster"))
    broken = tuple(verdict.broken)
    said = _names(broken)
    if claims.status is not None:
        if claims.status.meets_invariants and broken:
            false.append(FalseClaim("status", f"is {claims.status.value}, which says every invariant holds, but the "
                                              f"target breaks {said}"))
        elif not claims.status.meets_invariants and not broken:
            false.append(FalseClaim("status", f"is {claims.status.value}, which says the target breaks an invariant, "
                                              "but it meets every one (plain checks and Z3 agree)"))
    if claims.violations is not None and claims.violations != broken and not any(c.field == "status" for c in false):
        false.append(FalseClaim("violations", f"name {_names(claims.violations)} broken, but the target breaks {said}"))
    if claims.preexisting is not None:
        start = tuple(sorted({v.invariant for v in check_start(cluster)}))
        if claims.preexisting != start:
            false.append(FalseClaim("preexisting", f"names {_names(claims.preexisting)} already broken, but the cluster "
                                                   f"as it is breaks {_names(start)}"))
    if claims.metrics:
        recomputed = plan_metrics(scenario, target)
        for key in CHECKED_METRICS:
            if key == "copiedGiB" and key in claims.metrics:
                claim = _copied_claim(claims.metrics[key], copied(scenario, target))
                if claim:
                    false.append(claim)
            elif key in claims.metrics and key in recomputed and not _same(claims.metrics[key], recomputed[key]):
                false.append(FalseClaim(f"metrics.{key}", f"is {_shown(claims.metrics[key])}, but the target "
                                                          f"{_meaning(key, recomputed[key])}"))
    return PlanVerdict(verdict.violations, verdict.broken, verdict.execution, tuple(false))


def _copied_claim(claimed: Any, actual) -> FalseClaim | None:
    """``metrics.copiedGiB`` judged against the exact contract figure, within the MiB rounding a
    plan counting whole MiB may carry (``MIB_PER_ITEM_TOLERANCE_GIB`` per replica counted)."""
    allowed = GIB_TOLERANCE + actual.items * MIB_PER_ITEM_TOLERANCE_GIB
    number = _plausible(claimed)
    if number and abs(claimed - actual.gib) <= allowed:
        return None
    said = gib_text(claimed) if number else _shown(claimed)
    rounding = (f"; a claim within {gib_text(allowed)} of it is accepted: up to 1 MiB for each of the "
                f"{actual.items:,} replicas counted, for a plan counting whole MiB, plus {GIB_TOLERANCE:g} GiB "
                "for three decimals") if actual.items else ""
    return FalseClaim("metrics.copiedGiB",
                      f"is {said}, but the target copies {gib_text(actual.gib)} (usedGiB of each new volume replica, "
                      f"stale GiB of each resync, sizeGiB of each new partition replica{rounding})")


def _names(invariants) -> str:
    return ", ".join(invariants) if invariants else "none"


def _shown(value: Any) -> str:
    """A claimed figure as a message quotes it: a short list of names in full, anything else bounded."""
    if isinstance(value, list) and len(value) <= 20 and all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                                           for v in value):
        return excerpt(", ".join(map(str, value))) if value else "empty"
    return excerpt(value)


def _plausible(claimed: Any) -> bool:
    """A JSON number arithmetic with a float can take: math.isfinite, and int - float, overflow past about 1e308 on a
    400-digit integer (an int compared with a float does not: Python compares them exactly)."""
    if isinstance(claimed, bool) or not isinstance(claimed, (int, float)):
        return False
    return abs(claimed) <= 1e300 and (isinstance(claimed, int) or math.isfinite(claimed))


def _same(claimed: Any, actual: Any) -> bool:
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return (_plausible(claimed)
                and abs(claimed - actual) <= (GIB_TOLERANCE if isinstance(actual, float) else 0))
    if isinstance(actual, list):
        return isinstance(claimed, list) and sorted(map(str, claimed)) == sorted(map(str, actual))
    return claimed == actual


def _meaning(key: str, value: Any) -> str:
    """The recomputed figure in words."""
    if isinstance(value, list):
        return f"gives {', '.join(map(str, value)) or 'none'}"
    return f"gives {value}"

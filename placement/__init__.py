"""placement: provably optimal, independently verified recovery plans for Kafka on Portworx.

The library operators call; the CLI is a thin layer over exactly these calls::

    import placement
    cluster = placement.load_cluster("cluster.yaml")
    plan = placement.plan(cluster, fail=["node-2"])
    if plan.status.meets_invariants:
        for step in plan.steps: ...
    verdict = placement.verify(cluster, plan.to_document())
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from models.cluster import Cluster
from models.errors import InputError, InternalError, PlacementError, Problem
from models.failures import Failures, resolve_failures
from models.loading import load_cluster as _load_cluster_file, parse_cluster
from models.plan import Placement, Plan, Status, Step, Violation, parse_plan, parse_steps
from placement.execution import ExecutionVerdict, check_execution
from placement.planner import PlanOptions, plan_recovery
from placement.resilience import ResilienceResult
from placement.scenario import Scenario
from placement.verify import Verdict, verify_placement
from placement.imports import ImportResult, import_cluster

__all__ = [
    "Cluster", "ExecutionVerdict", "Failures", "ImportResult", "InputError", "InternalError", "PlacementError", "Placement", "Plan",
    "PlanOptions", "Problem", "ResilienceResult", "Status", "Step", "Verdict", "Violation", "check", "import_cluster", "load_cluster",
    "parse_cluster", "plan", "resolve_failures", "verify",
]


def load_cluster(path: str | Path) -> Cluster:
    """A cluster file (YAML or JSON), or a capture directory (``placement capture``), imported as
    ``placement import`` would (see ``import_cluster`` for its report)."""
    if Path(path).is_dir():
        return import_cluster(path).cluster
    return _load_cluster_file(path)


def plan(cluster: Cluster, fail: Iterable[str] = (), fail_zones: Iterable[str] = (),
         remove_brokers: Iterable[int] = (), *, allow_unclean: bool = False, time_limit: float = 60.0,
         seed: int = 0, progress: bool = False) -> Plan:
    """Plan the recovery of ``cluster`` after the given failures (file failures included),
    retiring ``remove_brokers``. ``allow_unclean`` lets an out-of-sync replica lead a
    partition whose in-sync replicas are all gone (it loses what that replica lacked)."""
    failures = resolve_failures(cluster, fail, fail_zones, remove_brokers)
    return plan_recovery(cluster, failures, PlanOptions(time_limit=time_limit, seed=seed, progress=progress,
                                                        allow_unclean=allow_unclean))


def verify(cluster: Cluster, plan_document: dict[str, Any], fail: Iterable[str] = (),
           fail_zones: Iterable[str] = (), *, source: str = "<plan>") -> Verdict:
    """Check a plan document's target placement against the invariants, with the plain checks and Z3,
    and model-check its steps (when it has any): every prefix and every order they allow must
    be safe and the whole plan must reach the target.

    The failures are those named here together with those the plan document records.
    """
    placement_, failed, removed, unclean = parse_plan(plan_document, cluster, source)
    steps = parse_steps(plan_document, cluster, source)
    failures = resolve_failures(cluster, list(fail) + list(failed), fail_zones, removed)
    scenario = Scenario(cluster, failures, allow_unclean=unclean)
    verdict = verify_placement(scenario, placement_)
    if not steps:
        return verdict  # a target without steps: there is no way to the target to check
    return verdict.with_execution(check_execution(scenario, steps, placement_))


def check(cluster: Cluster, failures: int = 1, *, zones: bool = False, minimum: bool = False, jobs: int = 1,
          scheduler: str | None = None, time_limit: float = 30.0, progress=None) -> "ResilienceResult":
    """Does ``cluster`` survive every set of up to ``failures`` failed nodes (and, with ``zones``,
    each whole zone)? ``result.tolerates`` is the verdict (None if a scenario stayed undecided),
    ``result.counterexample`` the smallest failure set that is not survived, and with
    ``minimum`` ``result.minima`` the least failures that lose a volume or a partition."""
    from placement.resilience import check_resilience

    return check_resilience(cluster, failures, zones=zones, minimum=minimum, jobs=jobs, scheduler=scheduler,
                            time_limit=time_limit, progress=progress)


def load_plan_document(path: str | Path) -> dict[str, Any]:
    from models.documents import read_document

    return read_document(path)

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

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

# The names are loaded on first use, so that `placement --help` (the CLI lives in this
# package) starts without importing the planner, the model checker and the loaders.
_EXPORTS = {
    "placement.execute.checker": ("ExecutionVerdict",),
    "placement.execute.script": ("check_script_options", "render_script"),
    "placement.imports": ("ImportResult", "import_cluster"),
    "placement.imports.capture": ("capture",),
    "placement.models.cluster": ("Cluster",),
    "placement.models.errors": ("InputError", "InternalError", "PlacementError", "Problem"),
    "placement.models.failures": ("Failures", "resolve_failures"),
    "placement.models.loading": ("parse_cluster",),
    "placement.models.plan": ("Placement", "Plan", "Status", "Step", "Violation"),
    "placement.resilience.maintenance": ("StopVerdict", "WavePlan"),
    "placement.resilience.sweep": ("ResilienceResult",),
    "placement.solve.planner": ("PlanOptions",),
    "placement.solve.verify": ("Verdict",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted([*_HOME, "check", "load_cluster", "load_plan_document", "ok_to_stop", "plan", "verify", "waves"],
               key=str.lower)

if TYPE_CHECKING:  # what static tools see; at run time ``__getattr__`` loads each name
    from placement.execute.checker import ExecutionVerdict
    from placement.execute.script import check_script_options, render_script
    from placement.imports import ImportResult, import_cluster
    from placement.imports.capture import capture
    from placement.models.cluster import Cluster
    from placement.models.errors import InputError, InternalError, PlacementError, Problem
    from placement.models.failures import Failures, resolve_failures
    from placement.models.loading import parse_cluster
    from placement.models.plan import Placement, Plan, Status, Step, Violation
    from placement.resilience.maintenance import StopVerdict, WavePlan
    from placement.resilience.sweep import ResilienceResult
    from placement.solve.planner import PlanOptions
    from placement.solve.verify import Verdict


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'placement' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_cluster(path: str | Path) -> Cluster:
    """A cluster file (YAML or JSON), or a capture directory (``placement capture``), imported as
    ``placement import`` would (see ``import_cluster`` for its report)."""
    if Path(path).is_dir():
        from placement.imports import import_cluster

        return import_cluster(path).cluster
    from placement.models.loading import load_cluster as load_cluster_file

    return load_cluster_file(path)


def plan(cluster: Cluster, fail: Iterable[str] = (), fail_zones: Iterable[str] = (),
         remove_brokers: Iterable[int] = (), *, allow_unclean: bool = False, time_limit: float = 60.0,
         seed: int = 0, progress: bool = False) -> Plan:
    """Plan the recovery of ``cluster`` after the given failures (file failures included),
    retiring ``remove_brokers``. ``allow_unclean`` lets an out-of-sync replica lead a
    partition whose in-sync replicas are all gone (it loses what that replica lacked)."""
    from placement.models.failures import resolve_failures
    from placement.solve.planner import PlanOptions, plan_recovery

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
    from placement.execute.checker import check_execution
    from placement.models.failures import resolve_failures
    from placement.models.plan import parse_plan, parse_steps
    from placement.scenario import Scenario
    from placement.solve.verify import verify_placement

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
    from placement.resilience.sweep import check_resilience

    return check_resilience(cluster, failures, zones=zones, minimum=minimum, jobs=jobs, scheduler=scheduler,
                            time_limit=time_limit, progress=progress)


def ok_to_stop(cluster: Cluster, nodes: Iterable[str], min_replicas: int | None = None) -> "StopVerdict":
    """May ``nodes`` stop now, with no step taken? ``verdict.ok`` is yes when every volume keeps
    at least ``min_replicas`` in-sync replicas on running nodes (default: its replication factor
    minus one, at least 1) and every partition keeps its min.insync.replicas in-sync replicas on
    running brokers; ``verdict.shortfalls`` names each volume and partition that would fall short
    (current, needed, and whether it was already short before stopping anything)."""
    from placement.resilience.maintenance import ok_to_stop as decide

    return decide(cluster, nodes, min_replicas)


def waves(cluster: Cluster, max_wave: int | None = None, min_replicas: int | None = None, *,
          time_limit: float = 60.0) -> "WavePlan":
    """The fewest maintenance waves: groups of at most ``max_wave`` nodes, every live storage or
    broker node in exactly one, each ok to stop while every other node runs. ``plan.waves`` are
    the groups, ``plan.proven`` whether their number is proven least (``plan.lower_bound`` and
    ``plan.certificate`` say why); ``plan.possible`` is false, with ``plan.blocking``, when a
    volume or partition is already short or cannot lose any replica."""
    from placement.resilience.maintenance import waves as plan_waves

    return plan_waves(cluster, max_wave, min_replicas, time_limit=time_limit)


def load_plan_document(path: str | Path) -> dict[str, Any]:
    from placement.models.documents import read_document

    return read_document(path)

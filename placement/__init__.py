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
    "placement.models.names": ("name_problem", "pod_name_problem"),
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
    from placement.models.names import name_problem, pod_name_problem
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
    from placement.models.arguments import Arguments

    args = Arguments("load_cluster")
    path = args.path("path", path)
    args.done()
    from placement.models.documents import is_directory

    if is_directory(path):
        from placement.imports import import_cluster

        return import_cluster(path).cluster
    from placement.models.loading import load_cluster as load_cluster_file

    return load_cluster_file(path)


def plan(cluster: Cluster, fail: Iterable[str] = (), fail_zones: Iterable[str] = (),
         remove_brokers: Iterable[int] = (), *, drain: Iterable[str] = (), max_used: float | None = None,
         min_replicas: int | None = None, allow_unclean: bool = False, time_limit: float = 60.0,
         seed: int = 0, progress: bool = False) -> Plan:
    """Plan for ``cluster``: the recovery after the given failures (file failures included),
    retiring ``remove_brokers``; or a planned operation: ``drain`` empties those nodes (they stay up
    while the steps run), ``max_used`` (a percentage) rebalances every node within it; while their
    steps run every volume keeps ``min_replicas`` in-sync replicas (default RF - 1, at least 1).
    A node back from a failure is described by the cluster itself (its replicas listed ``stale``).
    ``allow_unclean`` lets an out-of-sync replica lead a partition whose in-sync replicas are all
    gone (it loses what that replica lacked)."""
    from placement.models.arguments import Arguments
    from placement.models.failures import resolve_failures
    from placement.solve.planner import PlanOptions, plan_recovery

    args = Arguments("plan")
    cluster = args.cluster("cluster", cluster)
    fail = args.names("fail", fail, "node")
    fail_zones = args.names("fail_zones", fail_zones, "zone")
    remove_brokers = args.broker_ids("remove_brokers", remove_brokers)
    drain = args.names("drain", drain, "node")
    if max_used is not None:
        max_used = args.number("max_used", max_used, 0, 100, unit="percent")  # more than 0: resolve_failures
    if min_replicas is not None:
        min_replicas = args.integer("min_replicas", min_replicas, 1, 3)
    allow_unclean = args.flag("allow_unclean", allow_unclean)
    time_limit = args.time_limit("time_limit", time_limit)
    seed = args.seed("seed", seed)
    progress = args.flag("progress", progress)
    args.done()
    failures = resolve_failures(cluster, fail, fail_zones, remove_brokers, drain=drain, max_used_percent=max_used,
                                min_replicas=min_replicas)
    return plan_recovery(cluster, failures, PlanOptions(time_limit=time_limit, seed=seed, progress=progress,
                                                        allow_unclean=allow_unclean))


def verify(cluster: Cluster, plan_document: dict[str, Any], fail: Iterable[str] = (),
           fail_zones: Iterable[str] = (), *, source: str = "<plan>") -> Verdict:
    """Check a plan document's target placement against the invariants, with the plain checks and Z3,
    and model-check its steps (when it has any): every prefix and every order they allow must
    be safe and the whole plan must reach the target.

    The failures are those named here together with those the plan document records; a planned
    operation it records (``drained``, ``maxUsedPercent``, ``minReplicas``) is judged too: the
    target must empty the drained nodes and keep every node within the storage limit.
    """
    from placement.execute.checker import judge_plan_steps
    from placement.models.arguments import Arguments
    from placement.models.failures import resolve_failures
    from placement.models.plan import parse_operation, parse_plan, parse_steps
    from placement.scenario import Scenario
    from placement.solve.verify import verify_placement

    args = Arguments("verify")
    cluster = args.cluster("cluster", cluster)
    plan_document = args.mapping("plan_document", plan_document, "a plan document (placement.load_plan_document(path))")
    fail = args.names("fail", fail, "node")
    fail_zones = args.names("fail_zones", fail_zones, "zone")
    source = args.text("source", source)
    args.done()
    placement_, failed, removed, unclean = parse_plan(plan_document, cluster, source)
    operation = parse_operation(plan_document, cluster, source)
    steps = parse_steps(plan_document, cluster, source)
    failures = resolve_failures(cluster, list(fail) + list(failed), fail_zones, removed, drain=operation.drained,
                                max_used_percent=operation.max_used_percent, min_replicas=operation.min_replicas)
    told = resolve_failures(cluster, fail, fail_zones).nodes  # what the command line says failed (and the file)
    scenario = Scenario(cluster, failures, allow_unclean=unclean)
    verdict = verify_placement(scenario, placement_)
    if not steps:
        return verdict  # a target without steps: there is no way to the target to check
    return verdict.with_execution(judge_plan_steps(scenario, steps, placement_, plan_failed=failed, told_failed=told))


def check(cluster: Cluster, failures: int = 1, *, zones: bool = False, minimum: bool = False, jobs: int = 1,
          scheduler: str | None = None, time_limit: float = 30.0, progress=None) -> "ResilienceResult":
    """Does ``cluster`` survive every set of up to ``failures`` failed nodes (and, with ``zones``,
    each whole zone)? ``result.tolerates`` is the verdict (None if a scenario stayed undecided),
    ``result.counterexample`` the smallest failure set that is not survived, and with
    ``minimum`` ``result.minima`` the least failures that lose a volume or a partition."""
    from placement.models.arguments import Arguments
    from placement.resilience.sweep import check_resilience

    args = Arguments("check")
    cluster = args.cluster("cluster", cluster)
    failures = args.integer("failures", failures, 0)
    zones = args.flag("zones", zones)
    minimum = args.flag("minimum", minimum)
    jobs = args.integer("jobs", jobs, 1)
    scheduler = args.text("scheduler", scheduler, optional=True)
    time_limit = args.time_limit("time_limit", time_limit)
    progress = args.callable("progress", progress)
    args.done()
    return check_resilience(cluster, failures, zones=zones, minimum=minimum, jobs=jobs, scheduler=scheduler,
                            time_limit=time_limit, progress=progress)


def ok_to_stop(cluster: Cluster, nodes: Iterable[str], min_replicas: int | None = None) -> "StopVerdict":
    """May ``nodes`` stop now, with no step taken? ``verdict.ok`` is yes when every volume keeps
    at least ``min_replicas`` in-sync replicas on running nodes (default: its replication factor
    minus one, at least 1) and every partition keeps its min.insync.replicas in-sync replicas on
    running brokers; ``verdict.shortfalls`` names each volume and partition that would fall short
    (current, needed, and whether it was already short before stopping anything)."""
    from placement.models.arguments import Arguments
    from placement.resilience.maintenance import ok_to_stop as decide

    args = Arguments("ok_to_stop")
    cluster = args.cluster("cluster", cluster)
    if nodes is None:  # no list at all is a mistake, not "no node": the answer would be a vacuous yes
        args.problem("nodes", 'expected a list of node names, got None; e.g. nodes=["node-1", "node-2"]')
    nodes = args.names("nodes", nodes, "node")
    if min_replicas is not None:
        min_replicas = args.integer("min_replicas", min_replicas, 1, 3)
    args.done()
    return decide(cluster, nodes, min_replicas)


def waves(cluster: Cluster, max_wave: int | None = None, min_replicas: int | None = None, *,
          time_limit: float = 60.0) -> "WavePlan":
    """The fewest maintenance waves: groups of at most ``max_wave`` nodes, every live storage or
    broker node in exactly one, each ok to stop while every other node runs. ``plan.waves`` are
    the groups, ``plan.proven`` whether their number is proven least (``plan.lower_bound`` and
    ``plan.certificate`` say why); ``plan.possible`` is false, with ``plan.blocking``, when a
    volume or partition is already short or cannot lose any replica."""
    from placement.models.arguments import Arguments
    from placement.resilience.maintenance import waves as plan_waves

    args = Arguments("waves")
    cluster = args.cluster("cluster", cluster)
    if max_wave is not None:
        max_wave = args.integer("max_wave", max_wave, 1)
    if min_replicas is not None:
        min_replicas = args.integer("min_replicas", min_replicas, 1, 3)
    time_limit = args.time_limit("time_limit", time_limit)
    args.done()
    return plan_waves(cluster, max_wave, min_replicas, time_limit=time_limit)


def load_plan_document(path: str | Path) -> dict[str, Any]:
    """A plan document (JSON, or YAML) read with the same bounds as a cluster file; ``verify`` judges its content."""
    from placement.models.arguments import Arguments
    from placement.models.documents import read_document

    args = Arguments("load_plan_document")
    path = args.path("path", path)
    args.done()
    return read_document(path)

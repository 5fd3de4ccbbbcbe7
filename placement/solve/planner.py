"""The planner: failures in, a checked and verified recovery plan out.

Two stages, each one CP-SAT model minimising the levels of
``placement.solve.objectives`` one after another; only what the failure touches
becomes a variable:

- the storage-and-brokers stage decides where each touched broker runs and which
  nodes hold each damaged volume's replicas, with the partitions of brokers that
  might not run judged in aggregate (how many replicas they lose and must refill,
  and the data that costs);
- the partitions stage then picks the brokers that take those partition replicas.

A plan leaves here only after the plain checks and Z3 have judged its target and
the execution model checker has proven its steps safe in every order and prefix.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from placement.execute.checker import check_execution
from placement.execute.steps import build_steps
from placement.execute.timeline import simulate
from placement.models.cluster import Cluster
from placement.models.errors import InternalError
from placement.models.failures import Failures
from placement.models.plan import Placement, Plan, Status, Violation
from placement.rules import RULES, check_all
from placement.scenario import Scenario
from placement.solve import objectives
from placement.solve.cpsat import CpEncoding, SolveOutcome, complete_hint, conflicting_rules, hint, solve_lexicographic
from placement.solve.greedy import fill_partitions, greedy_placement
from placement.solve.leaders import elect_leaders
from placement.solve.metrics import plan_metrics
from placement.solve.space import Space
from placement.solve.verify import verify_placement

DEGRADABLE_RULES = ("I1", "I2", "I3", "I4", "I5", "I6")
FULL_MODEL_LIMIT = 60_000  # volume-node candidate pairs decided in one model before restricting
MIN_CANDIDATES_PER_ZONE = 12


@dataclass(frozen=True)
class PlanOptions:
    time_limit: float = 60.0  # seconds for all solving together
    seed: int = 0
    workers: int = 2
    progress: bool = False  # report incumbent and bound on stderr during long solves
    verify_with_z3: bool = True
    allow_unclean: bool = False  # let an out-of-sync replica lead a partition whose in-sync ones are gone
    feasibility_only: bool = False  # stop after the invariants level: is there a valid target at all? (no steps)


def _encode(space: Space, relaxed: bool) -> CpEncoding:
    enc = CpEncoding(space, relaxed=relaxed)
    for rule in RULES:
        rule.encode_cpsat(enc)
    if relaxed:
        for lit in enc.lits.values():
            enc.model.Add(lit == 1)  # what may fall short is in the shortfall variables; everything else holds
    return enc


def plan_recovery(cluster: Cluster, failures: Failures, options: PlanOptions = PlanOptions(),
                  start: Placement | None = None) -> Plan:
    """``start``: a placement to begin the search from instead of the greedy one (a hint:
    it need not be valid, nor even fit the failure)."""
    started = time.monotonic()
    scenario = Scenario(cluster, failures, allow_unclean=options.allow_unclean)
    storage = _solve_storage_and_brokers(scenario, options, start)
    if not storage.outcome.solved:
        return _infeasible(scenario, storage.outcome, options, started)
    outcomes = [(objectives.STORAGE_AND_BROKERS, storage.outcome)]
    target = storage.outcome.placement
    partitions = _solve_partitions(scenario, target, options, started)
    if partitions is not None:
        if not partitions.solved:
            return _infeasible(scenario, partitions, options, started)
        outcomes.append((objectives.PARTITIONS, partitions))
        target = partitions.placement
    target = elect_leaders(scenario, target)

    verdict = _verified(scenario, target, outcomes, options)
    conflict = _conflicting_rules(storage.space, outcomes, options)
    proven = all(o.proven for _, o in outcomes)
    if verdict.violations:
        status = Status.DEGRADED
    else:
        status = Status.OPTIMAL if proven else Status.FEASIBLE
    solver_info = _solver_document(outcomes, storage.restricted, proven, conflict, started)
    if options.feasibility_only:
        return Plan(cluster=cluster.name, failed=failures.failed, status=status, placement=target, steps=(),
                    metrics={}, violations=verdict.violations, removed_brokers=tuple(sorted(failures.removed_brokers)),
                    solver=solver_info, allow_unclean=options.allow_unclean)
    return _with_steps(scenario, target, status, verdict.violations, solver_info, options)


@dataclass(frozen=True)
class _StorageStage:
    outcome: SolveOutcome
    space: Space  # the space it decided over (restricted, when the problem was too large)
    restricted: bool


def _solve_storage_and_brokers(scenario: Scenario, options: PlanOptions, start: Placement | None) -> _StorageStage:
    """The first stage, from a greedy start (or the given one)."""
    space = Space.for_planning(scenario)
    if start is None:
        start = greedy_placement(scenario, spread=True)
    full_space, restricted = space, False
    size = sum(len(d) for d in space.volume_domain.values())
    if size > FULL_MODEL_LIMIT:
        # Too many volume-node pairs to decide at once: restrict each volume's candidates,
        # and claim optimality only where the answer meets the unrestricted lower bounds.
        zones = max(1, len(scenario.cluster.zones))
        per_zone = max(MIN_CANDIDATES_PER_ZONE, FULL_MODEL_LIMIT // (len(space.volume_domain) * zones))
        space = Space.for_planning(scenario, candidates_per_zone=per_zone, also=start)
        restricted = True
    enc = _encode(space, relaxed=True)
    lower_bounds = objectives.unrestricted_lower_bounds(scenario, full_space)
    levels = objectives.storage_and_brokers_levels(enc, lower_bounds)
    if options.feasibility_only:
        levels = levels[:1]
    hint(enc, start)  # a greedy start: CP-SAT improves on it
    first = complete_hint(enc, levels[0].terms, time_limit=options.time_limit / 4)
    outcome = solve_lexicographic(enc, levels, time_limit=options.time_limit, seed=options.seed,
                                  workers=options.workers, progress=options.progress, start=first)
    if outcome.solved and restricted:
        _judge_against_lower_bounds(outcome, lower_bounds)
    return _StorageStage(outcome, space, restricted)


def _solve_partitions(scenario: Scenario, storage_and_brokers: Placement, options: PlanOptions,
                      started: float) -> SolveOutcome | None:
    """The second stage, from a water-filling start; None when no partition replica needs a broker."""
    space = Space.for_partitions(scenario, storage_and_brokers)
    if not space.partition_domain:
        return None
    enc = _encode(space, relaxed=True)
    remaining = max(1.0, options.time_limit - (time.monotonic() - started))
    levels = objectives.partitions_levels(enc)
    if options.feasibility_only:
        levels = levels[:1]
    hint(enc, fill_partitions(space))  # water-filling start
    first = complete_hint(enc, levels[0].terms, time_limit=remaining / 4)
    return solve_lexicographic(enc, levels, time_limit=remaining, seed=options.seed,
                               workers=options.workers, progress=options.progress, start=first)


def _shortfall(outcomes) -> int:
    """Requirements the stages could not meet (their first levels): 0 when every invariant holds."""
    return sum(o.levels[0].value for _, o in outcomes if o.levels)


def _verified(scenario: Scenario, target: Placement, outcomes, options: PlanOptions):
    """The plain checks and Z3 on the target; a plan the solver calls valid must be valid."""
    verdict = verify_placement(scenario, target, use_z3=options.verify_with_z3)
    if _shortfall(outcomes) == 0 and verdict.violations and _new_violations(scenario, verdict.violations):
        raise InternalError("the solver met every invariant it was given but the checks disagree: "
                            + "; ".join(str(v) for v in verdict.violations))
    return verdict


def _conflicting_rules(space: Space, outcomes, options: PlanOptions) -> list[str]:
    """Where something falls short, the rules that cannot all hold together (an assumption core)."""
    if _shortfall(outcomes) == 0:
        return []
    strict = _encode(space, relaxed=False)
    return conflicting_rules(strict, list(DEGRADABLE_RULES), time_limit=5.0, seed=options.seed)


def _solver_document(outcomes, restricted: bool, proven: bool, conflict: list[str], started: float) -> dict:
    info = {
        "restrictedCandidates": restricted,
        "stages": [{"stage": name, "levels": [lv.to_document() for lv in o.levels], "seconds": round(o.seconds, 3)}
                   for name, o in outcomes],
        "proven": proven,
        "seconds": round(time.monotonic() - started, 3),
    }
    if conflict:
        info["conflict"] = conflict
    return info


def _with_steps(scenario: Scenario, target: Placement, status: Status, violations, solver_info: dict,
                options: PlanOptions) -> Plan:
    """The steps to the target, proven safe in every order and prefix, with the metrics and the timeline."""
    steps = build_steps(scenario, target)
    if options.progress and len(steps) > 500:
        print(f"  model-checking {len(steps):,} steps (every prefix, every order) and estimating the timeline",
              file=sys.stderr, flush=True)
    execution = check_execution(scenario, steps, target)
    if not execution.safe and status.meets_invariants:
        raise InternalError("the steps to a valid target failed the execution model check: "
                            + "; ".join(c.message for c in execution.counterexamples[:5]))
    metrics = plan_metrics(scenario, target)
    metrics["solveSeconds"] = solver_info["seconds"]
    timeline = simulate(scenario, target, steps)
    metrics["timeline"] = timeline.to_document()
    metrics["execution"] = execution.to_document()
    failures = scenario.failures
    return Plan(cluster=scenario.cluster.name, failed=failures.failed, status=status, placement=target,
                steps=steps, metrics=metrics, violations=violations,
                removed_brokers=tuple(sorted(failures.removed_brokers)), solver=solver_info,
                allow_unclean=options.allow_unclean, timeline=timeline)


def _judge_against_lower_bounds(outcome: SolveOutcome, lower_bounds: dict) -> None:
    """A restricted solve is optimal only as far as its levels meet the unrestricted lower
    bounds; below the first level that does not, nothing is proven."""
    proven = True
    for level in outcome.levels:
        lower_bound = lower_bounds.get(level.name, 0)
        above_met = outcome.levels[0].value == 0
        if level.name != "invariants" and not above_met:
            lower_bound = 0
        if not proven or not level.proven or level.value > lower_bound:
            proven = False
            level.proven = False
            level.bound = min(level.bound, lower_bound)
    outcome.restricted = True


def _new_violations(scenario: Scenario, violations) -> list[Violation]:
    """Violations the plan is responsible for, as opposed to losses and pre-existing overloads."""
    before = {(v.invariant, v.subject) for v in check_all(scenario, Placement.current(scenario.cluster))}
    return [v for v in violations if v.invariant != "I7" and (v.invariant, v.subject) not in before
            and v.invariant in ("I1", "I2", "I3")]


def _infeasible(scenario: Scenario, outcome: SolveOutcome, options: PlanOptions, started: float) -> Plan:
    """No placement within the time limit. Said as such: not a proof that none exists."""
    current = Placement.current(scenario.cluster)
    message = (f"no placement was found within the time limit of {options.time_limit:g} s; "
               "this is not a proof that none exists: raise --time-limit")
    return Plan(cluster=scenario.cluster.name, failed=scenario.failures.failed, status=Status.INFEASIBLE,
                placement=current, steps=(), metrics={"copiedGiB": 0.0, "solveSeconds": round(time.monotonic() - started, 3)},
                violations=(Violation("I1", message, "plan"),), removed_brokers=tuple(sorted(scenario.failures.removed_brokers)),
                solver={"proven": False, "seconds": round(outcome.seconds, 3)})


__all__ = ["PlanOptions", "plan_recovery"]

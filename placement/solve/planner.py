"""The planner: failures in, a checked and verified recovery plan out.

Stage A decides, in one CP-SAT model, where each touched broker runs and which
nodes hold each damaged volume's replicas, with the partitions of brokers that
might not run judged in aggregate (how many replicas they lose and must refill,
and the data that costs). Stage B then picks the brokers that take those
partition replicas. Both stages minimise the levels of ``placement.solve.objectives``
one after another. Only what the failure touches becomes a variable.

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
            enc.model.Add(lit == 1)  # shortfalls live in the slacks, everything else holds
    return enc


def plan_recovery(cluster: Cluster, failures: Failures, options: PlanOptions = PlanOptions(),
                  start: Placement | None = None) -> Plan:
    """``start``: a placement to begin the search from instead of the greedy one (a hint:
    it need not be valid, nor even fit the failure)."""
    started = time.monotonic()
    scenario = Scenario(cluster, failures, allow_unclean=options.allow_unclean)

    space_a = Space.for_planning(scenario)
    if start is None:
        start = greedy_placement(scenario, spread=True)
    restricted = False
    size = sum(len(d) for d in space_a.volume_domain.values())
    if size > FULL_MODEL_LIMIT:
        # Too many volume-node pairs to decide at once: restrict each volume's candidates,
        # and claim optimality only where the answer meets the unrestricted lower bounds.
        full_space = space_a
        per_zone = max(MIN_CANDIDATES_PER_ZONE, FULL_MODEL_LIMIT // (len(space_a.volume_domain) * max(1, len(cluster.zones))))
        space_a = Space.for_planning(scenario, candidates_per_zone=per_zone, also=start)
        restricted = True
    enc_a = _encode(space_a, relaxed=True)
    floors = objectives.unrestricted_floors(scenario, full_space if restricted else space_a)
    levels_a = objectives.stage_a(enc_a, floors)
    if options.feasibility_only:
        levels_a = levels_a[:1]
    hint(enc_a, start)  # a greedy start: CP-SAT improves on it
    first = complete_hint(enc_a, levels_a[0][1], time_limit=options.time_limit / 4)
    outcome_a = solve_lexicographic(enc_a, levels_a, time_limit=options.time_limit, seed=options.seed,
                                    workers=options.workers, progress=options.progress, start=first)
    if not outcome_a.solved:
        return _infeasible(scenario, outcome_a, options, started)
    if restricted:
        _judge_against_floors(outcome_a, floors)
    outcomes = [("storage and brokers", outcome_a)]
    target = outcome_a.placement

    space_b = Space.for_partitions(scenario, target)
    if space_b.partition_domain:
        enc_b = _encode(space_b, relaxed=True)
        remaining = max(1.0, options.time_limit - (time.monotonic() - started))
        levels_b = objectives.stage_b(enc_b)
        if options.feasibility_only:
            levels_b = levels_b[:1]
        hint(enc_b, fill_partitions(space_b))  # water-filling start
        first_b = complete_hint(enc_b, levels_b[0][1], time_limit=remaining / 4)
        outcome_b = solve_lexicographic(enc_b, levels_b, time_limit=remaining, seed=options.seed,
                                        workers=options.workers, progress=options.progress, start=first_b)
        if not outcome_b.solved:
            return _infeasible(scenario, outcome_b, options, started)
        outcomes.append(("partitions", outcome_b))
        target = outcome_b.placement
    target = elect_leaders(scenario, target)

    verdict = verify_placement(scenario, target, use_z3=options.verify_with_z3)
    shortfall = sum(o.levels[0].value for _, o in outcomes if o.levels)
    if shortfall == 0 and verdict.violations and _new_violations(scenario, verdict.violations):
        raise InternalError("the solver met every invariant it was given but the checks disagree: "
                            + "; ".join(str(v) for v in verdict.violations))
    conflict: list[str] = []
    if shortfall > 0:
        strict = _encode(space_a, relaxed=False)
        conflict = conflicting_rules(strict, list(DEGRADABLE_RULES), time_limit=5.0, seed=options.seed)
    proven = all(o.proven for _, o in outcomes)
    if verdict.violations:
        status = Status.DEGRADED
    else:
        status = Status.OPTIMAL if proven else Status.FEASIBLE
    solver_info = {
        "restrictedCandidates": restricted,
        "stages": [{"stage": name, "levels": [lv.to_document() for lv in o.levels], "seconds": round(o.seconds, 3)}
                   for name, o in outcomes],
        "proven": proven,
        "seconds": round(time.monotonic() - started, 3),
    }
    if conflict:
        solver_info["conflict"] = conflict
    if options.feasibility_only:
        return Plan(cluster=cluster.name, failed=failures.failed, status=status, placement=target, steps=(),
                    metrics={}, violations=verdict.violations, removed_brokers=tuple(sorted(failures.removed_brokers)),
                    solver=solver_info, allow_unclean=options.allow_unclean)
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
    return Plan(cluster=cluster.name, failed=failures.failed, status=status, placement=target,
                steps=steps, metrics=metrics, violations=verdict.violations,
                removed_brokers=tuple(sorted(failures.removed_brokers)), solver=solver_info,
                allow_unclean=options.allow_unclean, timeline=timeline)


def _judge_against_floors(outcome: SolveOutcome, floors: dict) -> None:
    """A restricted solve is optimal only as far as its levels meet the unrestricted bounds;
    below the first level that does not, nothing is proven."""
    proven = True
    for level in outcome.levels:
        floor = floors.get(level.name, 0)
        above_met = outcome.levels[0].value == 0
        if level.name != "invariants" and not above_met:
            floor = 0
        if not proven or not level.proven or level.value > floor:
            proven = False
            level.proven = False
            level.bound = min(level.bound, floor)
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

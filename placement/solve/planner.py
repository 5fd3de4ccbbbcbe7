"""The planner: failures or a planned operation in, a checked and verified plan out.

Two stages, each one CP-SAT model minimising the levels of
``placement.solve.objectives`` one after another; what the failure or the
operation touches becomes a variable first, and more only where that is needed
to meet every invariant or to prove the answer optimal for the unrestricted
problem (making room: ``_solve_storage_and_brokers``):

- the storage-and-brokers stage decides where each touched broker runs and which
  nodes hold each damaged volume's replicas, with the partitions of brokers that
  might not run judged in aggregate (how many replicas they lose and must refill,
  and the data that costs);
- the partitions stage then picks the brokers that take those partition replicas (and, with
  required racks, the replicas that move to the zones a partition lacks): a water-filling start
  evened out by a min-cost flow (``partition_balance``), proven without a model where every
  partition's best choice is forced, else improved by CP-SAT (paced at scale).

A plan leaves here only after the plain checks and Z3 have judged its target and
the execution model checker has proven its steps safe in every order and prefix.

Degraded plans (some invariant cannot hold): the shortfall level's lower bound
(``placement.solve.shortfall``) proves it where an incumbent meets it; otherwise the
stall rule stops CP-SAT once it has not improved for 5% of the time limit (only after
20% of the limit when the bound is 0 or while it has not beaten the greedy start), the later levels, which have no bounds then,
share 10% of the limit, and a wider space to make room is not tried when too large to
decide whole (``shortfall.degraded_pace``). At scale (candidates restricted) from a start that
falls short, everything after the start -- models built, hints completed, every level, a re-solve
over wider candidates -- ends within 10% of the limit (the stage's deadline), each model sized to
that budget (``shortfall.scale_model_pairs``). Where CP-SAT finds nothing in time, or its
model could not even be built with time left to search it (a 5,000-node zone failure), the
greedy start that falls short is the answer (anytime: never "no placement"). Such a plan is
``degraded``: it claims no optimality, and every level not proven shows its value and bound.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, replace

from placement.execute.checker import ExecutionVerdict, check_execution
from placement.execute.sequence import safe_sequence
from placement.execute.steps import build_steps
from placement.execute.timeline import simulate
from placement.models.cluster import Cluster, NodeLoad
from placement.models.errors import InternalError
from placement.models.failures import Failures
from placement.models.plan import PartitionTarget, Placement, Plan, Status, Violation
from placement.rules import RULES, check_all, check_start
from placement.scenario import Scenario
from placement.solve import objectives, reachable, shortfall
from placement.solve.bounds import LowerBounds, unrestricted_lower_bounds
from placement.solve.cpsat import (CpEncoding, LevelResult, SolveOutcome, complete_hint, conflicting_rules, exclude,
                                   hint, slot_order, solve_lexicographic)
from placement.solve.greedy import fill_partitions, greedy_placement
from placement.solve.judging import check_changed
from placement.solve.leaders import elect_leaders
from placement.solve.metrics import plan_metrics
from placement.solve.partition_balance import even_out, unforced
from placement.solve.space import Space, widening_for_short
from placement.solve.verify import verify_placement

DEGRADABLE_RULES = ("I1", "I2", "I3", "I4", "I5", "I6")
FULL_MODEL_LIMIT = 60_000  # volume-node candidate pairs decided in one model before restricting
MIN_CANDIDATES_PER_ZONE = 12
WHOLE_SPACE_LIMIT = 3_000  # candidate pairs of the unrestricted problem small enough to decide whole
MIN_WIDENING_SECONDS = 0.5  # time left worth a wider search
ROOM_ROUNDS = 3  # widenings to the items that could make room for those already decided
UNREACHABLE_ROUNDS = 4  # targets set aside because no order of their steps is safe, before saying so
# partition-broker candidate pairs of the partitions stage's model: beyond, building the model alone
# takes longer than a plan may (a varied 1,000-node zone failure: 10^6 pairs, 50 s and 3 GiB), so
# the water-filling start is the answer, with its gap (or, where something falls short, degraded)
PARTITIONS_MODEL_LIMIT = 200_000
# partition-broker candidate pairs beyond which the partitions stage's levels after the first are
# paced as the first stage's are at scale (5% of the time limit together, each stopped once it
# stalls; ``shortfall.degraded_pace``): a 124,000-pair model's balance level took 36-42 s of a
# 60 s limit for 551 -> 548 (a 1,000-node zone failure with required racks)
PARTITIONS_PACED_PAIRS = 60_000
CONFLICT_SECONDS = 5.0  # the most the rules in conflict are searched for (5% of the limit when less)
# Building the storage stage's CP-SAT model (encoding, hint, completing the hint) takes about this long
# per candidate pair or partition of a decided broker: 26 s of CPU for 760,000 at 5,000 nodes (a zone
# failure, candidates restricted), here doubled for two cores shared with other work. Where a start
# is an answer already, a model whose building would take more than ``BUILD_SHARE`` of the time left
# is not built: the start is the answer, with its gap (anytime), rather than no answer in time.
MODEL_SECONDS_PER_ITEM = 50e-6
BUILD_SHARE = 0.5  # a model is built only where that leaves its search at least as long


@dataclass(frozen=True)
class PlanOptions:
    time_limit: float = 60.0  # seconds for all solving together
    seed: int = 0
    workers: int = 2
    progress: bool = False  # report incumbent and bound on stderr during long solves
    verify_with_z3: bool = True
    allow_unclean: bool = False  # let an out-of-sync replica lead a partition whose in-sync ones are gone
    # stop after the invariants level: what falls short at least, when no target is valid (no steps);
    # solved with the LP over every constraint, which proves a shortfall where the default search cannot
    feasibility_only: bool = False
    pacing: object = None  # the storage-and-brokers stage's (shortfall.degraded_pace), set by the planner


def _encode(space: Space, relaxed: bool) -> CpEncoding:
    enc = CpEncoding(space, relaxed=relaxed)
    for rule in RULES:
        rule.encode_cpsat(enc)
    reachable.encode_cpsat(enc)  # only targets some safe order of the steps reaches
    if relaxed:
        for lit in enc.lits.values():
            enc.model.Add(lit == 1)  # what may fall short is in the shortfall variables; everything else holds
    return enc


def plan_recovery(cluster: Cluster, failures: Failures, options: PlanOptions = PlanOptions(),
                  start: Placement | None = None) -> Plan:
    """``start``: a placement to begin the search from instead of the greedy one (a hint:
    it need not be valid, nor even fit the failure).

    A target that meets every invariant but that no order of its steps reaches safely (the
    order search proves it) is set aside and the search runs again without it, a few times
    within the time limit: the plan is the best target some safe order reaches, or, when
    none is found, a negative verdict naming the unsafe step."""
    started = time.monotonic()
    scenario = Scenario(cluster, failures, allow_unclean=options.allow_unclean)
    unreachable: list[Placement] = []
    first = None
    while True:
        left = replace(options, time_limit=max(0.5, options.time_limit - (time.monotonic() - started)))
        storage = _solve_storage_and_brokers(scenario, left, start, tuple(unreachable))
        if not storage.outcome.solved:
            if first is not None:  # the best target, said with its unsafe step: an answer all the same
                return _with_steps(scenario, *first[:4], options, *first[4:])
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
        conflict = _conflicting_rules(storage, outcomes, options)
        proven = all(o.proven for _, o in outcomes)
        if verdict.violations:
            status = Status.DEGRADED
        else:
            status = Status.OPTIMAL if proven else Status.FEASIBLE
        solver_info = _solver_document(outcomes, storage, proven, conflict, started)
        if unreachable:
            solver_info["unreachableTargetsSetAside"] = len(unreachable)  # cheaper ones no safe order reaches
        if options.feasibility_only:
            return Plan(cluster=cluster.name, failed=failures.failed, status=status, placement=target, steps=(),
                        metrics={}, violations=verdict.violations,
                        removed_brokers=tuple(sorted(failures.removed_brokers)), solver=solver_info,
                        allow_unclean=options.allow_unclean, **_operation(failures))
        steps, execution, no_safe_order = _safe_steps(scenario, target, options)
        found = (target, status, verdict.violations, solver_info, steps, execution)
        if not status.meets_invariants and first is not None:
            return _with_steps(scenario, *first[:4], options, *first[4:])  # nothing valid is left: the best one
        if execution.safe or not status.meets_invariants:
            return _with_steps(scenario, *found[:4], options, *found[4:])
        first = first or found  # the best target: said with its unsafe step if no other is reached safely
        if not no_safe_order or len(unreachable) >= UNREACHABLE_ROUNDS \
                or options.time_limit - (time.monotonic() - started) < MIN_WIDENING_SECONDS:
            return _with_steps(scenario, *first[:4], options, *first[4:])
        unreachable.append(storage.outcome.placement)  # no order of its steps is safe: search without it


def _safe_steps(scenario: Scenario, target: Placement, options: PlanOptions) -> tuple[tuple, ExecutionVerdict, bool]:
    """The steps to the target and the model checker's verdict on them. Where the laid-out steps
    are not proven safe, every order of the same steps is searched (``placement.execute.sequence``):
    a safe one is taken (as a chain, proven again); none at all is said by the third value."""
    steps = build_steps(scenario, target)
    if options.progress and len(steps) > 500:
        print(f"  model-checking {len(steps):,} steps (every prefix, every order) and estimating the timeline",
              file=sys.stderr, flush=True)
    execution = check_execution(scenario, steps, target)
    if execution.safe:
        return steps, execution, False
    found = safe_sequence(scenario, steps)
    if found.steps is not None:
        chained = check_execution(scenario, found.steps, target)
        if chained.safe:
            return found.steps, chained, False
    return steps, execution, found.exhaustive and found.steps is None


def _operation(failures: Failures) -> dict:
    """The plan's record of the planned operation, for verify to judge it by."""
    return {"drained": tuple(sorted(failures.drained)), "max_used_percent": failures.max_used_percent,
            "min_replicas": failures.min_replicas}


@dataclass(frozen=True)
class _StorageStage:
    outcome: SolveOutcome
    space: Space  # the space it decided over (restricted, when the problem was too large)
    restricted: bool  # candidate nodes restricted (the problem was too large to decide at once)
    decided: str = "touched"  # what was decided: "touched", "making room" or "everything"
    widened: int = 0  # restricted: volumes left short given every node of the zones they lack
    left_out: int = 0  # restricted: volumes left short whose fix was not looked for (budget or time)


def _solve_storage_and_brokers(scenario: Scenario, options: PlanOptions, start: Placement | None,
                               unreachable: tuple[Placement, ...] = ()) -> _StorageStage:
    """The first stage. First over what the operation touches (from a greedy start, or the given
    one); where that is not proven optimal for the unrestricted problem -- the invariants cannot
    all hold there, or its levels miss the unrestricted lower bounds -- over everything when the
    cluster is small enough, or else over the healthy items that could make room."""
    deadline = limit = time.monotonic() + options.time_limit - _reserve(scenario, options)
    touched = Space.for_planning(scenario)
    bounds = unrestricted_lower_bounds(scenario, objectives.narrow_later_bounds(scenario, touched))
    greedy = start is None
    if greedy:
        start = greedy_placement(scenario, spread=True)
    at_scale = touched.pairs() > FULL_MODEL_LIMIT
    # at scale, a greedy start that falls short: the search after it is a small share of the limit,
    # every model sized to it (shortfall.degraded_pace); nothing at scale makes room (see below). A
    # start the caller gives (a hint, perhaps far from valid) keeps the rules of before.
    judged_start = _start_verdict(scenario, start) \
        if at_scale and greedy and not options.feasibility_only and not unreachable else None
    budgeted = bool(judged_start)
    budget_pairs = None
    if budgeted:
        seconds = shortfall.scale_search_seconds(options.time_limit)
        deadline = min(deadline, time.monotonic() + seconds)
        budget_pairs = shortfall.scale_model_pairs(seconds)
    if not options.feasibility_only:  # one pacing for every space solved: a degraded plan's budgets are shared
        options = replace(options, pacing=shortfall.degraded_pace(options.time_limit, at_scale=at_scale,
                                                                  start_falls_short=budgeted))
    narrow = _solve_space(scenario, touched, bounds, options, start, deadline, "touched", unreachable,
                          budget_pairs=budget_pairs, start_broken=judged_start)
    if budgeted and not narrow.outcome.solved and not options.feasibility_only:
        # nothing at all within the budget (the start's hint could not be completed): the rules of
        # before, for what is left of the limit, rather than "no placement"
        budgeted, deadline = False, limit
        options = replace(options, pacing=shortfall.degraded_pace(options.time_limit, at_scale=at_scale))
        narrow = _solve_space(scenario, touched, bounds, options, start, deadline, "touched", unreachable)
    if _settled(narrow, options):
        return narrow
    if _whole_space_is_small(scenario):
        return _wider(scenario, narrow, _whole_space(scenario), bounds, options, start, deadline, "everything",
                      unreachable)
    if budgeted:
        return narrow  # every space that could make room holds the touched one, too large to decide whole
    best, space = narrow, touched
    for _ in range(ROOM_ROUNDS):  # the healthy items that could make room, and then theirs
        if _shortfall_of(best) == 0 or deadline - time.monotonic() < MIN_WIDENING_SECONDS:
            break
        if not options.feasibility_only and space.pairs() > FULL_MODEL_LIMIT:
            break  # as below, known before building the wider space (it holds this one: 20 s at 5,000 nodes)
        wider = _room_space(scenario, space)
        if set(wider.volume_domain) == set(space.volume_domain) and set(wider.broker_domain) == set(space.broker_domain):
            break  # nothing more could make room
        if not options.feasibility_only and wider.pairs() > FULL_MODEL_LIMIT:
            break  # too large to decide whole: CP-SAT stalled on the narrower model already (shortfall.degraded_pace)
        best, space = _wider(scenario, best, wider, bounds, options, start, deadline, "making room", unreachable), wider
    return best  # where every invariant is met: optimal within its space, with its gap to the bounds said


def _wider(scenario: Scenario, best: _StorageStage, wider: Space, bounds: LowerBounds, options: PlanOptions,
           start: Placement, deadline: float, decided: str, unreachable: tuple[Placement, ...] = ()) -> _StorageStage:
    """``wider`` solved from the best answer so far; kept only where it does at least as well."""
    if deadline - time.monotonic() < MIN_WIDENING_SECONDS:
        return best
    hint_from = best.outcome.placement if best.outcome.solved else start
    wide = _solve_space(scenario, wider, bounds, options, hint_from, deadline, decided, unreachable)
    if not wide.outcome.solved:
        return best
    if best.outcome.solved and _level_values(best) < _level_values(wide):
        return best  # the wider search ran out of time short of what the narrower one found
    return wide


def _values(outcome: SolveOutcome) -> tuple:
    """Every level's value, in order: lexicographic comparison of two answers of one space."""
    return tuple(level.value for level in outcome.levels)


def _level_values(stage: _StorageStage) -> tuple:
    """The levels every space measures alike (shortfall, copied, untouched): the later ones are
    judged against the items a space decides, so they compare only within one space."""
    return tuple(level.value for level in stage.outcome.levels[:3])


def _reserve(scenario: Scenario, options: PlanOptions) -> float:
    """Time kept back from the search for what follows it within the time limit: the partitions
    stage, the checks and Z3, the steps' model check and the timeline (a few ms per touched item)."""
    if options.feasibility_only:
        return 0.0
    work = len(scenario.touched_volumes) + len(scenario.touched_brokers)
    return min(0.25 * options.time_limit, 1.0 + 0.003 * work)


def _settled(stage: _StorageStage, options: PlanOptions) -> bool:
    """Nothing to gain by deciding more: proven optimal for the unrestricted problem (or, when only
    feasibility is asked, every invariant met)."""
    if not stage.outcome.solved:
        return False
    if options.feasibility_only:
        return _shortfall_of(stage) == 0
    return stage.outcome.proven


def _shortfall_of(stage: _StorageStage) -> int:
    levels = stage.outcome.levels
    return levels[0].value if levels else 0


def _whole_space_is_small(scenario: Scenario) -> bool:
    """The unrestricted problem has few enough candidate pairs to decide whole. Every volume with data
    has at least the open nodes as candidates, so a larger cluster is known too large before its
    space is built (O(V + N) then; the space only when it may be small)."""
    cluster = scenario.cluster
    open_nodes = sum(1 for n in cluster.nodes if n.is_storage and scenario.is_alive(n.name)
                     and n.state.value == "ready" and not scenario.is_drained(n.name))
    if sum(1 for v in cluster.volumes if scenario.has_data(v.name)) * open_nodes > WHOLE_SPACE_LIMIT:
        return False
    return _whole_space(scenario).pairs() <= WHOLE_SPACE_LIMIT


def _whole_space(scenario: Scenario) -> Space:
    """Everything decided: every volume with data, and every broker (a rebalance moves none)."""
    cluster = scenario.cluster
    return Space.for_planning(scenario, volumes=[v.name for v in cluster.volumes], brokers=_movable_brokers(scenario))


def _movable_brokers(scenario: Scenario, on: set[str] | None = None) -> list[int]:
    """The brokers a wider space decides: every touched one, and the healthy ones (on the given nodes)
    whose restart keeps their partitions serving (``Scenario.may_move_healthy``). A rebalance moves
    only brokers that must move."""
    touched = set(scenario.touched_brokers)
    if scenario.failures.max_used_percent is not None:
        return sorted(touched)
    return [b.id for b in scenario.cluster.brokers
            if b.id in touched or ((on is None or b.node in on) and scenario.may_move_healthy(b))]


def _room_space(scenario: Scenario, decided: Space) -> Space:
    """The items decided so far and the healthy ones that could make room for them: the replicas and
    brokers on nodes some decided volume or broker could use but that lack room for it (its storage,
    or a broker's slot, CPU or memory), with the volumes of those brokers. A rebalance moves no broker."""
    cluster = scenario.cluster
    used = scenario.start_storage_mib  # what the nodes hold now, decided items included
    load = {n.name: NodeLoad() for n in cluster.nodes}
    for b in cluster.brokers:
        if scenario.is_alive(b.node):
            load[b.node] = load[b.node].plus(NodeLoad.of_broker(b))
    short: set[str] = set()
    for name, nodes in decided.volume_domain.items():
        size = cluster.volume[name].size_mib
        short.update(n for n in nodes if scenario.storage_limit_mib(n) - used[n] < size)
    for bid, nodes in decided.broker_domain.items():
        b = cluster.broker[bid]
        short.update(n for n in nodes if n != b.node and not cluster.broker_fits(b, n, load[n]))
    brokers = set(decided.broker_domain) | set(_movable_brokers(scenario, short))
    volumes = set(decided.volume_domain) | {v.name for v in cluster.volumes if short.intersection(v.replicas)}
    volumes |= {v for b in brokers for v in cluster.broker[b].volumes}
    return Space.for_planning(scenario, volumes=volumes, brokers=brokers)


def decidable(scenario: Scenario, space: Space, start: Placement,
              widen: dict[str, tuple[str, ...]] | None = None, pairs: int | None = None) -> tuple[Space, bool]:
    """(the space, whether its candidates were restricted): a space with too many volume-node
    pairs to decide at once gets each volume's candidates restricted, plus ``widen``'s (and the
    caller claims optimality, or that nothing is valid, only against the unrestricted problem).
    ``pairs``: a budget's model size (``shortfall.scale_model_pairs``): the windows then take about
    a quarter of it (each volume also keeps its start and its replicas, and gets the emptiest nodes)."""
    if space.pairs() <= FULL_MODEL_LIMIT:
        return space, False
    zones = max(1, len(scenario.cluster.zones))
    volumes = max(1, len(space.volume_domain)) * zones
    per_zone = max(MIN_CANDIDATES_PER_ZONE, FULL_MODEL_LIMIT // volumes) if pairs is None else max(1, pairs // (4 * volumes))
    return Space.for_planning(scenario, candidates_per_zone=per_zone, also=start, volumes=list(space.volume_domain),
                              brokers=list(space.broker_domain), widen=widen), True


def _solve_space(scenario: Scenario, space: Space, bounds: LowerBounds, options: PlanOptions, start: Placement,
                 deadline: float, decided: str, unreachable: tuple[Placement, ...] = (),
                 budget_pairs: int | None = None, start_broken: list | None = None) -> _StorageStage:
    """One space solved level by level; where it is not the unrestricted problem (or its candidates
    were restricted), optimal only as far as its levels meet the unrestricted lower bounds.

    The start first: where it lies in the space, meets every invariant and every level's lower
    bound, it is the answer, proven, and no model is built. Otherwise CP-SAT improves on it; and
    where CP-SAT finds nothing within the time limit, a start that meets every invariant is still
    the answer, ``feasible``, with its gap to the bounds (anytime: never "no placement"); so is a
    start that falls short, ``degraded``, with its shortfalls and the LP's bound on them. Where a
    start is an answer and the model could not be built with time left to search it
    (``_worth_building``), no model is built. Once a target was set aside as unreachable
    (``unreachable``), a valid start is not taken as the answer: it may be that very target, and
    only the solver's exclusions keep it out (a start that falls short is never such a target).

    ``budget_pairs`` (at scale, a start that falls short; ``deadline`` is then the budget's): each
    model built here has about that many candidate pairs, half of them windows and half widenings,
    and a re-solve over wider candidates is built only where the time left is that model's share
    (``shortfall.SCALE_PAIRS_PER_SECOND``). ``start_broken``: what the start breaks, where already
    judged (``_start_verdict``: empty exactly where nothing is broken, not every violation)."""
    broken = start_broken
    if broken is None and _in_space(space, start):
        broken = _start_verdict(scenario, start)
    judged = None if unreachable or budget_pairs else _judge_start(scenario, space, bounds, start, options, broken)
    if judged is not None and judged.proven:
        return _StorageStage(judged, space, False, decided)
    full_space = space

    def falling_short() -> SolveOutcome | None:
        """A start that falls short is still an answer where CP-SAT finds nothing in time (anytime);
        its shortfalls counted in full (every violation) only when it is."""
        if not broken:
            return None
        return _start_falling_short(scenario, full_space, start, options, _start_violations(scenario, start))
    space, restricted = decidable(scenario, space, start, pairs=budget_pairs)
    widened = left_out = 0
    widen: dict[str, tuple[str, ...]] = {}
    widening = FULL_MODEL_LIMIT if budget_pairs is None else budget_pairs // 2  # pairs a widening may add
    if restricted:  # the volumes the start leaves short: every node of the zones they lack, from the first
        widen, _ = widening_for_short(scenario, space, start, widening)
        if widen:
            space, _ = decidable(scenario, full_space, start, widen, pairs=budget_pairs)
            widened = len(widen)
    valid_start = judged is not None
    build_deadline = deadline
    if restricted and judged is not None and not options.feasibility_only:
        # At scale, a start that meets every invariant: the search after it is FEASIBLE_SHARE of the
        # limit (shortfall.degraded_pace), and a model whose building takes more than half of that is
        # not built. At --time-limit 60 CP-SAT never improved such a start on four clean-room
        # 1,000-node zone failures (the same values at every level, 3 s of search after 4-7 s of
        # building); a larger limit builds it and searches.
        build_deadline = min(deadline, time.monotonic() + shortfall.FEASIBLE_SHARE * options.time_limit)
    if (judged is not None or broken) and not _worth_building(scenario, space, build_deadline):
        # no time to build the model and search it: the start is the answer (anytime), with its gap
        if judged is not None:
            return _StorageStage(judged, full_space, False, decided)
        short_start = falling_short()
        if short_start is not None:
            return _StorageStage(_bounded(scenario, short_start), full_space, restricted, decided)
    hint_seconds = 0.25 * options.time_limit if budget_pairs else 0.0  # the start is the fallback: as before
    outcome, weight = _solve_in(space, bounds, options, start, deadline, decided, unreachable, valid_start,
                                hint_seconds)
    if restricted and outcome.solved and _short(outcome):
        # Something still falls short within restricted candidates: before that is the answer, the
        # volumes it leaves short get every node of the zones they lack (a fix the window excluded).
        more, _ = widening_for_short(scenario, space, outcome.placement, widening)
        if more and deadline - time.monotonic() >= _seconds_for(space, more, budget_pairs) \
                and _worth_building(scenario, space, deadline):
            wider, _ = decidable(scenario, full_space, start, _merged(widen, more), pairs=budget_pairs)
            again, weight_again = _solve_in(wider, bounds, options, outcome.placement, deadline, decided, unreachable,
                                            valid_start, hint_seconds)
            widened += len(more)
            if again.solved and _values(again) <= _values(outcome):
                outcome, space, weight = again, wider, weight_again
    if restricted and outcome.solved and _short(outcome):
        left_out = widening_for_short(scenario, space, outcome.placement, 0)[1]  # fixes still excluded: said
    if judged is not None and (not outcome.solved or _values(judged) < _values(outcome)):
        return _StorageStage(judged, full_space, False, decided)  # the start, with its gap (anytime)
    short_start = falling_short() if not outcome.solved else None
    if short_start is not None:
        # the start falling short, degraded: no conflict searched where the space was too large to decide whole
        return _StorageStage(_bounded(scenario, short_start), full_space, restricted, decided)
    if outcome.solved and not (decided == "everything" and not restricted):
        short = outcome.levels[0].value if outcome.levels else 0  # the unrestricted bound, only where it matters
        unrestricted = weight * shortfall.major_shortfall_bound(_whole_space(scenario)) if short else 0
        _judge_against_lower_bounds(outcome, bounds, later_too=restricted, invariants=unrestricted)
    return _StorageStage(outcome, space, restricted, decided, widened, left_out)


def _worth_building(scenario: Scenario, space: Space, deadline: float) -> bool:
    """Building the space's model (``MODEL_SECONDS_PER_ITEM``) leaves at least as long to search it
    before the deadline. O(B) (the index of each broker's partitions is built once)."""
    items = space.pairs() + sum(len(scenario.partitions_of(b)) for b in space.broker_domain)
    return items * MODEL_SECONDS_PER_ITEM <= BUILD_SHARE * (deadline - time.monotonic())


def _seconds_for(space: Space, more: dict[str, tuple[str, ...]], budget_pairs: int | None) -> float:
    """The time a re-solve over ``space`` widened by ``more`` needs left before it is built: at
    least ``MIN_WIDENING_SECONDS``; within a budget (``budget_pairs``), its model's share of it."""
    if budget_pairs is None:
        return MIN_WIDENING_SECONDS
    pairs = space.pairs() + sum(len(nodes) for nodes in more.values())
    return max(MIN_WIDENING_SECONDS, pairs / shortfall.SCALE_PAIRS_PER_SECOND)


def _start_verdict(scenario: Scenario, start: Placement) -> list:
    """What the start breaks (the plain checks, with leaders elected; empty where nothing). A volume
    with data left with fewer replicas than its replication factor says it at once (I1 judges
    exactly that: its violation, with no reason), without the checks' reasons for every short
    volume (O(nodes) each: a second for a thousand)."""
    cluster = scenario.cluster
    for v in cluster.volumes:
        if scenario.has_data(v.name) and len(start.volumes.get(v.name, ())) < v.replication_factor:
            return [Violation("I1", f"volume {v.name} keeps fewer replicas than its replication factor",
                              f"volume {v.name}")]
    return _start_violations(scenario, start)


def _solve_in(space: Space, bounds: LowerBounds, options: PlanOptions, start: Placement, deadline: float,
              decided: str, unreachable: tuple[Placement, ...], start_is_valid: bool,
              hint_seconds: float = 0.0) -> tuple[SolveOutcome, int]:
    """CP-SAT on one (possibly restricted) space, from ``start``, level by level until ``deadline``;
    with the weight of one shortfall in its first level. ``hint_seconds``: the least time completing
    the start's hint may take (the start is the answer where CP-SAT finds nothing better: within a
    budget, it keeps the quarter of the limit it had, more than the budget's quarter)."""
    time_limit = max(0.1, deadline - time.monotonic())
    enc = _encode(space, relaxed=True)
    for target in unreachable:
        exclude(enc, target)  # no order of its steps is safe
    # the start falls short (or is no answer here): the fewest shortfalls this space allows, proven
    levels = objectives.storage_and_brokers_levels(enc, bounds, 0 if start_is_valid else shortfall.weighted_bound(enc))
    if options.feasibility_only:
        levels = levels[:1]
    hint(enc, start)  # a greedy start (or a narrower answer): CP-SAT improves on it
    first = complete_hint(enc, levels[0].terms, time_limit=max(time_limit / 4, hint_seconds))
    # the later levels' bounds are over the touched items: floors only where the touched items are decided
    floors = None if decided == "touched" else frozenset(("invariants", "copied", "untouched"))
    outcome = solve_lexicographic(enc, levels, time_limit=max(0.1, deadline - time.monotonic()), seed=options.seed,
                                  workers=options.workers, progress=options.progress, start=first, floors=floors,
                                  full_lp=options.feasibility_only,
                                  pacing=options.pacing)
    return outcome, shortfall.weight(enc)


def _short(outcome: SolveOutcome) -> bool:
    return bool(outcome.levels) and outcome.levels[0].name == "invariants" and outcome.levels[0].value > 0


def _merged(first: dict, then: dict) -> dict:
    return {name: tuple(dict.fromkeys(first.get(name, ()) + then.get(name, ()))) for name in set(first) | set(then)}


def _judge_start(scenario: Scenario, space: Space, bounds: LowerBounds, start: Placement,
                 options: PlanOptions, broken: list | None = None) -> SolveOutcome | None:
    """The start as an answer of the storage-and-brokers stage, when it lies in ``space``, meets
    every invariant (the plain checks, with leaders elected) and is reachable: its levels computed
    in plain Python (``objectives.storage_level_values``), each proven where it and every level
    above meet their lower bounds of the unrestricted problem. None when it is no answer.
    ``broken``: what the start breaks, where already judged (``_start_verdict``)."""
    tick = time.monotonic()
    if not _in_space(space, start) or not reachable.reachable(scenario, start):
        return None
    if broken is None:
        broken = _start_verdict(scenario, start)
    if broken:
        return None
    names = objectives.storage_level_names(scenario)[:1 if options.feasibility_only else None]
    values = objectives.storage_level_values(space, start)
    return _outcome_of(_decided(space, start), [(name, values[name], lambda above, name=name: 0 if name == "invariants"
                               else bounds.for_level(name, above)) for name in names], time.monotonic() - tick)


def _start_violations(scenario: Scenario, start: Placement) -> list[Violation]:
    """What the start breaks: where the cluster's start breaks nothing, only the items the start
    changed are judged (``check_changed``), else everything."""
    broken = check_changed(scenario, start)
    if broken is None:
        broken = check_all(scenario, elect_leaders(scenario, start, even_out=False))
    return broken


def _start_falling_short(scenario: Scenario, space: Space, start: Placement, options: PlanOptions,
                         broken: list[Violation]) -> SolveOutcome | None:
    """The start as the stage's answer where it lies in the space, is reachable, but breaks some
    invariant (``broken``), for when CP-SAT finds nothing in time or has no time to build its
    model (anytime: a degraded plan, never "no placement"). Its first level counts the shortfalls
    the plain checks measure (each violation's ``needed - current`` where it has figures, else 1;
    lost data aside, which no placement restores); the later levels are the start's values;
    nothing is proven and every later bound shown is 0 (the plan is degraded and claims no
    optimality; the first level's bound is the LP's, ``_bounded``, once it is the answer). None
    where the start breaks nothing (then ``_judge_start`` judges it) or is no answer here."""
    tick = time.monotonic()
    if not broken or not _in_space(space, start) or not reachable.reachable(scenario, start):
        return None
    names = objectives.storage_level_names(scenario)[:1 if options.feasibility_only else None]
    values = objectives.storage_level_values(space, start)
    values["invariants"] = sum(_deficit(v) for v in broken if v.invariant != "I7")
    outcome = _outcome_of(_decided(space, start), [(name, values[name], lambda above: 0) for name in names],
                          time.monotonic() - tick)
    for level in outcome.levels:
        level.proven = False
    return outcome


def _bounded(scenario: Scenario, short_start: SolveOutcome) -> SolveOutcome:
    """The start falling short with the fewest shortfalls of the unrestricted problem as its first
    level's bound (``shortfall.major_shortfall_bound``: an LP, milliseconds to a few seconds at
    5,000 nodes), proven where it meets it."""
    level = short_start.levels[0]
    level.bound = shortfall.major_shortfall_bound(_whole_space(scenario))
    level.proven = level.value <= level.bound
    return short_start


def _deficit(violation: Violation) -> int:
    """How far one violation falls short, in the units of the shortfall variables (replicas, zones,
    brokers): ``needed - current`` where both are numbers, else 1."""
    current, needed = violation.current, violation.needed
    if isinstance(current, (int, float)) and isinstance(needed, (int, float)) and needed > current:
        return max(1, math.ceil(needed - current))
    return 1


def _outcome_of(placement: Placement, levels, seconds: float) -> SolveOutcome:
    """A solver-free outcome: (name, value, bound given the levels above) per level, proven while
    every level so far meets its bound (a proof by the bounds alone), unproven from the first that
    does not (with the bound it misses)."""
    outcome = SolveOutcome(solved=True, placement=placement, seconds=seconds)
    proven = True
    for name, value, bound_of in levels:
        bound = bound_of(outcome.levels)
        proven = proven and value <= bound
        outcome.levels.append(LevelResult(name, value, value if proven else bound, proven, 0.0))
    return outcome


def _decided(space: Space, target: Placement) -> Placement:
    """What the space decides of the target, the rest as the space has it: the placement a solver
    would return for the same choices (``CpEncoding.placement``), so that an answer does not depend
    on which of the two found it (partition replicas in their slots, leaders left to the election)."""
    scenario = space.scenario
    order = {n.name: i for i, n in enumerate(scenario.cluster.nodes)}  # a domain's order
    volumes = dict(space.base.volumes)
    volumes.update({name: tuple(sorted(target.volumes.get(name, ()), key=order.__getitem__)) for name in space.volume_domain})
    for lost in scenario.lost_volumes:
        volumes.pop(lost.name, None)
    brokers = dict(space.base.brokers)
    brokers.update({b: target.brokers.get(b) for b in space.broker_domain})
    partitions = dict(space.base.partitions)
    for key, domain in space.partition_domain.items():
        original = scenario.cluster.partition[key]
        chosen = set(target.partitions[key].replicas)
        replicas = slot_order(original.replicas, [b for b in domain if b in chosen]) or original.replicas
        partitions[key] = PartitionTarget(key[0], key[1], replicas, None)
    return Placement(brokers=brokers, volumes=volumes, partitions=partitions)


def _in_space(space: Space, target: Placement) -> bool:
    """The target decides only what the space decides, each within its candidates (no node twice)."""
    base = space.base
    for name, nodes in target.volumes.items():
        domain = space.volume_domain.get(name)
        if domain is None:
            if tuple(nodes) != tuple(base.volumes.get(name, ())):
                return False
        elif len(set(nodes)) != len(nodes) or not space.members(domain).issuperset(nodes):
            return False
    if any(name not in target.volumes for name in space.volume_domain if space.scenario.has_data(name)):
        return False
    for b, node in target.brokers.items():
        domain = space.broker_domain.get(b)
        if domain is None:
            if node != base.brokers.get(b):
                return False
        elif node is not None and node not in space.members(domain):
            return False
    return True


def _solve_partitions(scenario: Scenario, storage_and_brokers: Placement, options: PlanOptions,
                      started: float) -> SolveOutcome | None:
    """The second stage; None when no partition replica needs a broker.

    The start: water-filling (``fill_partitions``), evened out per rack by a min-cost flow over
    the exchanges that keep every level above balance (``partition_balance.even_out``). Where every
    target at those levels' optimum is such an exchange (``partition_balance.unforced`` finds no
    partition whose best choice, class by class, may differ from the start's) the evened start is
    optimal, proven, and no model is built; so too where it meets every level's lower bound.
    Otherwise CP-SAT improves on it, deciding only the unforced partitions where some are forced
    (the others as the evened start has them; its answer judged over the whole stage,
    ``_judge_in_full``), its answer evened out again, paced as the first stage is
    (``shortfall.degraded_pace``: at scale -- more than ``PARTITIONS_PACED_PAIRS`` candidate
    pairs -- the levels after the first share 5% of the time limit, each stopped once it
    stalls); where CP-SAT finds nothing better
    in time, or the model would be too large to build (``PARTITIONS_MODEL_LIMIT``), the start is
    the answer, ``feasible`` with its gap (or, where something falls short, degraded).
    O(P_d (R + Z) + the flow) before any model."""
    space = Space.for_partitions(scenario, storage_and_brokers)
    if not space.partition_domain:
        return None
    start = even_out(space, fill_partitions(space))
    tick = time.monotonic()
    names = objectives.partitions_level_names(scenario)[:1 if options.feasibility_only else None]
    broken = check_changed(scenario, start)  # where the start breaks nothing: only what the target changed
    if broken is None:
        broken = check_all(scenario, elect_leaders(scenario, start, even_out=False))
    values = objectives.partitions_level_values(space, start)
    bound_of = objectives.partitions_bounds(space)
    left = list(space.partition_domain)  # the partitions whose choice is not forced
    if not broken:
        left = unforced(space, start)
        if not left:  # every level's optimum is the start's: proven
            bound_of = lambda name, above: values[name]  # noqa: E731
        judged = _outcome_of(_decided(space, start), [(name, values[name], lambda above, name=name: bound_of(name, above))
                                     for name in names], time.monotonic() - tick)
        if judged.proven:
            return judged
    else:
        # Something falls short already (the storage stage's shortfall, or the start's): the
        # water-filling start is still the answer where CP-SAT finds nothing in time, degraded,
        # its first level the violations the plain checks find, nothing proven (anytime).
        values["invariants"] = len(broken)
        judged = _outcome_of(_decided(space, start), [(name, values[name], lambda above: 0) for name in names],
                             time.monotonic() - tick)
        for level in judged.levels:
            level.proven = False
    pairs = sum(len(brokers) for brokers in space.partition_domain.values())
    if pairs > PARTITIONS_MODEL_LIMIT:
        return judged  # too large a model to build within any reasonable limit: the start, with its gap
    # only the partitions whose choice is not forced are decided (the others as the evened start has them)
    model_space = space if len(left) == len(space.partition_domain) else _only(space, start, left)
    enc = _encode(model_space, relaxed=True)
    remaining = max(1.0, options.time_limit - (time.monotonic() - started))
    levels = objectives.partitions_levels(enc)
    if options.feasibility_only:
        levels = levels[:1]
    hint(enc, start)
    first = complete_hint(enc, levels[0].terms, time_limit=remaining / 4)
    pacing = None if options.feasibility_only else \
        shortfall.degraded_pace(options.time_limit, at_scale=pairs > PARTITIONS_PACED_PAIRS)
    outcome = solve_lexicographic(enc, levels, time_limit=remaining, seed=options.seed,
                                  workers=options.workers, progress=options.progress, start=first,
                                  full_lp=options.feasibility_only, pacing=pacing)
    if outcome.solved and model_space is not space:
        _judge_in_full(space, outcome, names)
    if outcome.solved and not options.feasibility_only:
        _even_out_answer(space, outcome)
    if not outcome.solved or (judged.levels[0].value == 0 and _values(judged) < _values(outcome)):
        return judged  # the start, with its gap (anytime)
    return outcome


def _only(space: Space, start: Placement, keys: list) -> Space:
    """The partitions stage's space deciding only ``keys``; every other partition as ``start`` has it."""
    return Space(space.scenario, start, {}, {}, {key: space.partition_domain[key] for key in keys},
                 fixed_members={key: space.fixed_members.get(key, ()) for key in keys},
                 partition_zones={key: space.partition_zones[key] for key in keys if key in space.partition_zones})


def _judge_in_full(space: Space, outcome: SolveOutcome, names: list[str]) -> None:
    """An answer of the model over the unforced partitions only, judged over the whole stage:
    each level's value over every partition; the invariants, copied and racks levels keep the
    model's proofs (they are sums over partitions, and each forced one is at its own optimum,
    ``partition_balance.unforced``), with the whole stage's bound where not proven; the balance
    level is proven only where it meets the whole stage's bound (the forced partitions' brokers
    were fixed in the model, so its proof holds only there)."""
    outcome.placement = _decided(space, outcome.placement)
    values = objectives.partitions_level_values(space, outcome.placement)
    bound_of = objectives.partitions_bounds(space)
    above: list = []
    for level in outcome.levels:
        if level.name != "invariants":
            level.value = values[level.name]
        full = bound_of(level.name, above)
        if level.name == "balance" or not level.proven:
            level.proven = level.value <= full
        level.proven = level.proven and all(lv.proven for lv in above)
        level.bound = level.value if level.proven else full
        above.append(level)
    outcome.restricted = True


def _even_out_answer(space: Space, outcome: SolveOutcome) -> None:
    """CP-SAT's answer evened out like the start (a balance level cut short may leave exchanges
    that lower it), its balance level updated where that helped: the value lower, proven only
    where it meets the bound CP-SAT proved (and every level above is proven)."""
    if not outcome.levels or outcome.levels[0].value or outcome.levels[-1].name != "balance":
        return
    evened = even_out(space, outcome.placement)
    if evened is outcome.placement:
        return
    value = objectives.partitions_level_values(space, evened)["balance"]
    level = outcome.levels[-1]
    if value < level.value:
        outcome.placement = _decided(space, evened)
        level.value = value
        level.proven = level.proven or (value <= level.bound and all(lv.proven for lv in outcome.levels[:-1]))


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


def _conflicting_rules(storage: _StorageStage, outcomes, options: PlanOptions) -> list[str]:
    """Where something falls short, the rules that cannot all hold together (an assumption core).
    Not searched where the candidates were restricted: a core there holds only for those
    candidates, not for the cluster (and building the strict model of a space that large, then
    searching it for a few seconds, cost 6 s on a 1,000-node zone failure and found none)."""
    if _shortfall(outcomes) == 0 or storage.restricted:
        return []
    strict = _encode(storage.space, relaxed=False)
    seconds = max(0.5, min(CONFLICT_SECONDS, shortfall.STALL_SHARE * options.time_limit))
    return conflicting_rules(strict, list(DEGRADABLE_RULES), time_limit=seconds, seed=options.seed,
                             full_lp=options.feasibility_only)


def _solver_document(outcomes, storage: _StorageStage, proven: bool, conflict: list[str], started: float) -> dict:
    info = {
        "restrictedCandidates": storage.restricted,
        "decided": storage.decided,
        "stages": [{"stage": name, "levels": [lv.to_document() for lv in o.levels], "seconds": round(o.seconds, 3)}
                   for name, o in outcomes],
        "proven": proven,
        "seconds": round(time.monotonic() - started, 3),
    }
    if storage.widened:
        info["widenedCandidates"] = storage.widened  # short volumes given every node of the zones they lack
    if storage.left_out:
        # a shortfall not proven, from a space that may exclude its fix: said, never implied
        info["shortVolumesNotWidened"] = storage.left_out
    if conflict:
        info["conflict"] = conflict
    return info


def _with_steps(scenario: Scenario, target: Placement, status: Status, violations, solver_info: dict,
                options: PlanOptions, steps, execution: ExecutionVerdict) -> Plan:
    """The steps to the target, proven safe in every order and prefix, with the metrics and the timeline.

    Steps that cannot be made safe are a negative verdict (status degraded, each counterexample
    listed) for a planned operation, a plan that moves healthy items to make room, or a start
    that is already imperfect; for a recovery from a clean start they are a bug in placement (exit 3)."""
    preexisting = tuple(check_start(scenario.cluster))
    if not execution.safe and status.meets_invariants:
        moves_healthy = solver_info.get("decided", "touched") != "touched"
        if not (scenario.failures.planned or moves_healthy or _has_stale(scenario) or _imperfect(preexisting)):
            raise InternalError("the steps to a valid target failed the execution model check: "
                                + "; ".join(c.message for c in execution.counterexamples[:5]))
        status = Status.DEGRADED
        violations = tuple(violations) + tuple(_unsafe_step(c) for c in execution.counterexamples)
    metrics = plan_metrics(scenario, target)
    metrics["solveSeconds"] = solver_info["seconds"]
    timeline = simulate(scenario, target, steps)
    metrics["timeline"] = timeline.to_document()
    metrics["execution"] = execution.to_document()
    failures = scenario.failures
    return Plan(cluster=scenario.cluster.name, failed=failures.failed, status=status, placement=target,
                steps=steps, metrics=metrics, violations=tuple(violations),
                removed_brokers=tuple(sorted(failures.removed_brokers)), solver=solver_info,
                allow_unclean=options.allow_unclean, timeline=timeline, preexisting=preexisting, **_operation(failures))


def _imperfect(preexisting) -> bool:
    """The start broke something beyond what the file's failed nodes explain (their replicas and
    brokers gone, and the data lost with them)."""
    return any(v.invariant != "I7" and "is failed" not in v.message for v in preexisting)


def _has_stale(scenario: Scenario) -> bool:
    return any(scenario.stale_replicas(v.name) for v in scenario.cluster.volumes)


# What an unsafe intermediate state breaks, by what the model checker says it is about.
_UNSAFE_INVARIANT = (("partition ", "I6"), ("broker ", "I3"), ("volume ", "I1"), ("node ", "I5"))


def _unsafe_step(counterexample) -> Violation:
    """A counterexample of the execution model check as a violation of the plan: the target may
    be valid, but no safe way to it was found."""
    message = counterexample.message
    invariant = next((i for prefix, i in _UNSAFE_INVARIANT if message.startswith(prefix)), "I1")
    if invariant == "I5" and " brokers" in message:
        invariant = "I4"
    subject = " ".join(message.split()[:2]) if invariant != "I1" or message.startswith("volume ") else ""
    events = ", ".join(counterexample.events[-6:])
    return Violation(invariant, f"the steps cannot be made safe: {message} (after {events})", subject)


def _judge_against_lower_bounds(outcome: SolveOutcome, bounds: LowerBounds, *, later_too: bool,
                                invariants: int = 0) -> None:
    """An answer over less than the unrestricted problem is optimal only where its invariants level
    meets ``invariants``, that level's lower bound over the unrestricted problem (``shortfall``; 0
    when every invariant is met), and its copied and untouched levels meet the unrestricted lower bounds (then every answer
    as good lies in the space solved, so its proofs of the later levels hold too); with restricted
    candidates, the later levels must meet their bounds as well. From the first level that does
    not, nothing is proven, and each level's bound is the unrestricted one (the solver's bound holds
    only for the space solved)."""
    proven = True
    above: list = []
    for level in outcome.levels:
        if level.name == "invariants":
            lower_bound, met = invariants, level.value <= invariants
        else:
            lower_bound = bounds.for_level(level.name, above)
            met = level.value <= lower_bound if (later_too or level.name in ("copied", "untouched")) else True
        if not proven or not level.proven or not met:
            proven = False
            level.proven = False
            level.bound = lower_bound  # the solver's own bound holds only for the space it solved
        above.append(level)
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
    seconds = round(time.monotonic() - started, 3)  # the whole planning, as every plan says it
    return Plan(cluster=scenario.cluster.name, failed=scenario.failures.failed, status=Status.INFEASIBLE,
                placement=current, steps=(), metrics={"copiedGiB": 0.0, "solveSeconds": seconds},
                violations=(Violation("I1", message, "plan"),), removed_brokers=tuple(sorted(scenario.failures.removed_brokers)),
                solver={"proven": False, "seconds": seconds, "solverSeconds": round(outcome.seconds, 3)},
                preexisting=tuple(check_start(scenario.cluster)), **_operation(scenario.failures))


__all__ = ["PlanOptions", "plan_recovery"]

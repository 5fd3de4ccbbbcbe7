"""CP-SAT backend: turns a Space into a CpModel, solves lexicographic levels, maps back.

Nothing outside ``placement/`` sees a solver object. ``ortools`` is imported
here only, lazily, because it costs about 0.4 s (it pulls in pandas).
"""
from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

from placement.models.plan import PartitionTarget, Placement
from placement.models.units import MIB_PER_GIB, gib_text
from placement.solve.objectives import Level
from placement.solve.space import PKey, Space


def _cp():
    from ortools.sat.python import cp_model

    return cp_model


class CpEncoding:
    """The vocabulary rules use to encode themselves into CP-SAT.

    ``relaxed``: each degradable requirement gets a shortfall variable (counted by
    the first objective level) instead of holding exactly.
    """

    backend = "cpsat"

    def __init__(self, space: Space, *, relaxed: bool):
        cp_model = _cp()
        self.cp_model = cp_model
        self.model = cp_model.CpModel()
        self.space = space
        self.relaxed = relaxed
        self.lits: dict[str, Any] = {}
        self.shortfalls: list[tuple[str, Any]] = []
        self.minor_shortfalls: list[tuple[str, Any, int]] = []  # (rule, variable, its upper bound)
        self.partition_copy: list[tuple[int, Any]] = []  # storage-and-brokers stage: copy cost of refilled partitions
        m = self.model
        mult = space.max_multiplicity
        self._vol: dict[tuple[str, str], Any] = {}
        for v, nodes in space.volume_domain.items():
            for n in nodes:
                self._vol[v, n] = m.NewBoolVar(f"vol[{v}@{n}]") if mult == 1 else m.NewIntVar(0, mult, f"vol[{v}@{n}]")
        self._brk: dict[tuple[int, str], Any] = {}
        self._runs: dict[int, Any] = {}
        for b, nodes in space.broker_domain.items():
            placed = [self._brk.setdefault((b, n), m.NewBoolVar(f"broker[{b}@{n}]")) for n in nodes]
            self._runs[b] = m.NewBoolVar(f"runs[{b}]")
            m.Add(sum(placed) == self._runs[b])  # a broker runs on at most one node
        self._part: dict[tuple[PKey, int], Any] = {}
        self._lead: dict[tuple[PKey, int], Any] = {}
        for key, brokers in space.partition_domain.items():
            kept = space.fixed_members.get(key, ())
            for b in brokers:
                if b in kept:
                    continue
                name = f"part[{key[0]}-{key[1]}@{b}]"
                self._part[key, b] = m.NewBoolVar(name) if mult == 1 else m.NewIntVar(0, mult, name)
                if not space.fixed_members:
                    self._lead[key, b] = m.NewBoolVar(f"lead[{key[0]}-{key[1]}@{b}]")

    # -- vocabulary ------------------------------------------------------------
    def lit(self, rule: str):
        if rule not in self.lits:
            self.lits[rule] = self.model.NewBoolVar(f"rule[{rule}]")
        return self.lits[rule]

    def add(self, rule: str, constraint) -> None:
        """Add a constraint guarded by the rule's enforcement literal."""
        if isinstance(constraint, bool) or type(constraint).__name__ == "bool_":
            if not constraint:
                self.model.AddBoolOr([self.lit(rule).Not()])
            return
        self.model.Add(constraint).OnlyEnforceIf(self.lit(rule))

    def shortfall(self, rule: str, upper: int, name: str, *, minor: bool = False):
        """How far a requirement falls short: 0 when strict; a penalised variable when relaxed.
        A ``minor`` one (a rebalance's storage limit) weighs less than all of them together."""
        if not self.relaxed or upper <= 0:
            return 0
        var = self.model.NewIntVar(0, upper, f"short[{rule}:{name}]")
        (self.minor_shortfalls if minor else self.shortfalls).append((rule, var, upper) if minor else (rule, var))
        return var

    def invariant_terms(self) -> list[tuple[int, Any]]:
        """The invariants level: every shortfall, a minor one outweighed by any other."""
        weight = 1 + sum(upper for _, _, upper in self.minor_shortfalls)
        return [(weight, s) for _, s in self.shortfalls] + [(1, s) for _, s, _ in self.minor_shortfalls]

    def new_bool(self, name: str):
        return self.model.NewBoolVar(name)

    def new_int(self, low: int, high: int, name: str):
        return self.model.NewIntVar(low, high, name)

    def vol(self, volume: str, node: str):
        if volume in self.space.volume_domain:
            return self._vol.get((volume, node), 0)
        return self.space.fixed_volume_count(volume, node)

    def brk(self, broker: int, node: str):
        if broker in self.space.broker_domain:
            return self._brk.get((broker, node), 0)
        return 1 if self.space.base.brokers.get(broker) == node else 0

    def runs(self, broker: int):
        if broker in self.space.broker_domain:
            return self._runs[broker]
        return 0 if self.space.base.brokers.get(broker) is None else 1

    def part(self, key: PKey, broker: int):
        if key in self.space.partition_domain:
            if broker in self.space.fixed_members.get(key, ()):
                return 1
            return self._part.get((key, broker), 0)
        return self.space.fixed_partition_count(key, broker)

    def lead(self, key: PKey, broker: int):
        if (key, broker) in self._lead:
            return self._lead[key, broker]
        target = self.space.base.partitions.get(key)
        return 1 if target is not None and target.leader == broker and key not in self.space.partition_domain else 0

    @property
    def decides_leaders(self) -> bool:
        return bool(self._lead)

    def both(self, a, b, name: str):
        """A literal equal to (a > 0 AND b > 0), for non-negative terms."""
        a, b = self.any_of([a], f"{name}.a"), self.any_of([b], f"{name}.b")
        if isinstance(a, int) or isinstance(b, int):
            if isinstance(a, int) and isinstance(b, int):
                return int(a and b)
            const, var = (a, b) if isinstance(a, int) else (b, a)
            return var if const else 0
        out = self.model.NewBoolVar(name)
        self.model.AddBoolAnd([a, b]).OnlyEnforceIf(out)
        self.model.AddBoolOr([a.Not(), b.Not()]).OnlyEnforceIf(out.Not())
        return out

    def any_of(self, terms: list, name: str):
        """A literal equal to (sum of non-negative terms > 0)."""
        variables = [t for t in terms if not isinstance(t, int)]
        if any(isinstance(t, int) and t > 0 for t in terms):
            return 1
        if not variables:
            return 0
        if len(variables) == 1 and self.space.max_multiplicity == 1:
            return variables[0]  # already a 0/1 literal
        out = self.model.NewBoolVar(name)
        if self.space.max_multiplicity == 1:
            self.model.AddMaxEquality(out, variables)
        else:  # integer memberships (a verified plan may list a node twice)
            for t in variables:
                self.model.Add(t <= self.space.max_multiplicity * out)
            self.model.Add(sum(variables) >= out)
        return out

    # -- reading a solution back -------------------------------------------
    def placement(self, solver) -> Placement:
        space = self.space
        volumes = dict(space.base.volumes)
        for v, nodes in space.volume_domain.items():
            chosen: list[str] = []
            for n in nodes:
                chosen += [n] * solver.Value(self._vol[v, n])
            volumes[v] = tuple(chosen)
        for lost in space.scenario.lost_volumes:
            volumes.pop(lost.name, None)
        brokers = dict(space.base.brokers)
        for b, nodes in space.broker_domain.items():
            brokers[b] = next((n for n in nodes if solver.Value(self._brk[b, n])), None)
        partitions = dict(space.base.partitions)
        for key, members in space.partition_domain.items():
            original = space.scenario.cluster.partition[key]
            kept = space.fixed_members.get(key, ())
            chosen_set = [b for b in members if b in kept or solver.Value(self._part[key, b])]
            # a partition left with no replica at all stays where it is (offline, and said so by I6
            # and I7): Kafka cannot reassign a partition to no broker
            replicas = slot_order(original.replicas, chosen_set) or original.replicas
            partitions[key] = PartitionTarget(key[0], key[1], replicas, None)
        return Placement(brokers=brokers, volumes=volumes, partitions=partitions)


def slot_order(original: tuple[int, ...], chosen: list[int]) -> tuple[int, ...]:
    """Keep surviving replicas in their slots; newcomers take the vacated slots in id order."""
    newcomers = iter(sorted(b for b in chosen if b not in original))
    ordered = []
    for b in original:
        if b in chosen:
            ordered.append(b)
        else:
            nxt = next(newcomers, None)
            if nxt is not None:
                ordered.append(nxt)
    ordered += list(newcomers)
    return tuple(ordered)


def scaled(terms: list[tuple[int, Any]]) -> tuple[list[tuple[int, Any]], int]:
    """Divide integer coefficients by their gcd: same optimum, smaller numbers, faster proofs."""
    coefs = [c for c, _ in terms if c]
    g = reduce(math.gcd, coefs) if coefs else 1
    return [(c // g, t) for c, t in terms if c], g


# ----------------------------------------------------------------------------
# Lexicographic solving


@dataclass
class LevelResult:
    name: str
    value: int
    bound: int
    proven: bool
    seconds: float

    def to_document(self) -> dict:
        return {"level": self.name, "value": self.value, "bound": self.bound, "proven": self.proven,
                "seconds": round(self.seconds, 3)}


@dataclass
class SolveOutcome:
    solved: bool
    levels: list[LevelResult] = field(default_factory=list)
    placement: Placement | None = None
    seconds: float = 0.0
    conflict: list[str] = field(default_factory=list)  # rules in conflict, when not all can hold
    restricted: bool = False  # candidates were restricted; proofs only against unrestricted bounds

    @property
    def proven(self) -> bool:
        return self.solved and all(level.proven for level in self.levels)


@dataclass(frozen=True)
class Pace:
    """How long one level may search (``placement.solve.shortfall.degraded_pace`` decides it):
    at most ``seconds``; with ``stall``, CP-SAT is stopped once ``after`` seconds have passed and no
    better incumbent came for ``stall`` seconds (the level is then unproven, with CP-SAT's bound);
    while its incumbent is no better than the start's (the hint: the greedy start or the level
    above's answer), not before ``untried`` seconds either. ``light``: a light presolve even for
    the first level solved (``level_parameters``): where the search is a few seconds, the full
    presolve of a large model would take them all."""

    seconds: float
    stall: float | None = None
    after: float = 0.0
    untried: float = 0.0
    light: bool = False


class _Progress:
    """Reports incumbent and bound on standard error when a solve runs long; remembers when the
    incumbent last improved (the stall rule)."""

    def __init__(self, level: str, enabled: bool, start_value: float | None = None, *, offset: int = 0,
                 unit: int = 1, lower_bound: int | None = None):
        cp_model = _cp()
        self.level = level
        self.offset, self.unit, self.lower_bound = offset, unit, lower_bound  # to show the level's own figures
        self.start_value = start_value  # the objective of the start (hint), when known
        self.enabled = enabled
        self.start = time.monotonic()
        self.last = 0.0
        self.best: float | None = None
        self.improved: float | None = None  # when the incumbent last improved
        outer = self

        class Callback(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                outer.report(self.ObjectiveValue(), self.BestObjectiveBound())

        self.callback = Callback()

    @property
    def beat_start(self) -> bool:
        """The incumbent is better than the start (with no start known: once there is one)."""
        return self.best is not None and (self.start_value is None or self.best < self.start_value)

    def report(self, value: float, bound: float) -> None:
        if self.best is None or value < self.best:
            self.best, self.improved = value, time.monotonic()
        now = time.monotonic() - self.start
        if self.enabled and now > 1.0 and now - self.last > 1.0:
            self.last = now
            print(f"  solving {self.level}: {progress_words(self.level, (value + self.offset) * self.unit, (bound + self.offset) * self.unit, self.lower_bound)}, {now:.1f} s",
                  file=sys.stderr, flush=True)


def progress_words(level: str, value: float, bound: float, lower_bound: int | None) -> str:
    """The progress line's figures in the level's own terms (CP-SAT's objective leaves out the
    constant offset and the scaling): the incumbent and the better of CP-SAT's bound and the level's
    proven lower bound, never a bound below it; MiB of the copied level shown as GiB."""
    if lower_bound is not None:
        bound = max(bound, lower_bound)

    def shown(x: float) -> str:
        return gib_text(x / MIB_PER_GIB) if level == "copied" else f"{round(x):,}"
    return f"incumbent {shown(value)}, bound {shown(bound)}"


# models with at most this many variables search in interleaved, reproducible batches (level_parameters)
REPRODUCIBLE_VARIABLES = 20_000


def level_parameters(solver, *, first: bool, workers: int, seed: int, seconds: float,
                     variables: int = 0) -> None:
    """CP-SAT's parameters for one level of a lexicographic solve, chosen per level:

    - every level: ``num_workers`` (2: the machine's cores), a fixed ``random_seed``, no symmetry detection (``symmetry_level 0``: it cost 0.4 s a solve on
      these models and never paid off), no probing (``cp_model_probing_level 0``: it costs more
      than it saves), and the time left of the limit;
    - a model of at most ``REPRODUCIBLE_VARIABLES`` variables (every cluster a person writes or
      imports by hand, the README's and the tests'): ``interleave_search``, CP-SAT's workers run
      their strategies in batches and share what they found only between batches, so the same
      input gives the same plan every run (racing workers would return whichever of several
      equally good placements one reached first: the same input gave 3 different optima in 8
      runs). Larger models race (faster at scale, where the time limit makes answers vary anyway);
    - the first level solved (a new model): the full presolve;
    - each later level: the same model with the levels above fixed and a new objective, from the
      last solution as a complete hint; a light presolve (one iteration, no SAT presolve), since
      the full one redoes the first's work (on the 1,000-node zone failure the second level took
      30 s with it, of which 26 s presolve, and 4.5 s without).

    Where the level has a lower bound (``Level.bound``), the objective is also constrained to be
    at least that floor (``solve_lexicographic``), so CP-SAT stops, proven, as soon as an
    incumbent reaches it instead of searching for a proof."""
    p = solver.parameters
    p.num_workers = workers
    p.random_seed = seed
    p.symmetry_level = 0
    p.log_search_progress = bool(os.environ.get("PLACEMENT_CPSAT_LOG"))
    p.cp_model_probing_level = 0
    p.max_time_in_seconds = max(0.05, seconds)
    if variables <= REPRODUCIBLE_VARIABLES:
        p.interleave_search = True
    if not first:
        p.max_presolve_iterations = 1
        p.cp_model_use_sat_presolve = False


def _solve_paced(solver, model, reporter: _Progress, pace: Pace | None):
    """``solver.Solve``, stopped by a watchdog once the incumbent stalls (``Pace.stall``)."""
    if pace is None or pace.stall is None:
        return solver.Solve(model, reporter.callback)
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            now = time.monotonic()
            after = pace.after if reporter.beat_start else max(pace.after, pace.untried)
            if reporter.improved is not None and now - reporter.start >= after \
                    and now - reporter.improved >= pace.stall:
                solver.stop_search()  # thread-safe: CP-SAT returns its incumbent, FEASIBLE
                return

    watchdog = threading.Thread(target=watch, name="cp-sat stall rule", daemon=True)
    watchdog.start()
    try:
        return solver.Solve(model, reporter.callback)
    finally:
        done.set()
        watchdog.join()


def solve_lexicographic(enc: CpEncoding, levels: list[Level], *, time_limit: float, seed: int = 0,
                        workers: int = 2, progress: bool = False, start=None,
                        floors: frozenset[str] | None = None, full_lp: bool = False,
                        pacing=None) -> SolveOutcome:
    """Minimise each level in turn, fixing it before the next (DESIGN.md: solve levels one after another).

    A level proven optimal is fixed with ``==``; a level cut short by the time
    limit is fixed with ``<=`` and makes the whole answer unproven. A level whose incumbent
    already meets its lower bound is not solved again; a level in ``floors`` (None: every level)
    is solved with its lower bound as a floor on the objective, so the re-solve stops at the
    floor (only bounds valid for the space solved may be floors: a floor above the space's
    optimum would be reported as its optimum). Parameters per level: ``level_parameters``.
    ``full_lp``: the LP over every constraint (see ``satisfy``), for small models whose
    invariants may not all hold. ``pacing``: (level name, the levels above, its lower bound, seconds
    left) -> a ``Pace`` for that level, or None for the time left and no stall rule.
    """
    cp_model = enc.cp_model
    model = enc.model
    started = time.monotonic()
    outcome = SolveOutcome(solved=start is not None)
    solver = incumbent = start  # a completed hint counts as the first incumbent
    solved_once = False
    for level in levels:
        name = level.name
        lower_bound = level.bound_given(outcome.levels)
        terms, unit = scaled(level.terms)
        offset = sum(c * t for c, t in terms if isinstance(t, int))
        terms = [(c, t) for c, t in terms if not isinstance(t, int)]
        if outcome.solved and lower_bound is not None:
            value = offset + sum(c * solver.Value(t) for c, t in terms)
            if value * unit <= lower_bound:
                # the incumbent already meets a lower bound: optimal without another solve
                outcome.levels.append(LevelResult(name, value * unit, value * unit, True, 0.0))
                if terms:
                    objective = cp_model.LinearExpr.WeightedSum([t for _, t in terms], [c for c, _ in terms])
                    model.Add(objective == value - offset)
                continue
        remaining = time_limit - (time.monotonic() - started)
        pace = pacing(name, outcome.levels, lower_bound, remaining) if pacing is not None else None
        if pace is not None:
            remaining = min(remaining, pace.seconds)
        if remaining <= 0.05 and outcome.solved:
            # out of time: keep the incumbent; this level is unproven
            value = offset + sum(c * solver.Value(t) for c, t in terms)
            outcome.levels.append(LevelResult(name, value * unit, offset * unit, False, 0.0))
            continue
        objective = cp_model.LinearExpr.WeightedSum([t for _, t in terms], [c for c, _ in terms]) if terms else 0
        model.Minimize(objective)
        if terms and lower_bound and (floors is None or name in floors):
            # stop at the floor; it stays (every solution of the space is at least as high)
            model.Add(objective >= -(-lower_bound // unit) - offset)
        # the incumbent CP-SAT starts from (the objective leaves out the offset), for the stall rule
        start_value = sum(c * solver.Value(t) for c, t in terms) if outcome.solved and terms else None
        solver = cp_model.CpSolver()
        level_parameters(solver, first=not solved_once and not (pace is not None and pace.light), workers=workers,
                         seed=seed, seconds=remaining, variables=len(model.Proto().variables))
        if full_lp:
            solver.parameters.linearization_level = 2  # refutes at the root what one worker cannot otherwise
        solved_once = True
        tick = time.monotonic()
        reporter = _Progress(name, progress, start_value, offset=offset, unit=unit,
                             lower_bound=lower_bound)  # (start_value leaves out the offset)
        status = _solve_paced(solver, model, reporter, pace)
        seconds = time.monotonic() - tick
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if not outcome.solved:
                outcome.seconds = time.monotonic() - started
                return outcome  # nothing at all within the limit (or the model is infeasible)
            solver = incumbent  # no better solution at this level: keep the last one
            value = offset + sum(c * solver.Value(t) for c, t in terms)
            outcome.levels.append(LevelResult(name, value * unit, offset * unit, False, seconds))
            if terms:
                model.Add(objective <= value - offset)
            continue
        incumbent = solver
        outcome.solved = True
        value = round(solver.ObjectiveValue()) if terms else 0
        bound = math.ceil(solver.BestObjectiveBound() - 1e-6) if terms else 0
        proven = status == cp_model.OPTIMAL
        outcome.levels.append(LevelResult(name, (value + offset) * unit, (bound + offset) * unit, proven, seconds))
        if terms:
            model.Add(objective == value) if proven else model.Add(objective <= value)
        # the next level starts from this solution
        model.ClearHints()
        for i in range(len(model.Proto().variables)):
            var = model.GetIntVarFromProtoIndex(i)
            model.AddHint(var, solver.Value(var))
    if outcome.solved:
        outcome.placement = enc.placement(solver)
    outcome.seconds = time.monotonic() - started
    return outcome


# deterministic seconds of CP-SAT work of the first turns (with the full LP, without LP); each round doubles both
SATISFY_FIRST_WORK = {2: 0.1, 0: 0.5}


def satisfy(enc: CpEncoding, *, time_limit: float, seed: int = 0) -> tuple[bool | None, Placement | None]:
    """Does a placement meeting every rule of a strict encoding (no shortfalls) exist? (True and
    one, False when proven that none does, None when the time ran out first.)

    A satisfiability question, not an optimisation, on one worker, by two searches taking turns
    with doubling budgets of deterministic work (so the answer does not depend on the machine's
    load, only a timeout does):

    - with the LP over *every* constraint (``linearization_level`` 2): it refutes a model whose
      invariants cannot hold at the root, where the default search (level 1) could not prove
      "no valid target" on a 13-node cluster within any time limit;
    - without LP (level 0): it follows the hint and finds a valid target in large spaces (making
      room on 100 nodes: 0.4 s of work, where an LP at every node took 1.4 s and level 1 more than
      20 s)."""
    cp_model = enc.cp_model
    deadline = time.monotonic() + time_limit
    rounds = 0
    while True:
        for linearization in (2, 0):
            solver = cp_model.CpSolver()
            p = solver.parameters
            p.num_workers = 1
            p.random_seed = seed
            p.linearization_level = linearization
            p.symmetry_level = 0  # as in solve_lexicographic: never paid off on these models
            p.cp_model_probing_level = 0
            p.log_search_progress = bool(os.environ.get("PLACEMENT_CPSAT_LOG"))
            p.max_deterministic_time = SATISFY_FIRST_WORK[linearization] * 2 ** rounds
            p.max_time_in_seconds = max(0.05, deadline - time.monotonic())
            status = solver.Solve(enc.model)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return True, enc.placement(solver)
            if status == cp_model.INFEASIBLE:
                return False, None
            if deadline - time.monotonic() < 0.05:
                return None, None
        rounds += 1


def conflicting_rules(enc: CpEncoding, rules: list[str], *, time_limit: float, seed: int = 0,
                      full_lp: bool = False) -> list[str]:
    """The rules whose enforcement literals cannot all hold together (an assumption core)."""
    cp_model = enc.cp_model
    model = enc.model
    model.ClearObjective()
    model.ClearAssumptions()
    model.AddAssumptions([enc.lit(r) for r in rules])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # cores are reported by the single-worker search
    solver.parameters.random_seed = seed
    if full_lp:
        solver.parameters.linearization_level = 2
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    status = solver.Solve(model)
    model.ClearAssumptions()
    if status != cp_model.INFEASIBLE:
        return []
    core = set(solver.SufficientAssumptionsForInfeasibility())
    return [r for r in rules if enc.lit(r).Index() in core]




def _target_values(enc: CpEncoding, target: Placement):
    """(variable, the value the target gives it) for every decision variable."""
    for (v, n), var in enc._vol.items():
        yield var, sum(1 for x in target.volumes.get(v, ()) if x == n)
    for (b, n), var in enc._brk.items():
        yield var, 1 if target.brokers.get(b) == n else 0
    for b, var in enc._runs.items():
        yield var, 0 if target.brokers.get(b) is None else 1
    for (key, b), var in enc._part.items():
        chosen = target.partitions.get(key)
        yield var, sum(1 for x in chosen.replicas if x == b) if chosen else 0
    for (key, b), var in enc._lead.items():
        chosen = target.partitions.get(key)
        yield var, 1 if chosen is not None and chosen.leader == b else 0


def hint(enc: CpEncoding, target: Placement) -> None:
    """Suggest a placement as the search's starting point (it need not be feasible)."""
    for var, value in _target_values(enc, target):
        enc.model.AddHint(var, value)


def complete_hint(enc: CpEncoding, first_level: list[tuple[int, Any]], time_limit: float):
    """Extend the placement hint to every auxiliary variable (shortfalls, indicators, bounds),
    by solving with the hinted choices fixed. A complete feasible hint is taken by
    CP-SAT at once; a partial one on a large model may be lost. Returns the
    completed solution (a solver holding it), or None."""
    cp_model = enc.cp_model
    model = enc.model
    terms, _ = scaled(first_level)
    terms = [(c, t) for c, t in terms if not isinstance(t, int)]
    if terms:
        model.Minimize(cp_model.LinearExpr.WeightedSum([t for _, t in terms], [c for c, _ in terms]))
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.5, time_limit)
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    model.ClearHints()
    for i in range(len(model.Proto().variables)):
        var = model.GetIntVarFromProtoIndex(i)
        model.AddHint(var, solver.Value(var))
    return solver


def exclude(enc: CpEncoding, target: Placement) -> None:
    """A no-good: at least one decision differs from the target's (a target set aside)."""
    differs = []
    for var, value in _target_values(enc, target):
        if value == 0:
            differs.append(var)
        elif value == 1 and enc.space.max_multiplicity == 1:
            differs.append(var.Not())
        else:
            flag = enc.model.NewBoolVar("differs")
            enc.model.Add(var != value).OnlyEnforceIf(flag)
            differs.append(flag)
    if differs:
        enc.model.AddBoolOr(differs)


def pin(enc: CpEncoding, target: Placement) -> None:
    """Fix every variable to the target's values (to judge a concrete placement with CP-SAT)."""
    for var, value in _target_values(enc, target):
        enc.model.Add(var == value)


def holds(enc: CpEncoding, rule: str) -> bool:
    """Whether the model is feasible with the rule's literal assumed (the other rules left free)."""
    cp_model = enc.cp_model
    enc.model.ClearAssumptions()
    enc.model.AddAssumptions([enc.lit(rule)])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30
    status = solver.Solve(enc.model)
    enc.model.ClearAssumptions()
    if status == cp_model.UNKNOWN:
        raise RuntimeError(f"CP-SAT could not decide {rule} on a pinned placement")
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)

"""Does this cluster survive any K node failures, or any whole zone? (``placement check``)

The cluster as it is comes first (SEMANTICS.md section 4): a cluster that has already lost
data or already breaks an invariant does not survive even zero failures; the answer is then
no, with the empty failure set as the counterexample and what the start breaks, and no
failure set is judged.

Otherwise a failure set is survived when no volume loses every in-sync replica and a target
placement meeting every invariant exists (found by composition, a greedy certificate or, asked
as a satisfiability question over the planner's spaces, by ``placement.solve.feasibility``:
"no" only when proven, a timeout undecided). What falls short is asked only of the
counterexample reported (``explain``). The sweep does less than judging all C(n, k) sets:

- symmetry: nodes that hold nothing (no replica, no broker) and look alike (zone, state,
  capacities) are interchangeable, so only one failure set per combination of such classes is
  judged, counted with its multiplicity;
- pruning: a set that loses a volume's data makes every larger set lose it too, so a set one of
  whose subsets one smaller loses data is counted as failing (pruned) without a judgement;
- settling (``placement.resilience.monotone``): failing more nodes only removes capacity and
  replicas and displaces more, so a recovery of a superset is one of the set, except where the
  invariants weaken as nodes fail (zone spread and racks ask for fewer zones once a zone is
  gone) or the solver's space widens (a broker that must stay, or that the replica ceiling binds,
  on the extra node). A set one of whose subsets one smaller was proven to have no recovery, and
  that meets the theorem's condition on those, is counted as failing (pruned, ``settled``)
  without a judgement; every other superset of a failing set is judged;
- cheap bounds before any solver: data loss is a set test; a set of nodes that hold nothing
  cannot break a cluster that is valid now; a greedy placement that passes the plain checks is
  a certificate of survival;
- composition: a set's recovery is merged from the recovery of the set without its last node
  and that node's own recovery (``placement.resilience.composition``: volumes both change are
  merged replica by replica), so most sets need no search at all; a set that still needs the
  solver starts it from a smaller set's recovery (the CP-SAT hint);
- making room without a search (``placement.resilience.making_room``): where the greedy start
  leaves a touched volume short, healthy replicas are moved out of the way of its new replicas
  and the result counts only if the plain checks pass; every making-room recovery (this greedy's
  or the solver's) is trimmed of the healthy moves the checks do not need, and one left changing
  touched items only composes like any other;
- repair: a recovery that survived only by moving healthy items (making room) changes more than
  its failure touches, so the composition argument does not cover it; it is kept for the next
  level all the same, and a superset one larger tries it, with the extra node's replicas and
  brokers placed again, as a certificate that counts only if the plain checks (``check_all``)
  pass, and else as the solver's hint.

Every certificate above (greedy, making room and its trim, repaired) is judged on a cluster valid
now by ``placement.resilience.changed.valid``: the plain checks over the items the target changes,
which says what ``check_all`` says (argued there, tested against it), at a cost that follows the
change rather than the cluster. The set's scenario itself is derived from the healthy cluster's
facts (``placement.resilience.incremental``: survivors, touched volumes, brokers and partitions
recomputed only for what the failed nodes hold), and the greedy start begins from the room with
everything as now, the touched items given back (``greedy_placement(as_now=)``). Where nothing is
kept (the last level), a subset's making-room recovery repaired is tried before the greedy
certificate: the same certificates are tried before the solver, the cheaper first.

Memory stays bounded by what the next level needs: the recovery of each single node, and of
the survived sets whose recovery is *not* the merge above (for the generated clusters, a few in
a thousand); every other recovery is merged again when needed, and nothing is kept at the last
level. Counts and the smallest counterexample are tallied as results arrive; no verdict list is
kept.

Work is shipped in batches of failure sets (tuples of class indices) to local processes
(``jobs``, at most the CPUs) or a Dask cluster (``scheduler``), one size level at a time; each
worker receives the cluster and the level's recoveries once per level and does everything for
its batch (data loss, pruning, composition, judging), returning counts, the smallest failing
set and only the recoveries the next level needs.

``--failures`` beyond the number of live nodes holding data needs no judging: failing every
such node loses every volume, so the smallest counterexample has at most that many nodes and
the sweep stops there (the result says so).
"""
from __future__ import annotations

import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import combinations_with_replacement
from typing import Callable, Iterable, Iterator

from placement.models.cluster import Cluster, NodeState
from placement.models.errors import InputError, Problem
from placement.models.failures import Failures
from placement.models.plan import Placement, Status, Violation
from placement.resilience.composition import (Footprint, NodeRoom, apply_footprint, compose, fail_more, footprint,
                                              overlay)
from placement.resilience.incremental import Healthy
from placement.resilience.monotone import Monotonicity
from placement.scenario import Scenario

SOLVER_TIME_LIMIT = 30.0  # per scenario that reaches the solver
BATCH = 4000  # failure sets per batch at most (smaller when that leaves workers idle)


@dataclass(frozen=True)
class ScenarioVerdict:
    failed: tuple[str, ...]  # the nodes this scenario fails (on top of those already failed)
    survived: bool | None  # None: undecided within the time limit (never reported as a proof)
    decided_by: str  # start | data-loss | nothing-held | greedy | repaired | room | solver | composed
    data_lost: tuple[str, ...] = ()
    violations: tuple[Violation, ...] = ()
    conflict: tuple[str, ...] = ()  # invariants that cannot hold together here (from the solver)
    footprint: Footprint | None = field(default=None, compare=False, repr=False)  # a survived set's recovery
    # whether ``footprint`` changes only what the failure touches (composable); a recovery that
    # moved healthy items to make room is reused only as a certificate judged by the plain checks
    composable: bool = field(default=True, compare=False, repr=False)

    def to_document(self) -> dict:
        return {"failed": list(self.failed), "dataLost": list(self.data_lost),
                "violations": [v.to_document() for v in self.violations],
                "decidedBy": self.decided_by, **({"conflict": list(self.conflict)} if self.conflict else {})}


@dataclass
class ResilienceResult:
    tolerates: bool | None  # None: some scenario undecided and none failed
    scenarios: int  # failure sets considered (every set of 1..K nodes, each zone; the empty set when the start fails)
    checked: int  # of those, with a verdict (judged, or covered by symmetry or pruning)
    solved: int  # judged by the solver
    bounded: int  # judged without a solver (data loss, nothing held, greedy certificate, composed)
    composed: int  # of those, survived by composing smaller recoveries
    pruned: int  # not judged: a subset already loses data, or has no recovery and the theorem carries it (settled)
    symmetric: int  # not judged: an interchangeable set was
    failing: int  # not survived (pruned ones included)
    undecided: int
    counterexample: ScenarioVerdict | None
    seconds: float
    max_failures: int = 0  # K as asked
    zones: bool = False
    minima: list = field(default_factory=list)  # placement.resilience.minima.Minimum, with --minimum
    start: ScenarioVerdict | None = None  # the cluster as it is, when it already breaks something
    judged_up_to: int = 0  # K as judged (capped, see notes)
    jobs: int = 1  # local processes used
    notes: list[str] = field(default_factory=list)  # what was capped or skipped, and why
    kept_recoveries: int = 0  # recoveries kept for the next level at the busiest moment
    repaired: int = 0  # of the composed, survived by a making-room recovery of a subset repaired and checked
    settled: int = 0  # of the pruned, failing because a subset one smaller has no recovery (``monotone``)
    made_room: int = 0  # of the bounded, survived by the making-room greedy (``making_room``)

    def to_document(self) -> dict:
        doc = {
            "tolerates": self.tolerates,
            "scenarios": self.scenarios,
            "checked": self.checked,
            "counterexample": self.counterexample.to_document() if self.counterexample else None,
            "solved": self.solved, "bounded": self.bounded, "composed": self.composed, "pruned": self.pruned,
            "symmetric": self.symmetric,
            "failing": self.failing, "undecided": self.undecided,
            "failures": self.max_failures, "judgedUpTo": self.judged_up_to, "zones": self.zones,
            "start": {"valid": self.start is None,
                      "dataLost": list(self.start.data_lost) if self.start else [],
                      "violations": [v.to_document() for v in self.start.violations] if self.start else []},
            "jobs": self.jobs, "notes": list(self.notes), "seconds": round(self.seconds, 3),
        }
        if self.minima:
            doc["minimum"] = {m.what: m.to_document() for m in self.minima}
        return doc


# -- judging one failure set --------------------------------------------------------

def _holders(cluster: Cluster) -> frozenset[str]:
    """Nodes holding a volume replica or a broker: the only ones whose failure touches anything."""
    return frozenset({n for v in cluster.volumes for n in v.replicas} | {b.node for b in cluster.brokers})


def _already_failed(cluster: Cluster) -> frozenset[str]:
    return frozenset(n.name for n in cluster.nodes if n.state is NodeState.FAILED)


def _scenario(cluster: Cluster, failed: Iterable[str]) -> Scenario:
    return Scenario(cluster, Failures(_already_failed(cluster) | frozenset(failed)))


def judge(cluster: Cluster, failed: tuple[str, ...], *, baseline_ok: bool,
          time_limit: float = SOLVER_TIME_LIMIT, warm: Footprint | list[Footprint] | None = None,
          holders: frozenset[str] | None = None,
          repair: Callable[[Scenario], Footprint | None] | None = None,
          focus: Callable[[], tuple[set[str], set[int]] | None] | None = None,
          making_room: bool = True, healthy: Healthy | None = None, repair_first: bool = False) -> ScenarioVerdict:
    """Is this failure set survived? Cheapest evidence first; the solver only when needed,
    started from ``warm`` (the recovery of a survived subset) where that still applies.
    ``repair``: a last certificate before the solver, one that already passed the plain checks
    (a subset's making-room recovery placed again around the extra node). ``focus``: the healthy
    items smaller sets' recoveries moved to make room, decided first with the touched ones.
    ``making_room``: before the solver, the making-room greedy (``placement.resilience.making_room``).
    ``healthy``: the cluster's healthy facts (``placement.resilience.incremental``), from which the
    set's scenario is derived in time proportional to what it touches. ``repair_first``: try
    ``repair`` before the greedy certificate (where no recovery is kept, which certificate answers
    changes nothing but the cost; the same certificates are tried before the solver either way)."""
    from placement.resilience.changed import valid
    from placement.resilience.making_room import make_room
    from placement.solve.greedy import greedy_placement
    from placement.solve.leaders import elect_leaders
    from placement.rules import check_all

    if healthy is not None and healthy.applies(Failures(_already_failed(cluster) | frozenset(failed))):
        scenario = healthy.scenario(failed)
        # nothing is lost now (healthy.usable): what is lost, the failed nodes lost
        lost = tuple(sorted(v.name for v in scenario.lost_volumes))
    else:
        healthy = None
        scenario = _scenario(cluster, failed)
        lost = tuple(sorted(v.name for v in cluster.volumes if v.in_sync_replicas
                            and all(n in scenario.failures.nodes for n in v.in_sync_replicas)
                            and any(n in failed for n in v.in_sync_replicas)))
    if lost:
        return _data_loss(cluster, failed, lost)
    holders = _holders(cluster) if holders is None else holders
    if baseline_ok and not any(n in holders for n in failed):
        return ScenarioVerdict(failed, True, "nothing-held", footprint=footprint(scenario, Placement.current(cluster)))
    # With the cluster valid now, partitions on untouched brokers stay valid: the greedy
    # certificate needs only the touched ones (a large cluster's partitions dominate the cost).
    if repair_first and repair is not None:
        repaired = repair(scenario)
        if repaired is not None:
            return ScenarioVerdict(failed, True, "repaired", footprint=repaired, composable=False)
        repair = None  # tried
    local = (healthy.local(scenario) if healthy is not None else _local(scenario)) if baseline_ok else scenario
    start = elect_leaders(local, greedy_placement(local, spread=True, as_now=healthy.as_now if healthy else None),
                          even_out=False)
    # on a cluster valid now, the plain checks over what a target changes say what check_all says
    passes = valid if baseline_ok else (lambda s, t: not check_all(s, t))
    if passes(local, start):
        return ScenarioVerdict(failed, True, "greedy", footprint=footprint(local, start))
    repaired = repair(scenario) if repair is not None else None  # this set's scenario, built once
    if repaired is not None:
        return ScenarioVerdict(failed, True, "repaired", footprint=repaired, composable=False)
    if baseline_ok and making_room:
        made = make_room(local, start, valid)  # healthy replicas moved out of the way, judged by the plain checks
        if made is not None:
            return _made_room(local, failed, "room", made, valid)
    # the solver starts from this greedy attempt (touched partitions are all it needs), with
    # what still applies of a survived subset's recovery laid over it
    for earlier in ([warm] if isinstance(warm, Footprint) else warm or []):
        start = overlay(scenario, start, earlier)  # the later ones (making room) win where they overlap
    return _solve(scenario, failed, time_limit, start, focus() if focus is not None else None)


def _local(scenario: Scenario) -> Scenario:
    """The scenario with only the partitions that have a replica on a touched broker."""
    touched = set(scenario.touched_brokers)
    topics = []
    for t in scenario.cluster.topics:
        kept = tuple(p for p in t.partitions if touched.intersection(p.replicas))
        if kept:
            topics.append(replace(t, partitions=kept))
    return Scenario(replace(scenario.cluster, topics=tuple(topics)), scenario.failures, scenario.allow_unclean)


def _solve(scenario: Scenario, failed: tuple[str, ...], time_limit: float, start: Placement | None = None,
           focus: tuple[set[str], set[int]] | None = None) -> ScenarioVerdict:
    """Does a valid recovery exist (making room included)? A satisfiability question: "no" only
    when proven, a timeout undecided. What falls short is not asked here, only of the
    counterexample shown (``explain``)."""
    from placement.solve.feasibility import recovery_exists

    found = recovery_exists(scenario, start, time_limit=time_limit, focus=focus)
    if found.exists:
        if found.decided == "touched":
            return ScenarioVerdict(failed, True, "solver", footprint=footprint(scenario, found.placement))
        return _made_room(scenario, failed, "solver", found.placement)
    return ScenarioVerdict(failed, found.exists, "solver", (), found.violations)


def _made_room(scenario: Scenario, failed: tuple[str, ...], decided_by: str, target: Placement,
               passes: Callable[[Scenario, Placement], bool] | None = None) -> ScenarioVerdict:
    """A survived set whose recovery moved healthy items, trimmed to the healthy moves the plain
    checks need (``making_room.trim``). One that then changes only touched items composes like any
    other; else it is kept all the same, but never composed unchecked (``_Judge.repaired``)."""
    from placement.resilience.making_room import composable, trim

    fp = footprint(scenario, trim(scenario, target) if passes is None else trim(scenario, target, passes))
    return ScenarioVerdict(failed, True, decided_by, footprint=fp, composable=composable(scenario, fp))


def explain(cluster: Cluster, verdict: ScenarioVerdict, time_limit: float = SOLVER_TIME_LIMIT) -> ScenarioVerdict:
    """A set the solver proved unsurvivable, with what falls short: the planner's least shortfall
    and the invariants that cannot all hold together. Asked once, of the counterexample the sweep
    reports, rather than of every failing set."""
    from placement.solve.planner import PlanOptions, plan_recovery

    if verdict.decided_by != "solver" or verdict.survived is not False or verdict.violations:
        return verdict
    scenario = _scenario(cluster, verdict.failed)
    plan = plan_recovery(cluster, scenario.failures,
                         PlanOptions(time_limit=time_limit, feasibility_only=True, verify_with_z3=False, workers=1))
    if plan.status.meets_invariants:
        from placement.models.errors import InternalError

        raise InternalError(f"the sweep proved that no valid recovery exists when {', '.join(verdict.failed)} fail, "
                            "but the planner found one; please report this with the cluster file")
    if plan.status is Status.INFEASIBLE:
        return verdict  # no placement found to show within the time limit (the proof stands)
    return replace(verdict, violations=plan.violations, conflict=tuple(plan.solver.get("conflict", ())))


def judge_start(cluster: Cluster) -> ScenarioVerdict | None:
    """The cluster as it is (the file's failed nodes only): None when it meets every invariant
    and has lost nothing, else a verdict for the empty failure set naming what it breaks. What
    it breaks is the start check a plan document lists as ``preexisting`` (``check_start``: a
    stale replica does not count until resynced, a broker on a failed node does not run), so
    ``check`` and ``plan`` agree on it."""
    from placement.rules import check_start

    scenario = _scenario(cluster, ())
    broken = tuple(check_start(cluster))
    lost = tuple(sorted(v.name for v in cluster.volumes if v.replicas and not any(
        n not in scenario.failures.nodes for n in v.in_sync_replicas)))
    if not broken and not lost:
        return None
    return ScenarioVerdict((), False, "start", lost, broken)


def baseline_valid(cluster: Cluster) -> bool:
    """Does the cluster meet every invariant as it stands (its file failures included), with
    nothing left for a plan to decide? Composition and the nothing-held shortcut rely on it."""
    scenario = _scenario(cluster, ())
    return not scenario.touched_volumes and not scenario.touched_brokers and judge_start(cluster) is None


# -- symmetry -----------------------------------------------------------------------

def node_classes(cluster: Cluster) -> list[list[str]]:
    """Nodes that could fail, grouped into interchangeable classes (in cluster order)."""
    holders = _holders(cluster)
    classes: dict[tuple, list[str]] = {}
    for n in cluster.nodes:
        if n.state is NodeState.FAILED:
            continue
        key = (n.name,) if n.name in holders else ("empty", n.zone, n.state.value, n.storage_mib, n.cpu_millicores,
                                                  n.memory_mib)
        classes.setdefault(key, []).append(n.name)
    return list(classes.values())


def _sets_of_size(classes: list[list[str]], k: int) -> Iterator[tuple[int, ...]]:
    """Canonical failure sets of k nodes: non-decreasing tuples of class indices, within class sizes."""
    sizes = [len(c) for c in classes]
    for combo in combinations_with_replacement(range(len(classes)), k):
        if _within(combo, sizes):
            yield combo


def _within(combo: tuple[int, ...], sizes: list[int]) -> bool:
    """No class repeated more often than it has members."""
    run = 1
    for i in range(1, len(combo)):
        run = run + 1 if combo[i] == combo[i - 1] else 1
        if run > sizes[combo[i]]:
            return False
    return True


def _sets_with_prefix(classes: list[list[str]], prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """The canonical sets one larger than ``prefix`` that start with it (a batch is a few prefixes,
    so that the parent enumerates C(n, k-1) prefixes, not C(n, k) sets)."""
    sizes = [len(c) for c in classes]
    for last in range(prefix[-1] if prefix else 0, len(classes)):
        combo = prefix + (last,)
        if _within(combo, sizes):
            yield combo


def _aligned(classes: list[list[str]], combo: tuple[int, ...]) -> tuple[str, ...]:
    """The node each entry of a canonical set stands for (repeated classes take the next member)."""
    if all(combo[i] != combo[i - 1] for i in range(1, len(combo))):
        return tuple(classes[c][0] for c in combo)
    out, seen = [], Counter()
    for c in combo:
        out.append(classes[c][seen[c]])
        seen[c] += 1
    return tuple(out)


def _multiplicity(classes, combo) -> int:
    if all(len(classes[c]) == 1 for c in combo):
        return 1
    return math.prod(math.comb(len(classes[i]), c) for i, c in Counter(combo).items())


# -- the data a level needs, and judging a batch ---------------------------------------

@dataclass(frozen=True)
class _Level:
    """What judging one size of failure set needs; sent once per level to each worker."""

    token: tuple  # identifies the level (workers cache what they derive from it)
    cluster: Cluster
    classes: list[list[str]]
    baseline_ok: bool
    time_limit: float
    prune: bool
    compose: bool
    audit: bool
    keep: bool  # return the recoveries the next level needs
    singles: dict[str, Footprint]  # holder node -> the recovery of it failing alone (survived ones)
    special: dict[tuple[int, ...], Footprint]  # survived sets whose recovery is not the canonical merge
    # survived sets whose recovery moved healthy items to make room: not composable as they stand,
    # tried (repaired for one more failed node) as certificates the plain checks judge, and as hints
    roomy: dict[tuple[int, ...], Footprint] = field(default_factory=dict)
    # sets of the level before proven to have no recovery (by the solver, or settled): a superset one
    # larger meeting the monotonicity theorem's condition has none either (``monotone``)
    refuted: frozenset[tuple[int, ...]] = frozenset()
    # single nodes whose recovery made room (from level 1 on): what it moved is where the solver
    # looks first for a set containing the node
    roomy_singles: dict[str, Footprint] = field(default_factory=dict)
    making_room: bool = True  # the making-room greedy before the solver
    incremental: bool = True  # set scenarios derived from the healthy one (``incremental``; off to compare)


@dataclass
class _Tally:
    """What a batch (and then the whole sweep) found: counts, the smallest failing and undecided
    sets, and the recoveries the next level needs."""

    counts: Counter = field(default_factory=Counter)
    weight: int = 0  # failure sets covered (with multiplicity)
    failing: ScenarioVerdict | None = None
    undecided: ScenarioVerdict | None = None
    special: dict = field(default_factory=dict)
    roomy: dict = field(default_factory=dict)
    refuted: set = field(default_factory=set)

    def offer(self, verdict: ScenarioVerdict) -> None:
        key = (len(verdict.failed), verdict.failed)
        if verdict.survived is False:
            if self.failing is None or key < (len(self.failing.failed), self.failing.failed):
                self.failing = verdict
        elif self.undecided is None or key < (len(self.undecided.failed), self.undecided.failed):
            self.undecided = verdict

    def add(self, other: "_Tally") -> None:
        self.counts.update(other.counts)
        self.weight += other.weight
        for v in (other.failing, other.undecided):
            if v is not None:
                self.offer(v)


class _Judge:
    """A worker's judge for one level: data loss, pruning, composition, then the planner."""

    def __init__(self, level: _Level):
        self.level = level
        cluster = level.cluster
        self.room = NodeRoom(cluster)
        self.already = _already_failed(cluster)
        self.holders = _holders(cluster)
        self.at_risk: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for v in cluster.volumes:  # per live node: the volumes whose data it keeps, with all that keep it
            live = frozenset(n for n in v.in_sync_replicas if n not in self.already)
            for n in live:
                self.at_risk.setdefault(n, []).append((v.name, live))
        self.memo: dict[tuple[int, ...], Footprint | None] = {}
        self.monotone = Monotonicity(cluster) if level.baseline_ok and level.refuted else None
        self.healthy = Healthy(cluster) if level.baseline_ok and level.incremental else None

    def lost(self, members: Iterable[str]) -> tuple[str, ...]:
        down = set(members)
        return tuple(sorted({v for n in down for v, live in self.at_risk.get(n, ()) if live <= down}))

    def single(self, node: str) -> Footprint | None:
        if node in self.holders:
            return self.level.singles.get(node)
        # a node that holds nothing: failing it changes nothing (the cluster is valid now)
        return Footprint(self.already | {node}) if self.level.baseline_ok else None

    def recovery(self, combo: tuple[int, ...]) -> Footprint | None:
        """The recovery the sweep found for a survived smaller set: kept, or merged again."""
        if len(combo) == 1:
            return self.single(self.level.classes[combo[0]][0])
        if combo in self.level.special:
            return self.level.special[combo]
        if combo not in self.memo:
            if len(self.memo) > 50_000:
                self.memo.clear()
            self.memo[combo] = self.merge(combo)
        return self.memo[combo]

    def merge(self, combo: tuple[int, ...]) -> Footprint | None:
        """The canonical composition: the recovery of the set without its last node, merged with
        that node's own recovery, or else extended by that node failing too."""
        head = self.recovery(combo[:-1])
        if head is None:
            return None
        return self.extend(head, _aligned(self.level.classes, combo)[-1])

    def extend(self, head: Footprint, node: str) -> Footprint | None:
        one = self.single(node)
        both = compose(head, one, self.room) if one is not None else None
        return both if both is not None else fail_more(head, frozenset({node}), self.room)

    def composed(self, combo: tuple[int, ...]) -> tuple[Footprint | None, bool]:
        """A recovery made of smaller ones: (it, whether it is the canonical merge)."""
        if len(combo) == 1:  # one node: what it holds placed again where there is room
            if not self.level.baseline_ok:
                return None, False
            return fail_more(Footprint(self.already), frozenset(_aligned(self.level.classes, combo)), self.room), True
        canonical = self.merge(combo)
        if canonical is not None:
            return canonical, True
        names = _aligned(self.level.classes, combo)
        for i in range(len(combo) - 1):
            if i and combo[i] == combo[i - 1]:
                continue
            # the smaller set stands for the first members of each class: the one left out is
            # the last member of this class in the set
            last = max(j for j in range(len(combo)) if combo[j] == combo[i])
            rest = self.recovery(combo[:i] + combo[i + 1:])
            both = self.extend(rest, names[last]) if rest is not None else None
            if both is not None:
                return both, False
        return None, False

    def warm(self, combo: tuple[int, ...]) -> list[Footprint]:
        """The solver's hints: a subset's recovery (one smaller), and then one that made room."""
        hints = []
        for i in reversed(range(len(combo))):
            rest = combo[:i] + combo[i + 1:]
            if rest:
                found = self.recovery(rest)
                if found is not None:
                    hints.append(found)
                    break
        for i in reversed(range(len(combo))):  # and a subset's recovery that made room
            found = self.level.roomy.get(combo[:i] + combo[i + 1:])
            if found is not None:
                hints.append(found)
                break
        return hints

    def repaired(self, combo: tuple[int, ...], members: tuple[str, ...], scenario: Scenario | None = None
                 ) -> Footprint | None:
        """A certificate from a survived subset (one smaller) whose recovery made room: that
        recovery with the extra node's replicas and brokers placed again (merged with the node's
        own recovery, or refilled where there is room). Such a recovery changes healthy items, so
        the composition argument does not cover it: it counts only if the plain checks pass."""
        if not self.level.roomy:
            return None
        from placement.resilience.changed import valid, within  # the level's cluster is valid now (baseline_ok)

        names = _aligned(self.level.classes, combo)
        for i in range(len(combo)):
            if i and combo[i] == combo[i - 1]:
                continue
            rest = combo[:i] + combo[i + 1:]
            base = self.level.roomy.get(rest)
            if base is None:
                continue
            extra = names[max(j for j in range(len(combo)) if combo[j] == combo[i])]
            one = self.single(extra)
            tried = []
            for candidate in (compose(base, one, self.room) if one is not None else None,
                              fail_more(base, frozenset({extra}), self.room)):
                if candidate is None or candidate in tried:
                    continue
                tried.append(candidate)
                if scenario is None:
                    scenario = (self.healthy.scenario(members) if self.healthy is not None
                                else _scenario(self.level.cluster, members))
                # the target differs from now only where the footprint says (and where it fails nodes)
                if valid(scenario, apply_footprint(self.level.cluster, candidate), within=within(self.level.cluster, candidate)):
                    return candidate
        return None

    def settled(self, combo: tuple[int, ...], members: tuple[str, ...]) -> bool:
        """A subset one smaller has no recovery (proven) and the monotonicity theorem carries that to
        this set (``placement.resilience.monotone``): no recovery here either, without a search."""
        names = _aligned(self.level.classes, combo)
        for i in range(len(combo)):
            if i and combo[i] == combo[i - 1]:
                continue
            if combo[:i] + combo[i + 1:] not in self.level.refuted:
                continue
            extra = names[max(j for j in range(len(combo)) if combo[j] == combo[i])]
            if self.monotone.carries(frozenset(members) - {extra}, frozenset({extra})):
                return True
        return False

    def focus(self, combo: tuple[int, ...], members: tuple[str, ...]) -> tuple[set[str], set[int]] | None:
        """The volumes and brokers that the making-room recoveries of this set's subsets one smaller
        and of its single nodes changed (None: none made room)."""
        found = [self.level.roomy.get(combo[:i] + combo[i + 1:]) for i in range(len(combo))]
        found += [self.level.roomy_singles.get(n) for n in members]
        found = [fp for fp in found if fp is not None]
        if not found:
            return None
        return ({v for fp in found for v in fp.volumes}, {b for fp in found for b in fp.brokers})

    def batch(self, prefixes: list[tuple[int, ...]]) -> _Tally:
        """Every failure set that extends one of these prefixes by one class."""
        return self.batch_of(c for prefix in prefixes for c in _sets_with_prefix(self.level.classes, prefix))

    def batch_of(self, combos: Iterable[tuple[int, ...]]) -> _Tally:
        level = self.level
        tally = _Tally()
        for combo in combos:
            k = len(combo)
            members = tuple(sorted(_aligned(level.classes, combo)))
            weight = _multiplicity(level.classes, combo)
            tally.weight += weight
            lost = self.lost(members)
            if lost and level.prune and k > 1 and any(self.lost(members[:i] + members[i + 1:]) for i in range(k)):
                tally.counts.update(pruned=weight, failing=weight)  # a subset one smaller already loses data
                continue
            if lost:
                tally.counts.update(bounded=1, failing=weight, symmetric=weight - 1)
                tally.offer(_data_loss(level.cluster, members, lost))
                continue
            if self.monotone is not None and level.prune and k > 1 and self.settled(combo, members):
                # a smaller set was offered as failing already: this one is never the smallest
                tally.counts.update(pruned=weight, settled=weight, failing=weight)
                if level.keep:
                    tally.refuted.add(combo)
                continue
            tally.counts["symmetric"] += weight - 1
            if level.compose and level.baseline_ok:
                recovery, canonical = self.composed(combo)
                if recovery is not None:
                    if level.audit:
                        _audit(level.cluster, members, recovery)
                    tally.counts.update(bounded=1, composed=1)
                    if level.keep and (k == 1 or not canonical):
                        tally.special[combo] = recovery
                    continue
            repair = (lambda scenario: self.repaired(combo, members, scenario)) if level.compose and level.baseline_ok else None
            focus = (lambda: self.focus(combo, members)) if level.compose and level.baseline_ok and k > 1 else None
            verdict = judge(level.cluster, members, baseline_ok=level.baseline_ok, time_limit=level.time_limit,
                            warm=self.warm(combo) if k > 1 else None, holders=self.holders, repair=repair,
                            focus=focus, making_room=level.making_room, healthy=self.healthy,
                            # where nothing is kept (the last level), the cheaper certificate first
                            repair_first=not level.keep)
            tally.counts["solved" if verdict.decided_by == "solver" else "bounded"] += 1
            if verdict.decided_by == "repaired":
                tally.counts.update(composed=1, repaired=1)
            elif verdict.decided_by == "room":
                tally.counts["room"] += 1
            if verdict.survived:
                if level.keep and verdict.footprint is not None:
                    (tally.special if verdict.composable else tally.roomy)[combo] = verdict.footprint
            else:
                tally.counts["failing" if verdict.survived is False else "undecided"] += weight
                tally.offer(replace(verdict, footprint=None))
                if verdict.survived is False and level.keep:
                    tally.refuted.add(combo)
        return tally

    def sets(self, sets: list[tuple[str, ...]]) -> _Tally:
        """Explicit failure sets (whole zones): judged, never composed."""
        tally = _Tally()
        for members in sets:
            tally.weight += 1
            lost = self.lost(members)
            verdict = _data_loss(self.level.cluster, members, lost) if lost else judge(
                self.level.cluster, members, baseline_ok=self.level.baseline_ok, time_limit=self.level.time_limit,
                holders=self.holders, making_room=self.level.making_room, healthy=self.healthy)
            tally.counts["solved" if verdict.decided_by == "solver" else "bounded"] += 1
            if not verdict.survived:
                tally.counts["failing" if verdict.survived is False else "undecided"] += 1
                tally.offer(replace(verdict, footprint=None))
        return tally


_JUDGES: dict[tuple, _Judge] = {}


def _judge_for(level: _Level) -> _Judge:
    """The worker's judge for this level (built once per level and process)."""
    judge_ = _JUDGES.get(level.token)
    if judge_ is None:
        _JUDGES.clear()
        judge_ = _JUDGES[level.token] = _Judge(level)
    return judge_


def judge_batch(level: _Level, combos: list[tuple[int, ...]]) -> _Tally:
    return _judge_for(level).batch(combos)


def judge_ones(level: _Level, combos: list[tuple[int]]) -> _Tally:
    return _judge_for(level).batch_of(combos)


def judge_sets(level: _Level, sets: list[tuple[str, ...]]) -> _Tally:
    return _judge_for(level).sets(sets)


_LEVEL: list[_Level] = []  # the level a forked worker process inherits


def _call(kind: str):
    return {"combos": judge_batch, "sets-of-one": judge_ones, "sets": judge_sets}[kind]


def _in_worker(kind: str, work: list) -> _Tally:
    return _call(kind)(_LEVEL[0], work)


def _data_loss(cluster: Cluster, failed: tuple[str, ...], lost: tuple[str, ...]) -> ScenarioVerdict:
    why = tuple(Violation.measured("I7", f"volume {name} loses every replica (on {', '.join(cluster.volume[name].replicas)}): "
                                         "its data is gone; surviving replicas", f"volume {name}", 0, 1) for name in lost)
    return ScenarioVerdict(failed, False, "data-loss", lost, why)


def _audit(cluster: Cluster, members: tuple[str, ...], composed: Footprint) -> None:
    """Tests: a composed recovery must pass the plain checks like any other target."""
    from placement.models.errors import InternalError
    from placement.rules import check_all

    broken = check_all(_scenario(cluster, members), apply_footprint(cluster, composed))
    if broken:
        raise InternalError(f"composed recovery of {members} breaks {[str(v) for v in broken]}")


# -- where batches run ---------------------------------------------------------------

class _InProcess:
    jobs = 1

    def run(self, level: _Level, kind: str, batches: Iterator[list], expected: int = 0) -> Iterator[_Tally]:
        for work in batches:
            yield _call(kind)(level, work)

    def close(self) -> None:
        pass


POOL_SECONDS = 0.5  # about what starting the worker processes of a level costs


class _Processes:
    """Local worker processes, forked per level so that each inherits the level's data
    (nothing pickled but the batches and their tallies); a few batches in flight per worker.
    The first batch runs here, timed: a level that would take less than starting the workers
    does (a few composed sets) is finished here instead."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def run(self, level: _Level, kind: str, batches: Iterator[list], expected: int = 0) -> Iterator[_Tally]:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        batches = iter(batches)
        first = next(batches, None)
        if first is None:
            return
        started = time.perf_counter()
        yield _call(kind)(level, first)
        if (time.perf_counter() - started) * max(0, expected - 1) < POOL_SECONDS:
            for work in batches:
                yield _call(kind)(level, work)
            return
        _LEVEL[:] = [level]
        try:
            with ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                pending: set = set()
                for work in batches:
                    pending.add(pool.submit(_in_worker, kind, work))
                    if len(pending) >= self.jobs * 3:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        yield from (f.result() for f in done)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
        finally:
            _LEVEL.clear()

    def close(self) -> None:
        pass


class _Dask:
    """An existing Dask distributed cluster (optional extra ``distributed``): the level's data
    scattered to every worker once, batches submitted with a few in flight per worker."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise InputError("command line", Problem("--scheduler", "needs the optional extra: "
                                                     "pip install 'placement[distributed]'")) from exc
        try:
            self.client = Client(address, timeout="5s")
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise InputError("command line", Problem("--scheduler", f"no Dask scheduler answers at {address[:200]!r} "
                                                     f"({str(exc)[:200]}); give the address of a running one, "
                                                     "e.g. tcp://10.0.0.5:8786")) from exc
        self.jobs = max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(self, level: _Level, kind: str, batches: Iterator[list], expected: int = 0) -> Iterator[_Tally]:
        from distributed import wait

        level_ref = self.client.scatter(level, broadcast=True)
        call = _call(kind)
        pending: set = set()
        for work in batches:
            pending.add(self.client.submit(call, level_ref, work, pure=False))
            if len(pending) >= self.jobs * 3:
                done = wait(pending, return_when="FIRST_COMPLETED").done
                pending -= done
                yield from (f.result() for f in done)
        while pending:
            done = wait(pending, return_when="FIRST_COMPLETED").done
            pending -= done
            yield from (f.result() for f in done)

    def close(self) -> None:
        self.client.close()


def check_scheduler_address(address) -> str:
    """A Dask scheduler address: [protocol://]host:port (exit 2 when malformed, before connecting)."""
    import re

    text = address if isinstance(address, str) else ""
    m = re.fullmatch(r"(?:(tcp|tls|ws|wss|ucx|inproc)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?", text)
    if not m or (m.group(3) is not None and not 0 < int(m.group(3)) < 65536) or (m.group(1) != "inproc"
                                                                                 and m.group(3) is None):
        raise InputError("command line", Problem("--scheduler", f"{str(address)[:200]!r} is not a Dask scheduler "
                                                 "address: give [tcp://]HOST:PORT, e.g. tcp://10.0.0.5:8786"))
    return text


# -- the sweep ----------------------------------------------------------------------

def _cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _check_arguments(max_failures, jobs, time_limit, scheduler) -> None:
    problems = []
    if isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 0:
        problems.append(Problem("--failures", f"{str(max_failures)[:40]!r} is not a number of nodes: give a whole "
                                              "number of 0 or more"))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        problems.append(Problem("--jobs", f"{str(jobs)[:40]!r} is not a number of processes: give a whole number "
                                          "of 1 or more"))
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not 0 < time_limit < 1e6:
        problems.append(Problem("--time-limit", f"{str(time_limit)[:40]!r} is not a number of seconds: give a "
                                                "number above 0"))
    if problems:
        raise InputError("options", problems)
    if scheduler is not None:
        check_scheduler_address(scheduler)


def check_resilience(cluster: Cluster, max_failures: int = 1, *, zones: bool = False, minimum: bool = False,
                     jobs: int = 1, scheduler: str | None = None, prune: bool = True, symmetry: bool = True,
                     compose_recoveries: bool = True, audit: bool = False, time_limit: float = SOLVER_TIME_LIMIT,
                     making_room: bool = True, progress: Callable[[int, int], None] | None = None,
                     incremental: bool = True) -> ResilienceResult:
    """Judge the cluster as it is, then every set of 1..``max_failures`` nodes failing, and
    with ``zones`` each whole zone. ``making_room``: try the making-room greedy before the solver
    (``placement.resilience.making_room``; off only to measure what it saves). ``incremental``:
    derive each set's scenario from the healthy cluster's (``placement.resilience.incremental``;
    off only to compare with building each from scratch)."""
    started = time.monotonic()
    _check_arguments(max_failures, jobs, time_limit, scheduler)
    notes: list[str] = []
    start = judge_start(cluster)
    classes = node_classes(cluster) if symmetry else [[n.name] for n in cluster.nodes if n.state is not NodeState.FAILED]
    alive = sum(len(c) for c in classes)
    judged_up_to = max_failures
    if start is not None:
        judged_up_to = 0
        notes.append("the cluster as it is already " + ("loses data" if start.data_lost else "breaks an invariant")
                     + ": it survives no failure, so no failure set was judged (placement plan repairs it first)")
    else:
        judged_up_to = _capped_failures(cluster, max_failures, alive, notes)
    if scheduler is None and jobs > _cpus():
        notes.append(f"--jobs {jobs} capped at {_cpus()}, the CPUs this process may use")
        jobs = _cpus()
    zone_sets = _zone_failures(cluster) if zones and start is None else []
    total = sum(math.comb(alive, k) for k in range(1, judged_up_to + 1)) + len(zone_sets)
    runner = None
    if total:
        runner = _Dask(scheduler) if scheduler else (_Processes(jobs) if jobs > 1 else _InProcess())
    sweep = _Sweep(cluster, classes, runner, total, progress, prune=prune, compose_recoveries=compose_recoveries,
                   audit=audit, time_limit=time_limit, making_room=making_room, incremental=incremental)
    try:
        for k in range(1, judged_up_to + 1):
            sweep.judge_sets_of_size(k, last=k == judged_up_to)
        sweep.judge_zones(zone_sets)
    finally:
        if runner is not None:
            runner.close()
    result = sweep.result(max_failures, zones, start)
    if result.counterexample is not None:
        result.counterexample = explain(cluster, result.counterexample, time_limit)
    result.judged_up_to, result.notes = judged_up_to, notes
    result.jobs = runner.jobs if runner is not None else 1
    if minimum:
        from placement.resilience.minima import data_loss_minima

        result.minima = list(data_loss_minima(cluster))
    result.seconds = time.monotonic() - started
    return result


def _capped_failures(cluster: Cluster, asked: int, alive: int, notes: list[str]) -> int:
    """Failing every live node that keeps data loses every volume, and failing a witness of the
    least data loss loses one: no smallest counterexample is larger than either, so no larger set
    needs judging (the verdict and the smallest counterexample stay exact)."""
    already = _already_failed(cluster)
    keepers = {n for v in cluster.volumes for n in v.in_sync_replicas if n not in already}
    if asked >= 3:  # beyond the first levels the sets grow fast: bound them by a data loss found
        from placement.resilience.minima import least_loss, volume_items

        least = least_loss(volume_items(cluster), "volume", time_limit=10.0)
        if least.failures is not None and least.failures < min(asked, len(keepers)):
            notes.append(f"--failures {asked} capped at {least.failures}: failing {', '.join(least.witness)} "
                         f"loses {least.loses[0]}, so the smallest counterexample has at most {least.failures} nodes "
                         "and no larger set needs judging")
            return least.failures
    if keepers and asked > len(keepers):
        notes.append(f"--failures {asked} capped at {len(keepers)}: only {len(keepers)} live nodes keep data, and "
                     "failing all of them loses every volume, so the smallest counterexample has at most "
                     f"{len(keepers)} nodes and no larger set needs judging")
        return len(keepers)
    if asked > alive:
        notes.append(f"--failures {asked} capped at {alive}: only {alive} nodes are alive to fail")
        return alive
    return asked


def _zone_failures(cluster: Cluster) -> list[tuple[str, ...]]:
    """Each zone's live nodes, as one failure set per zone."""
    sets = []
    for z in sorted({n.zone for n in cluster.nodes}):
        members = tuple(sorted(n.name for n in cluster.nodes if n.zone == z and n.state is not NodeState.FAILED))
        if members:
            sets.append(members)
    return sets


class _Sweep:
    """The failure sets by increasing size, in batches; tallies, and the recoveries kept."""

    def __init__(self, cluster: Cluster, classes: list[list[str]], runner, total: int,
                 progress: Callable[[int, int], None] | None, *, prune: bool, compose_recoveries: bool, audit: bool,
                 time_limit: float, making_room: bool = True, incremental: bool = True):
        self.cluster, self.classes, self.runner = cluster, classes, runner
        self.total, self.progress, self.finished = total, progress, 0
        self.baseline_ok = baseline_valid(cluster)
        self.options = dict(prune=prune, compose=compose_recoveries, audit=audit, time_limit=time_limit,
                            making_room=making_room, incremental=incremental)
        self.tally = _Tally()
        self.singles: dict[str, Footprint] = {}
        self.special: dict[tuple[int, ...], Footprint] = {}
        self.roomy: dict[tuple[int, ...], Footprint] = {}
        self.refuted: frozenset[tuple[int, ...]] = frozenset()
        self.roomy_singles: dict[str, Footprint] = {}
        self.most_kept = 0

    def _level(self, k: int, keep: bool) -> _Level:
        return _Level((id(self), k, time.monotonic()), self.cluster, self.classes, self.baseline_ok, keep=keep,
                      singles=self.singles, special=self.special, roomy=self.roomy, refuted=self.refuted,
                      roomy_singles=self.roomy_singles, **self.options)

    def _collect(self, level: _Level, kind: str, batches: Iterator[list], expected: int) -> dict:
        kept, roomy, refuted = {}, {}, set()
        for tally in self.runner.run(level, kind, batches, expected):
            self.tally.add(tally)
            kept.update(tally.special)
            roomy.update(tally.roomy)
            refuted.update(tally.refuted)
            self.finished += tally.weight
            if self.progress:
                self.progress(self.finished, self.total)
        self.roomy = roomy  # only sets one smaller are repaired: the level before is dropped
        self.refuted = frozenset(refuted)  # and settled
        return kept

    def _batch_size(self, k: int) -> tuple[int, int]:
        """(failure sets a batch covers, canonical sets of this size at most)."""
        count = math.comb(len(self.classes) + k - 1, k)
        return max(1, min(BATCH, math.ceil(count / (self.runner.jobs * 8)))), count

    def _batch_count(self, k: int) -> int:
        size, count = self._batch_size(k)
        return math.ceil(count / size)

    def _prefix_batches(self, k: int) -> Iterator[list[tuple[int, ...]]]:
        """Batches of prefixes (k-1 classes) covering about ``size`` failure sets each: enough
        batches to keep every worker busy, few enough that shipping them costs nothing."""
        n = len(self.classes)
        size, _ = self._batch_size(k)
        work, covered = [], 0
        for prefix in _sets_of_size(self.classes, k - 1):
            work.append(prefix)
            covered += n - (prefix[-1] if prefix else 0)
            if covered >= size:
                yield work
                work, covered = [], 0
        if work:
            yield work

    def judge_sets_of_size(self, k: int, last: bool) -> None:
        level = self._level(k, keep=not last)
        if k == 1:  # one prefix, the empty one: split it by class instead
            size = max(1, min(BATCH, math.ceil(len(self.classes) / (self.runner.jobs * 8))))
            batches = ([(c,) for c in range(i, min(i + size, len(self.classes)))]
                       for i in range(0, len(self.classes), size))
            kept = self._collect(level, "sets-of-one", batches, math.ceil(len(self.classes) / size))
        else:
            kept = self._collect(level, "combos", self._prefix_batches(k), self._batch_count(k))
        if k == 1:
            self.singles = {self.classes[c[0]][0]: fp for c, fp in kept.items() if len(self.classes[c[0]]) == 1}
            self.roomy_singles = {self.classes[c[0]][0]: fp for c, fp in self.roomy.items()
                                  if len(self.classes[c[0]]) == 1}
        else:
            self.special.update(kept)
        self.most_kept = max(self.most_kept, len(self.singles) + len(self.special) + len(self.roomy)
                             + len(self.roomy_singles))

    def judge_zones(self, zone_sets: list[tuple[str, ...]]) -> None:
        if zone_sets:
            self._collect(self._level(0, keep=False), "sets", iter([[z] for z in zone_sets]), len(zone_sets))

    def result(self, max_failures: int, zones: bool, start: ScenarioVerdict | None) -> ResilienceResult:
        counts = self.tally.counts
        counterexample = start if start is not None else self.tally.failing
        broken = 1 if start is not None else 0  # the empty failure set counts when the start already fails
        failing = counts["failing"] + broken
        tolerates = False if counterexample is not None else (None if counts["undecided"] else True)
        return ResilienceResult(
            tolerates=tolerates, scenarios=self.total + broken, checked=self.total + broken - counts["undecided"],
            solved=counts["solved"], bounded=counts["bounded"], composed=counts["composed"], pruned=counts["pruned"],
            symmetric=counts["symmetric"], failing=failing, undecided=counts["undecided"],
            counterexample=counterexample, seconds=0.0, max_failures=max_failures, zones=zones, start=start,
            kept_recoveries=self.most_kept, repaired=counts["repaired"], settled=counts["settled"],
            made_room=counts["room"])


__all__ = ["ResilienceResult", "ScenarioVerdict", "check_resilience", "judge", "judge_start", "node_classes"]

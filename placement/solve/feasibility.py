"""Does a valid recovery exist? The failure sweep's question (``placement check``), answered as
a satisfiability question over the planner's own spaces.

The planner minimises, level after level; the sweep needs only to know whether some target
meets every invariant. Asked as the planner's first level (the least shortfall), a "none
exists" answer needs a proof that the shortfall cannot reach 0, which the single-worker search
often cannot give within any time limit; asked here, every invariant is a hard constraint and
CP-SAT refutes an impossible one at the root with the LP over every constraint
(``cpsat.satisfy``). The answer is the planner's (``plan_recovery``) on the same scenario:

- the storage-and-brokers stage over what the failure touches, from the given start; where no
  valid target lies there, over everything when the cluster is small enough (``decided``
  "everything": a refutation there is a proof), or else over the healthy items that could make
  room, a few rounds wider (a refutation there proves nothing: the answer is then undecided);
- the partitions stage given that target; the target with leaders elected, judged by the plain
  checks.

Each wider space holds the narrower ones, so a narrower search gets only a share of the time
(the touched items a quarter, each round of making room an equal part of what is left): one left
undecided widens all the same.

``focus`` (the sweep's): healthy volumes and brokers that the recoveries of smaller failure sets
moved to make room. After the touched items alone, the touched items and these are decided (a
narrow model of a few volumes instead of the thousands of pairs of a making-room round); what it
finds is a target like any other, judged by the plain checks. Where it finds none, the search goes
on as without it (a refutation there proves nothing: only the healthy items named were decided).

``exists`` is True only with a target that passes the plain checks, False only when proven,
None when undecided (time ran out, or only a restricted space was refuted): never a guess.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable

from placement.models.errors import InternalError
from placement.models.plan import Placement
from placement.scenario import Scenario
from placement.solve.cpsat import hint, satisfy
from placement.solve.greedy import fill_partitions, greedy_placement
from placement.solve.leaders import elect_leaders
from placement.solve.planner import (MIN_WIDENING_SECONDS, ROOM_ROUNDS, _encode, _new_violations, _room_space,
                                     _whole_space, _whole_space_is_small, decidable)
from placement.solve.space import Space
from placement.solve.verify import verify_placement


@dataclass(frozen=True)
class Existence:
    exists: bool | None  # None: undecided (never reported as a proof)
    placement: Placement | None = None  # a target meeting every invariant, when one exists
    decided: str = "touched"  # what the answer decided: "touched", "making room" or "everything"
    violations: tuple = ()  # what the plain checks find in a target the solver called valid (then exists is False)


def recovery_exists(scenario: Scenario, start: Placement | None = None, *, time_limit: float,
                    seed: int = 0, focus: tuple[Iterable[str], Iterable[int]] | None = None) -> Existence:
    """``start``: where the search begins (a hint; it need not be valid). ``time_limit`` in seconds
    for both stages together. ``focus``: (volumes, brokers) worth deciding first with the touched ones."""
    deadline = time.monotonic() + time_limit
    if start is None:
        start = greedy_placement(scenario, spread=True)
    found, target, decided = _storage_and_brokers(scenario, start, deadline, seed, focus)
    if not found:
        return Existence(found, decided=decided)
    space = Space.for_partitions(scenario, target)
    if space.partition_domain:
        # as the planner, at least a second for the partitions once the storage stage found a target
        found, partitions = _satisfy(space, fill_partitions(space), max(deadline, time.monotonic() + 1.0), seed)
        if not found:
            return Existence(found, decided=decided)
        target = partitions
    target = elect_leaders(scenario, target)
    violations = verify_placement(scenario, target, use_z3=False).violations
    if violations:
        # as the planner: a target the solver calls valid must be, or placement has a bug; what
        # the checks still find is older than the failure (the planner's plan says degraded)
        if _new_violations(scenario, violations):
            raise InternalError("the solver met every invariant it was given but the checks disagree: "
                                + "; ".join(str(v) for v in violations))
        return Existence(False, decided=decided, violations=tuple(violations))
    return Existence(True, target, decided)


def _storage_and_brokers(scenario: Scenario, start: Placement, deadline: float, seed: int,
                         focus: tuple[Iterable[str], Iterable[int]] | None = None
                         ) -> tuple[bool | None, Placement | None, str]:
    """(whether a valid target exists, one, what was decided), widening as the planner does."""
    touched = Space.for_planning(scenario)
    # each wider space holds the narrower ones: a narrower search left undecided still widens,
    # so it gets only a share of the time
    found, target, _ = _stage(scenario, touched, start, _share(deadline, 4), seed)
    if found:
        return True, target, "touched"
    narrow = _focused(scenario, touched, focus) if focus is not None else None
    if narrow is not None:
        found, target, _ = _stage(scenario, narrow, start, _share(deadline, 4), seed)
        if found:
            return True, target, "making room"  # it may move the healthy items named: not composable
    if _whole_space_is_small(scenario):  # small enough to decide everything: a refutation is a proof
        found, target, proof = _stage(scenario, _whole_space(scenario), start, deadline, seed)
        return (True if found else False if proof else None), target, "everything"
    space = touched
    for rounds_left in range(ROOM_ROUNDS, 0, -1):  # the healthy items that could make room, and then theirs
        if deadline - time.monotonic() < MIN_WIDENING_SECONDS:
            break
        wider = _room_space(scenario, space)
        if set(wider.volume_domain) == set(space.volume_domain) and set(wider.broker_domain) == set(space.broker_domain):
            break  # nothing more could make room
        found, target, _ = _stage(scenario, wider, start, _share(deadline, rounds_left), seed)
        if found:
            return True, target, "making room"
        space = wider
    return None, None, "making room"  # refuted only over part of the problem: undecided


def _focused(scenario: Scenario, touched: Space, focus: tuple[Iterable[str], Iterable[int]]) -> Space | None:
    """The touched items and the focus's, or None when the focus adds nothing to decide."""
    volumes, brokers = (set(f) for f in focus)
    volumes -= set(touched.volume_domain)
    brokers -= set(touched.broker_domain)
    if not volumes and not brokers:
        return None
    return Space.for_planning(scenario, volumes=volumes | set(touched.volume_domain),
                              brokers=brokers | set(touched.broker_domain))


def _share(deadline: float, parts: int) -> float:
    """The deadline of one of ``parts`` equal shares of the time left."""
    now = time.monotonic()
    return now + max(0.0, deadline - now) / parts


def _stage(scenario: Scenario, space: Space, start: Placement, deadline: float,
           seed: int) -> tuple[bool | None, Placement | None, bool]:
    """(found, target, whether a refutation covers the whole space given, unrestricted)."""
    space, restricted = decidable(scenario, space, start)
    found, target = _satisfy(space, start, deadline, seed)
    return found, target, found is False and not restricted


def _satisfy(space: Space, start: Placement, deadline: float, seed: int) -> tuple[bool | None, Placement | None]:
    enc = _encode(space, relaxed=False)
    for lit in enc.lits.values():
        enc.model.Add(lit == 1)  # every rule holds: nothing may fall short
    hint(enc, start)
    return satisfy(enc, time_limit=deadline - time.monotonic(), seed=seed)


__all__ = ["Existence", "recovery_exists"]

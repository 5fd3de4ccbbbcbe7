"""When the laid-out steps cannot be proven safe: search every order of the same steps, one at a time.

The step builder (``placement.execute.steps``) lays a target's steps out in one pass and is
right for the plans it was built for; where the model checker still finds an unsafe state,
this search decides whether ANY order of the same actions -- each started and finished before
the next starts -- is safe, judged by the plain execution semantics
(``placement.execute.exhaustive``, every safety property in every state, each step's
precondition where it starts). A safe plan in any partial order is safe in each of its
sequential orders, so no safe sequence means no safe plan of these actions at all; a safe one
is returned as a chain (each step after the previous), which the model checker then proves.

Depth-first, the builder's order tried first, a new replica's source picked among the
replicas in sync when it starts, and each set of finished steps explored once (the state it
leaves is the same whatever the order that got there). Exponential in the worst case, so
bounded: beyond ``limit`` steps tried the answer is "undecided", never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from placement.execute import linear_time
from placement.execute.exhaustive import ATOMIC, INSYNC, _Semantics
from placement.models.plan import Step
from placement.scenario import Scenario

MAX_STEPS = 60  # plans longer than this are not searched
STATE_LIMIT = 20_000  # steps tried (each judged in every state it passes through) before the search gives up


@dataclass(frozen=True)
class SequenceSearch:
    steps: tuple[Step, ...] | None  # a safe chain of the same actions, or None
    exhaustive: bool  # the search covered every order (so None proves no safe order exists)


@linear_time
def safe_sequence(scenario: Scenario, steps: tuple[Step, ...], limit: int = STATE_LIMIT) -> SequenceSearch:
    if len(steps) > MAX_STEPS:
        return SequenceSearch(None, False)
    by_id = {s.id: s for s in steps}
    sem = _Semantics(scenario, by_id)
    ids = sorted(by_id)
    dead: set[frozenset[int]] = set()
    explored = [0]
    chosen_sources: dict[int, str] = {}

    def with_source(world, sid: int) -> Step:
        """An add copies from a replica in sync when it starts (the planned one where it still is)."""
        s = by_id[sid]
        if s.action != "add-volume-replica":
            return s
        replicas = dict(world.replicas)
        volume = s.args["volume"]
        in_sync = sorted(n for (v, n), st in replicas.items() if v == volume and st == INSYNC and n != s.args["node"])
        if not in_sync or s.args["source"] in in_sync:
            return s
        return replace(s, args={**s.args, "source": in_sync[0]})

    def search(world, done: frozenset[int], order: list[int]) -> list[int] | None:
        if len(done) == len(ids):
            return order
        if done in dead:
            return None
        for sid in ids:
            if sid in done:
                continue
            explored[0] += 1
            if explored[0] > limit:
                raise _GaveUp
            step = with_source(world, sid)
            by_id[sid] = step
            started, _why = sem.begin(world, sid)
            if started is None:
                continue
            running = done | {sid}
            if sem.unsafe(started, running, running if step.action in ATOMIC else done):
                continue
            finished = started if step.action in ATOMIC else sem.end(started, sid)
            if step.action not in ATOMIC and sem.unsafe(finished, running, running):
                continue
            chosen_sources[sid] = step.args.get("source")
            found = search(finished, running, order + [sid])
            if found is not None:
                return found
        dead.add(done)
        return None

    try:
        order = search(sem.start(), frozenset(), [])
    except _GaveUp:
        return SequenceSearch(None, False)
    finally:
        by_id.clear()
    if order is None:
        return SequenceSearch(None, True)
    original = {s.id: s for s in steps}
    chain = []
    for position, sid in enumerate(order, start=1):
        s = original[sid]
        args = dict(s.args)
        if s.action == "add-volume-replica" and chosen_sources.get(sid):
            args["source"] = chosen_sources[sid]
        chain.append(Step(position, s.action, args, (position - 1,) if position > 1 else ()))
    return SequenceSearch(tuple(chain), True)


class _GaveUp(Exception):
    pass

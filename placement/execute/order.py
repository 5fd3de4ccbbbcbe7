"""The order the ``after`` edges put on a plan's steps: which step waits, transitively, for which.

``StepOrder.before(a, b)`` answers "must step ``a`` have finished before step ``b`` can
start?" -- the question every part of the model checker asks.

Two representations, one answer:

- ancestor *sets*, built in topological order (a step's ancestors are its parents and
  theirs). A plan the planner writes is shallow (a volume's few steps, then the broker
  moves, then the Kafka steps), so the sets add up to a small multiple of the steps:
  O(S + E + sum of ancestor-set sizes) time and memory.
- ancestor *bitsets* (one Python int per step, bit i = the i-th step in topological
  order), when the sets would grow too large (a long chain of hand-written steps has
  quadratically many ancestor pairs): O(E * S / 64) machine-word operations and
  O(S^2 / 2) bits at most.

Either is abandoned beyond a fixed budget (``TooTangled``): the model checker then answers
"undecided" in bounded time instead of exhausting memory.
"""
from __future__ import annotations

from placement.models.plan import Step

SET_BUDGET = 4_000_000  # ancestor entries kept as sets before switching to bitsets
BIT_BUDGET = 2**31  # bits of ancestor bitsets (256 MiB) before giving up


class TooTangled(Exception):
    """The steps' order is too large to decide within the budget."""


def topological_order(steps: dict[int, Step]) -> list[int]:
    """Step ids, each after every step it waits for (ties: smaller id first). The plan
    reader has refused cycles and unknown ids already."""
    import heapq

    waiting = {sid: len(set(s.after)) for sid, s in steps.items()}
    children: dict[int, list[int]] = {sid: [] for sid in steps}
    for sid, s in steps.items():
        for a in set(s.after):
            children[a].append(sid)
    ready = [sid for sid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        sid = heapq.heappop(ready)
        order.append(sid)
        for child in children[sid]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    if len(order) != len(steps):
        raise ValueError("the steps' after edges form a cycle")
    return order


class StepOrder:
    def __init__(self, steps: dict[int, Step], *, set_budget: int = SET_BUDGET, bit_budget: int = BIT_BUDGET):
        self.steps = steps
        self.topo = topological_order(steps)
        self.pos = {sid: i for i, sid in enumerate(self.topo)}
        self._sets: dict[int, frozenset[int]] | None = None
        self._bits: dict[int, int] | None = None
        try:
            self._sets = self._build_sets(set_budget)
        except TooTangled:
            self._bits = self._build_bits(bit_budget)

    def _build_sets(self, budget: int) -> dict[int, frozenset[int]]:
        sets: dict[int, frozenset[int]] = {}
        total = 0
        empty: frozenset[int] = frozenset()
        for sid in self.topo:
            parents = set(self.steps[sid].after)
            if total > budget:
                raise TooTangled(f"more than {budget:,} ancestor pairs")
            if not parents:
                sets[sid] = empty
                continue
            if len(parents) == 1:
                (p,) = parents
                anc = sets[p] | {p}
            else:
                grown: set[int] = set(parents)
                for p in parents:
                    grown |= sets[p]
                anc = frozenset(grown)
            total += len(anc)
            if total > budget:
                raise TooTangled(f"more than {budget:,} ancestor pairs")
            sets[sid] = anc
        return sets

    def _build_bits(self, budget: int) -> dict[int, int]:
        bits: dict[int, int] = {}
        total = 0
        pos = self.pos
        for sid in self.topo:
            anc = 0
            for p in set(self.steps[sid].after):
                anc |= bits[p] | (1 << pos[p])
            total += anc.bit_length()
            if total > budget:
                raise TooTangled(f"more than {budget:,} bits of ancestors")
            bits[sid] = anc
        return bits

    @property
    def representation(self) -> str:
        return "sets" if self._sets is not None else "bitsets"

    def before(self, a: int, b: int) -> bool:
        """Step ``a`` is an ancestor of step ``b`` (b waits, transitively, for a)."""
        if self._sets is not None:
            return a in self._sets[b]
        return bool(self._bits[b] >> self.pos[a] & 1)

    def ancestors(self, sid: int) -> frozenset[int]:
        if self._sets is not None:
            return self._sets[sid]
        bits, found, i = self._bits[sid], [], 0
        while bits:
            if bits & 1:
                found.append(self.topo[i])
            bits >>= 1
            i += 1
        return frozenset(found)

    def within(self, members: list[int]) -> list[int]:
        """For each member, the bitmask (over ``members``' indices) of the members it waits for."""
        index = {sid: i for i, sid in enumerate(members)}
        masks = []
        for b in members:
            mask = 0
            if self._sets is not None and len(self._sets[b]) < len(members):
                for a in self._sets[b]:  # the fewer of its ancestors and the members
                    i = index.get(a)
                    if i is not None:
                        mask |= 1 << i
            else:
                for i, a in enumerate(members):
                    if a != b and self.before(a, b):
                        mask |= 1 << i
            masks.append(mask)
        return masks

    def in_order(self, sids) -> list[int]:
        """These steps in topological order."""
        return sorted(sids, key=self.pos.__getitem__)

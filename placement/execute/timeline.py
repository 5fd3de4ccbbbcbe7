"""The recovery timeline: when each broker serves again and when redundancy is back.

A fluid model of the plan's execution. Every step starts as soon as the steps it
waits for have finished (the order the generated script follows). Steps that
copy data -- a Portworx resync (``add-volume-replica``: the volume's used bytes
from its source node; ``resync-volume-replica``: the stale replica's missing bytes
from an in-sync replica) and a Kafka reassignment (each new partition replica
fetched from the node of a running in-sync replica) -- finish when their last
byte arrives; every other step is instant. Each node's network is full duplex
with ``policy.nodeBandwidthGbps`` each way, shared max-min fairly by the copies
that cross it, which is how TCP flows through one bottleneck settle.

Every node has the same bandwidth, so the model is simulated at 1 MiB/s and its
times divided by the bandwidth at the end: any bandwidth the loader admits, from
the smallest positive float to the largest, gives a finite simulation (a time too
long for a float is written as null, never as Infinity).

Event by event (a heap of the copies' finishing times), the fair shares are
recomputed over the open copies at every change while at most ``EXACT_UP_TO`` are
open (exact max-min sharing), and beyond that once ``REFRESH`` (5%) of them have
started or finished since the last computation; in between, a copy that starts
takes what its two nodes have left, and what finished copies leave on a node goes
in equal parts to the copies still open there -- once ``HAND_OUT_EVERY`` (5%) of
them have finished there since its last hand-out (until then the spare waits on the
node, and a copy starting there takes it).

The work is near-linear, counted in ``shares_computed`` and ``rates_handed`` (and
tested): a computation over F open copies costs O(F log F) and comes after REFRESH * F
changes (or any change while at most EXACT_UP_TO are open), so at most
2C * max(1 / REFRESH, EXACT_UP_TO) shares for C copies; a hand-out looks at the n copies
open on a node after HAND_OUT_EVERY * n finished there, so at most 2C / HAND_OUT_EVERY
rates in all, however many copies a node holds (handing out at every finish looked at
every copy on both nodes, quadratic in a node's copies). Each rate change pushes a
finishing time: O((S + C) log C (1 / REFRESH + 1 / HAND_OUT_EVERY)) for S steps, the
exact phase aside. A sharing rebuilds the heap from the current rates; between two,
outdated entries are dropped in one pass once they outnumber the open copies four to one
(``_compact``).

Accuracy against exact max-min sharing at every change (copies' finishing times, relative):

| case | median | 95th percentile | worst | last copy |
|---|---|---|---|---|
| ``bench/execute.py``, 1,000 nodes, zone failure (3,003 timed steps) | 0.3% | 1.9% | 6.5% | 0.0% |
| 1,200 copies on 6 nodes (tests' ``_many_copies``, seeds 0 and 1) | 0.2-0.3% | 1.5-2.0% | 13-16% | 0.3-0.4% |
| 20-150 copies on 3-6 nodes, approximated throughout (tests, 40 sets) | | at most 8.5% | 122% | at most 0.4% |

(Handing out at every finish: the same on the first and last rows, 1.2-1.6%, 14-18% and under
0.1% on the second.) The worst are small copies that start while a node's spare waits or whose
share lags a sharing: a 1 GiB copy among 200 GiB ones can take twice as long as exactly shared.
On the 1,000-node rareq zone failure (30,000 copies open at once) exact sharing is out of
reach; against handing out at every finish the steps' times move by 0.05% (median), 0.45%
(95th percentile), 2.3% at worst, and ``simulate`` takes 2.5-3.4 s of CPU instead of
11.2-12.6 s (two in-process runs each on a loaded machine).

For comparison, a Kafka-level rebuild of a displaced broker (a fresh empty
volume, every partition replica it holds re-fetched from other brokers) is
bounded below by its partition bytes arriving through its node at full
bandwidth; the storage-level plan is measured against that bound.
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass

from placement.execute import linear_time
from placement.models.plan import Placement, Step
from placement.scenario import Scenario

_EPSILON = 1e-9
REFRESH = 0.05  # recompute the fair shares once this fraction of the open copies has changed...
EXACT_UP_TO = 200  # ...or at every change while at most this many are open (exact max-min sharing)
STALE_FACTOR = 4  # the heap is rebuilt without outdated entries once it holds this many per open copy
COMPACT_FLOOR = 1024  # (and this many more)
HAND_OUT_EVERY = 0.05  # a node's spare goes to its open copies once this fraction of them has finished there


@dataclass(frozen=True)
class Copy:
    source: str  # node sending
    target: str  # node receiving
    mib: int


@dataclass(frozen=True)
class Timeline:
    bandwidth_gbps: float
    started: dict[int, float]  # step id -> seconds from the plan's start
    finished: dict[int, float]
    broker_serves: dict[int, float | None]  # moved broker -> seconds until it serves again; None: never runs
    full_redundancy: float  # every volume back at its replication factor
    kafka_reassigned: float  # every partition replica in place (0 when nothing moves)
    finish: float
    lower_bound: float  # the busiest node's bytes at full bandwidth: no schedule beats it
    kafka_rebuild: dict[int, float]  # displaced broker -> seconds a Kafka-level rebuild needs at least
    busiest_node: str | None = None  # the node whose bytes (sent or received) set lower_bound
    shares_computed: int = 0  # copies' fair shares computed in all (the simulation's work; not in the document)
    rates_handed: int = 0  # copies' rates looked at by hand-outs between two sharings (the rest of its work)

    def to_document(self) -> dict:
        def r(x):
            return None if x is None or not math.isfinite(x) else round(x, 1)

        return {
            "nodeBandwidthGbps": self.bandwidth_gbps,
            "brokersServeSeconds": {str(b): r(t) for b, t in sorted(self.broker_serves.items())},
            "fullRedundancySeconds": r(self.full_redundancy),
            "kafkaReassignedSeconds": r(self.kafka_reassigned),
            "finishSeconds": r(self.finish),
            "lowerBoundSeconds": r(self.lower_bound),
            "kafkaRebuildSeconds": {str(b): r(t) for b, t in sorted(self.kafka_rebuild.items())},
            "busiestNode": self.busiest_node,
            # step id -> [start, finish] seconds, for pictures and scripts that schedule by step
            "stepSeconds": {str(s): [r(self.started[s]), r(self.finished[s])] for s in sorted(self.finished)},
        }


def resync_source(scenario: Scenario, target: Placement, volume: str, sending: dict[str, int] | None = None) -> str | None:
    """Where Portworx copies a stale replica's missing bytes from: an in-sync replica the
    target keeps (any survivor otherwise), the one sending least so far."""
    survivors = list(scenario.survivors(volume))
    kept = [n for n in survivors if n in target.volumes.get(volume, ())] or survivors
    if not kept:
        return None
    sending = sending or {}
    return min(kept, key=lambda n: (sending.get(n, 0), n))


def copies_of(scenario: Scenario, target: Placement, step: Step, sending: dict[str, int] | None = None) -> list[Copy]:
    """The data a step sends over the network."""
    cluster = scenario.cluster
    a = step.args
    if step.action == "add-volume-replica":
        return [Copy(a["source"], a["node"], cluster.volume[a["volume"]].used_mib)]
    if step.action == "resync-volume-replica":
        source = resync_source(scenario, target, a["volume"], sending)
        missing = scenario.stale_replicas(a["volume"]).get(a["node"], 0)
        return [Copy(source, a["node"], missing)] if source is not None else []
    if step.action != "reassign-partitions":
        return []
    copies = []
    for entry in a["partitions"]:
        p = cluster.partition[entry["topic"], entry["partition"]]
        leaders = [p.leader] if p.leader is not None else []
        holders = [b for b in leaders + list(p.isr) if scenario.is_alive(cluster.broker[b].node)
                   and not scenario.is_removed(b) and target.brokers.get(b)]
        if not holders:
            continue  # nothing in sync survives: no copy is made (see uncleanElections)
        source = target.brokers[holders[0]]
        for b in entry["replicas"]:
            node = target.brokers.get(b)
            if b not in p.replicas and node and node != source:
                copies.append(Copy(source, node, p.size_mib))
    return copies


def _fair_rates(flows: dict[int, Copy], capacity: float) -> dict[int, float]:
    """Max-min fair rates (progressive filling) over each node's send and receive capacity:
    O(F log F) for F flows (resources are numbered, a heap holds the tightest share)."""
    out_of: dict[str, int] = {}  # node -> its sending resource's number (numbered as they appear)
    into_of: dict[str, int] = {}  # node -> its receiving resource's number
    ends: list[tuple[int, int]] = []
    members: list[list[int]] = []
    for k, c in enumerate(flows.values()):
        out = out_of.get(c.source)
        if out is None:
            out = out_of[c.source] = len(members)
            members.append([])
        into = into_of.get(c.target)
        if into is None:
            into = into_of[c.target] = len(members)
            members.append([])
        ends.append((out, into))
        members[out].append(k)
        members[into].append(k)
    ids = list(flows)
    left = [capacity] * len(members)
    count = [len(m) for m in members]
    heap = [(capacity / count[r], r) for r in range(len(members))]
    heapq.heapify(heap)
    rate: list[float | None] = [None] * len(ids)
    while heap:
        share, r = heapq.heappop(heap)
        if count[r] == 0:
            continue
        current = left[r] / count[r]
        if current > share * (1 + _EPSILON) + _EPSILON * capacity:  # shares only grow as others freeze
            heapq.heappush(heap, (current, r))
            continue
        for k in members[r]:
            if rate[k] is not None:
                continue
            rate[k] = current
            out, into = ends[k]
            other = into if out == r else out
            left[other] -= current
            count[other] -= 1
        count[r] = 0
    return dict(zip(ids, rate))


class _Fluid:
    """The copies in flight at 1 MiB/s per node and direction; time in MiB at that rate."""

    def __init__(self) -> None:
        self.now = 0.0
        self.copies: dict[int, Copy] = {}
        self.left: dict[int, float] = {}  # MiB still to send, as of ``stamp``
        self.stamp: dict[int, float] = {}
        self.rate: dict[int, float] = {}
        self.version: dict[int, int] = {}
        self.out_use: dict[str, float] = defaultdict(float)
        self.in_use: dict[str, float] = defaultdict(float)
        self.heap: list[tuple[float, int, int]] = []
        self.at: dict[tuple[str, str], set[int]] = defaultdict(set)  # ("out"/"in", node) -> open copies there
        self.changes = 0
        self.next_id = 0
        self.shares_computed = 0
        self.rates_handed = 0
        self.finished_at: dict[tuple[str, str], int] = defaultdict(int)  # copies finished there since its last hand-out

    def _set_rate(self, f: int, rate: float) -> None:
        c = self.copies[f]
        old = self.rate.get(f, 0.0)
        if f in self.left:  # progress so far at the old rate
            self.left[f] = max(0.0, self.left[f] - old * (self.now - self.stamp[f]))
            self.stamp[f] = self.now
        self.out_use[c.source] += rate - old
        self.in_use[c.target] += rate - old
        self.rate[f] = rate
        self.version[f] = self.version.get(f, 0) + 1
        if rate > 0:
            heapq.heappush(self.heap, (self.stamp[f] + self.left[f] / rate, self.version[f], f))
            if len(self.heap) > STALE_FACTOR * len(self.copies) + COMPACT_FLOOR:
                self._compact()

    def _compact(self) -> None:
        """Drop the heap's outdated entries (a copy's earlier rates, finished copies): every rate change
        pushes a new entry, and popping millions of outdated ones cost more than the sharing itself
        (a 1,000-node zone failure: 2.4 million entries for 30,000 copies). The current entries keep
        their order, so the simulation is the same."""
        version, copies = self.version, self.copies
        self.heap = [e for e in self.heap if e[2] in copies and version[e[2]] == e[1]]
        heapq.heapify(self.heap)

    def open(self, copy: Copy) -> int:
        f = self.next_id
        self.next_id += 1
        self.copies[f] = copy
        self.left[f] = float(copy.mib)
        self.stamp[f] = self.now
        self.at["out", copy.source].add(f)
        self.at["in", copy.target].add(f)
        spare = min(1.0 - self.out_use[copy.source], 1.0 - self.in_use[copy.target])
        self._set_rate(f, spare if spare > _EPSILON else 0.0)  # what its two nodes have left, until the next sharing
        self.changes += 1
        return f

    def refresh(self, force: bool = False) -> None:
        """Max-min fair shares over every open copy, when enough has changed (or ``force``)."""
        if not self.copies or not (force or self.changes >= self._enough()):
            return
        self.changes = 0
        self.finished_at.clear()  # the sharing hands out every node's spare
        self.shares_computed += len(self.copies)
        # ``_set_rate`` for every copy written out, and the heap and the nodes' use built anew from the
        # current rates (nothing outdated kept): most rates change at a sharing
        copies, rate, left, stamp, version, now = self.copies, self.rate, self.left, self.stamp, self.version, self.now
        out_use: dict[str, float] = defaultdict(float)
        in_use: dict[str, float] = defaultdict(float)
        heap = []
        for f, new in _fair_rates(copies, 1.0).items():
            old = rate[f]
            if new != old:  # an unchanged rate keeps its finishing time
                progressed = left[f] - old * (now - stamp[f])
                left[f] = progressed if progressed > 0.0 else 0.0
                stamp[f] = now
                rate[f] = new
                version[f] += 1
            c = copies[f]
            out_use[c.source] += new
            in_use[c.target] += new
            if new > 0:
                heap.append((stamp[f] + left[f] / new, version[f], f))
        heapq.heapify(heap)
        self.heap, self.out_use, self.in_use = heap, out_use, in_use

    def _enough(self) -> float:
        """Changes since the last sharing that call for a new one."""
        return 1.0 if len(self.copies) <= EXACT_UP_TO else REFRESH * len(self.copies)

    def _hand_out(self, freed: list[tuple[str, str]]) -> None:
        """Between two sharings, what finished copies leave on their nodes goes, in equal parts,
        to the copies still open there (each as far as its other node allows) -- on a node once
        ``HAND_OUT_EVERY`` of the copies open there have finished since its last hand-out (at every
        finish while fewer than 1 / HAND_OUT_EVERY are open): a hand-out looks at every copy open on
        the node, so at most 1 / HAND_OUT_EVERY per finished copy and node, whatever the node's load.
        Until then the spare waits on the node (a copy opening there takes it)."""
        copies, rate, left, stamp, version = self.copies, self.rate, self.left, self.stamp, self.version
        out_use, in_use, now = self.out_use, self.in_use, self.now
        for where in sorted(set(freed)):
            kind, node = where
            open_here = self.at.get(where, ())
            if self.finished_at[where] < HAND_OUT_EVERY * len(open_here):
                continue  # the node's spare waits for more
            self.finished_at[where] = 0
            spare = 1.0 - (self.out_use if kind == "out" else self.in_use)[node]
            if spare <= _EPSILON or not open_here:
                continue
            open_here = sorted(open_here)
            self.rates_handed += len(open_here)
            share = spare / len(open_here)
            for g in open_here:
                c = copies[g]
                other = 1.0 - (in_use[c.target] if kind == "out" else out_use[c.source])
                extra = other if other < share else share
                if extra > _EPSILON:
                    # ``_set_rate(g, rate[g] + extra)`` written out (the same arithmetic): this loop
                    # runs millions of times on a 1,000-node zone failure
                    old = rate[g]
                    new = old + extra
                    progressed = left[g] - old * (now - stamp[g])
                    left[g] = progressed if progressed > 0.0 else 0.0
                    stamp[g] = now
                    out_use[c.source] += new - old
                    in_use[c.target] += new - old
                    rate[g] = new
                    version[g] += 1
                    heapq.heappush(self.heap, (now + left[g] / new, version[g], g))
            if len(self.heap) > STALE_FACTOR * len(copies) + COMPACT_FLOOR:
                self._compact()

    def next_done(self) -> list[int]:
        """Advance to the next copy that completes; the copies completing then."""
        while True:
            if not self.heap:
                self.refresh(force=True)  # every open copy waits for a share: give them one
                if not self.heap:
                    return []
            t, version, f = heapq.heappop(self.heap)
            if f in self.copies and self.version[f] == version:
                break
        self.now = max(self.now, t)
        done = [f]
        while self.heap and self.heap[0][0] <= self.now * (1 + _EPSILON):
            t, version, g = heapq.heappop(self.heap)
            if g in self.copies and self.version[g] == version:
                done.append(g)  # once: a copy's current version is in the heap once
        freed = []
        for g in done:
            c = self.copies[g]
            self._set_rate(g, 0.0)
            del self.copies[g], self.left[g], self.stamp[g], self.rate[g]
            self.at["out", c.source].discard(g)
            self.at["in", c.target].discard(g)
            freed += [("out", c.source), ("in", c.target)]
            self.finished_at["out", c.source] += 1
            self.finished_at["in", c.target] += 1
            self.changes += 1
        if self.changes < self._enough():
            self._hand_out(freed)
        return done


@linear_time
def simulate(scenario: Scenario, target: Placement, steps: tuple[Step, ...]) -> Timeline:
    cluster = scenario.cluster
    by_id = {s.id: s for s in steps}
    pending = {s.id: len(set(s.after)) for s in steps}
    children: dict[int, list[int]] = defaultdict(list)
    for s in steps:
        for a in set(s.after):
            children[a].append(s.id)
    started: dict[int, float] = {}
    finished: dict[int, float] = {}
    open_copies: dict[int, int] = defaultdict(int)  # step -> copies still in flight
    copy_step: dict[int, int] = {}
    through: dict[tuple, int] = defaultdict(int)  # MiB each node sends and receives in all
    sending: dict[str, int] = defaultdict(int)
    fluid = _Fluid()

    def finish(sid: int) -> list[int]:
        """The step is done now: the steps that were waiting only for it."""
        finished[sid] = fluid.now
        freed = []
        for child in children[sid]:
            pending[child] -= 1
            if pending[child] == 0:
                freed.append(child)
        return freed

    def release(sids: list[int]) -> None:
        queue = sorted(sids, reverse=True)
        while queue:
            sid = queue.pop()
            started[sid] = fluid.now
            copies = [c for c in copies_of(scenario, target, by_id[sid], sending) if c.mib > 0]
            for c in copies:
                through["out", c.source] += c.mib
                through["in", c.target] += c.mib
                sending[c.source] += c.mib
                copy_step[fluid.open(c)] = sid
                open_copies[sid] += 1
            if not copies:
                queue.extend(sorted(finish(sid), reverse=True))

    release([sid for sid, n in pending.items() if n == 0])
    fluid.refresh()
    while fluid.copies:
        newly = []
        for f in fluid.next_done():
            sid = copy_step.pop(f)
            open_copies[sid] -= 1
            if open_copies[sid] == 0:
                newly.extend(finish(sid))
        release(newly)
        fluid.refresh()

    capacity = cluster.policy.node_bandwidth_mib_s  # every unit time above divides by it
    seconds = _seconds(capacity)
    started_s = {sid: seconds(t) for sid, t in started.items()}
    finished_s = {sid: seconds(t) for sid, t in finished.items()}
    return Timeline(
        bandwidth_gbps=cluster.policy.node_bandwidth_gbps,
        started=started_s, finished=finished_s,
        broker_serves=_broker_serves(scenario, target, by_id, finished_s),
        full_redundancy=max((finished_s[s.id] for s in steps
                             if s.action in ("add-volume-replica", "resync-volume-replica")), default=0.0),
        kafka_reassigned=max((finished_s[s.id] for s in steps if s.action == "reassign-partitions"), default=0.0),
        finish=max(finished_s.values(), default=0.0),
        lower_bound=seconds(max(through.values(), default=0)),  # the busiest node at full speed
        kafka_rebuild=_kafka_rebuild(scenario, target, seconds),
        busiest_node=min(through, key=lambda r: (-through[r], r[1], r[0]))[1] if through else None,
        shares_computed=fluid.shares_computed, rates_handed=fluid.rates_handed,
    )


def _seconds(capacity: float):
    """Unit time (MiB at 1 MiB/s) to seconds at ``capacity`` MiB/s: 0 at an infinite
    bandwidth, possibly infinite (written as null) at a vanishing one."""
    if math.isinf(capacity):
        return lambda t: 0.0
    return lambda t: t / capacity if t else 0.0


def _broker_serves(scenario: Scenario, target: Placement, by_id: dict[int, Step],
                   finished: dict[int, float]) -> dict[int, float | None]:
    """Brokers that move or cannot run (the others serve throughout, or never stopped)."""
    moves = {s.args["broker"]: s.id for s in by_id.values() if s.action == "move-broker"}
    serves: dict[int, float | None] = {}
    for b in scenario.cluster.brokers:
        if target.brokers.get(b.id) is None:
            serves[b.id] = None
        elif b.id in moves:
            serves[b.id] = finished.get(moves[b.id])
    return serves


def displaced_brokers(scenario: Scenario, target: Placement) -> list[int]:
    """Brokers that must leave a failed node for another."""
    return [b.id for b in scenario.cluster.brokers
            if target.brokers.get(b.id) not in (None, b.node) and scenario.is_failed(b.node)]


def _kafka_rebuild(scenario: Scenario, target: Placement, seconds) -> dict[int, float]:
    held: dict[int, int] = defaultdict(int)
    for p in scenario.cluster.partitions:
        for b in p.replicas:
            held[b] += p.size_mib
    return {b: seconds(held[b]) for b in displaced_brokers(scenario, target)}

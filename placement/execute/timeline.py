"""The recovery timeline: when each broker serves again and when redundancy is back.

A fluid model of the plan's execution. Every step starts as soon as the steps it
waits for have finished (the order the generated script follows). Steps that
copy data -- a Portworx resync (``add-volume-replica``: the volume's used bytes
from its source node) and a Kafka reassignment (each new partition replica
fetched from the node of a running in-sync replica) -- finish when their last
byte arrives; every other step is instant. Each node's network is full duplex
with ``policy.nodeBandwidthGbps`` each way, shared max-min fairly by the copies
that cross it, which is how TCP flows through one bottleneck settle.

For comparison, a Kafka-level rebuild of a displaced broker (a fresh empty
volume, every partition replica it holds re-fetched from other brokers) is
bounded below by its partition bytes arriving through its node at full
bandwidth; the storage-level plan is measured against that bound.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass

from placement.models.plan import Placement, Step
from placement.scenario import Scenario

_EPSILON = 1e-9
STEP_RESOLUTION = 0.005  # completions are taken in batches no finer than 0.5% of the time elapsed


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

    def to_document(self) -> dict:
        def r(x):
            return None if x is None else round(x, 1)

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


def copies_of(scenario: Scenario, target: Placement, step: Step) -> list[Copy]:
    """The data a step sends over the network."""
    cluster = scenario.cluster
    if step.action == "add-volume-replica":
        a = step.args
        return [Copy(a["source"], a["node"], cluster.volume[a["volume"]].used_mib)]
    if step.action != "reassign-partitions":
        return []
    copies = []
    for entry in step.args["partitions"]:
        p = cluster.partition[entry["topic"], entry["partition"]]
        leaders = [p.leader] if p.leader is not None else []  # "Leader: none" is no leader
        holders = [b for b in (leaders + list(p.isr)) if scenario.is_alive(cluster.broker[b].node)
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
    """Max-min fair rates (progressive filling) over each node's send and receive capacity."""
    members: dict[tuple, list[int]] = defaultdict(list)
    for f, c in flows.items():
        members["out", c.source].append(f)
        members["in", c.target].append(f)
    left = {r: capacity for r in members}
    count = {r: len(m) for r, m in members.items()}
    heap = [(capacity / count[r], r) for r in members]
    heapq.heapify(heap)
    rate: dict[int, float] = {}
    while heap:
        share, r = heapq.heappop(heap)
        if count[r] == 0:
            continue
        current = left[r] / count[r]
        if current > share + _EPSILON:  # shares only grow as others freeze; re-queue the stale one
            heapq.heappush(heap, (current, r))
            continue
        for f in members[r]:
            if f in rate:
                continue
            rate[f] = current
            c = flows[f]
            for other in (("out", c.source), ("in", c.target)):
                if other != r:
                    left[other] -= current
                    count[other] -= 1
        count[r] = 0
    return rate


def simulate(scenario: Scenario, target: Placement, steps: tuple[Step, ...]) -> Timeline:
    cluster = scenario.cluster
    capacity = cluster.policy.node_bandwidth_mib_s
    by_id = {s.id: s for s in steps}
    pending = {s.id: set(s.after) for s in steps}
    children: dict[int, list[int]] = defaultdict(list)
    for s in steps:
        for a in s.after:
            children[a].append(s.id)
    started: dict[int, float] = {}
    finished: dict[int, float] = {}
    flows: dict[int, Copy] = {}
    remaining: dict[int, float] = {}
    flow_step: dict[int, int] = {}
    open_flows: dict[int, int] = defaultdict(int)
    through: dict[tuple, int] = defaultdict(int)  # MiB each node sends and receives in all
    now = 0.0
    ready = [sid for sid, deps in pending.items() if not deps]

    def finish(sid: int) -> list[int]:
        """The step is done now: the steps that were waiting only for it."""
        finished[sid] = now
        freed = []
        for child in children[sid]:
            pending[child].discard(sid)
            if not pending[child]:
                freed.append(child)
        return freed

    def release(sids: list[int]) -> None:
        queue = list(sids)
        while queue:
            sid = queue.pop()
            started[sid] = now
            copies = [c for c in copies_of(scenario, target, by_id[sid]) if c.mib > 0]
            for c in copies:
                through["out", c.source] += c.mib
                through["in", c.target] += c.mib
                f = len(flow_step)
                flow_step[f] = sid
                flows[f] = c
                remaining[f] = float(c.mib)
                open_flows[sid] += 1
            if not copies:
                queue.extend(finish(sid))

    release(ready)
    while flows:
        rate = _fair_rates(flows, capacity)
        # The next completion, or a little later (at most STEP_RESOLUTION of the time so far):
        # copies that end in between end together, which bounds the number of rate
        # recomputations on plans with thousands of resyncs. Times come out late, never early.
        dt = min(remaining[f] / rate[f] for f in flows)
        dt = max(dt, min(STEP_RESOLUTION * now, 10 * dt))
        now += dt
        done = []
        for f in flows:
            remaining[f] -= rate[f] * dt
            if remaining[f] <= _EPSILON * max(1.0, rate[f] * dt) + 1e-6:
                done.append(f)
        newly = []
        for f in done:
            sid = flow_step[f]
            del flows[f], remaining[f]
            open_flows[sid] -= 1
            if open_flows[sid] == 0:
                newly.extend(finish(sid))
        release(newly)

    return Timeline(
        bandwidth_gbps=cluster.policy.node_bandwidth_gbps,
        started=started, finished=finished,
        broker_serves=_broker_serves(scenario, target, by_id, finished),
        full_redundancy=max((finished[s.id] for s in steps if s.action == "add-volume-replica"), default=0.0),
        kafka_reassigned=max((finished[s.id] for s in steps if s.action == "reassign-partitions"), default=0.0),
        finish=max(finished.values(), default=0.0),
        lower_bound=max(through.values(), default=0) / capacity,  # the busiest node at full speed
        kafka_rebuild=_kafka_rebuild(scenario, target, capacity),
        busiest_node=min(through, key=lambda r: (-through[r], r[1], r[0]))[1] if through else None,
    )


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


def _kafka_rebuild(scenario: Scenario, target: Placement, capacity: float) -> dict[int, float]:
    held: dict[int, int] = defaultdict(int)
    for p in scenario.cluster.partitions:
        for b in p.replicas:
            held[b] += p.size_mib
    return {b: held[b] / capacity for b in displaced_brokers(scenario, target)}

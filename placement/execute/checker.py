"""Model checking a step plan: is every state it can pass through safe?

Each step is two events, ``start`` and ``finish`` (atomic steps finish as they
start). A step may start once every step in its ``after`` has finished; steps
run concurrently and the operator may stop anywhere, so the reachable states
are all configurations (started, finished) closed under those rules.

Reduction. Every safety property is about one resource -- a volume's replicas,
a node's storage or broker slots, a partition's in-sync replicas -- and only
the few steps that touch a resource change it. So instead of the product of all
steps' configurations (exponential in the plan), each resource is explored over
the configurations of its own steps, ordered by the dependencies projected onto
them (transitively, through the other steps). A configuration of those steps
is reachable in the whole plan exactly when it is closed under the projected
order, so the union of the per-resource verdicts is the whole verdict. The
search is breadth-first, so a counterexample is a shortest one for its resource.
A node's storage, which many resyncs may touch, is judged in its worst state
directly (``_worst_storage``): usage only grows as resyncs start and shrinks as
drops finish.

Properties checked in every state:
- no volume with data loses its last in-sync replica, and Portworx never holds
  more than three replicas (in sync or resyncing) of a volume;
- a new replica starts only from a source replica that is in sync;
- no node exceeds its storage (a resync takes space when it starts; a drop frees
  it when it finishes), and never more than ``brokersPerNode`` brokers;
- no partition falls below ``min.insync.replicas`` if it was at or above it;
- a broker finishes its move only onto a node where its volumes are in sync (with
  ``brokerPlacement: required``; otherwise it may attach them remotely), and
  a broker leaves a failed node only after that node is fenced.
"""
from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from placement.models.plan import Placement, Step
from placement.scenario import Scenario

ATOMIC = {"fence-node", "elect-leaders"}
MAX_EXACT_DROPS = 14  # per live node; beyond, storage is judged conservatively


@dataclass(frozen=True)
class Counterexample:
    events: tuple[str, ...]  # e.g. ("start 3", "finish 3", "start 5")
    message: str  # what breaks, in the domain's words

    def to_document(self) -> dict:
        return {"events": list(self.events), "message": self.message}


@dataclass(frozen=True)
class ExecutionVerdict:
    safe: bool
    states: int  # states explored with the per-resource reduction
    resources: int
    counterexamples: tuple[Counterexample, ...] = field(default=())
    # log10 of a lower bound on the states of the whole plan (what exploring it without the
    # reduction would face): the product of the volumes' configurations once fences are done
    unreduced_log10: float = 0.0

    def to_document(self) -> dict:
        return {"safe": self.safe, "statesExplored": self.states, "resources": self.resources,
                "unreducedStatesLog10AtLeast": round(self.unreduced_log10, 1),
                "counterexamples": [c.to_document() for c in self.counterexamples]}


def _ancestors(steps: dict[int, Step]) -> dict[int, set[int]]:
    memo: dict[int, set[int]] = {}

    def visit(sid: int) -> set[int]:
        if sid not in memo:
            memo[sid] = set()
            for a in steps[sid].after:
                memo[sid] |= {a} | visit(a)
        return memo[sid]

    for sid in steps:
        visit(sid)
    return memo


class _Resources:
    """Which steps touch which resource, and how to judge a resource's state."""

    def __init__(self, scenario: Scenario, steps: dict[int, Step]):
        self.scenario = scenario
        self.steps = steps
        self.touching: dict[tuple, list[int]] = defaultdict(list)
        cluster = scenario.cluster
        volume_steps_at = defaultdict(list)  # (volume, node) -> resyncs and drops there
        fences = defaultdict(list)
        for sid, s in sorted(steps.items()):
            if s.action in ("add-volume-replica", "drop-volume-replica"):
                volume_steps_at[s.args["volume"], s.args["node"]].append(sid)
            elif s.action == "fence-node":
                fences[s.args["node"]].append(sid)
        broker_partitions = defaultdict(list)
        for p in cluster.partitions:
            for b in p.replicas:
                broker_partitions[b].append(p.key)
        for sid, s in sorted(steps.items()):
            a = s.args
            if s.action in ("add-volume-replica", "drop-volume-replica"):
                self.touching["volume", a["volume"]].append(sid)
                self.touching["storage", a["node"]].append(sid)
            elif s.action == "move-broker":
                broker = cluster.broker[a["broker"]]
                self.touching["slots", a["to"]].append(sid)
                self.touching["slots", a["from"]].append(sid)
                self.touching["move", a["broker"]].append(sid)
                for v in broker.volumes:
                    self.touching["move", a["broker"]] += volume_steps_at[v, a["to"]]
                for key in broker_partitions[a["broker"]]:
                    self.touching["partition", key].append(sid)
                if scenario.is_failed(a["from"]):
                    self.touching["move", a["broker"]] += fences[a["from"]]
            elif s.action == "reassign-partitions":
                for entry in a["partitions"]:
                    self.touching["partition", (entry["topic"], entry["partition"])].append(sid)
        for key in self.touching:
            self.touching[key] = sorted(set(self.touching[key]))
        self.base_brokers: dict[str, set[int]] = defaultdict(set)
        for b in cluster.brokers:
            if not scenario.is_failed(b.node):
                self.base_brokers[b.node].add(b.id)

    # -- judging one resource in one configuration --------------------------------
    def judge(self, resource: tuple, started: frozenset[int], finished: frozenset[int]) -> str | None:
        kind, name = resource
        return getattr(self, f"_judge_{kind}")(name, started, finished)

    def _live(self, sid, started, finished):
        return sid in started and sid not in finished

    def _judge_volume(self, volume, started, finished):
        sc = self.scenario
        insync = set(sc.survivors(volume))
        resyncing = set()
        for sid in self.touching["volume", volume]:
            s = self.steps[sid]
            node = s.args["node"]
            if s.action == "drop-volume-replica" and sid in started:
                insync.discard(node)
            if s.action == "add-volume-replica":
                if sid in finished:
                    insync.add(node)
                elif sid in started:
                    resyncing.add(node)
        for sid in self.touching["volume", volume]:
            s = self.steps[sid]
            if s.action == "add-volume-replica" and sid in started and sid not in finished:
                source = s.args["source"]
                if source not in insync:
                    return f"volume {volume}: the resync onto {s.args['node']} has no in-sync source ({source} is not in sync)"
        if sc.has_data(volume) and not insync:
            return f"volume {volume} has no in-sync replica left"
        if len(insync | resyncing) > 3:
            return f"volume {volume} would hold {len(insync | resyncing)} replicas; Portworx allows at most 3"
        return None

    def _judge_storage(self, node, started, finished):
        cluster = self.scenario.cluster
        if self.scenario.is_failed(node):
            return None
        used = cluster.storage_used_mib[node]
        for sid in self.touching["storage", node]:
            s = self.steps[sid]
            size = cluster.volume[s.args["volume"]].size_mib
            if s.action == "add-volume-replica" and sid in started:
                used += size  # space is taken when the resync starts
            if s.action == "drop-volume-replica" and sid in finished:
                used -= size  # and freed only when a drop completes
        capacity = cluster.node[node].storage_mib
        if used > capacity:
            return f"node {node} would hold {used / 1024:g} GiB, more than its {capacity / 1024:g} GiB"
        return None

    def _judge_slots(self, node, started, finished):
        cluster = self.scenario.cluster
        here = set(self.base_brokers[node])
        for sid in self.touching["slots", node]:
            s = self.steps[sid]
            if s.args["from"] == node and sid in started:
                here.discard(s.args["broker"])  # the old pod stops when the move starts
            if s.args["to"] == node and sid in finished:
                here.add(s.args["broker"])
        limit = cluster.policy.brokers_per_node
        if len(here) > limit:
            return f"node {node} would run {len(here)} brokers ({', '.join(map(str, sorted(here)))}), more than {limit}"
        return None

    def _judge_move(self, broker, started, finished):
        cluster = self.scenario.cluster
        move = next(sid for sid in self.touching["move", broker] if self.steps[sid].action == "move-broker")
        s = self.steps[move]
        if move in started and self.scenario.is_failed(s.args["from"]):
            fences = [sid for sid in self.touching["move", broker] if self.steps[sid].action == "fence-node"]
            if not any(f in finished for f in fences):
                return f"broker {broker} is force-moved off {s.args['from']} before that node is fenced"
        if move in finished and self.scenario.hyperconverged:
            for v in cluster.broker[broker].volumes:
                insync = s.args["to"] in self.scenario.survivors(v)
                for sid in self.touching["move", broker]:
                    other = self.steps[sid]
                    if other.action == "add-volume-replica" and other.args["volume"] == v and sid in finished:
                        insync = True
                    if other.action == "drop-volume-replica" and other.args["volume"] == v and sid in started:
                        insync = False
                if not insync:
                    return f"broker {broker} starts on {s.args['to']} before its volume {v} is in sync there"
        return None

    def _judge_partition(self, key, started, finished):
        cluster = self.scenario.cluster
        p = cluster.partition[key]
        running = {b.id for b in cluster.brokers if not self.scenario.is_failed(b.node) and not self.scenario.is_removed(b.id)}
        isr = {b for b in p.isr if b in running}
        before = len(isr)
        for sid in self.touching["partition", key]:
            s = self.steps[sid]
            if s.action == "move-broker":
                b = s.args["broker"]
                if sid in started and sid not in finished:
                    isr.discard(b)
                elif sid in finished and b in p.isr:
                    isr.add(b)  # back with its log once its pod runs again
            elif s.action == "reassign-partitions" and sid in finished:
                target = next(e["replicas"] for e in s.args["partitions"] if (e["topic"], e["partition"]) == key)
                isr = {b for b in isr if b in target} | {b for b in target if b not in p.replicas}
        need = cluster.min_insync(p)
        if before >= need and len(isr) < need:
            return f"partition {p.label} would have {len(isr)} in-sync replicas, below min.insync.replicas {need}"
        return None


def _successors(steps: dict[int, Step], candidates, waits_for, started: frozenset[int], finished: frozenset[int]):
    """(next configuration, event) for every step of ``candidates`` that can start or finish;
    ``waits_for[m]`` is what step m must see finished before it starts."""
    for m in candidates:
        if m not in started and waits_for[m] <= finished:
            done = finished | {m} if steps[m].action in ATOMIC else finished
            yield (started | {m}, done), f"start {m}"
        elif m in started and m not in finished:
            yield (started, finished | {m}), f"finish {m}"


def _projected_order(members: list[int], ancestors: dict[int, set[int]]) -> dict[int, set[int]]:
    return {m: {a for a in ancestors[m] if a in members} for m in members}


def _explore(resources: _Resources, resource: tuple, members: list[int], order: dict[int, set[int]],
             ancestors: dict[int, set[int]]) -> tuple[int, Counterexample | None]:
    """Breadth-first over the configurations of one resource's steps."""
    start = (frozenset(), frozenset())
    seen = {start}
    queue = deque([(start, ())])
    while queue:
        (started, finished), events = queue.popleft()
        problem = resources.judge(resource, started, finished)
        if problem:
            return len(seen), Counterexample(_lead_in(resources.steps, started, members, ancestors) + events, problem)
        for nxt, label in _successors(resources.steps, members, order, started, finished):
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, events + (label,)))
    return len(seen), None


def _worst_storage(resources: _Resources, node: str, members: list[int],
                   ancestors: dict[int, set[int]]) -> tuple[int, Counterexample | None]:
    """A node's storage only grows when a resync starts and shrinks when a drop finishes,
    so its worst reachable state, for each set of its drops taken as finished, starts
    every resync onto it that waits for no other of its drops. Exact, and linear in the
    resyncs (a node may receive many) though exponential in its drops (it has few)."""
    if resources.scenario.is_failed(node):
        return 0, None  # a failed node's storage holds nothing that counts
    steps = resources.steps
    adds = [m for m in members if steps[m].action == "add-volume-replica"]
    drops = [m for m in members if steps[m].action == "drop-volume-replica"]
    if len(drops) > MAX_EXACT_DROPS:
        # Too many drops on one live node to try each subset: judge it as if no drop ever
        # finished and every resync onto it started (an over-estimate, so "safe" stays true).
        started = frozenset(adds)
        problem = resources.judge(("storage", node), started, frozenset())
        if problem:
            return 1, Counterexample(_lead_in(steps, started, members, ancestors)
                                     + tuple(f"start {a}" for a in sorted(adds)), problem + " (drops not counted)")
        return 1, None
    checked = 0
    for mask in range(1 << len(drops)):
        done = {d for i, d in enumerate(drops) if mask >> i & 1}
        needed = set().union(*(ancestors[d] for d in done)) if done else set()
        if needed & set(drops) - done:
            continue  # a chosen drop waits for a drop not chosen
        startable = [a for a in adds if not (ancestors[a] & set(drops)) - done]
        finished = frozenset(done | (needed & set(members)))
        started = frozenset(set(startable) | finished)
        checked += 1
        problem = resources.judge(("storage", node), started, finished)
        if problem:
            events = _lead_in(steps, started, members, ancestors) + _run_through(steps, sorted(finished), ancestors) \
                + tuple(f"start {a}" for a in sorted(started - finished))
            return checked, Counterexample(events, problem)
    return checked, None


def _in_order(sids, ancestors) -> list[int]:
    """These steps, each after every step it waits for (fewer ancestors first)."""
    return sorted(sids, key=lambda sid: (len(ancestors[sid]), sid))


def _run_through(steps: dict[int, Step], sids, ancestors) -> tuple[str, ...]:
    """Events that start and finish these steps, each after those it waits for."""
    events: list[str] = []
    for sid in _in_order(sids, ancestors):
        events.append(f"start {sid}")
        if steps[sid].action not in ATOMIC:
            events.append(f"finish {sid}")
    return tuple(events)


def _lead_in(steps: dict[int, Step], started, members, ancestors) -> tuple[str, ...]:
    """The other steps that must have run before these started ones could start."""
    needed = set().union(*(ancestors[s] for s in started)) - set(members) if started else set()
    return _run_through(steps, needed, ancestors)


def _misses_target(scenario: Scenario, steps: dict[int, Step], ancestors, target: Placement) -> list[str]:
    """Where the cluster stands once every step has finished, against the target."""
    cluster = scenario.cluster
    volumes = {v.name: set(scenario.survivors(v.name)) for v in cluster.volumes}
    brokers = {b.id: b.node for b in cluster.brokers}
    replicas = {p.key: list(p.replicas) for p in cluster.partitions}
    leaders = {p.key: p.leader for p in cluster.partitions}
    for sid in _in_order(steps, ancestors):
        s, a = steps[sid], steps[sid].args
        if s.action == "add-volume-replica":
            volumes[a["volume"]].add(a["node"])
        elif s.action == "drop-volume-replica":
            volumes[a["volume"]].discard(a["node"])
        elif s.action == "move-broker":
            brokers[a["broker"]] = a["to"]
        elif s.action == "reassign-partitions":
            for e in a["partitions"]:
                replicas[e["topic"], e["partition"]] = list(e["replicas"])
        elif s.action == "elect-leaders":
            for e in a["partitions"]:
                leaders[e["topic"], e["partition"]] = e["leader"]
    misses = []
    for name, nodes in sorted(target.volumes.items()):
        if volumes[name] != set(nodes):
            misses.append(f"volume {name} ends on {sorted(volumes[name])}, the target says {sorted(nodes)}")
    for b, node in sorted(target.brokers.items()):
        if node is not None and brokers[b] != node:
            misses.append(f"broker {b} ends on {brokers[b]}, the target says {node}")
    for key, t in sorted(target.partitions.items()):
        if replicas[key] != list(t.replicas):
            misses.append(f"partition {key[0]}-{key[1]} ends on brokers {replicas[key]}, the target says {list(t.replicas)}")
        elif t.leader is not None and leaders[key] != t.leader:
            misses.append(f"partition {key[0]}-{key[1]} ends led by {leaders[key]}, the target says {t.leader}")
    return misses


def check_execution(scenario: Scenario, steps: tuple[Step, ...], target: Placement | None = None) -> ExecutionVerdict:
    """Every state the steps can pass through is safe; with ``target``, finishing them all reaches it."""
    by_id = {s.id: s for s in steps}
    ancestors = _ancestors(by_id)
    resources = _Resources(scenario, by_id)
    states = 0
    unreduced_log10 = 0.0
    fences = {sid for sid, s in by_id.items() if s.action == "fence-node"}
    found: list[Counterexample] = []
    for resource, members in sorted(resources.touching.items(), key=lambda kv: str(kv[0])):
        if resource[0] == "storage":
            explored, problem = _worst_storage(resources, resource[1], members, ancestors)
        else:
            explored, problem = _explore(resources, resource, members, _projected_order(members, ancestors), ancestors)
        states += explored
        if problem:
            found.append(problem)
        elif resource[0] == "volume" and set().union(*(ancestors[m] for m in members)) - set(members) <= fences:
            # disjoint from every other volume's steps and waiting only for fences: with the
            # fences done, any combination of the volumes' configurations is reachable
            unreduced_log10 += math.log10(explored)
    if target is not None:
        everything = tuple(f"finish {sid}" for sid in sorted(by_id))
        found += [Counterexample(everything, miss) for miss in _misses_target(scenario, by_id, ancestors, target)[:20]]
    return ExecutionVerdict(safe=not found, states=states, resources=len(resources.touching),
                            counterexamples=tuple(found), unreduced_log10=unreduced_log10)


def check_execution_exhaustively(scenario: Scenario, steps: tuple[Step, ...], limit: int = 200_000) -> ExecutionVerdict:
    """Without the reduction: every global configuration, every property (for tests and
    for measuring what the reduction saves). Gives up past ``limit`` states."""
    by_id = {s.id: s for s in steps}
    resources = _Resources(scenario, by_id)
    ids = sorted(by_id)
    waits_for = {m: set(by_id[m].after) for m in ids}
    start = (frozenset(), frozenset())
    seen = {start}
    queue = deque([start])
    found = []
    while queue and len(seen) <= limit:
        started, finished = queue.popleft()
        for resource in resources.touching:
            problem = resources.judge(resource, started, finished)
            if problem and problem not in [c.message for c in found]:
                found.append(Counterexample((), problem))
        for nxt, _ in _successors(by_id, ids, waits_for, started, finished):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return ExecutionVerdict(safe=not found, states=len(seen), resources=len(resources.touching),
                            counterexamples=tuple(found))



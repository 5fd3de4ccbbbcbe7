"""Model checking a step plan: can every step run, and is every state it can pass through safe?

Semantics. Each step is two events, ``start`` and ``finish`` (atomic steps -- fence-node,
cordon-node, elect-leaders -- finish as they start). A step may start once every step in its
``after`` has finished; steps run concurrently and the operator may stop anywhere, so the
reachable states are all configurations (started, finished) closed under those rules.

What must hold, judged against the cluster at the start (SEMANTICS 4 and 5):

- every step is possible in every state where it can start: a drop removes a replica
  that exists, an add targets a node that holds none (alive, storage, ready, not
  drained), a resync a stale replica, a move-broker's ``from`` is where the broker is,
  only failed nodes are fenced and only drained nodes cordoned, a reassignment names a
  non-empty list of distinct brokers, an elected leader is a running in-sync replica;
- a volume keeps at least min(min_replicas(v), its in-sync replicas at the start) in-sync
  replicas, and Portworx never holds more than max(3, replicas listed at the start) of it,
  replicas on failed nodes counted until they are dropped;
- a new replica copies from a source that stays in sync for as long as the copy runs;
- a node's storage stays within max(capacity, used at the start) (a resync takes its
  space when it starts, a drop frees it when it finishes); its brokers, CPU and memory
  within max(limit, at the start) (a moving pod leaves when its move starts and arrives
  when it finishes);
- hyperconverged: a broker moves only to a node where its volumes are in sync, and a
  replica under a running broker is dropped only once the broker has moved away; a broker
  leaves a failed node only once that node is fenced, a drained node once it is cordoned;
- a partition keeps min(min.insync.replicas, its running in-sync replicas at the start).

Reduction. Steps that act on the same object -- a volume's replica on one node, a broker,
a partition's reassignments or elections -- must be ordered (any two unordered ones have
an order in which one of them is impossible), so each object's steps form a chain, checked
once in O(chain) and giving the object's status in every state as a function of how far
its chain has got. Every property is then about one resource and the few steps that touch
it, explored over the configurations of those steps alone, ordered by the dependencies
projected onto them (transitively, through the other steps): a configuration of those
steps is reachable in the whole plan exactly when it is closed under the projected order,
so the union of the per-resource verdicts is the whole verdict. Quantities that each event
changes by a fixed amount (a volume's replicas, a node's storage and brokers) are judged
by a bound first, then breadth-first over a few steps, or for many steps by the heaviest
closed set of events (a minimum cut, ``placement.execute.closure``), which is exact and
polynomial. The rest (a copy's source, a broker's volumes, a partition's in-sync replicas,
a leader) is explored breadth-first over chains, with a state budget per resource: beyond
it the verdict is "undecided" (unsafe, exit 1), never a guess.

Complexity: O(S + E + V + B + P + A) for S steps, E after edges, V volumes, B brokers,
P partitions and A the sizes of the ancestor sets (a small multiple of S for the planner's
shallow plans; see ``placement.execute.order``), plus the states of the few resources no
bound settles (a constant per resource for the planner's plans). ``bench/execute.py``
shows it at 1,000 to 5,000 nodes.
"""
from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from placement.execute.closure import max_closure
from placement.execute.order import StepOrder, TooTangled
from placement.models.cluster import NodeState
from placement.execute import linear_time
from placement.models.plan import Placement, Step
from placement.scenario import Scenario

ATOMIC = frozenset({"fence-node", "cordon-node", "elect-leaders"})
VOLUME_ACTIONS = frozenset({"add-volume-replica", "drop-volume-replica", "resync-volume-replica"})
PORTWORX_MAX_REPLICAS = 3

ABSENT, LOST, STALE, INSYNC, BUILDING = range(5)  # a volume's replica on one node
STATUS_WORDS = {ABSENT: "no replica", LOST: "a replica on a failed node", STALE: "a stale replica",
                INSYNC: "an in-sync replica", BUILDING: "a replica still being built"}
PRESENT = frozenset({LOST, STALE, INSYNC, BUILDING})

SMALL = 10  # a quantity over at most this many steps is explored; over more, a minimum cut finds its worst
EXPLORE_LIMIT = 100_000  # states explored for one resource before it is undecided
TOTAL_LIMIT = 2_000_000  # states explored in all
CLOSURE_LIMIT = 3_000  # steps in one minimum cut before it is undecided
MAX_COUNTEREXAMPLES = 50
MAX_EVENTS = 400  # events kept of one counterexample's way (the last ones)


@dataclass(frozen=True)
class Counterexample:
    events: tuple[str, ...]  # e.g. ("start 3", "finish 3", "start 5"): a way to the state
    message: str  # what breaks, in the domain's words
    step: int | None = None  # the step at fault, when one is

    def to_document(self) -> dict:
        doc = {"events": list(self.events), "message": self.message}
        if self.step is not None:
            doc["step"] = self.step
        return doc


@dataclass(frozen=True)
class ExecutionVerdict:
    safe: bool
    states: int  # states explored with the per-resource reduction
    resources: int
    counterexamples: tuple[Counterexample, ...] = field(default=())
    # log10 of a lower bound on the states of the whole plan (what exploring it without the
    # reduction would face): the product of the volumes' configurations once fences are done
    unreduced_log10: float = 0.0
    undecided: tuple[str, ...] = field(default=())  # what could not be decided within the bounds
    more: int = 0  # problems found beyond the counterexamples spelled out

    def to_document(self) -> dict:
        doc = {"safe": self.safe, "statesExplored": self.states, "resources": self.resources,
               "unreducedStatesLog10AtLeast": round(self.unreduced_log10, 1),
               "counterexamples": [c.to_document() for c in self.counterexamples]}
        if self.undecided:
            doc["undecided"] = list(self.undecided)
        if self.more:
            doc["moreCounterexamples"] = self.more
        return doc


class _Undecided(Exception):
    pass


# -- the chains: one object's steps, in order, and its status as the chain advances ---------------

@dataclass
class _ReplicaChain:
    """The steps acting on one volume's replica on one node, and the replica's status:
    ``status[j]`` is (while step j runs, once it has finished), ``status[-1]`` at the start."""

    volume: str
    node: str
    steps: list[int]
    start: int
    running: list[int] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    before: list[int] = field(default_factory=list)  # the status each step finds when it starts
    valid: bool = True

    def status(self, started: int, finished_last: bool) -> int:
        """The status once ``started`` steps of the chain have started (the last finished or not)."""
        if started == 0:
            return self.start
        return self.done[started - 1] if finished_last else self.running[started - 1]

    @property
    def final(self) -> int:
        return self.done[-1] if self.steps else self.start


class _Local:
    """A resource's member steps as bits 0..k-1, with the order projected onto them."""

    def __init__(self, members: list[int], order: StepOrder, steps: dict[int, Step]):
        self.members = members
        self.index = {sid: i for i, sid in enumerate(members)}
        self.waits = order.within(members)
        self.atomic = 0
        for i, sid in enumerate(members):
            if steps[sid].action in ATOMIC:
                self.atomic |= 1 << i

    def bit(self, sid: int) -> int:
        return 1 << self.index[sid]

    def chain_position(self, chain: list[int], started: int, finished: int) -> tuple[int, bool]:
        """How far a chain (of members) has got: steps started, and whether the last finished."""
        j = 0
        for sid in chain:
            if started >> self.index[sid] & 1:
                j += 1
            else:
                break
        if j == 0:
            return 0, True
        return j, bool(finished >> self.index[chain[j - 1]] & 1)


class _Checker:
    def __init__(self, scenario: Scenario, steps: tuple[Step, ...], target: Placement | None):
        self.scenario = scenario
        self.cluster = scenario.cluster
        self.steps = {s.id: s for s in steps}
        self.target = target
        self.found: list[Counterexample] = []
        self.undecided: list[str] = []
        self.states = 0
        self.resources = 0
        self.unreduced_log10 = 0.0
        self.order: StepOrder | None = None

    # -- the verdict -----------------------------------------------------------------------
    def run(self) -> ExecutionVerdict:
        try:
            self.order = StepOrder(self.steps)
        except TooTangled as exc:
            return self._verdict_undecided(f"the order of the {len(self.steps):,} steps ({exc}) is too large "
                                           "to decide within the bounds; fewer after edges or fewer steps")
        except ValueError as exc:  # the plan reader refuses cycles; a library caller may not have used it
            return ExecutionVerdict(safe=False, states=0, resources=0,
                                    counterexamples=(Counterexample((), f"{exc}: those steps could never start"),))
        self._index()
        self._static_steps()
        self._replica_chains()
        self._move_chains()
        self._kafka_chains()
        self._fences_and_cordons()
        try:
            self._volumes()
            self._sources()
            self._nodes()
            self._bindings()
            self._partitions()
            self._elections()
        except _Undecided as exc:  # the total budget is spent
            self.undecided.append(str(exc))
        if self.target is not None:
            self._reaches_target()
        self._measure_unreduced()
        found = tuple(c for c in self.found if c is not None)
        return ExecutionVerdict(safe=not self.found and not self.undecided, states=self.states,
                                resources=self.resources, counterexamples=found,
                                unreduced_log10=self.unreduced_log10, undecided=tuple(self.undecided),
                                more=len(self.found) - len(found))

    def _verdict_undecided(self, why: str) -> ExecutionVerdict:
        return ExecutionVerdict(safe=False, states=0, resources=0, undecided=(why,))

    def problem(self, message: str, step: int | None = None, events: tuple[str, ...] | None = None) -> None:
        if len(self.found) >= MAX_COUNTEREXAMPLES:
            self.found.append(None)  # counted, not spelled out: the first ones say enough
            return
        if events is None:
            events = self._run_through(self.order.ancestors(step)) + (f"start {step}",) if step is not None else ()
        self.record(events, message, step)

    def record(self, events, message: str, step: int | None = None) -> None:
        """A counterexample; a very long way to it keeps its last MAX_EVENTS events."""
        if len(self.found) >= MAX_COUNTEREXAMPLES:
            self.found.append(None)
            return
        events = tuple(events)
        if len(events) > MAX_EVENTS:
            events = (f"... {len(events) - MAX_EVENTS:,} earlier events",) + events[-MAX_EVENTS:]
        self.found.append(Counterexample(events, message, step))

    def what(self, sid: int) -> str:
        s = self.steps[sid]
        a = s.args
        if s.action in VOLUME_ACTIONS:
            words = {"add-volume-replica": "adds", "drop-volume-replica": "drops",
                     "resync-volume-replica": "resyncs"}[s.action]
            return f"step {sid} ({words} {a['volume']} on {a['node']})"
        if s.action == "move-broker":
            return f"step {sid} (moves broker {a['broker']} from {a['from']} to {a['to']})"
        if s.action in ("fence-node", "cordon-node"):
            return f"step {sid} ({s.action.split('-')[0]}s {a['node']})"
        return f"step {sid} ({s.action})"

    # -- indexing ---------------------------------------------------------------------------
    def _index(self) -> None:
        self.replica_steps: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.volume_steps: dict[str, list[int]] = defaultdict(list)
        self.moves: dict[int, list[int]] = defaultdict(list)
        self.reassigns: dict[tuple[str, int], list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        self.elects: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        self.fences: dict[str, list[int]] = defaultdict(list)
        self.cordons: dict[str, list[int]] = defaultdict(list)
        self.node_moves: dict[str, list[int]] = defaultdict(list)
        for sid in self.order.topo:
            s = self.steps[sid]
            a = s.args
            if s.action in VOLUME_ACTIONS:
                self.replica_steps[a["volume"], a["node"]].append(sid)
                self.volume_steps[a["volume"]].append(sid)
            elif s.action == "move-broker":
                self.moves[a["broker"]].append(sid)
                self.node_moves[a["from"]].append(sid)
                if a["to"] != a["from"]:
                    self.node_moves[a["to"]].append(sid)
            elif s.action == "reassign-partitions":
                for e in a["partitions"]:
                    self.reassigns[e["topic"], e["partition"]].append((sid, tuple(e["replicas"])))
            elif s.action == "elect-leaders":
                for e in a["partitions"]:
                    self.elects[e["topic"], e["partition"]].append((sid, e["leader"]))
            elif s.action == "fence-node":
                self.fences[a["node"]].append(sid)
            elif s.action == "cordon-node":
                self.cordons[a["node"]].append(sid)
        sc = self.scenario
        self.listed = {v.name: frozenset(v.replicas) for v in self.cluster.volumes}
        self.stale = {v.name: frozenset(n for n, _ in v.stale) for v in self.cluster.volumes}
        self.running_at_start = {b.id: sc.is_alive(b.node) and not sc.is_removed(b.id) for b in self.cluster.brokers}

    def status_at_start(self, volume: str, node: str) -> int:
        if node not in self.listed[volume]:
            return ABSENT
        if self.scenario.is_failed(node):
            return LOST
        return STALE if node in self.stale[volume] else INSYNC

    # -- steps that are impossible wherever they start ---------------------------------------
    def _static_steps(self) -> None:
        sc, cluster = self.scenario, self.cluster
        for sid in self.order.topo:
            s = self.steps[sid]
            a = s.args
            if s.action == "fence-node" and not sc.is_failed(a["node"]):
                self.problem(f"{self.what(sid)}: {a['node']} has not failed; only failed nodes are fenced "
                             "(fencing a running node kills what runs there)", sid)
            elif s.action == "cordon-node":
                if sc.is_failed(a["node"]):
                    self.problem(f"{self.what(sid)}: {a['node']} has failed; a drain cordons a node that is up", sid)
                elif not sc.is_drained(a["node"]):
                    self.problem(f"{self.what(sid)}: the plan does not drain {a['node']}; only drained nodes are cordoned", sid)
            elif s.action == "add-volume-replica":
                why = self._cannot_receive(a["node"])
                if why:
                    self.problem(f"{self.what(sid)}: {a['node']} {why}", sid)
                if a["source"] == a["node"]:
                    self.problem(f"{self.what(sid)}: a replica cannot be copied from its own node", sid)
            elif s.action == "move-broker":
                if a["to"] == a["from"]:
                    self.problem(f"{self.what(sid)}: the broker would move onto the node it leaves", sid)
                elif not sc.may_host_broker(cluster.broker[a["broker"]], a["to"]):
                    self.problem(f"{self.what(sid)}: broker {a['broker']} may not run on {a['to']} "
                                 f"({self._node_words(a['to'])})", sid)
            elif s.action == "reassign-partitions":
                seen = set()
                for e in a["partitions"]:
                    key = (e["topic"], e["partition"])
                    label = f"{key[0]}-{key[1]}"
                    if key in seen:
                        self.problem(f"{self.what(sid)}: lists partition {label} twice", sid)
                    seen.add(key)
                    replicas = e["replicas"]
                    if not replicas:
                        self.problem(f"{self.what(sid)}: partition {label} gets an empty replica list, "
                                     "which Kafka refuses", sid)
                    elif len(set(replicas)) != len(replicas):
                        self.problem(f"{self.what(sid)}: partition {label} names a broker twice in {list(replicas)}", sid)
            elif s.action == "resync-volume-replica" and not self.scenario.has_data(a["volume"]):
                self.problem(f"{self.what(sid)}: volume {a['volume']} has no in-sync replica to resync from", sid)

    def _cannot_receive(self, node: str) -> str | None:
        sc, n = self.scenario, self.cluster.node[node]
        if sc.is_failed(node):
            return "has failed"
        if not n.is_storage:
            return "is a storageless node"
        if sc.is_drained(node):
            return "is being drained (it receives nothing new)"
        if n.state is not NodeState.READY:
            return "is cordoned (it receives nothing new)"
        return None

    def _node_words(self, node: str) -> str:
        sc = self.scenario
        if sc.is_failed(node):
            return "it has failed"
        if sc.is_drained(node):
            return "it is being drained"
        return "it is cordoned"

    # -- chains ------------------------------------------------------------------------------
    def _unordered(self, chain: list[int]) -> tuple[int, int] | None:
        for x, y in zip(chain, chain[1:]):
            if not self.order.before(x, y):
                return x, y
        return None

    def _replica_chains(self) -> None:
        self.chains: dict[tuple[str, str], _ReplicaChain] = {}
        for (volume, node), sids in self.replica_steps.items():
            chain = _ReplicaChain(volume, node, sids, self.status_at_start(volume, node))
            self.chains[volume, node] = chain
            pair = self._unordered(sids)
            if pair:
                chain.valid = False
                x, y = pair
                self.problem(f"{self.what(x)} and {self.what(y)} both act on the replica of {volume} on {node} and "
                             f"neither waits for the other: in one of their orders the second is impossible "
                             f"(make step {y} wait for step {x})", y,
                             self._run_through(self.order.ancestors(y)) + (f"start {y}",))
                continue
            status, previous = chain.start, None
            for sid in sids:
                action = self.steps[sid].action
                chain.before.append(status)
                impossible = None
                if action == "drop-volume-replica":
                    if status not in PRESENT:
                        impossible = f"there is no replica of {volume} on {node} to drop"
                    running = done = ABSENT
                elif action == "add-volume-replica":
                    if status != ABSENT:
                        impossible = f"{node} already holds {STATUS_WORDS[status]} of {volume}"
                    running, done = BUILDING, INSYNC
                else:  # resync-volume-replica
                    if status != STALE:
                        impossible = f"{node} holds {STATUS_WORDS[status]} of {volume}, not a stale one to resync"
                    running, done = BUILDING, INSYNC
                if impossible:
                    where = f"after {self.what(previous)}" if previous is not None else "at the start"
                    self.problem(f"{self.what(sid)} is impossible: {impossible} ({where})", sid)
                    chain.valid = False
                    break
                chain.running.append(running)
                chain.done.append(done)
                status, previous = done, sid

    def _move_chains(self) -> None:
        self.broker_locations: dict[int, list[str]] = {}  # start node, then each move's destination
        self.bad_brokers: set[int] = set()
        for broker, sids in self.moves.items():
            pair = self._unordered(sids)
            if pair:
                x, y = pair
                self.problem(f"{self.what(x)} and {self.what(y)} both move broker {broker} and neither waits for "
                             f"the other (make step {y} wait for step {x})", y)
                self.bad_brokers.add(broker)
                continue
            where = [self.cluster.broker[broker].node]
            for sid in sids:
                a = self.steps[sid].args
                if a["from"] != where[-1]:
                    how = "at the start" if len(where) == 1 else "then"
                    self.problem(f"{self.what(sid)} is impossible: broker {broker} is on {where[-1]} {how}, "
                                 f"not on {a['from']}", sid)
                    self.bad_brokers.add(broker)
                    break
                where.append(a["to"])
            self.broker_locations[broker] = where

    def _kafka_chains(self) -> None:
        self.bad_partitions: set[tuple[str, int]] = set()
        for key, entries in list(self.reassigns.items()) + list(self.elects.items()):
            sids = [sid for sid, _ in entries]
            if len(set(sids)) != len(sids):
                self.bad_partitions.add(key)  # listed twice in one step: reported with the step
                continue
            pair = self._unordered(sids)
            if pair:
                x, y = pair
                kind = ("reassign it: Kafka runs one reassignment of a partition at a time"
                        if self.steps[x].action == "reassign-partitions"
                        else "elect its leader: the leader would depend on their order")
                self.problem(f"{self.what(x)} and {self.what(y)} both {kind}; neither waits for the other "
                             f"(partition {key[0]}-{key[1]}; make step {y} wait for step {x})", y)
                self.bad_partitions.add(key)
        for key, entries in self.elects.items():
            for sid, leader in entries:
                if leader not in self._replica_lists(key):
                    self.problem(f"{self.what(sid)}: broker {leader} is never a replica of partition "
                                 f"{key[0]}-{key[1]}, so it cannot lead it", sid)
                    self.bad_partitions.add(key)

    def _replica_lists(self, key) -> set[int]:
        brokers = set(self.cluster.partition[key].replicas)
        for _, replicas in self.reassigns.get(key, ()):
            brokers.update(replicas)
        return brokers

    def _fences_and_cordons(self) -> None:
        sc = self.scenario
        for broker, sids in self.moves.items():
            for sid in sids:
                origin = self.steps[sid].args["from"]
                if sc.is_failed(origin):
                    if not any(self.order.before(f, sid) for f in self.fences.get(origin, ())):
                        self.problem(f"{self.what(sid)}: broker {broker} is force-moved off {origin} before that "
                                     "node is fenced (its old pod may still write to the volume)", sid)
                elif sc.is_drained(origin):
                    if not any(self.order.before(c, sid) for c in self.cordons.get(origin, ())):
                        self.problem(f"{self.what(sid)}: broker {broker} leaves drained node {origin} before it is "
                                     "cordoned (Kubernetes could schedule the pod back onto it)", sid)

    # -- exploring one resource ----------------------------------------------------------------
    def _explore(self, name: str, local: _Local, judge, pre=None, probe: int = 0) -> bool:
        """Breadth-first over the configurations of a resource's member steps; True when safe
        (a counterexample is recorded otherwise). ``judge(started, finished)`` says what is wrong
        in a state; ``pre(i, started, finished)`` what is wrong with starting member i there.
        ``probe``: members that hurt when they start; the state where all of them that wait for
        no member have started is judged first (a deep counterexample found at once)."""
        self.resources += 1
        k = len(local.members)
        waits, atomic = local.waits, local.atomic
        probe &= ~atomic
        probe = sum(1 << i for i in range(k) if probe >> i & 1 and not waits[i])
        if probe:
            problem = judge(probe, 0)
            if problem:
                self._record_events(local, [f"start {local.members[i]}" for i in range(k) if probe >> i & 1], problem)
                self.states += 1
                return False
        start = (0, 0)
        parent: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
        queue = deque([start])
        limit = min(EXPLORE_LIMIT, TOTAL_LIMIT - self.states)
        while queue:
            state = queue.popleft()
            started, finished = state
            problem = judge(started, finished)
            if problem:
                self._record_path(local, parent, state, problem)
                self.states += len(parent)
                return False
            for i in range(k):
                bit = 1 << i
                if not started & bit:
                    if waits[i] & ~finished:
                        continue
                    if pre is not None:
                        problem = pre(i, started, finished)
                        if problem:
                            self._record_path(local, parent, state, problem, extra=f"start {local.members[i]}")
                            self.states += len(parent)
                            return False
                    nxt = (started | bit, finished | bit if atomic & bit else finished)
                    label = f"start {local.members[i]}"
                elif not finished & bit:
                    nxt = (started, finished | bit)
                    label = f"finish {local.members[i]}"
                else:
                    continue
                if nxt not in parent:
                    parent[nxt] = (state, label)
                    queue.append(nxt)
                    if len(parent) > limit:
                        self.states += len(parent)
                        if self.states >= TOTAL_LIMIT:
                            raise _Undecided(f"the state budget of {TOTAL_LIMIT:,} states was spent "
                                             f"before {name} and what follows were decided")
                        self.undecided.append(f"{name}: more than {limit:,} states over its {k} steps "
                                              "that do not wait for each other; order them with after edges")
                        return True
        self.states += len(parent)
        return True

    def _record_path(self, local: _Local, parent, state, problem: str, extra: str | None = None) -> None:
        events: list[str] = []
        while parent[state] is not None:
            state, label = parent[state][0], parent[state][1]
            events.append(label)
        events.reverse()
        if extra:
            events.append(extra)
        self._record_events(local, events, problem)

    def _record_events(self, local: _Local, events: list[str], problem: str) -> None:
        """A counterexample: the other steps the started ones wait for, run through, then ``events``."""
        started = {int(e.split()[1]) for e in events if e.startswith("start")}
        lead = set()
        for sid in started:
            lead |= self.order.ancestors(sid)
        lead -= set(local.members)
        step = int(events[-1].split()[1]) if events else None
        self.record(self._run_through(lead) + tuple(events), problem, step)

    def _bounded(self) -> None:
        """A resource settled by a bound on its worst state: one resource, one state judged."""
        self.resources += 1
        self.states += 1

    def _run_through(self, sids) -> tuple[str, ...]:
        """Events that start and finish these steps, each after those it waits for."""
        events: list[str] = []
        for sid in self.order.in_order(sids):
            events.append(f"start {sid}")
            if self.steps[sid].action not in ATOMIC:
                events.append(f"finish {sid}")
        return tuple(events)

    def _worst_sum(self, name: str, members: list[int], base: int, limit: int, on_start: dict[int, int],
                   on_finish: dict[int, int], say, *, at_least: bool = False) -> None:
        """A quantity that is ``base`` at the start and changes by a fixed amount at each member's
        start and finish must stay within ``limit`` (at most, or with ``at_least`` at least) in
        every reachable state. ``say(value)`` words a breach."""
        sign = -1 if at_least else 1
        gain = sum(max(0, sign * w) for w in list(on_start.values()) + list(on_finish.values()))
        if sign * base + gain <= sign * limit:
            self._bounded()
            return  # even with every change that hurts and none that helps, it holds
        if self._unordered(members) is None:  # one after another: the states are the chain's prefixes
            self.resources += 1
            value, events = base, []
            for sid in members:
                for kind, change in (("start", on_start.get(sid, 0)), ("finish", on_finish.get(sid, 0))):
                    if kind == "finish" and self.steps[sid].action in ATOMIC:
                        continue
                    value += change
                    events.append(f"{kind} {sid}")
                    self.states += 1
                    if sign * value > sign * limit:
                        lead = self.order.ancestors(sid) - set(members)
                        self.record(self._run_through(lead) + tuple(events), say(value), sid)
                        return
            return
        local = _Local(members, self.order, self.steps)
        if len(members) <= SMALL:
            bits_start = [(local.bit(s), w) for s, w in on_start.items() if w]
            bits_finish = [(local.bit(s), w) for s, w in on_finish.items() if w]

            def judge(started: int, finished: int) -> str | None:
                value = base + sum(w for b, w in bits_start if started & b) + sum(w for b, w in bits_finish if finished & b)
                return say(value) if sign * value > sign * limit else None

            self._explore(name, local, judge)
            return
        if len(members) > CLOSURE_LIMIT:
            self.resources += 1
            self.undecided.append(f"{name}: {len(members):,} steps change it, more than the {CLOSURE_LIMIT:,} "
                                  "a minimum cut is run over")
            return
        self.resources += 1
        items: list[tuple[str, int]] = []
        weights: list[int] = []
        where: dict[tuple[str, int], int] = {}
        for sid in members:
            for kind in ("start", "finish"):
                if kind == "finish" and self.steps[sid].action in ATOMIC:
                    continue
                where[kind, sid] = len(items)
                items.append((kind, sid))
                w = (on_start if kind == "start" else on_finish).get(sid, 0)
                weights.append(sign * w)
        needs: list[list[int]] = [[] for _ in items]
        for j, sid in enumerate(members):
            if ("finish", sid) in where:
                needs[where["finish", sid]].append(where["start", sid])
            for i, other in enumerate(members):
                if local.waits[j] >> i & 1:
                    needs[where["start", sid]].append(where.get(("finish", other), where["start", other]))
        best, chosen = max_closure(weights, needs)
        self.states += len(items)
        if sign * base + best > sign * limit:
            started = {items[i][1] for i in chosen if items[i][0] == "start"}
            finished = {items[i][1] for i in chosen if items[i][0] == "finish"}
            finished |= {sid for sid in started if self.steps[sid].action in ATOMIC}
            lead = set()
            for sid in started:
                lead |= self.order.ancestors(sid)
            lead -= set(members)
            events = (self._run_through(lead) + self._run_through(finished)
                      + tuple(f"start {sid}" for sid in self.order.in_order(started - finished)))
            self.record(events, say(base + sign * best))

    # -- volumes: how many replicas, how many in sync -------------------------------------------
    def _volumes(self) -> None:
        sc = self.scenario
        for volume, members in self.volume_steps.items():
            if not all(self.chains[volume, self.steps[s].args["node"]].valid for s in members):
                continue
            v = self.cluster.volume[volume]
            listed = len(v.replicas)
            ceiling = max(PORTWORX_MAX_REPLICAS, listed)
            present_start: dict[int, int] = {}
            insync_start: dict[int, int] = {}
            insync_finish: dict[int, int] = {}
            for sid in members:
                s = self.steps[sid]
                chain = self.chains[volume, s.args["node"]]
                found = chain.before[chain.steps.index(sid)]
                if s.action == "add-volume-replica":
                    present_start[sid] = 1
                    insync_finish[sid] = 1
                elif s.action == "resync-volume-replica":
                    insync_finish[sid] = 1
                else:
                    present_start[sid] = -1
                    if found == INSYNC:
                        insync_start[sid] = -1
            self._worst_sum(f"volume {volume}'s replicas", members, listed, ceiling, present_start, {},
                            lambda n, v=volume, c=ceiling: f"volume {v} would have {n} replicas (in sync, being built, "
                            f"stale or on failed nodes until dropped); Portworx keeps at most {c}")
            survivors = len(sc.survivors(volume))
            floor = min(sc.min_replicas(v), survivors)
            if floor > 0:
                self._worst_sum(f"volume {volume}'s in-sync replicas", members, survivors, floor, insync_start,
                                insync_finish,
                                lambda n, v=volume, f=floor, s=survivors: f"volume {v} would keep {n} in-sync "
                                f"replica{'s' if n != 1 else ''}, fewer than {f} (it had {s} at the start)",
                                at_least=True)

    def _sources(self) -> None:
        """A new replica copies from a source that stays in sync until the copy is done."""
        for volume, members in self.volume_steps.items():
            for sid in members:
                s = self.steps[sid]
                if s.action != "add-volume-replica" or not self.chains[volume, s.args["node"]].valid:
                    continue
                source = s.args["source"]
                chain = self.chains.get((volume, source))
                if chain is None:
                    self._bounded()
                    status = self.status_at_start(volume, source)
                    if status != INSYNC:
                        self.problem(f"{self.what(sid)}: its source {source} holds {STATUS_WORDS[status]} of "
                                     f"{volume}, not an in-sync one to copy from", sid)
                    continue
                if not chain.valid:
                    continue
                local = _Local(chain.steps + [sid], self.order, self.steps)
                me = local.bit(sid)

                def judge(started, finished, chain=chain, local=local, me=me, sid=sid, source=source):
                    if started & me and not finished & me:
                        status = chain.status(*local.chain_position(chain.steps, started, finished))
                        if status != INSYNC:
                            return (f"{self.what(sid)} copies from {source} while {source} holds "
                                    f"{STATUS_WORDS[status]} of {chain.volume}, not an in-sync one")
                    return None

                self._explore(f"the source of step {sid}", local, judge)

    # -- nodes: storage, brokers, CPU, memory ---------------------------------------------------
    def _nodes(self) -> None:
        sc, cluster = self.scenario, self.cluster
        storage_steps: dict[str, list[int]] = defaultdict(list)
        for (volume, node), chain in self.chains.items():
            if chain.valid and not sc.is_failed(node):
                storage_steps[node].extend(s for s in chain.steps if self.steps[s].action != "resync-volume-replica")
        for node, members in sorted(storage_steps.items()):
            base = cluster.storage_used_mib[node]
            limit = max(cluster.node[node].storage_mib, base)
            on_start, on_finish = {}, {}
            for sid in members:
                s = self.steps[sid]
                size = cluster.volume[s.args["volume"]].size_mib
                if s.action == "add-volume-replica":
                    on_start[sid] = size  # space is taken when the resync starts
                else:
                    on_finish[sid] = -size  # and freed only when a drop completes
            self._worst_sum(f"node {node}'s storage", self.order.in_order(members), base, limit, on_start, on_finish,
                            lambda used, n=node, c=limit: f"node {n} would hold {used / 1024:g} GiB, more than "
                            f"its {c / 1024:g} GiB")
        start_load: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for b in cluster.brokers:
            if self.running_at_start[b.id]:
                load = start_load[b.node]
                load[0] += 1
                load[1] += b.cpu_millicores
                load[2] += b.memory_mib
        for node, sids in sorted(self.node_moves.items()):
            if sc.is_failed(node):
                continue
            members = [s for s in sids if self.steps[s].args["broker"] not in self.bad_brokers
                       and not sc.is_removed(self.steps[s].args["broker"])]
            if not members:
                continue
            n = cluster.node[node]
            for what, index, cap, unit in (("brokers", 0, cluster.policy.brokers_per_node, 1),
                                           ("CPU", 1, n.cpu_millicores, 1000), ("memory", 2, n.memory_mib, 1024)):
                if cap is None:
                    continue
                base = start_load[node][index]
                limit = max(cap, base)
                on_start, on_finish = {}, {}
                for sid in members:
                    a = self.steps[sid].args
                    b = cluster.broker[a["broker"]]
                    amount = (1, b.cpu_millicores, b.memory_mib)[index]
                    if a["from"] == node:
                        on_start[sid] = -amount  # the old pod stops when the move starts
                    if a["to"] == node:
                        on_finish[sid] = amount  # the new one runs once it finishes
                if what == "brokers":
                    def say(count, n=node, c=limit):
                        return f"node {n} would run {count} brokers, more than {c}"
                else:
                    def say(used, n=node, c=limit, what=what, unit=unit, u="cores" if index == 1 else "GiB"):
                        return f"node {n}'s brokers would need {used / unit:g} {u} of {what}, more than {c / unit:g}"
                self._worst_sum(f"node {node}'s {what}", members, base, limit, on_start, on_finish, say)

    # -- brokers and their volumes (hyperconverged) -----------------------------------------------
    def _bindings(self) -> None:
        if not self.scenario.hyperconverged:
            return
        for b in self.cluster.brokers:
            if b.id in self.bad_brokers or self.scenario.is_removed(b.id):
                continue
            moves = self.moves.get(b.id, [])
            places = self.broker_locations.get(b.id, [b.node])
            for volume in b.volumes:
                bound_at_start = self.running_at_start[b.id] and self.status_at_start(volume, b.node) == INSYNC
                chains = {node: self.chains[volume, node] for node in set(places) if (volume, node) in self.chains}
                if any(not c.valid for c in chains.values()):
                    continue
                if not moves and not (bound_at_start and b.node in chains):
                    continue
                members = self.order.in_order(set(moves).union(*(c.steps for c in chains.values())))
                local = _Local(members, self.order, self.steps)

                def judge(started, finished, b=b, volume=volume, moves=moves, places=places, chains=chains,
                          local=local, bound_at_start=bound_at_start):
                    j, _ = local.chain_position(moves, started, finished) if moves else (0, True)
                    if j == 0 and not bound_at_start:
                        return None
                    node = places[j]
                    chain = chains.get(node)
                    status = chain.status(*local.chain_position(chain.steps, started, finished)) if chain \
                        else self.status_at_start(volume, node)
                    if status == INSYNC:
                        return None
                    if j == 0:
                        return (f"the replica of {volume} on {node} is dropped while broker {b.id} still runs there "
                                "(a drop under a running broker waits for it to move away)")
                    return (f"broker {b.id} is moved to {node} by {self.what(moves[j - 1])} while {node} holds "
                            f"{STATUS_WORDS[status]} of its volume {volume}: a broker moves only where its volumes "
                            "are in sync, and keeps them there")

                self._explore(f"broker {b.id} and volume {volume}", local, judge)

    # -- partitions: in-sync replicas and leaders -------------------------------------------------
    def _partition_world(self, key, local: _Local | None, started: int, finished: int):
        """(replicas, in-sync replicas, running brokers among those) of a partition in a state."""
        p = self.cluster.partition[key]
        replicas, isr = tuple(p.replicas), set(p.isr)
        for sid, target in self.reassigns.get(key, ()):
            if local is None or finished >> local.index[sid] & 1:
                isr = {b for b in isr if b in target} | {b for b in target if b not in replicas}
                replicas = target
            else:
                break
        return replicas, isr

    def _runs(self, broker: int, local: _Local | None, started: int, finished: int) -> bool:
        if self.scenario.is_removed(broker):
            return False
        moves = self.moves.get(broker, [])
        if not moves:
            return self.running_at_start[broker]
        j, done = (len(moves), True) if local is None else local.chain_position(moves, started, finished)
        if j == 0:
            return self.running_at_start[broker]
        return done  # a moving broker serves again once its pod runs on the new node

    def _partitions(self) -> None:
        cluster = self.cluster
        reassigns_of, still = self.reassigns.get, self.moves.keys().isdisjoint
        for p in cluster.partitions:
            key = p.key
            reassigns = reassigns_of(key, ())
            if not reassigns and still(p.replicas):
                continue  # most partitions: no step touches them (the test below, without a set per partition)
            brokers = set(p.replicas)
            for _, target in reassigns:
                brokers.update(target)
            moving = [b for b in brokers if b in self.moves]
            if not moving and not reassigns:
                continue
            if key in self.bad_partitions or any(b in self.bad_brokers for b in moving):
                continue
            base = sum(1 for b in p.isr if self.running_at_start[b])
            floor = min(cluster.min_insync(p), base)
            at_risk = sum(1 for b in set(p.isr) if self.running_at_start[b] and (b in self.moves or reassigns))
            if base - at_risk >= floor:
                self._bounded()  # even if every in-sync replica that may stop stops at once, enough remain
                continue
            members = self.order.in_order(set().union(*(self.moves[b] for b in moving)) | {s for s, _ in reassigns})
            local = _Local(members, self.order, self.steps)

            def judge(started, finished, key=key, local=local, floor=floor, p=p, base=base):
                _, isr = self._partition_world(key, local, started, finished)
                count = sum(1 for b in isr if self._runs(b, local, started, finished))
                if count < floor:
                    return (f"partition {p.label} would have {count} in-sync replicas running, fewer than "
                            f"{floor} (min.insync.replicas {cluster.min_insync(p)}, {base} at the start)")
                return None

            stoppable = sum(local.bit(m[0]) for b in set(p.isr) if self.running_at_start[b] and (m := self.moves.get(b)))
            self._explore(f"partition {p.label}", local, judge, probe=stoppable)

    def _elections(self) -> None:
        unclean = self.scenario.allow_unclean
        for key, entries in self.elects.items():
            if key in self.bad_partitions:
                continue
            for sid, leader in entries:
                if leader in self.bad_brokers:
                    continue
                reassigns = [s for s, _ in self.reassigns.get(key, ())]
                moves = self.moves.get(leader, [])
                label = f"partition {key[0]}-{key[1]}"

                def pre_state(local, started, finished, leader=leader, key=key, sid=sid, label=label):
                    replicas, isr = self._partition_world(key, local, started, finished)
                    if leader not in replicas:
                        return f"{self.what(sid)} makes broker {leader} leader of {label}, which it is not a replica of then"
                    if not self._runs(leader, local, started, finished):
                        return f"{self.what(sid)} makes broker {leader} leader of {label} while it does not run"
                    if leader not in isr and not unclean:
                        return f"{self.what(sid)} makes broker {leader} leader of {label} while it is out of sync"
                    return None

                if all(self.order.before(x, sid) for x in reassigns + moves):
                    self._bounded()
                    problem = pre_state(None, 0, 0)  # everything it depends on has finished
                    if problem:
                        self.problem(problem, sid)
                    continue
                members = self.order.in_order(set(reassigns + moves) | {sid})
                local = _Local(members, self.order, self.steps)
                me = local.index[sid]

                def pre(i, started, finished, me=me, local=local, pre_state=pre_state):
                    return pre_state(local, started, finished) if i == me else None

                self._explore(f"the leader of {label} in step {sid}", local, lambda s, f: None, pre)

    # -- the end: does it reach the target? -------------------------------------------------------
    def _reaches_target(self) -> None:
        target = self.target
        everything = tuple(f"finish {sid}" for sid in self.order.topo)
        misses: list[str] = []
        survivors, stale, listed, stepped_volumes = self.scenario.survivors, self.stale, self.listed, self.volume_steps
        for volume, nodes in sorted(target.volumes.items()):
            if volume not in stepped_volumes and not stale[volume] and listed[volume] == set(nodes) == set(survivors(volume)):
                continue  # no step, every replica in sync on a node that runs, and the target keeps them all
            v = self.cluster.volume[volume]
            holders = {}
            for node in set(v.replicas) | {self.steps[s].args["node"] for s in self.volume_steps.get(volume, ())}:
                chain = self.chains.get((volume, node))
                if chain is not None and not chain.valid:
                    holders = None
                    break
                status = chain.final if chain else self.status_at_start(volume, node)
                if status in PRESENT:
                    holders[node] = status
            if holders is None:
                continue
            if set(holders) != set(nodes):
                misses.append(f"volume {volume} ends on {sorted(holders)}, the target says {sorted(nodes)}")
            else:
                behind = sorted(n for n, s in holders.items() if s != INSYNC)
                if behind:
                    misses.append(f"volume {volume} ends with replicas on {behind} not in sync "
                                  f"({', '.join(STATUS_WORDS[holders[n]] for n in behind)})")
        for broker, node in sorted(target.brokers.items()):
            if node is None or broker in self.bad_brokers:
                continue
            where = self.broker_locations.get(broker, [self.cluster.broker[broker].node])[-1]
            if where != node:
                misses.append(f"broker {broker} ends on {where}, the target says {node}")
        partition, bad, reassigns_of, elects_of = self.cluster.partition, self.bad_partitions, self.reassigns.get, self.elects.get
        missed: list[tuple] = []  # (key, what): in the keys' order once sorted, as a sorted walk finds them
        stepped = self.reassigns.keys() | self.elects.keys()
        for key, t in target.partitions.items():  # 150,000 at 5,000 nodes: locals, lists made only to differ
            p = partition[key]
            if key not in stepped and t.replicas == p.replicas and (t.leader is None or t.leader == p.leader):
                continue  # most partitions: no step, and the target keeps them as they are
            if key in bad or not t.replicas:
                continue  # nothing can be reassigned to an empty list: the partition stays where it was
            reassigns = reassigns_of(key)
            ends = reassigns[-1][1] if reassigns else p.replicas
            if ends != t.replicas and list(ends) != list(t.replicas):  # equal sequences of any kind are equal lists
                missed.append((key, f"partition {p.label} ends on brokers {list(ends)}, the target says {list(t.replicas)}"))
                continue
            elects = elects_of(key)
            leader = elects[-1][1] if elects else p.leader
            if t.leader is not None and leader != t.leader:
                missed.append((key, f"partition {p.label} ends led by {leader}, the target says {t.leader}"))
        misses += [what for _, what in sorted(missed, key=lambda m: m[0])]
        for miss in misses[:20]:
            self.record(everything, miss)

    # -- what exploring without the reduction would face ------------------------------------------
    def _measure_unreduced(self) -> None:
        """A lower bound on the whole plan's states: volumes whose steps wait only for each other
        and for fences or cordons vary independently once those are done, so the product of their
        configuration counts is reachable; a totally ordered volume of k steps has 2k + 1."""
        if self.order.representation != "sets":
            return  # decoding every bitset would cost more than the figure is worth
        total = 0.0
        hubs = {sid for sid, s in self.steps.items() if s.action in ("fence-node", "cordon-node") and not s.after}
        longest_chain: dict[str, int] = defaultdict(int)
        for (volume, _), chain in self.chains.items():
            longest_chain[volume] = max(longest_chain[volume], len(chain.steps))
        for volume, members in self.volume_steps.items():
            inside = set(members)
            if any(a not in inside and a not in hubs for s in members for a in self.order.ancestors(s)):
                continue
            longest = len(members) if self._unordered(members) is None else longest_chain[volume]
            total += math.log10(2 * longest + 1)
        self.unreduced_log10 = total


@linear_time
def check_execution(scenario: Scenario, steps: tuple[Step, ...], target: Placement | None = None) -> ExecutionVerdict:
    """Every step possible and every state the steps can pass through safe; with ``target``,
    finishing them all reaches it. Unsafe or undecided: ``safe`` is False, with the reasons."""
    return _Checker(scenario, tuple(steps), target).run()


def check_failed_list(cluster, plan_failed, told_failed, steps: tuple[Step, ...]) -> list[Counterexample]:
    """The plan document's ``failed`` is exactly the nodes it fences plus the cluster file's failed
    nodes, and covers what verify was told failed (issue 9: a plan whose list was emptied while its
    steps still fence, or one made for other failures)."""
    fenced = {s.args["node"]: s.id for s in steps if s.action == "fence-node"}
    in_file = {n.name for n in cluster.nodes if n.state is NodeState.FAILED}
    listed = set(plan_failed)
    found = []
    for node in sorted(set(fenced) - listed):
        found.append(Counterexample((f"start {fenced[node]}",), f"step {fenced[node]} fences {node}, but the plan's "
                                    f"failed list {sorted(listed)} does not name it", fenced[node]))
    for node in sorted(in_file - listed):
        found.append(Counterexample((), f"{node} is failed in the cluster file, but the plan's failed list "
                                    f"{sorted(listed)} does not name it (the plan was made for another state)"))
    for node in sorted(listed - set(fenced) - in_file):
        found.append(Counterexample((), f"the plan counts {node} as failed but never fences it"))
    for node in sorted(set(told_failed) - listed - in_file):
        found.append(Counterexample((), f"verify was told {node} failed, but the plan does not count it as failed "
                                    "(it was made for other failures)"))
    return found


def judge_plan_steps(scenario: Scenario, steps: tuple[Step, ...], target: Placement, *, plan_failed,
                     told_failed) -> ExecutionVerdict:
    """``placement verify``'s judgement of a plan document's steps: the model check, and the
    document's failed list against what the steps fence and what the cluster and options say."""
    verdict = check_execution(scenario, steps, target)
    listing = check_failed_list(scenario.cluster, plan_failed, told_failed, steps)
    if not listing:
        return verdict
    return ExecutionVerdict(safe=False, states=verdict.states, resources=verdict.resources,
                            counterexamples=tuple(listing) + verdict.counterexamples,
                            unreduced_log10=verdict.unreduced_log10, undecided=verdict.undecided, more=verdict.more)


def check_execution_exhaustively(scenario: Scenario, steps: tuple[Step, ...], limit: int = 200_000) -> ExecutionVerdict:
    """Without the reduction: every global configuration (see ``placement.execute.exhaustive``)."""
    from placement.execute.exhaustive import explore_everything

    return explore_everything(scenario, steps, limit)

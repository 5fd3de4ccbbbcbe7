"""From the cluster as it is to a target placement: the steps, and what each waits for.

Failure recovery, node return, drain, rebalance and making room all come down to the same
few actions (SEMANTICS 5):

- ``fence-node`` every failed node (before a broker is force-moved off it and before its
  replicas are dropped) and ``cordon-node`` every drained node (first, so that nothing new
  is scheduled there);
- per volume, one replica at a time, as Portworx changes the replication factor: drop the
  replicas on failed nodes, drop stale replicas the target does not keep, ``resync-volume-replica``
  the stale ones it keeps (Portworx brings a returning replica in sync by itself; the step
  waits for it), add the new ones -- where Portworx's ceiling of max(3, replicas listed at
  the start) is reached (at replication factor 3) a surplus replica is dropped first, below
  it the new one is added first -- and drop the remaining surplus last, once the resyncs
  are done;
- a replica under a running broker is dropped only after the broker has moved away; a broker
  moves only once its volumes are in sync where it goes and its node is fenced (failed) or
  cordoned (drained);
- one Kafka reassignment of every partition whose replicas change (never to an empty list),
  then one leader election, once the brokers have moved.

Room. Where nodes are full (making room, rebalances, swaps), a new replica can go only where
a drop has freed space, and a broker only where another has left. The steps are therefore
laid out as one safe sequence first: every volume advances as far as it can (adding first
where the ceiling allows), brokers move as soon as their data is in sync where they go, and
what waits for room is woken when a drop or a move frees it; only when nothing else can
advance does a volume drop a surplus replica before adding its replacement (never below its
floor, min_replicas). Each step then waits for what it needs in that sequence: its volume's
previous step, its fence or cordon, what brings its data in sync, and -- on a node that
cannot take everything at once -- the drops (or broker moves) there that came before it.
Any order those waits allow is as safe as the sequence (``placement.execute.checker`` proves
it). When no sequence exists, the rest is laid out as if room did not matter, and the model
checker says what breaks.

Each new replica copies from the in-sync replica that has been asked to send the least so
far, which shortens the time to full redundancy (``placement.execute.timeline``).

Complexity: O(S log S + V + B + P) for S steps, V volumes, B brokers and P partitions: a
volume or broker is taken up again only when a drop or a move it waits for happens.
"""
from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from placement.models.cluster import Broker, Volume
from placement.execute import linear_time
from placement.models.plan import Placement, Step
from placement.scenario import Scenario

PORTWORX_MAX_REPLICAS = 3


@dataclass
class _VolumeWork:
    """What remains to do for one volume, and where it stands in the sequence."""

    volume: Volume
    wanted: tuple[str, ...]
    in_sync: list[str]  # in sync now, and waited for by the chain: sources, and what a drop counts against
    present: int  # replicas Portworx holds (in sync, stale, resyncing, on failed nodes)
    ceiling: int
    floor: int
    new: list[str]
    surplus: list[str]
    last: list[int] = field(default_factory=list)  # the volume's previous step (its chain)
    resyncs: list[int] = field(default_factory=list)
    begun: bool = False  # its drops of lost and stale replicas and its resyncs are laid out


class _Builder:
    def __init__(self, scenario: Scenario, target: Placement):
        self.scenario = scenario
        self.cluster = scenario.cluster
        self.target = target
        self.actions: list[tuple[str, dict]] = []
        self.after: list[set[int]] = []
        self.fence: dict[str, int] = {}
        self.cordon: dict[str, int] = {}
        self.in_sync_at: dict[tuple[str, str], int] = {}  # (volume, node) -> the step that brings it in sync there
        self.sending: dict[str, int] = defaultdict(int)  # MiB each node is already asked to send
        self.moves: dict[int, int] = {}
        self.brokers_on: dict[str, list[Broker]] = defaultdict(list)  # live node -> its brokers at the start
        for b in self.cluster.brokers:
            if scenario.is_alive(b.node):
                self.brokers_on[b.node].append(b)
        # room on each live node, in the sequence: storage, and brokers with their CPU and memory
        cluster = self.cluster
        self.used = dict(cluster.storage_used_mib)
        self.storage_limit = {n.name: max(n.storage_mib, self.used[n.name]) for n in cluster.nodes}
        self.added_to: dict[str, int] = defaultdict(int)  # MiB of adds onto a node so far
        self.drops_on: dict[str, list[int]] = defaultdict(list)
        self.load: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for b in cluster.brokers:
            if self._counts(b):
                self._carry(self.load[b.node], b, +1)
        self.start_load = {node: list(load) for node, load in self.load.items()}
        self.start_load = defaultdict(lambda: [0, 0, 0], self.start_load)
        self.broker_limit = {n.name: self._limits(n.name) for n in cluster.nodes}
        self.arrived: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.departures: dict[str, list[int]] = defaultdict(list)
        self.moved: set[int] = set()
        # where the moving RUNNING brokers of each volume go: their replicas there are added
        # first, so that the broker can move and the replica under it can go (at Portworx's
        # ceiling nothing else can make room for the exchange). A broker that does not run (its
        # node failed, or it is retired) keeps no replica in place: its volume's adds keep the
        # target's order (preferring its destination there gains no safety, and on README's
        # capture it made a copy share a node with the largest volume's: full replication later)
        self.destinations_of: dict[str, set[str]] = defaultdict(set)
        for b in cluster.brokers:
            to = self.destination(b.id)
            if to is not None and self._counts(b):
                for v in b.volumes:
                    self.destinations_of[v].add(to)
        # partitions: the brokers running in the sequence (each broker's partitions: ``in_sync_partitions``)
        self.running = {b.id for b in cluster.brokers if self._counts(b)}
        self._in_sync_partitions: dict[int, list] | None = None
        # who waits for what
        self.waiting_for_room: dict[str, set[str]] = defaultdict(set)  # node -> volumes
        self.waiting_for_broker: dict[int, set[str]] = defaultdict(set)  # broker -> volumes
        self.brokers_waiting: dict[object, set[int]] = defaultdict(set)  # (volume, node) or node -> brokers
        self.queue: deque = deque()
        self.queued: set = set()

    # -- steps ------------------------------------------------------------------------------
    def add(self, action: str, args: dict, after=()) -> int:
        self.actions.append((action, args))
        self.after.append(set(after))
        return len(self.actions)

    def waits_for(self, x: int, y: int) -> bool:
        """Does step x wait, transitively, for step y?"""
        seen, stack = set(), [x]
        while stack:
            s = stack.pop()
            for a in self.after[s - 1]:
                if a == y:
                    return True
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
        return False

    def wait(self, x: int, y: int) -> bool:
        """Make step x wait for step y, unless y already waits for x (a cycle: nothing added)."""
        if x == y or self.waits_for(y, x):
            return False
        self.after[x - 1].add(y)
        return True

    def wake(self, item) -> None:
        if item not in self.queued:
            self.queued.add(item)
            self.queue.append(item)

    # -- the nodes ----------------------------------------------------------------------------
    def fences_and_cordons(self) -> None:
        failures = self.scenario.failures
        for node in sorted(failures.nodes):
            self.fence[node] = self.add("fence-node", {"node": node})
        for node in sorted(failures.drained):
            self.cordon[node] = self.add("cordon-node", {"node": node})

    # -- the volumes --------------------------------------------------------------------------
    def volume_work(self, v: Volume, wanted: tuple[str, ...]) -> _VolumeWork:
        sc = self.scenario
        return _VolumeWork(v, wanted, in_sync=list(sc.survivors(v.name)), present=len(v.replicas),
                           ceiling=max(PORTWORX_MAX_REPLICAS, len(v.replicas)),
                           floor=min(sc.min_replicas(v), len(sc.survivors(v.name))),
                           new=[n for n in wanted if n not in v.replicas],
                           surplus=[n for n in sc.survivors(v.name) if n not in wanted])

    def begin_volume(self, work: _VolumeWork) -> None:
        """Drop what is lost, and what is stale and unwanted; start the resyncs. What is left is
        the exchange of surplus replicas for new ones."""
        sc, v, wanted = self.scenario, work.volume, work.wanted
        stale = sc.stale_replicas(v.name)
        work.begun = True
        for n in v.replicas:
            if sc.is_failed(n):  # lost: dropped once its node is fenced
                work.last = [self.add("drop-volume-replica", {"volume": v.name, "node": n}, [self.fence[n]] + work.last)]
                work.present -= 1
        for n in v.replicas:
            if n in stale and n not in wanted:  # a stale replica nobody keeps: no healthy data lost
                work.last = [self.drop(work, n)]
                work.present -= 1
        for n in v.replicas:
            if n in stale and n in wanted:  # Portworx resyncs it by itself; the step waits for that
                step = self.add("resync-volume-replica", {"volume": v.name, "node": n}, work.last)
                self.in_sync_at[v.name, n] = step
                work.resyncs.append(step)

    def advance(self, work: _VolumeWork, drop_first: bool = False) -> bool:
        """Take the volume's next steps while they are safe in the sequence; with ``drop_first``,
        one surplus replica may go before its replacement to free room elsewhere. Whether
        anything was done; what it waits for is registered."""
        v = work.volume
        progressed = False
        if not work.begun:
            self.begin_volume(work)
            progressed = True
        while work.new or work.surplus:
            if work.new:
                fitting = [n for n in work.new if self.used[n] + v.size_mib <= self.storage_limit[n]]
                fitting.sort(key=lambda n: n not in self.destinations_of[v.name])  # where a broker goes, first
                if work.present + 1 <= work.ceiling and fitting:
                    self.add_replica(work, fitting[0])
                    progressed = True
                    continue
                if work.present + 1 > work.ceiling or drop_first:
                    dropped = self.drop_first(work)
                    if dropped:
                        progressed, drop_first = True, False
                        continue
                for n in work.new:
                    self.waiting_for_room[n].add(v.name)
                return progressed
            n = work.surplus[0]
            broker = self.unmoved_broker_on(v, n)
            if broker is not None:
                self.waiting_for_broker[broker].add(v.name)
                return progressed
            work.surplus.pop(0)
            work.in_sync.remove(n)
            work.last = [self.drop(work, n, after_resyncs=True)]
            work.present -= 1
            progressed = True
        return progressed

    def drop_first(self, work: _VolumeWork) -> bool:
        """Drop a surplus replica before adding its replacement, where the floor allows it:
        one no running broker still needs first."""
        if len(work.in_sync) - 1 < max(1, work.floor):
            return False
        for n in work.surplus:
            broker = self.unmoved_broker_on(work.volume, n)
            if broker is None:
                work.surplus.remove(n)
                work.in_sync.remove(n)
                work.last = [self.drop(work, n)]
                work.present -= 1
                return True
            self.waiting_for_broker[broker].add(work.volume.name)
        return False

    def add_replica(self, work: _VolumeWork, n: str) -> None:
        v = work.volume
        source = min(work.in_sync, key=lambda m: (self.sending[m], m in work.surplus, m))
        self.sending[source] += v.used_mib
        after = list(work.last)
        self.added_to[n] += v.size_mib
        if self.cluster.storage_used_mib[n] + self.added_to[n] > self.storage_limit[n]:
            after += self.drops_on[n]  # this node cannot take every new replica at once: wait for its drops
        step = self.add("add-volume-replica", {"volume": v.name, "node": n, "source": source}, after)
        self.in_sync_at[v.name, n] = step
        self.used[n] += v.size_mib
        work.new.remove(n)
        work.in_sync.append(n)
        work.last = [step]  # Portworx changes the replication factor one replica at a time
        work.present += 1
        for b in self.brokers_waiting.pop((v.name, n), ()):
            self.wake(("broker", b))

    def drop(self, work: _VolumeWork, n: str, after_resyncs: bool = False) -> int:
        v = work.volume
        after = work.last + (work.resyncs if after_resyncs else [])
        broker = self.running_broker_on(v, n)
        if broker is not None and broker in self.moves:
            after = after + [self.moves[broker]]  # a drop under a running broker waits for it to leave
        step = self.add("drop-volume-replica", {"volume": v.name, "node": n}, after)
        if self.scenario.is_alive(n):
            self.used[n] -= v.size_mib
            self.drops_on[n].append(step)
            for name in self.waiting_for_room.pop(n, ()):
                self.wake(("volume", name))
        return step

    def running_broker_on(self, v: Volume, node: str) -> int | None:
        """A broker that runs on ``node`` using ``v`` (it keeps its in-sync replica there until it moves)."""
        sc = self.scenario
        if not sc.hyperconverged or node not in sc.survivors(v.name):
            return None
        for b in self.brokers_on.get(node, ()):
            if v.name in b.volumes and not sc.is_removed(b.id):
                return b.id
        return None

    def unmoved_broker_on(self, v: Volume, node: str) -> int | None:
        """A running broker above this replica that the target moves but that has not moved yet."""
        broker = self.running_broker_on(v, node)
        if broker is None or broker in self.moved or self.destination(broker) is None:
            return None
        return broker

    def destination(self, broker: int) -> str | None:
        to = self.target.brokers.get(broker)
        return None if to is None or to == self.cluster.broker[broker].node else to

    # -- the brokers --------------------------------------------------------------------------
    def _counts(self, b: Broker) -> bool:
        return self.scenario.is_alive(b.node) and not self.scenario.is_removed(b.id)

    @staticmethod
    def _carry(load: list[int], b: Broker, sign: int) -> None:
        load[0] += sign
        load[1] += sign * b.cpu_millicores
        load[2] += sign * b.memory_mib

    def _limits(self, node: str) -> list[int | None]:
        n, start = self.cluster.node[node], self.load[node]
        caps = (self.cluster.policy.brokers_per_node, n.cpu_millicores, n.memory_mib)
        return [None if cap is None else max(cap, have) for cap, have in zip(caps, start)]

    def _fits(self, load: list[int], b: Broker, node: str) -> bool:
        extra = (1, b.cpu_millicores, b.memory_mib)
        return all(limit is None or have + more <= limit for have, more, limit in zip(load, extra, self.broker_limit[node]))

    def try_move(self, b: Broker) -> bool:
        """Move the broker if its data is in sync where it goes and there is room for it there."""
        to = self.destination(b.id)
        after = [self.fence[b.node]] if b.node in self.fence else []
        after += [self.cordon[b.node]] if b.node in self.cordon else []
        for v in b.volumes:
            if (v, to) in self.in_sync_at:
                after.append(self.in_sync_at[v, to])
            elif self.scenario.hyperconverged and v in self.target.volumes and to not in self.scenario.survivors(v) \
                    and to in self.target.volumes[v]:
                self.brokers_waiting[v, to].add(b.id)  # its replica there is still to come
                return False
        if not self._fits(self.load[to], b, to):
            self.brokers_waiting[to].add(b.id)  # wait for a broker to leave
            return False
        keeping = self.partition_waits(b)
        if keeping is None:
            return False  # a partition of it would fall short while it restarts: wait for another broker
        after += keeping
        arrived = self.arrived[to]
        self._carry(arrived, b, +1)
        if any(limit is not None and have + more > limit
               for have, more, limit in zip(self.start_load[to], arrived, self.broker_limit[to])):
            after += self.departures[to]  # the node cannot take every arriving broker at once: wait for those leaving
        step = self.add("move-broker", {"broker": b.id, "from": b.node, "to": to}, after)
        self.moves[b.id] = step
        self.moved.add(b.id)
        self.running.add(b.id)
        for other in self.brokers_waiting.pop(("runs", b.id), ()):
            self.wake(("broker", other))
        self._carry(self.load[to], b, +1)
        if self._counts(b):
            self._carry(self.load[b.node], b, -1)
            self.departures[b.node].append(step)
            for other in self.brokers_waiting.pop(b.node, ()):
                self.wake(("broker", other))
        for name in self.waiting_for_broker.pop(b.id, ()):
            self.wake(("volume", name))
        return True

    def partition_waits(self, b: Broker) -> list[int] | None:
        """The moves of other brokers that b's move must wait for so that each partition it is in
        sync for keeps min(min.insync.replicas, its running in-sync replicas at the start) while b
        restarts (a broker counts as running once its own move has finished); None when, in the
        sequence so far, a partition would fall short whatever b waits for."""
        if b.id not in self.running:
            return []  # not running: its move takes nothing away
        sc, cluster = self.scenario, self.cluster
        waits: list[int] = []
        for part in self.in_sync_partitions(b.id):
            at_start = sum(1 for x in part.isr if self._counts(cluster.broker[x]))
            floor = min(cluster.min_insync(part), at_start)
            others = sorted(x for x in set(part.isr) if x != b.id and x in self.running)
            if len(others) < floor:
                for x in set(part.isr) - self.running:
                    self.brokers_waiting["runs", x].add(b.id)
                return None
            sure = [x for x in others if x not in self.moves]  # never restarts in these steps
            if len(sure) >= floor:
                continue
            sure += [x for x in others if x in self.moves and self.waits_on(waits, self.moves[x])]
            for x in others:
                if len(sure) >= floor:
                    break
                if x not in sure:
                    waits.append(self.moves[x])  # its move might still run while b restarts: after it
                    sure.append(x)
        return waits

    def in_sync_partitions(self, broker: int) -> list:
        """The partitions the broker is in sync for, in the cluster's order: indexed on first use
        (only a running broker's move asks; a node failure's brokers do not run)."""
        if self._in_sync_partitions is None:
            index: dict[int, list] = defaultdict(list)
            for part in self.cluster.partitions:
                for b in set(part.isr):
                    index[b].append(part)
            self._in_sync_partitions = index
        return self._in_sync_partitions.get(broker, [])

    def waits_on(self, steps: list[int], y: int) -> bool:
        return any(x == y or self.waits_for(x, y) for x in steps)

    # -- the sequence -------------------------------------------------------------------------
    def lay_out(self) -> None:
        cluster, target = self.cluster, self.target
        work: dict[str, _VolumeWork] = {}
        survivors = self.scenario.survivors
        for v in sorted(cluster.volumes, key=lambda v: (-v.used_mib, v.name)):
            if v.name in target.volumes:
                wanted = tuple(target.volumes[v.name])
                if len(survivors(v.name)) == len(v.replicas) and set(wanted) == set(v.replicas):
                    continue  # every replica in sync on a node that runs, and the target keeps them: no step
                work[v.name] = self.volume_work(v, wanted)
                self.wake(("volume", v.name))
        moving = [b for b in cluster.brokers if self.destination(b.id) is not None]
        for b in moving:
            self.wake(("broker", b.id))
        while True:
            while self.queue:
                kind, key = item = self.queue.popleft()
                self.queued.discard(item)
                if kind == "volume":
                    self.advance(work[key])
                elif key not in self.moved:
                    self.try_move(cluster.broker[key])
            unfinished = [w for w in work.values() if w.new or w.surplus]
            if not unfinished and all(b.id in self.moved for b in moving):
                return
            if any(self.advance(w, drop_first=True) for w in unfinished):
                continue  # one surplus replica went first: see what that unblocked
            self.lay_out_regardless(unfinished, [b for b in moving if b.id not in self.moved])
            return

    def lay_out_regardless(self, unfinished: list[_VolumeWork], brokers: list[Broker]) -> None:
        """No safe sequence: the rest in the plain order (adds, then surplus drops; then the
        brokers), waiting for their chains, and a drop under a running broker for its move
        (unless that is a cycle); the model checker says what breaks."""
        under_brokers: list[tuple[int, Volume, str]] = []
        for work in unfinished:
            v = work.volume
            for n in sorted(work.new, key=lambda n: n not in self.destinations_of[v.name]):
                if work.present + 1 > work.ceiling and work.surplus and len(work.in_sync) > 1:
                    free = [m for m in work.surplus if self.unmoved_broker_on(v, m) is None]
                    dropped = (free or work.surplus)[0]
                    work.surplus.remove(dropped)
                    work.in_sync.remove(dropped)
                    work.last = [self.add("drop-volume-replica", {"volume": v.name, "node": dropped}, work.last)]
                    under_brokers.append((work.last[0], v, dropped))
                    work.present -= 1
                source = min(work.in_sync, key=lambda m: (self.sending[m], m in work.surplus, m))
                step = self.add("add-volume-replica", {"volume": v.name, "node": n, "source": source}, work.last)
                self.in_sync_at[v.name, n] = step
                work.in_sync.append(n)
                work.last = [step]
                work.present += 1
            work.new = []
        for b in brokers:
            to = self.destination(b.id)
            after = [self.fence[b.node]] if b.node in self.fence else []
            after += [self.cordon[b.node]] if b.node in self.cordon else []
            after += [self.in_sync_at[v, to] for v in b.volumes if (v, to) in self.in_sync_at]
            self.moves[b.id] = self.add("move-broker", {"broker": b.id, "from": b.node, "to": to}, [])
            for a in after:
                self.wait(self.moves[b.id], a)
            self.moved.add(b.id)
        for work in unfinished:
            v = work.volume
            for n in work.surplus:
                step = self.add("drop-volume-replica", {"volume": v.name, "node": n}, work.last + work.resyncs)
                under_brokers.append((step, v, n))
                work.last = [step]
            work.surplus = []
        for step, v, n in under_brokers:
            broker = self.running_broker_on(v, n)
            if broker is not None and broker in self.moves:
                self.wait(step, self.moves[broker])  # unless that is a cycle: then the checker says so

    # -- the partitions -----------------------------------------------------------------------
    def partitions(self) -> None:
        cluster, target = self.cluster, self.target
        moved = sorted(self.moves.values())
        reassigned, elected = [], []
        chosen_of = target.partitions.get
        for p in cluster.partitions:  # one pass over 150,000 partitions, each target looked up once
            t = chosen_of(p.key)
            if t is None:
                continue
            if t.replicas and tuple(t.replicas) != p.replicas:
                reassigned.append({"topic": p.topic, "partition": p.id, "replicas": list(t.replicas)})
            if t.leader not in (None, p.leader):
                elected.append({"topic": p.topic, "partition": p.id, "leader": t.leader})
        reassign = [self.add("reassign-partitions", {"partitions": reassigned}, moved)] if reassigned else []
        if elected:
            self.add("elect-leaders", {"partitions": elected}, moved + reassign)

    def steps(self) -> tuple[Step, ...]:
        return tuple(Step(i, action, args, tuple(sorted(self.after[i - 1])))
                     for i, (action, args) in enumerate(self.actions, start=1))


@linear_time
def build_steps(scenario: Scenario, target: Placement) -> tuple[Step, ...]:
    builder = _Builder(scenario, target)
    builder.fences_and_cordons()
    builder.lay_out()
    builder.partitions()
    return builder.steps()

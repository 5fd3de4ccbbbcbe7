"""From the cluster as it is to a target placement: the steps, and what each waits for.

Failure recovery, node return, drain and rebalance all come down to the same few actions
(SEMANTICS 5):

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
  moves only once its volumes are in sync where it goes, its node is fenced (failed) or
  cordoned (drained), and (where the node is full) the brokers leaving that node have left;
- one Kafka reassignment of every partition whose replicas change (never to an empty list),
  then one leader election, once the brokers have moved;
- a resync onto a node that cannot hold its old and new replicas at once waits for the
  drops there.

Each new replica copies from the in-sync replica that has been asked to send the least so
far, which shortens the time to full redundancy (``placement.execute.timeline``).
``placement.execute.checker`` proves every order and prefix of the steps safe.

Complexity: O(S log S + V + B + P) for S steps, V volumes, B brokers and P partitions, plus
a short search of the dependencies for each cross edge (to keep them acyclic).
"""
from __future__ import annotations

from collections import defaultdict

from placement.models.cluster import Volume
from placement.models.plan import Placement, Step
from placement.scenario import Scenario

PORTWORX_MAX_REPLICAS = 3


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
        self.under_broker: list[tuple[int, int]] = []  # (drop, broker running above that replica)
        self.moves: dict[int, int] = {}
        self.brokers_on: dict[str, list] = defaultdict(list)  # live node -> the brokers on it at the start
        for b in scenario.cluster.brokers:
            if scenario.is_alive(b.node):
                self.brokers_on[b.node].append(b)

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

    # -- the nodes ----------------------------------------------------------------------------
    def fences_and_cordons(self) -> None:
        failures = self.scenario.failures
        for node in sorted(failures.nodes):
            self.fence[node] = self.add("fence-node", {"node": node})
        for node in sorted(failures.drained):
            self.cordon[node] = self.add("cordon-node", {"node": node})

    # -- the volumes --------------------------------------------------------------------------
    def volumes(self) -> None:
        for v in sorted(self.cluster.volumes, key=lambda v: (-v.used_mib, v.name)):
            if v.name in self.target.volumes:
                self.volume(v, tuple(self.target.volumes[v.name]))

    def volume(self, v: Volume, wanted: tuple[str, ...]) -> None:
        sc = self.scenario
        stale = sc.stale_replicas(v.name)
        in_sync = list(sc.survivors(v.name))  # in sync on live nodes (drained ones too: valid sources)
        present = len(v.replicas)
        ceiling = max(PORTWORX_MAX_REPLICAS, present)
        last: list[int] = []
        for n in v.replicas:
            if sc.is_failed(n):  # lost: dropped once its node is fenced
                last = [self.add("drop-volume-replica", {"volume": v.name, "node": n}, [self.fence[n]] + last)]
                present -= 1
        for n in v.replicas:
            if n in stale and n not in wanted:  # a stale replica nobody keeps: no healthy data lost
                last = [self.drop(v, n, last)]
                present -= 1
        resyncs = []
        for n in v.replicas:
            if n in stale and n in wanted:  # Portworx resyncs it by itself; the step waits for that
                step = self.add("resync-volume-replica", {"volume": v.name, "node": n}, last)
                self.in_sync_at[v.name, n] = step
                resyncs.append(step)
        surplus = [n for n in in_sync if n not in wanted]
        for n in wanted:
            if n in v.replicas:
                continue
            if present + 1 > ceiling and surplus and len(in_sync) > 1:  # at the ceiling: make room first
                dropped = self.first_to_drop(v, surplus)
                surplus.remove(dropped)
                in_sync.remove(dropped)
                last = [self.drop(v, dropped, last)]
                present -= 1
            source = min(in_sync, key=lambda m: (self.sending[m], m not in wanted, m))
            self.sending[source] += v.used_mib
            step = self.add("add-volume-replica", {"volume": v.name, "node": n, "source": source}, last)
            self.in_sync_at[v.name, n] = step
            last = [step]  # Portworx changes the replication factor one replica at a time
            in_sync.append(n)
            present += 1
        for n in surplus:  # the rest of the surplus, once the volume is whole again
            last = [self.drop(v, n, last + resyncs)]

    def first_to_drop(self, v: Volume, surplus: list[str]) -> str:
        """Which surplus replica goes first when the ceiling forces a drop before an add: one no
        running broker sits on (its drop waits for nothing), then the file's order."""
        return min(surplus, key=lambda n: (self.running_broker_on(v, n) is not None, surplus.index(n)))

    def running_broker_on(self, v: Volume, node: str) -> int | None:
        """A broker that runs on ``node`` using ``v`` (it keeps its in-sync replica there until it moves)."""
        sc = self.scenario
        if not sc.hyperconverged or node not in sc.survivors(v.name):
            return None
        for b in self.brokers_on.get(node, ()):
            if v.name in b.volumes and not sc.is_removed(b.id):
                return b.id
        return None

    def drop(self, v: Volume, node: str, after) -> int:
        step = self.add("drop-volume-replica", {"volume": v.name, "node": node}, after)
        broker = self.running_broker_on(v, node)
        if broker is not None:
            self.under_broker.append((step, broker))
        return step

    # -- the brokers --------------------------------------------------------------------------
    def brokers(self) -> None:
        sc = self.scenario
        incoming: dict[str, list[int]] = defaultdict(list)
        outgoing: dict[str, list[int]] = defaultdict(list)
        for b in self.cluster.brokers:
            to = self.target.brokers.get(b.id)
            if to is None or to == b.node:
                continue
            after = [self.fence[b.node]] if b.node in self.fence else []
            after += [self.cordon[b.node]] if b.node in self.cordon else []
            after += [self.in_sync_at[v, to] for v in b.volumes if (v, to) in self.in_sync_at]
            step = self.add("move-broker", {"broker": b.id, "from": b.node, "to": to}, after)
            self.moves[b.id] = step
            incoming[to].append(step)
            if sc.is_alive(b.node) and not sc.is_removed(b.id):
                outgoing[b.node].append(step)
        for drop, broker in self.under_broker:  # a drop under a running broker waits for it to leave
            if broker in self.moves:
                self.wait(drop, self.moves[broker])
        for node, arriving in sorted(incoming.items()):
            if outgoing.get(node) and not self.room_for(node, arriving):
                for x in arriving:  # wait for the brokers leaving this node, where that is no cycle
                    for y in outgoing[node]:
                        self.wait(x, y)

    def room_for(self, node: str, arriving: list[int]) -> bool:
        """Does the node hold its brokers at the start plus every arriving one (slots, CPU, memory)?"""
        cluster, sc = self.cluster, self.scenario
        here = [b for b in cluster.brokers if b.node == node and sc.is_alive(node) and not sc.is_removed(b.id)]
        here += [cluster.broker[self.actions[s - 1][1]["broker"]] for s in arriving]
        n = cluster.node[node]
        for cap, amount in ((cluster.policy.brokers_per_node, lambda b: 1), (n.cpu_millicores, lambda b: b.cpu_millicores),
                            (n.memory_mib, lambda b: b.memory_mib)):
            if cap is not None and sum(amount(b) for b in here) > cap:
                return False
        return True

    # -- the partitions -----------------------------------------------------------------------
    def partitions(self) -> None:
        cluster, target = self.cluster, self.target
        moved = sorted(self.moves.values())
        reassigned = [{"topic": p.topic, "partition": p.id, "replicas": list(target.partitions[p.key].replicas)}
                      for p in cluster.partitions
                      if p.key in target.partitions and target.partitions[p.key].replicas
                      and tuple(target.partitions[p.key].replicas) != p.replicas]
        reassign = [self.add("reassign-partitions", {"partitions": reassigned}, moved)] if reassigned else []
        elected = [{"topic": p.topic, "partition": p.id, "leader": target.partitions[p.key].leader}
                   for p in cluster.partitions
                   if p.key in target.partitions and target.partitions[p.key].leader not in (None, p.leader)]
        if elected:
            self.add("elect-leaders", {"partitions": elected}, moved + reassign)

    # -- room on full nodes -------------------------------------------------------------------
    def wait_for_room(self) -> None:
        """A resync takes its space when it starts, a drop frees space only when it finishes:
        on a node whose room cannot hold both at once, resyncs onto it wait for the drops
        there (where that waits for nothing that waits for them)."""
        cluster, sc = self.cluster, self.scenario
        adds: dict[str, list[int]] = defaultdict(list)
        drops: dict[str, list[int]] = defaultdict(list)
        for i, (action, args) in enumerate(self.actions, start=1):
            if action == "add-volume-replica":
                adds[args["node"]].append(i)
            elif action == "drop-volume-replica" and sc.is_alive(args["node"]):
                drops[args["node"]].append(i)
        for node in sorted(set(adds) & set(drops)):
            start = cluster.storage_used_mib[node]
            peak = start + sum(cluster.volume[self.actions[a - 1][1]["volume"]].size_mib for a in adds[node])
            if peak <= max(cluster.node[node].storage_mib, start):
                continue
            for a in adds[node]:
                for d in drops[node]:
                    self.wait(a, d)

    def steps(self) -> tuple[Step, ...]:
        return tuple(Step(i, action, args, tuple(sorted(self.after[i - 1])))
                     for i, (action, args) in enumerate(self.actions, start=1))


def build_steps(scenario: Scenario, target: Placement) -> tuple[Step, ...]:
    builder = _Builder(scenario, target)
    builder.fences_and_cordons()
    builder.volumes()
    builder.brokers()
    builder.partitions()
    builder.wait_for_room()
    return builder.steps()

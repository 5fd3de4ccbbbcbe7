"""The ordered actions that take the cluster from its current state to the target.

Fence failed nodes; drop dead replicas; add new replicas one at a time from a
surviving one (dropping a surviving replica first only where Portworx's RF 3
ceiling demands it, otherwise after the adds); move brokers once the replicas
they need exist; reassign partitions; elect leaders. Every step waits only for
what it needs, so independent volumes resync concurrently; the largest resyncs
come first and each takes its source from the in-sync replica with the least
data yet to send, which shortens the time to full redundancy
(``placement.execute.timeline``). ``placement.execute.checker`` proves every order safe.
"""
from __future__ import annotations

from collections import defaultdict

from placement.models.plan import Placement, Step
from placement.scenario import Scenario

PORTWORX_MAX_REPLICAS = 3


class _Steps:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    def add(self, action: str, args: dict, after=()) -> int:
        sid = len(self.steps) + 1
        self.steps.append(Step(sid, action, args, tuple(sorted(set(after)))))
        return sid


def build_steps(scenario: Scenario, target: Placement) -> tuple[Step, ...]:
    cluster = scenario.cluster
    s = _Steps()
    fenced = {n: s.add("fence-node", {"node": n}) for n in sorted(scenario.failures.nodes)}
    ready_at: dict[tuple[str, str], int] = {}  # (volume, node) -> step that makes the replica exist
    sending: dict[str, int] = defaultdict(int)  # MiB each node is already asked to send
    for v in sorted(cluster.volumes, key=lambda v: (-v.used_mib, v.name)):
        if v.name not in target.volumes:
            continue
        wanted = target.volumes[v.name]
        survivors = scenario.survivors(v.name)
        last: list[int] = []
        for n in v.replicas:
            if scenario.is_failed(n):
                last = [s.add("drop-volume-replica", {"volume": v.name, "node": n}, [fenced[n]] + last)]
        extra = [n for n in survivors if n not in wanted]
        in_sync = list(survivors)
        for n in wanted:
            if n in survivors:
                continue
            if len(in_sync) >= PORTWORX_MAX_REPLICAS and extra:
                dropped = extra.pop(0)
                last = [s.add("drop-volume-replica", {"volume": v.name, "node": dropped}, last)]
                in_sync.remove(dropped)
            source = min(in_sync, key=lambda m: (sending[m], m not in wanted, m))
            sending[source] += v.used_mib
            step = s.add("add-volume-replica", {"volume": v.name, "node": n, "source": source}, last)
            ready_at[v.name, n] = step
            last = [step]  # Portworx changes the replication factor one replica at a time
            in_sync.append(n)
        for n in extra:
            last = [s.add("drop-volume-replica", {"volume": v.name, "node": n}, last)]
    moved: list[int] = []
    for b in cluster.brokers:
        to = target.brokers.get(b.id)
        if to is None or to == b.node:
            continue
        after = [fenced[b.node]] if b.node in fenced else []
        after += [ready_at[v, to] for v in b.volumes if (v, to) in ready_at]
        moved.append(s.add("move-broker", {"broker": b.id, "from": b.node, "to": to}, after))
    reassigned = [{"topic": p.topic, "partition": p.id, "replicas": list(target.partitions[p.key].replicas)}
                  for p in cluster.partitions
                  if p.key in target.partitions and tuple(target.partitions[p.key].replicas) != p.replicas]
    reassign_step = []
    if reassigned:
        reassign_step = [s.add("reassign-partitions", {"partitions": reassigned}, moved)]
    elected = [{"topic": p.topic, "partition": p.id, "leader": target.partitions[p.key].leader}
               for p in cluster.partitions
               if p.key in target.partitions and target.partitions[p.key].leader not in (None, p.leader)]
    if elected:
        s.add("elect-leaders", {"partitions": elected}, moved + reassign_step)
    return _wait_for_room(scenario, tuple(s.steps))


def _wait_for_room(scenario: Scenario, steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """A resync takes its space when it starts, a drop frees space only when it finishes:
    on a node whose capacity cannot hold both at once, resyncs onto it wait for the drops
    there (where that waits for nothing that waits for them)."""
    cluster = scenario.cluster
    by_id = {st.id: st for st in steps}
    for node in sorted({st.args["node"] for st in steps if st.action == "drop-volume-replica"}):
        if scenario.is_failed(node):
            continue
        adds = [st.id for st in steps if st.action == "add-volume-replica" and st.args["node"] == node]
        drops = [st.id for st in steps if st.action == "drop-volume-replica" and st.args["node"] == node]
        peak = cluster.storage_used_mib[node] + sum(cluster.volume[by_id[a].args["volume"]].size_mib for a in adds)
        if peak <= cluster.node[node].storage_mib:
            continue
        for a in adds:
            for d in drops:
                if a not in _ancestors_of(by_id, d):
                    by_id[a] = Step(a, by_id[a].action, by_id[a].args, tuple(sorted(set(by_id[a].after) | {d})))
    return tuple(by_id[st.id] for st in steps)


def _ancestors_of(by_id: dict[int, Step], sid: int) -> set[int]:
    seen: set[int] = set()
    stack = list(by_id[sid].after)
    while stack:
        x = stack.pop()
        if x not in seen:
            seen.add(x)
            stack.extend(by_id[x].after)
    return seen

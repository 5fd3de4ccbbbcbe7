"""The ordered actions that take the cluster from its current state to the target.

A simple correct order (safe step-by-step execution is a later refinement):
fence failed nodes; drop dead replicas; add new replicas from a surviving one
(dropping a surviving replica first only where Portworx's RF 3 ceiling demands
it, otherwise after the adds); move brokers once the replicas they need exist;
reassign partitions; elect leaders.
"""
from __future__ import annotations

from models.plan import Placement, Step
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
    for v in cluster.volumes:
        if v.name not in target.volumes:
            continue
        wanted = target.volumes[v.name]
        survivors = scenario.survivors(v.name)
        last: list[int] = []
        for n in v.replicas:
            if scenario.is_failed(n):
                last = [s.add("drop-volume-replica", {"volume": v.name, "node": n}, [fenced[n]] + last)]
        sources = [n for n in survivors if n in wanted] or list(survivors)
        extra = [n for n in survivors if n not in wanted]
        count = len(survivors)
        for n in wanted:
            if n in survivors:
                continue
            if count >= PORTWORX_MAX_REPLICAS and extra:
                last = [s.add("drop-volume-replica", {"volume": v.name, "node": extra.pop(0)}, last)]
                count -= 1
            step = s.add("add-volume-replica", {"volume": v.name, "node": n, "source": sources[0]}, last)
            ready_at[v.name, n] = step
            last = [step]  # Portworx changes the replication factor one replica at a time
            count += 1
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
    return tuple(s.steps)

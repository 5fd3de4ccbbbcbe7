"""The execution semantics written plainly, without any reduction: the ground truth the
model checker (``placement.execute.checker``) is tested against.

It walks every global configuration the steps can reach (breadth-first, each step's
start and finish an event), carries the whole cluster's state along -- every replica's
status, where every broker is, every partition's replicas, in-sync set and leader,
what is fenced and cordoned -- checks each step's precondition when it starts and every
safety property in every state. Exponential in the plan: for tests and for measuring
what the reduction saves. Gives up past ``limit`` states (the verdict then says so).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

from placement.models.cluster import NodeState
from placement.models.plan import Step
from placement.scenario import Scenario

ATOMIC = frozenset({"fence-node", "cordon-node", "elect-leaders"})
ABSENT, LOST, STALE, INSYNC, BUILDING = "absent", "lost", "stale", "in sync", "building"


@dataclass(frozen=True)
class _World:
    replicas: tuple  # ((volume, node), status) for every pair any step or the start mentions
    building: tuple  # ((volume, node), step) for replicas being built
    brokers: tuple  # (broker, node or None while moving, destination or None)
    partitions: tuple  # (key, replicas, isr, leader, reassigning step or None)
    fenced: frozenset
    cordoned: frozenset


class _Semantics:
    def __init__(self, scenario: Scenario, steps: dict[int, Step]):
        self.sc = scenario
        self.cluster = scenario.cluster
        self.steps = steps

    # -- the start ------------------------------------------------------------------------------
    def start(self) -> _World:
        sc, cluster = self.sc, self.cluster
        pairs = {}
        for v in cluster.volumes:
            stale = {n for n, _ in v.stale}
            for n in v.replicas:
                pairs[v.name, n] = LOST if sc.is_failed(n) else STALE if n in stale else INSYNC
        for s in self.steps.values():
            if "volume" in s.args:
                pairs.setdefault((s.args["volume"], s.args["node"]), ABSENT)
                if "source" in s.args:
                    pairs.setdefault((s.args["volume"], s.args["source"]), ABSENT)
        brokers = tuple((b.id, b.node, None) for b in cluster.brokers)
        partitions = tuple((p.key, tuple(p.replicas), frozenset(p.isr), p.leader, None) for p in cluster.partitions)
        return _World(tuple(sorted(pairs.items())), (), brokers, partitions, frozenset(), frozenset())

    def runs(self, world: _World, broker: int) -> bool:
        if self.sc.is_removed(broker):
            return False
        node = dict((b, n) for b, n, _ in world.brokers)[broker]
        return node is not None and self.sc.is_alive(node)

    # -- one event ------------------------------------------------------------------------------
    def begin(self, world: _World, sid: int) -> tuple[_World | None, str | None]:
        """The world once step ``sid`` starts, or why it cannot."""
        s, sc = self.steps[sid], self.sc
        a = s.args
        replicas = dict(world.replicas)
        if s.action == "fence-node":
            if not sc.is_failed(a["node"]):
                return None, f"fences {a['node']}, which has not failed"
            return replace(world, fenced=world.fenced | {a["node"]}), None
        if s.action == "cordon-node":
            if sc.is_failed(a["node"]) or not sc.is_drained(a["node"]):
                return None, f"cordons {a['node']}, which is not drained"
            return replace(world, cordoned=world.cordoned | {a["node"]}), None
        if s.action == "drop-volume-replica":
            pair = (a["volume"], a["node"])
            if replicas[pair] not in (LOST, STALE, INSYNC):
                return None, f"drops the replica of {pair[0]} on {pair[1]}, which is {replicas[pair]}"
            replicas[pair] = ABSENT
            return replace(world, replicas=tuple(sorted(replicas.items()))), None
        if s.action in ("add-volume-replica", "resync-volume-replica"):
            pair = (a["volume"], a["node"])
            if s.action == "add-volume-replica":
                node = self.cluster.node[a["node"]]
                if replicas[pair] != ABSENT or sc.is_failed(a["node"]) or not node.is_storage \
                        or sc.is_drained(a["node"]) or node.state is not NodeState.READY or a["source"] == a["node"]:
                    return None, f"adds {pair[0]} on {pair[1]}, which cannot receive it ({replicas[pair]})"
            elif replicas[pair] != STALE:
                return None, f"resyncs {pair[0]} on {pair[1]}, which is {replicas[pair]}"
            elif not any(st == INSYNC for (name, _), st in replicas.items() if name == pair[0]):
                return None, f"resyncs {pair[0]} on {pair[1]} with no in-sync replica to copy from"
            replicas[pair] = BUILDING
            building = dict(world.building)
            building[pair] = sid
            return replace(world, replicas=tuple(sorted(replicas.items())), building=tuple(sorted(building.items()))), None
        if s.action == "move-broker":
            brokers = {b: (n, d) for b, n, d in world.brokers}
            here, _ = brokers[a["broker"]]
            if here != a["from"] or a["to"] == a["from"]:
                return None, f"moves broker {a['broker']} from {a['from']}, but it is on {here}"
            if not sc.may_host_broker(self.cluster.broker[a["broker"]], a["to"]):
                return None, f"moves broker {a['broker']} to {a['to']}, which may not host it"
            if sc.is_failed(a["from"]) and a["from"] not in world.fenced:
                return None, f"moves broker {a['broker']} off {a['from']} before it is fenced"
            if sc.is_drained(a["from"]) and not sc.is_failed(a["from"]) and a["from"] not in world.cordoned:
                return None, f"moves broker {a['broker']} off {a['from']} before it is cordoned"
            brokers[a["broker"]] = (None, a["to"])
            return replace(world, brokers=tuple((b, n, d) for b, (n, d) in sorted(brokers.items()))), None
        if s.action == "reassign-partitions":
            parts = {p[0]: p for p in world.partitions}
            seen = set()
            for e in a["partitions"]:
                key = (e["topic"], e["partition"])
                if key in seen or not e["replicas"] or len(set(e["replicas"])) != len(e["replicas"]):
                    return None, f"reassigns {key} to {e['replicas']}"
                seen.add(key)
                k, reps, isr, leader, running = parts[key]
                if running is not None:
                    return None, f"reassigns {key} while step {running} still reassigns it"
                parts[key] = (k, reps, isr, leader, sid)
            return replace(world, partitions=tuple(parts[k] for k in sorted(parts))), None
        if s.action == "elect-leaders":
            parts = {p[0]: p for p in world.partitions}
            for e in a["partitions"]:
                key = (e["topic"], e["partition"])
                k, reps, isr, leader, running = parts[key]
                new = e["leader"]
                if new not in reps or not self.runs(world, new) or (new not in isr and not sc.allow_unclean):
                    return None, f"elects {new} to lead {key}, which is not a running in-sync replica"
                parts[key] = (k, reps, isr, new, running)
            return replace(world, partitions=tuple(parts[k] for k in sorted(parts))), None
        raise ValueError(s.action)

    def end(self, world: _World, sid: int) -> _World:
        """The world once step ``sid`` finishes (non-atomic steps)."""
        s = self.steps[sid]
        a = s.args
        if s.action in ("add-volume-replica", "resync-volume-replica"):
            pair = (a["volume"], a["node"])
            replicas = dict(world.replicas)
            building = dict(world.building)
            if building.get(pair) == sid:
                replicas[pair] = INSYNC
                del building[pair]
            return replace(world, replicas=tuple(sorted(replicas.items())), building=tuple(sorted(building.items())))
        if s.action == "move-broker":
            brokers = {b: (n, d) for b, (n, d) in ((b, (n, d)) for b, n, d in world.brokers)}
            brokers[a["broker"]] = (a["to"], None)
            return replace(world, brokers=tuple((b, n, d) for b, (n, d) in sorted(brokers.items())))
        if s.action == "reassign-partitions":
            parts = {p[0]: p for p in world.partitions}
            for e in a["partitions"]:
                key = (e["topic"], e["partition"])
                k, reps, isr, leader, running = parts[key]
                target = tuple(e["replicas"])
                isr = frozenset({b for b in isr if b in target} | {b for b in target if b not in reps})
                parts[key] = (k, target, isr, leader, None)
            return replace(world, partitions=tuple(parts[k] for k in sorted(parts)))
        return world  # a drop has removed its replica when it started; it frees space now (see storage)

    # -- what must hold in every state ------------------------------------------------------------
    def unsafe(self, world: _World, started: frozenset, finished: frozenset) -> str | None:
        sc, cluster = self.sc, self.cluster
        replicas = dict(world.replicas)
        for v in cluster.volumes:
            statuses = [st for (name, _), st in replicas.items() if name == v.name]
            present = sum(1 for st in statuses if st != ABSENT)
            if present > max(3, len(v.replicas)):
                return f"volume {v.name} has {present} replicas"
            survivors = len(sc.survivors(v.name))
            floor = min(sc.min_replicas(v), survivors)
            insync = sum(1 for st in statuses if st == INSYNC)
            if insync < floor:
                return f"volume {v.name} keeps {insync} in-sync replicas, fewer than {floor}"
        for pair, sid in world.building:
            s = self.steps[sid]
            if s.action == "add-volume-replica" and replicas[s.args["volume"], s.args["source"]] != INSYNC:
                return f"the copy of step {sid} has no in-sync source"
        # storage: a new replica takes its space when its copy starts; a drop frees it when it finishes
        used = dict(cluster.storage_used_mib)
        for sid in started:
            s = self.steps[sid]
            if s.action == "add-volume-replica":
                used[s.args["node"]] += cluster.volume[s.args["volume"]].size_mib
            elif s.action == "drop-volume-replica" and sid in finished:
                used[s.args["node"]] -= cluster.volume[s.args["volume"]].size_mib
        for n in cluster.nodes:
            start = cluster.storage_used_mib[n.name]
            if sc.is_alive(n.name) and used[n.name] > max(n.storage_mib, start):
                return f"node {n.name} holds {used[n.name]} MiB"
        # brokers, CPU and memory on each live node, against the start
        def load(where: dict) -> dict:
            out: dict = {}
            for b in cluster.brokers:
                node = where.get(b.id)
                if node is not None and sc.is_alive(node) and not sc.is_removed(b.id):
                    have = out.setdefault(node, [0, 0, 0])
                    have[0] += 1
                    have[1] += b.cpu_millicores
                    have[2] += b.memory_mib
            return out

        before = load({b.id: b.node for b in cluster.brokers})
        now = load({b: n for b, n, _ in world.brokers})
        for node, have in now.items():
            n, was = cluster.node[node], before.get(node, [0, 0, 0])
            for i, cap in enumerate((cluster.policy.brokers_per_node, n.cpu_millicores, n.memory_mib)):
                if cap is not None and have[i] > max(cap, was[i]):
                    return f"node {node} carries {have[i]} of what allows {max(cap, was[i])}"
        if sc.hyperconverged:
            for b, node, destination in world.brokers:
                if sc.is_removed(b):
                    continue
                broker = cluster.broker[b]
                moved = any(self.steps[s].action == "move-broker" and self.steps[s].args["broker"] == b for s in started)
                bound = destination if node is None else node
                for v in broker.volumes:
                    if not moved:
                        start_status = LOST if sc.is_failed(broker.node) else (
                            INSYNC if broker.node in sc.survivors(v) else None)
                        if start_status != INSYNC or sc.is_failed(broker.node):
                            continue
                    if replicas.get((v, bound), ABSENT) != INSYNC:
                        return f"broker {b} is bound to {bound} where {v} is not in sync"
        running = {b for b, _, _ in world.brokers if self.runs(world, b)}
        for key, reps, isr, leader, _ in world.partitions:
            p = cluster.partition[key]
            base = sum(1 for b in p.isr if sc.is_alive(cluster.broker[b].node) and not sc.is_removed(b))
            floor = min(cluster.min_insync(p), base)
            if len(isr & running) < floor:
                return f"partition {p.label} has {len(isr & running)} in-sync replicas running"
        return None


def explore_everything(scenario: Scenario, steps: tuple[Step, ...], limit: int = 200_000):
    from placement.execute.checker import Counterexample, ExecutionVerdict

    by_id = {s.id: s for s in steps}
    sem = _Semantics(scenario, by_id)
    ids = sorted(by_id)
    found: list[Counterexample] = []
    # two elections of one partition's leader that do not wait for each other leave it to chance
    ancestors: dict[int, set[int]] = {}

    def above(sid: int) -> set[int]:
        if sid not in ancestors:
            ancestors[sid] = set()
            for a in by_id[sid].after:
                ancestors[sid] |= {a} | above(a)
        return ancestors[sid]

    electing: dict = {}
    for sid in ids:
        if by_id[sid].action == "elect-leaders":
            for e in by_id[sid].args["partitions"]:
                for other in electing.setdefault((e["topic"], e["partition"]), []):
                    if other not in above(sid) and sid not in above(other):
                        found.append(Counterexample((), f"steps {other} and {sid} elect a leader of one partition "
                                                        "in either order", sid))
                electing[e["topic"], e["partition"]].append(sid)
    start = (frozenset(), frozenset())
    worlds = {start: sem.start()}
    queue = deque([start])
    while queue and len(worlds) <= limit:
        state = queue.popleft()
        started, finished = state
        world = worlds[state]
        problem = sem.unsafe(world, started, finished)
        if problem and problem not in [c.message for c in found]:
            found.append(Counterexample((), problem))
        for sid in ids:
            s = by_id[sid]
            if sid not in started and set(s.after) <= finished:
                nxt_world, why = sem.begin(world, sid)
                if why:
                    message = f"step {sid} {why}"
                    if message not in [c.message for c in found]:
                        found.append(Counterexample((), message, sid))
                    continue
                nxt = (started | {sid}, finished | {sid} if s.action in ATOMIC else finished)
            elif sid in started and sid not in finished:
                nxt_world = sem.end(world, sid)
                nxt = (started, finished | {sid})
            else:
                continue
            if nxt not in worlds:
                worlds[nxt] = nxt_world
                queue.append(nxt)
    undecided = ("more states than the limit",) if queue else ()
    return ExecutionVerdict(safe=not found and not undecided, states=len(worlds), resources=0,
                            counterexamples=tuple(found), undecided=undecided)

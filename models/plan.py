"""The plan: a target placement, the steps to reach it, and the verdict on it.

``Plan.to_document`` writes CONTRACT section 4; ``parse_plan`` reads one back
(for ``placement verify``) and reports every structural problem at once.
"""
from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from placement.models.cluster import Cluster
from placement.models.errors import InputError, Problem, excerpt

PLAN_VERSION = 1


class Status(str, Enum):
    OPTIMAL = "optimal"  # meets every invariant, proven optimal
    FEASIBLE = "feasible"  # meets every invariant, optimality not proven in the time limit
    DEGRADED = "degraded"  # best effort: breaks the invariants listed in violations
    INFEASIBLE = "infeasible"  # no placement at all could be produced

    @property
    def meets_invariants(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class PartitionTarget:
    topic: str
    partition: int
    replicas: tuple[int, ...]
    leader: int | None

    @property
    def key(self) -> tuple[str, int]:
        return (self.topic, self.partition)


def _new_target(topic: str, partition: int, replicas: tuple[int, ...], leader: int | None) -> PartitionTarget:
    """``PartitionTarget(...)`` in one update of the instance's dictionary, not the frozen dataclass's
    four ``object.__setattr__`` calls (the current placement makes 150,000 at 5,000 nodes); the same
    object, equal and hashed alike (tests/test_fast_paths.py fails if the class gains a field)."""
    target = object.__new__(PartitionTarget)
    target.__dict__.update(topic=topic, partition=partition, replicas=replicas, leader=leader)
    return target


@dataclass(frozen=True)
class Placement:
    """Where everything is in the target. Treat the mappings as read-only."""

    brokers: dict[int, str | None]  # broker id -> node, None when it cannot run
    volumes: dict[str, tuple[str, ...]]  # every volume that still has data -> replica nodes
    partitions: dict[tuple[str, int], PartitionTarget]

    @classmethod
    def current(cls, cluster: Cluster) -> "Placement":
        """The cluster as it is now, failed nodes included (the starting point of every plan).
        Made once per cluster (a plan asks for it several times; 150,000 partitions take 0.3 s)
        and shared: like every placement, read-only."""
        hit = _CURRENT.get(id(cluster))
        if hit is not None and hit[0]() is cluster:
            return hit[1]
        made = cls(
            brokers={b.id: b.node for b in cluster.brokers},
            volumes={v.name: v.replicas for v in cluster.volumes},
            partitions={p.key: _new_target(p.topic, p.id, p.replicas, p.leader) for p in cluster.partitions},
        )
        key = id(cluster)
        try:
            _CURRENT[key] = (weakref.ref(cluster, lambda _, key=key: _CURRENT.pop(key, None)), made)
        except TypeError:  # not weakly referenceable: no cache
            pass
        return made

    def to_document(self) -> dict:
        return {
            "brokers": {str(b): self.brokers[b] for b in sorted(self.brokers)},
            "volumes": {v: list(self.volumes[v]) for v in sorted(self.volumes)},
            "partitions": [  # in the keys' order (sorting the keys alone, not (key, target) pairs)
                {"topic": t.topic, "partition": t.partition, "replicas": list(t.replicas), "leader": t.leader}
                for t in map(self.partitions.__getitem__, sorted(self.partitions))
            ],
        }


_CURRENT: dict = {}  # id(cluster) -> (weak reference to it, its current placement)

Figure = int | float | str | None  # a JSON scalar


def _whole(figure: Figure) -> Figure:
    return int(figure) if isinstance(figure, float) and figure.is_integer() else figure


@dataclass(frozen=True)
class Violation:
    """An invariant broken, in the domain's words; where the rule measures something, the
    figure as it stands (``current``) and what the invariant needs (``needed``: a number, or
    a bound such as "<= 1"), also written at the end of the message (Cruise Control's style)."""

    invariant: str  # "I1".."I7"
    message: str  # what is wrong and why
    subject: str = ""  # what it is about, e.g. "volume pvc-kafka-1"
    current: Figure = None
    needed: Figure = None

    @classmethod
    def measured(cls, invariant: str, what: str, subject: str, current: Figure, needed: Figure) -> "Violation":
        """A violation with its figures, which also close its message (whole numbers as such)."""
        current, needed = _whole(current), _whole(needed)
        return cls(invariant, f"{what} (current: {current}, needed: {needed})", subject, current, needed)

    def to_document(self) -> dict:
        return {"invariant": self.invariant, "message": self.message, "subject": self.subject,
                "current": self.current, "needed": self.needed}

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.message}"


@dataclass(frozen=True)
class Step:
    id: int
    action: str  # one of STEP_FIELDS: fence-node | cordon-node | drop-, add-, resync-volume-replica | move-broker | ...
    args: dict[str, Any]  # the names it acts on, as in CONTRACT section 4
    after: tuple[int, ...] = ()

    def to_document(self) -> dict:
        return {"id": self.id, "action": self.action, **self.args, "after": list(self.after)}


@dataclass(frozen=True)
class Plan:
    cluster: str
    failed: tuple[str, ...]
    status: Status
    placement: Placement
    steps: tuple[Step, ...]
    metrics: dict[str, Any]
    violations: tuple[Violation, ...]
    removed_brokers: tuple[int, ...] = ()
    solver: dict[str, Any] = field(default_factory=dict)  # per-level status, bounds, times
    allow_unclean: bool = False  # planned with --allow-unclean: out-of-sync leaders were allowed
    timeline: Any = field(default=None, compare=False, repr=False)  # placement.execute.timeline.Timeline, kept for the script
    preexisting: tuple[Violation, ...] = ()  # what the start already broke (CONTRACT section 5)
    drained: tuple[str, ...] = ()  # --drain: nodes the target empties
    max_used_percent: float | None = None  # --rebalance --max-used
    min_replicas: int | None = None  # --min-replicas, as given

    def to_document(self) -> dict:
        doc = {
            "version": PLAN_VERSION,
            "cluster": self.cluster,
            "failed": list(self.failed),
            "status": self.status.value,
            "placement": self.placement.to_document(),
            "steps": [s.to_document() for s in self.steps],
            "metrics": dict(self.metrics),
            "violations": [v.to_document() for v in self.violations],
            "preexisting": [v.to_document() for v in self.preexisting],
        }
        if self.drained:
            doc["drained"] = list(self.drained)
        if self.max_used_percent is not None:
            doc["maxUsedPercent"] = _whole(self.max_used_percent)
        if self.min_replicas is not None:
            doc["minReplicas"] = self.min_replicas
        if self.removed_brokers:
            doc["removedBrokers"] = list(self.removed_brokers)
        if self.allow_unclean:
            doc["allowUnclean"] = True
        if self.solver:
            doc["solver"] = dict(self.solver)
        return doc


def parse_plan(data: Any, cluster: Cluster, source: str = "<plan>") -> tuple[Placement, tuple[str, ...], tuple[int, ...], bool]:
    """Read a plan document's placement, failed nodes and removed brokers against a cluster.

    Only the structure is judged here (shapes, known names); whether the placement
    is any good is the verifier's question, so duplicates and omissions pass through.
    Every problem is reported at once.
    """
    if not isinstance(data, dict):
        raise InputError(source, Problem("", "expected a plan document (a JSON object with version, placement, ...)"))
    reader = _PlanReader(cluster)
    if data.get("version") != PLAN_VERSION or isinstance(data.get("version"), bool):
        found = "is missing" if "version" not in data else f"is {excerpt(data.get('version'))}"
        reader.bad("version", f"{found}; this placement reads plan documents of version {PLAN_VERSION} "
                              "(is this a plan document? placement plan --format json writes one)")
    failed = reader.failed(data.get("failed", []))
    removed = reader.removed_brokers(data.get("removedBrokers", []) or [])
    placement = data.get("placement")
    if not isinstance(placement, dict):
        reader.bad("placement", "is missing; expected brokers, volumes and partitions")
        raise InputError(source, reader.problems)
    target = Placement(brokers=reader.brokers(placement.get("brokers", {})),
                       volumes=reader.volumes(placement.get("volumes", {})),
                       partitions=reader.partitions(placement.get("partitions", [])))
    if reader.problems:
        raise InputError(source, reader.problems)
    unclean = data.get("allowUnclean", False)
    if not isinstance(unclean, bool):
        reader.bad("allowUnclean", f"expected true or false, got {unclean!r}")
        raise InputError(source, reader.problems)
    return target, tuple(sorted(set(failed))), tuple(sorted(removed)), unclean


@dataclass(frozen=True)
class Operation:
    """The planned operation a plan document records, for ``verify`` to judge it by."""

    drained: tuple[str, ...] = ()
    max_used_percent: float | None = None
    min_replicas: int | None = None


def parse_operation(data: Any, cluster: Cluster, source: str = "<plan>") -> Operation:
    """A plan document's ``drained``, ``maxUsedPercent`` and ``minReplicas`` (all optional)."""
    if not isinstance(data, dict):
        return Operation()
    problems: list[Problem] = []
    drained = data.get("drained", []) or []
    if not isinstance(drained, list) or not all(isinstance(n, str) for n in drained):
        problems.append(Problem("drained", "expected a list of node names"))
        drained = []
    for i, n in enumerate(drained[:100]):  # the first hundred are enough to say what is wrong
        if n not in cluster.node:
            problems.append(Problem(f"drained[{i}]", f"{excerpt(n)} is not a node of cluster {cluster.name!r}"))
    percent = data.get("maxUsedPercent")
    if percent is not None and (not isinstance(percent, (int, float)) or isinstance(percent, bool)
                                or not math.isfinite(percent) or not 0 < percent <= 100):
        problems.append(Problem("maxUsedPercent", f"expected a percentage in (0, 100], got {excerpt(percent)}"))
    minimum = data.get("minReplicas")
    if minimum is not None and (not isinstance(minimum, int) or isinstance(minimum, bool) or not 1 <= minimum <= 3):
        problems.append(Problem("minReplicas", f"expected a whole number in 1..3, got {excerpt(minimum)}"))
    if problems:
        raise InputError(source, problems)
    return Operation(tuple(sorted(set(drained))), None if percent is None else float(percent), minimum)


class _PlanReader:
    """Reads the parts of a plan document against a cluster, collecting every problem."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.problems: list[Problem] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    @staticmethod
    def _is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def failed(self, raw: Any) -> list[str]:
        cluster = self.cluster
        if not isinstance(raw, list):
            self.bad("failed", "expected a list of node names")
            return []
        failed = []
        for i, n in enumerate(raw):
            if isinstance(n, str) and n in cluster.node:
                failed.append(n)
            else:
                self.bad(f"failed[{i}]", f"{n!r} is not a node of cluster {cluster.name!r}")
        return failed

    def removed_brokers(self, raw: Any) -> list[int]:
        if not isinstance(raw, list):
            self.bad("removedBrokers", "expected a list of broker ids")
            return []
        removed = []
        for i, b in enumerate(raw):
            if self._is_int(b) and b in self.cluster.broker:
                removed.append(b)
            else:
                self.bad(f"removedBrokers[{i}]", f"{b!r} is not a broker id of the cluster")
        return removed

    def brokers(self, raw: Any) -> dict[int, str | None]:
        cluster = self.cluster
        if not isinstance(raw, dict):
            self.bad("placement.brokers", "expected a mapping of broker id to node name or null")
            return {}
        brokers: dict[int, str | None] = {}
        for key, node in raw.items():
            path = f"placement.brokers.{key}"
            # as placement writes it (str of the id): int() would also read ' 1', '01', '+1', '1_0' or other digits
            if not (isinstance(key, str) and re.fullmatch(r"0|[1-9][0-9]{0,9}", key, re.ASCII)):
                self.bad(path, f"{excerpt(key)} is not a broker id (plain decimal digits, no sign, space or leading zero)")
                continue
            bid = int(key)
            if bid not in cluster.broker:
                self.bad(path, f"broker {bid} is not a broker of cluster {cluster.name!r}")
            elif node is not None and not isinstance(node, str):
                self.bad(path, f"expected a node name or null, got {node!r}")
            elif node is not None and node not in cluster.node:
                self.bad(path, f"{node!r} is not a node of cluster {cluster.name!r}")
            else:
                brokers[bid] = node
        return brokers

    def volumes(self, raw: Any) -> dict[str, tuple[str, ...]]:
        cluster = self.cluster
        if not isinstance(raw, dict):
            self.bad("placement.volumes", "expected a mapping of volume name to a list of nodes")
            return {}
        volumes: dict[str, tuple[str, ...]] = {}
        for name, nodes in raw.items():
            path = f"placement.volumes.{name}"
            if name not in cluster.volume:
                self.bad(path, f"{name!r} is not a volume of cluster {cluster.name!r}")
            elif not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
                self.bad(path, "expected a list of node names")
            else:
                unknown = [n for n in nodes if n not in cluster.node]
                if unknown:
                    self.bad(path, f"{unknown} are not nodes of cluster {cluster.name!r}")
                else:
                    volumes[name] = tuple(nodes)
        return volumes

    def partitions(self, raw: Any) -> dict[tuple[str, int], PartitionTarget]:
        cluster = self.cluster
        if not isinstance(raw, list):
            self.bad("placement.partitions", "expected a list of {topic, partition, replicas, leader}")
            return {}
        partitions: dict[tuple[str, int], PartitionTarget] = {}
        for i, item in enumerate(raw):
            path = f"placement.partitions[{i}]"
            if not isinstance(item, dict):
                self.bad(path, "expected {topic, partition, replicas, leader}")
                continue
            key = (item.get("topic"), item.get("partition"))
            replicas = item.get("replicas")
            leader = item.get("leader")
            if not isinstance(key[0], str) or not self._is_int(key[1]):
                self.bad(path, "expected a topic name and a partition number")
            elif key not in cluster.partition:
                self.bad(path, f"topic {key[0]!r} partition {key[1]!r} is not a partition of cluster {cluster.name!r}")
            elif key in partitions:
                self.bad(path, f"partition {key[0]}-{key[1]} is listed twice")
            elif not isinstance(replicas, list) or not all(self._is_int(b) for b in replicas):
                self.bad(f"{path}.replicas", "expected a list of broker ids")
            elif any(b not in cluster.broker for b in replicas):
                self.bad(f"{path}.replicas", f"{[b for b in replicas if b not in cluster.broker]} are not brokers of the cluster")
            elif leader is not None and (not self._is_int(leader) or leader not in cluster.broker):
                self.bad(f"{path}.leader", f"{leader!r} is not a broker of the cluster")
            else:
                partitions[key] = PartitionTarget(key[0], key[1], tuple(replicas), leader)
        return partitions


def apply_placement(cluster: Cluster, placement: Placement, failed: tuple[str, ...] = ()) -> Cluster:
    """The cluster after a plan has run: the target becomes the current state.

    Failed nodes stay failed and hold nothing; volumes that lost their data keep
    no replicas. A new Cluster is derived; the given one is untouched.
    """
    from dataclasses import replace

    from placement.models.cluster import NodeState

    nodes = tuple(replace(n, state=NodeState.FAILED) if n.name in failed else n for n in cluster.nodes)
    volumes = tuple(replace(v, replicas=tuple(placement.volumes.get(v.name, ()))) for v in cluster.volumes)
    brokers = tuple(replace(b, node=placement.brokers.get(b.id) or b.node) for b in cluster.brokers)
    topics = []
    for t in cluster.topics:
        parts = []
        for p in t.partitions:
            target = placement.partitions.get(p.key)
            if target is None:
                parts.append(p)
                continue
            isr = tuple(b for b in target.replicas if b in p.isr or b not in p.replicas)
            parts.append(replace(p, replicas=target.replicas, leader=target.leader if target.leader is not None else p.leader,
                                 isr=isr))
        topics.append(replace(t, partitions=tuple(parts)))
    return replace(cluster, nodes=nodes, volumes=volumes, brokers=brokers, topics=tuple(topics))


def with_node_state(cluster: Cluster, node: str, state) -> Cluster:
    """The cluster with one node's state changed (a node returning, or cordoned)."""
    from dataclasses import replace

    return replace(cluster, nodes=tuple(replace(n, state=state) if n.name == node else n for n in cluster.nodes))


STEP_FIELDS = {
    "fence-node": {"node": "node"},
    "cordon-node": {"node": "node"},  # the first step of a drain: nothing new is scheduled there
    "drop-volume-replica": {"volume": "volume", "node": "node"},
    "add-volume-replica": {"volume": "volume", "node": "node", "source": "node"},
    "resync-volume-replica": {"volume": "volume", "node": "node"},  # Portworx brings a stale replica in sync
    "move-broker": {"broker": "broker", "from": "node", "to": "node"},
    "reassign-partitions": {"partitions": "replicas"},
    "elect-leaders": {"partitions": "leader"},
}


def parse_steps(data: Any, cluster: Cluster, source: str = "<plan>") -> tuple[Step, ...]:
    """Read a plan document's steps against a cluster: known actions, known names, ``after``
    naming earlier-declared or later steps of the plan, and no cycle among them."""
    problems: list[Problem] = []

    def bad(path: str, message: str) -> None:
        problems.append(Problem(path, message))

    raw = data.get("steps", []) if isinstance(data, dict) else []
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise InputError(source, Problem("steps", "expected a list of steps ({id, action, ..., after})"))
    steps: list[Step] = []
    ids: dict[int, str] = {}
    for i, item in enumerate(raw):
        path = f"steps[{i}]"
        if not isinstance(item, dict):
            bad(path, "expected an object with id, action, the names it acts on, and after")
            continue
        sid, action, after = item.get("id"), item.get("action"), item.get("after", [])
        if not isinstance(sid, int) or isinstance(sid, bool):
            bad(f"{path}.id", f"expected a whole number, got {sid!r}")
            continue
        if sid in ids:
            bad(f"{path}.id", f"step id {sid} is used twice (first at {ids[sid]}); ids must be unique")
            continue
        ids[sid] = path
        if action not in STEP_FIELDS:
            bad(f"{path}.action", f"{action!r} is not one of {' | '.join(STEP_FIELDS)}")
            continue
        if not isinstance(after, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in after):
            bad(f"{path}.after", "expected a list of step ids")
            continue
        args = {}
        ok = True
        for key, kind in STEP_FIELDS[action].items():
            message = _step_field_problem(item.get(key), kind, cluster)
            if message:
                bad(f"{path}.{key}", message)
                ok = False
            else:
                args[key] = item[key]
        if ok:
            steps.append(Step(sid, action, args, tuple(after)))
    for s in steps:
        for a in s.after:
            if a not in ids:
                bad(f"{ids[s.id]}.after", f"step {s.id} waits for step {a}, which the plan does not have")
    if not problems:
        cycle = _cycle({s.id: s.after for s in steps})
        if cycle:
            bad("steps", f"the after edges form a cycle ({' -> '.join(map(str, cycle))}): those steps could never start")
    if problems:
        raise InputError(source, problems)
    return tuple(steps)


def _step_field_problem(value: Any, kind: str, cluster: Cluster) -> str | None:
    if kind == "node":
        return None if isinstance(value, str) and value in cluster.node else f"{value!r} is not a node of cluster {cluster.name!r}"
    if kind == "volume":
        return None if isinstance(value, str) and value in cluster.volume else f"{value!r} is not a volume of cluster {cluster.name!r}"
    if kind == "broker":
        ok = isinstance(value, int) and not isinstance(value, bool) and value in cluster.broker
        return None if ok else f"{value!r} is not a broker id of cluster {cluster.name!r}"
    if not isinstance(value, list) or not value:
        return "expected a non-empty list of {topic, partition, " + kind + "}"
    for j, entry in enumerate(value):
        if not isinstance(entry, dict):
            return f"entry {j}: expected {{topic, partition, {kind}}}"
        key = (entry.get("topic"), entry.get("partition"))
        if not isinstance(key[0], str) or not isinstance(key[1], int) or isinstance(key[1], bool) \
                or key not in cluster.partition:
            return f"entry {j}: topic {key[0]!r} partition {key[1]!r} is not a partition of cluster {cluster.name!r}"
        target = entry.get(kind)
        brokers = target if kind == "replicas" else [target]
        # an empty or repeating replica list is a well-formed step that cannot run: the model checker says so
        if not isinstance(brokers, list) or not all(
                isinstance(b, int) and not isinstance(b, bool) and b in cluster.broker for b in brokers):
            return f"entry {j} ({key[0]}-{key[1]}): {kind} {target!r} must name brokers of the cluster"
    return None


def _cycle(after: dict[int, tuple[int, ...]]) -> list[int]:
    """One cycle among the after edges, or nothing."""
    state: dict[int, int] = {}  # 1 on the path, 2 done
    for root in after:
        if root in state:
            continue
        stack = [(root, iter(after[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(after[child])))
                path.append(child)
    return []

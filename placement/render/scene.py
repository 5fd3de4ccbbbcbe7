"""What a picture of a cluster shows: each node with its brokers and volume replicas, and
what a plan (or a failure) does to them, in words as well as states.

A scene is derived from a cluster and, optionally, a plan document (CONTRACT
section 4) and extra failed nodes (a counterexample of ``placement check``).
It reads only the cluster, the plan's target and its steps, each once, so it
takes time linear in their size however large the plan. Stale replicas
(``Volume.stale``) are marked as such, whatever the plan does with them, so a
cluster whose node came back behind is drawn without further code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from placement.models.cluster import Cluster, NodeState
from placement.models.units import MIB_PER_GIB

# replica states, in the order a node lists them
KEPT, NEW, DROPPED, LOST, DATA_LOST, PAUSED = "kept", "new", "dropped", "lost", "data-lost", "stopped"
REPLICA_ORDER = {KEPT: 0, NEW: 1, DROPPED: 2, LOST: 3, DATA_LOST: 4, PAUSED: 5}
# broker states on a node
STAYS, ARRIVES, LEAVES, DOWN, CANNOT_RUN, RETIRED = "stays", "arrives", "leaves", "down", "cannot-run", "retired"
STOPS = "stops"  # on a node stopped for maintenance (check --ok-to-stop, --waves)


@dataclass(frozen=True)
class ReplicaMark:
    volume: str
    node: str
    state: str
    size_gib: float
    stale_gib: float | None = None  # a stale replica: GiB behind
    source: str | None = None  # a new replica: the node it is copied from (None: the plan does not say)
    copied_gib: float = 0.0
    step: int | None = None  # the step that adds or drops it

    @property
    def short(self) -> str:
        """The few words beside the volume's name on a chip."""
        words = {KEPT: "", NEW: f"new ← {self.source}" if self.source else "new", DROPPED: "dropped",
                 LOST: "lost", DATA_LOST: "DATA LOST", PAUSED: "stopped"}[self.state]
        if self.stale_gib is not None:
            words = ", ".join(w for w in (f"stale, {self.stale_gib:g} GiB behind", words) if w)
        return words

    @property
    def sentence(self) -> str:
        what = {
            KEPT: f"replica of {self.volume} on {self.node}, kept",
            NEW: f"new replica of {self.volume} on {self.node}, "
                 + (f"{self.copied_gib:g} GiB copied from {self.source}" if self.source else "source not given"),
            DROPPED: f"replica of {self.volume} on {self.node}, dropped by the plan",
            LOST: f"replica of {self.volume} on {self.node}, lost with the node (other replicas survive)",
            DATA_LOST: f"replica of {self.volume} on {self.node}, lost with the node: "
                       f"no replica of {self.volume} survives, its data is gone",
            PAUSED: f"replica of {self.volume} on {self.node}, not serving while the node is stopped (kept)",
        }[self.state]
        if self.stale_gib is not None:
            what += f"; stale, {self.stale_gib:g} GiB behind (no source for a copy until brought in sync)"
        if self.step is not None:
            what += f" (step {self.step})"
        return what + f"; takes {self.size_gib:g} GiB"


@dataclass(frozen=True)
class BrokerMark:
    broker: int
    node: str
    state: str
    other: str | None = None  # where it goes (leaves) or comes from (arrives)
    step: int | None = None

    @property
    def short(self) -> str:
        return {STAYS: f"broker {self.broker}", ARRIVES: f"broker {self.broker} ← {self.other}",
                LEAVES: f"broker {self.broker} → {self.other}", DOWN: f"broker {self.broker} down",
                CANNOT_RUN: f"broker {self.broker}: cannot run", RETIRED: f"broker {self.broker} retired",
                STOPS: f"broker {self.broker} stopped"}[self.state]

    @property
    def sentence(self) -> str:
        step = f" (step {self.step})" if self.step is not None else ""
        return {
            STAYS: f"broker {self.broker} runs on {self.node}",
            ARRIVES: f"broker {self.broker} moves here to {self.node} from {self.other}{step}",
            LEAVES: f"broker {self.broker} leaves {self.node} for {self.other}{step}",
            DOWN: f"broker {self.broker} was on {self.node}, which failed: it is down",
            CANNOT_RUN: f"broker {self.broker} was on {self.node} and can run on no node after the plan",
            RETIRED: f"broker {self.broker} on {self.node} is retired by the plan",
            STOPS: f"broker {self.broker} stops with {self.node} (maintenance) and starts again there",
        }[self.state]


@dataclass(frozen=True)
class NodeView:
    name: str
    zone: str
    state: str  # ready | failed | cordoned | stopped (failed includes nodes failed by the plan or the check;
    # stopped: down for maintenance in check --ok-to-stop or --waves)
    storage_gib: float
    used_before_gib: float
    used_after_gib: float
    brokers: tuple[BrokerMark, ...]
    replicas: tuple[ReplicaMark, ...]
    touched: bool  # the failure or the plan changes something here, or it sends a copy

    def count(self, state: str) -> int:
        return sum(1 for r in self.replicas if r.state == state)

    @property
    def stale(self) -> int:
        return sum(1 for r in self.replicas if r.stale_gib is not None)

    @property
    def tally(self) -> str:
        """The replicas in words: '6 kept, 3 new, 1 dropped'."""
        parts = [f"{self.count(s)} {s.replace('-', ' ')}" for s in REPLICA_ORDER if self.count(s)]
        if self.stale:
            parts.append(f"{self.stale} stale")
        return ", ".join(parts) or "no replicas"

    @property
    def storage_words(self) -> str:
        if self.storage_gib <= 0:
            return "storageless (holds no replica)"
        if self.state == "failed":
            return f"held {self.used_before_gib:g} of {self.storage_gib:g} GiB"
        if self.used_after_gib != self.used_before_gib:
            return f"used {self.used_before_gib:g} → {self.used_after_gib:g} of {self.storage_gib:g} GiB"
        return f"used {self.used_before_gib:g} of {self.storage_gib:g} GiB"

    @property
    def sentence(self) -> str:
        state = {"failed": "FAILED", "cordoned": "cordoned (receives nothing new)", "ready": "ready",
                 "stopped": "STOPPED for maintenance"}[self.state]
        brokers = "; ".join(b.sentence for b in self.brokers) or "no broker"
        return f"{self.name} in {self.zone}: {state}; {self.storage_words}; {brokers}; replicas: {self.tally}"


@dataclass(frozen=True)
class CopyArrow:
    volume: str
    source: str
    target: str
    gib: float
    step: int | None

    @property
    def key(self) -> str:
        return f"{self.volume}|{self.source}|{self.target}"

    @property
    def sentence(self) -> str:
        step = f" (step {self.step})" if self.step is not None else ""
        return f"new replica of {self.volume}: {self.gib:g} GiB copied from {self.source} to {self.target}{step}"


@dataclass(frozen=True)
class MoveArrow:
    broker: int
    source: str
    target: str
    step: int | None

    @property
    def key(self) -> str:
        return f"{self.broker}|{self.source}|{self.target}"

    @property
    def sentence(self) -> str:
        step = f" (step {self.step})" if self.step is not None else ""
        return f"broker {self.broker} moves from {self.source} to {self.target}{step}"


@dataclass(frozen=True)
class Scene:
    cluster: str
    zones: tuple[str, ...]
    nodes: tuple[NodeView, ...]
    copies: tuple[CopyArrow, ...]
    moves: tuple[MoveArrow, ...]
    drops: tuple[ReplicaMark, ...]  # replicas the plan drops from live nodes
    data_lost: tuple[str, ...]  # volumes with no surviving in-sync replica
    has_plan: bool

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes if n.state == "failed")


def scene(cluster: Cluster, plan: dict[str, Any] | None = None, failed: Iterable[str] = (),
          stopped: Iterable[str] = ()) -> Scene:
    """The cluster as it is, with the plan's target and steps (when given) and ``failed`` nodes applied;
    ``stopped`` nodes are down for maintenance (what they hold is kept, but does not serve)."""
    down = {n.name for n in cluster.nodes if n.state is NodeState.FAILED} | set(failed)
    paused = set(stopped) - down
    if plan is not None:
        down |= set(plan.get("failed", ()))
    placement = (plan or {}).get("placement") or {}
    target_volumes: dict[str, list[str]] | None = placement.get("volumes") if plan is not None else None
    target_brokers: dict[str, str | None] = placement.get("brokers") or {}
    retired = set((plan or {}).get("removedBrokers", ()))

    adds: dict[tuple[str, str], dict] = {}
    drops_by: dict[tuple[str, str], int] = {}
    moves_by: dict[int, int] = {}
    for step in (plan or {}).get("steps", ()) or ():
        action = step.get("action")
        if action == "add-volume-replica":
            adds[step["volume"], step["node"]] = step
        elif action == "drop-volume-replica":
            drops_by[step["volume"], step["node"]] = step["id"]
        elif action == "move-broker":
            moves_by[step["broker"]] = step["id"]

    replicas: dict[str, list[ReplicaMark]] = {n.name: [] for n in cluster.nodes}
    used_after_mib = {n.name: 0 for n in cluster.nodes}
    copies: list[CopyArrow] = []
    drops: list[ReplicaMark] = []
    data_lost: list[str] = []
    sources: set[str] = set()
    for v in cluster.volumes:
        stale = dict(v.stale)
        alive_in_sync = [n for n in v.in_sync_replicas if n not in down]
        lost_data = not alive_in_sync if target_volumes is None else v.name not in target_volumes
        if lost_data and v.replicas:
            data_lost.append(v.name)
        after = list(v.replicas) if target_volumes is None else list(target_volumes.get(v.name, ()))
        for n in v.replicas:
            if n not in replicas:
                continue
            if n in down:
                state = DATA_LOST if lost_data else LOST
            elif n in paused:
                state = PAUSED
            elif target_volumes is not None and n not in after:
                state = DROPPED
            else:
                state = KEPT
            mark = ReplicaMark(v.name, n, state, v.size_gib, stale.get(n), step=drops_by.get((v.name, n)))
            replicas[n].append(mark)
            if state == DROPPED:
                drops.append(mark)
        for n in after:
            if n in replicas and n not in down:
                used_after_mib[n] += v.size_mib
        before = set(v.replicas)
        for n in after:
            if n in before or n not in replicas:
                continue
            step = adds.get((v.name, n))
            source = step.get("source") if step else None
            replicas[n].append(ReplicaMark(v.name, n, NEW, v.size_gib, source=source, copied_gib=v.used_gib,
                                           step=step["id"] if step else None))
            if source:
                copies.append(CopyArrow(v.name, source, n, v.used_gib, step["id"]))
                sources.add(source)

    brokers: dict[str, list[BrokerMark]] = {n.name: [] for n in cluster.nodes}
    moves: list[MoveArrow] = []
    for b in cluster.brokers:
        if b.node not in brokers:
            continue
        if plan is None:
            brokers[b.node].append(BrokerMark(b.id, b.node, DOWN if b.node in down else STOPS if b.node in paused
                                              else STAYS))
            continue
        to = target_brokers.get(str(b.id), b.node)
        step = moves_by.get(b.id)
        if b.id in retired:
            brokers[b.node].append(BrokerMark(b.id, b.node, RETIRED))
        elif to is None:
            brokers[b.node].append(BrokerMark(b.id, b.node, CANNOT_RUN))
        elif to == b.node:
            brokers[b.node].append(BrokerMark(b.id, b.node, DOWN if b.node in down else STAYS))
        elif to in brokers:
            brokers[b.node].append(BrokerMark(b.id, b.node, LEAVES, to, step))
            brokers[to].append(BrokerMark(b.id, to, ARRIVES, b.node, step))
            moves.append(MoveArrow(b.id, b.node, to, step))

    used_before = cluster.storage_used_mib
    views = []
    for n in cluster.nodes:
        marks = tuple(sorted(replicas[n.name], key=lambda r: (REPLICA_ORDER[r.state], r.volume)))
        mine = tuple(sorted(brokers[n.name], key=lambda b: (b.state != STAYS, b.broker)))
        state = "failed" if n.name in down else "stopped" if n.name in paused else n.state.value
        touched = (state in ("failed", "stopped") or n.name in sources or any(r.state != KEPT for r in marks)
                   or any(b.state != STAYS for b in mine))
        after = used_before[n.name] if target_volumes is None else used_after_mib[n.name]
        views.append(NodeView(n.name, n.zone, state, n.storage_gib, round(used_before[n.name] / MIB_PER_GIB, 1),
                              round(after / MIB_PER_GIB, 1), mine, marks, touched))
    return Scene(cluster.name, cluster.zones, tuple(views), tuple(copies), tuple(moves), tuple(drops),
                 tuple(data_lost), plan is not None)

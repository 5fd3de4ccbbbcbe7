"""The registry of invariants (CONTRACT section 2), one module per invariant, named after it.

Each module is a ``RuleModule``: ``ID``, ``TITLE``, ``check(scenario, target) ->
[Violation]`` (plain Python, the ground truth), ``encode_cpsat(enc)`` and
``encode_z3(enc)``, every constraint guarded by the rule's one enforcement
literal. The encoders (``placement.solve.cpsat.CpEncoding`` and
``placement.solve.smt.SmtEncoding``) both satisfy ``Encoder``; the rules see
nothing else of a solver, and import none.
"""
from __future__ import annotations

from typing import Any, Iterator, Protocol, runtime_checkable

from placement.models.cluster import NodeLoad, Volume
from placement.models.plan import Placement, Violation
from placement.rules.items import Items
from placement.rules import (anti_affinity, broker_anti_affinity, capacity, hyperconvergence, kafka,
                             no_invented_data, replication)
from placement.scenario import Scenario

PKey = tuple[str, int]  # (topic, partition)
Term = Any  # a solver expression (CP-SAT), SMT-LIB text (Z3), or a plain int for what is fixed


@runtime_checkable
class DecisionSpace(Protocol):
    """What the rules read of a decision space (``placement.solve.space.Space``): which
    volumes, brokers and partitions are decided, over which candidates, and the rest fixed."""

    scenario: Scenario
    base: Placement  # the values of everything not decided
    volume_domain: dict[str, tuple[str, ...]]
    broker_domain: dict[int, tuple[str, ...]]
    partition_domain: dict[PKey, tuple[int, ...]]
    partitions_aggregated: bool
    max_multiplicity: int
    decided_volumes_at: dict[str, list[str]]
    decided_brokers_at: dict[str, list[int]]
    nodes_with_decisions: tuple[str, ...]
    fixed_load: dict[str, NodeLoad]  # what stays on each node

    def decided_volumes_with_data(self) -> Iterator[tuple[Volume, tuple[str, ...]]]: ...
    def broker_nodes(self, broker: int) -> tuple[str, ...]: ...
    def partition_brokers(self, key: PKey) -> tuple[int, ...]: ...


@runtime_checkable
class Encoder(Protocol):
    """The vocabulary a rule encodes itself with: memberships as terms (a variable where the
    space decides, a constant where it does not) and constraints guarded by a rule's literal."""

    backend: str  # "cpsat" or "z3"
    relaxed: bool  # degradable requirements may fall short (counted by CP-SAT's first objective level)
    space: DecisionSpace
    partition_copy: list[tuple[int, Term]]  # storage-and-brokers stage: the copy cost of refilled partitions
    decides_leaders: bool

    def add(self, rule: str, constraint: Any) -> None: ...
    def shortfall(self, rule: str, upper: int, name: str, *, minor: bool = False) -> Term: ...
    def new_int(self, low: int, high: int, name: str) -> Term: ...
    def vol(self, volume: str, node: str) -> Term: ...
    def brk(self, broker: int, node: str) -> Term: ...
    def runs(self, broker: int) -> Term: ...
    def part(self, key: PKey, broker: int) -> Term: ...
    def lead(self, key: PKey, broker: int) -> Term: ...
    def both(self, a: Term, b: Term, name: str) -> Term: ...
    def any_of(self, terms: list[Term], name: str) -> Term: ...


@runtime_checkable
class RuleModule(Protocol):
    """One invariant: its plain check and its two encodings, side by side in one file."""

    ID: str  # "I1".."I7"
    TITLE: str

    def check(self, scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
        ...  # items: judge only these (placement.rules.items), saying exactly what the full check says of them
    def encode_cpsat(self, enc: Encoder) -> None: ...
    def encode_z3(self, enc: Encoder) -> None: ...


RULES: tuple[RuleModule, ...] = (replication, anti_affinity, hyperconvergence, broker_anti_affinity, capacity, kafka,
                                 no_invented_data)
RULE_IDS = tuple(r.ID for r in RULES)
BY_ID = {r.ID: r for r in RULES}


def check_all(scenario: Scenario, target: Placement) -> list[Violation]:
    """Every violation of every invariant, in rule order."""
    return [v for rule in RULES for v in rule.check(scenario, target)]


def start_scenario(cluster) -> Scenario:
    """The cluster as the file describes it: its own failed nodes only, stale replicas as they are.
    Made once per cluster (its facts are computed once) and shared."""
    return _per_cluster(cluster, "scenario", _start_scenario)


def _start_scenario(cluster) -> Scenario:
    from placement.models.cluster import NodeState
    from placement.models.failures import Failures

    return Scenario(cluster, Failures(frozenset(n.name for n in cluster.nodes if n.state is NodeState.FAILED)))


def check_start(cluster) -> list[Violation]:
    """What the start already breaks (the plan document's ``preexisting``), in rule order: every
    invariant judged on the current placement with the file's failed nodes, where a stale replica
    does not count towards its volume's replication factor and a broker on a failed node does not run.
    Judged once per cluster (a plan asks twice: for its intermediate targets and its document)."""
    return list(_per_cluster(cluster, "check", _check_start))


def partition_positions(cluster) -> dict[PKey, int]:
    """Partition key -> its place in the cluster's list (made once per cluster)."""
    return _per_cluster(cluster, "positions", lambda c: {p.key: i for i, p in enumerate(c.partitions)})


def volume_positions(cluster) -> dict[str, int]:
    """Volume name -> its place in the cluster's list (made once per cluster)."""
    return _per_cluster(cluster, "volume positions", lambda c: {v.name: i for i, v in enumerate(c.volumes)})


def distinct_replicas(cluster) -> bool:
    """Every partition lists each of its brokers once (a loaded cluster always does; one built in
    code may not). Judged once per cluster."""
    def judge(c) -> bool:
        listed = [p.replicas for p in c.partitions]
        return list(map(len, listed)) == list(map(len, map(set, listed)))
    return _per_cluster(cluster, "distinct replicas", judge)


_PER_CLUSTER: dict = {}  # id(cluster) -> (weak reference to it, {what: made once})


def _per_cluster(cluster, what: str, make):
    """``make(cluster)``, made once per cluster (immutable: a cluster's facts never change)."""
    import weakref

    key = id(cluster)
    hit = _PER_CLUSTER.get(key)
    if hit is None or hit[0]() is not cluster:
        try:
            hit = (weakref.ref(cluster, lambda _, key=key, cache=_PER_CLUSTER: cache.pop(key, None)), {})
        except TypeError:  # not weakly referenceable: no cache
            return make(cluster)
        _PER_CLUSTER[key] = hit
    made = hit[1]
    if what not in made:
        made[what] = make(cluster)
    return made[what]


def forget_clusters() -> None:
    """Drop every cluster's facts made once (``_per_cluster``), to be made again on demand. An
    entry leaves by itself only when its cluster dies, and the start scenario it keeps holds the
    cluster, so a cluster once judged lives to the process's end: the CLI drops them when a command
    ends, so that the cluster is freed then by reference counting (0.08 s at 5,000 nodes) rather
    than torn down with the interpreter (0.4 s)."""
    _PER_CLUSTER.clear()


def _check_start(cluster) -> tuple[Violation, ...]:
    scenario = start_scenario(cluster)
    current = Placement.current(cluster)
    lost = {v.name for v in scenario.lost_volumes}
    start = Placement(brokers=current.brokers,
                      volumes={v: nodes for v, nodes in current.volumes.items() if v not in lost},
                      partitions=current.partitions)
    down = {b.id: b.node for b in cluster.brokers if scenario.is_failed(b.node)}
    out: list[Violation] = []
    for rule in RULES:
        found = rule.check(scenario, start)
        if rule is replication:
            found += replication.stale_at_start(scenario)
        if rule is kafka and down:  # no broker down (the usual file): no walk over every replica
            found += [Violation(kafka.ID, f"partition {p.label} has a replica on broker {b}, which does not run "
                                          f"(its node {down[b]} is failed)", f"partition {p.label}")
                      for p in cluster.partitions for b in p.replicas if b in down]
        out += [_as_start(v) for v in found]
    return tuple(out)


# The rules explain a short volume or partition as a target's: "no replica is added, though X has
# room". Of the start that reads as if a plan had been made; it says instead that the shortfall
# is already there, and what room there is for a plan to fill it.
_PLAN_WORDS = "no replica is added, though "
_START_WORDS = "already short before any plan; "


def _as_start(violation: Violation) -> Violation:
    if _PLAN_WORDS not in violation.message:
        return violation
    return Violation(violation.invariant, violation.message.replace(_PLAN_WORDS, _START_WORDS), violation.subject,
                     violation.current, violation.needed)

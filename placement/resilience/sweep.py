"""Does this cluster survive any K node failures, or any whole zone? (``placement check``)

A failure set is survived when no volume loses every replica and the planner
finds a target placement meeting every invariant (its first level, feasibility,
without optimising). The sweep does less than judging all C(n, k) sets:

- symmetry: nodes that hold nothing (no replica, no broker) and look alike
  (zone, state, capacities) are interchangeable, so only one failure set per
  combination of such classes is judged, counted with its multiplicity;
- pruning: a set that loses a volume's data makes every larger set lose it too,
  so sets are judged by increasing size and a set containing a data-losing set
  is counted as failing without being judged. Only data loss is pruned this
  way: whether a valid target exists is *not* monotone under the planner's
  rules (healthy replicas stay where they are, so a second failure can free
  the room the first one lacked; zone spread asks for fewer zones once a zone
  is gone), and ``tests/test_resilience.py`` keeps a brute-force witness of that;
- cheap bounds before any solver: data loss is a set test; a set of nodes that
  hold nothing cannot break a cluster that is valid now; a greedy placement
  that passes the plain checks is a certificate of survival;
- reuse between scenarios: the recovery found for a set one smaller and the one
  found for the extra node alone are composed when they do not interfere
  (``placement.resilience.composition``), so most larger sets need no search at all; a set
  that still needs the solver starts it from the smaller set's recovery (its
  decisions that still apply, as the CP-SAT hint); each worker process receives
  the cluster once and keeps it between scenarios.

Scenarios are spread over local processes (``jobs``) or a Dask cluster
(``scheduler``), one size level at a time so that pruning still applies.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from typing import Callable, Iterable

from placement.models.cluster import Cluster
from placement.models.failures import Failures
from placement.models.plan import Placement, Status, Violation
from placement.resilience.composition import Footprint, NodeRoom, apply_footprint, compose, footprint, overlay
from placement.scenario import Scenario

SOLVER_TIME_LIMIT = 30.0  # per scenario that reaches the solver
Job = tuple  # (failed nodes, the recovery of a survived subset or None)


@dataclass(frozen=True)
class ScenarioVerdict:
    failed: tuple[str, ...]  # the nodes this scenario fails (on top of those already failed)
    survived: bool | None  # None: undecided within the time limit (never reported as a proof)
    decided_by: str  # data-loss | nothing-held | greedy | solver | pruned
    data_lost: tuple[str, ...] = ()
    violations: tuple[Violation, ...] = ()
    conflict: tuple[str, ...] = ()  # invariants that cannot hold together here (from the solver)
    footprint: Footprint | None = field(default=None, compare=False, repr=False)  # a survived set's recovery

    def to_document(self) -> dict:
        return {"failed": list(self.failed), "dataLost": list(self.data_lost),
                "violations": [v.to_document() for v in self.violations],
                "decidedBy": self.decided_by, **({"conflict": list(self.conflict)} if self.conflict else {})}


@dataclass
class ResilienceResult:
    tolerates: bool | None  # None: some scenario undecided and none failed
    scenarios: int  # failure sets considered (every set of 1..K nodes, and each zone)
    checked: int  # of those, with a verdict (judged, or covered by symmetry or pruning)
    solved: int  # judged by the solver
    bounded: int  # judged without a solver (data loss, nothing held, greedy certificate, composed)
    composed: int  # of those, survived by composing smaller recoveries
    pruned: int  # not judged: a subset already loses data
    symmetric: int  # not judged: an interchangeable set was
    failing: int  # not survived (pruned ones included)
    undecided: int
    counterexample: ScenarioVerdict | None
    seconds: float
    max_failures: int = 0
    zones: bool = False
    minima: list = field(default_factory=list)  # placement.resilience.minima.Minimum, with --minimum

    def to_document(self) -> dict:
        doc = {
            "tolerates": self.tolerates,
            "scenarios": self.scenarios,
            "checked": self.checked,
            "counterexample": self.counterexample.to_document() if self.counterexample else None,
            "solved": self.solved, "bounded": self.bounded, "composed": self.composed, "pruned": self.pruned,
            "symmetric": self.symmetric,
            "failing": self.failing, "undecided": self.undecided,
            "failures": self.max_failures, "zones": self.zones, "seconds": round(self.seconds, 3),
        }
        if self.minima:
            doc["minimum"] = {m.what: m.to_document() for m in self.minima}
        return doc


# -- judging one failure set --------------------------------------------------------

def _holders(cluster: Cluster) -> frozenset[str]:
    """Nodes holding a volume replica or a broker: the only ones whose failure touches anything."""
    return frozenset({n for v in cluster.volumes for n in v.replicas} | {b.node for b in cluster.brokers})


def _scenario(cluster: Cluster, failed: Iterable[str]) -> Scenario:
    already = {n.name for n in cluster.nodes if n.state.value == "failed"}
    return Scenario(cluster, Failures(frozenset(already | set(failed))))


def judge(cluster: Cluster, failed: tuple[str, ...], *, baseline_ok: bool,
          time_limit: float = SOLVER_TIME_LIMIT, warm: Footprint | None = None) -> ScenarioVerdict:
    """Is this failure set survived? Cheapest evidence first; the solver only when needed,
    started from ``warm`` (the recovery of a survived subset) where that still applies."""
    from placement.solve.greedy import greedy_placement
    from placement.solve.leaders import elect_leaders
    from placement.rules import check_all

    scenario = _scenario(cluster, failed)
    lost = tuple(v.name for v in scenario.lost_volumes if any(n in failed for n in v.replicas))
    if lost:
        return _data_loss(cluster, failed, lost)
    if baseline_ok and not any(n in _holders(cluster) for n in failed):
        return ScenarioVerdict(failed, True, "nothing-held", footprint=footprint(scenario, Placement.current(cluster)))
    # With the cluster valid now, partitions on untouched brokers stay valid: the greedy
    # certificate needs only the touched ones (a large cluster's partitions dominate the cost).
    local = _local(scenario) if baseline_ok else scenario
    start = elect_leaders(local, greedy_placement(local, spread=True), even_out=False)
    if not check_all(local, start):
        return ScenarioVerdict(failed, True, "greedy", footprint=footprint(local, start))
    # the solver starts from this greedy attempt (touched partitions are all it needs), with
    # what still applies of a survived subset's recovery laid over it
    return _solve(scenario, failed, time_limit, overlay(scenario, start, warm) if warm is not None else start)


def _local(scenario: Scenario) -> Scenario:
    """The scenario with only the partitions that have a replica on a touched broker."""
    from dataclasses import replace

    touched = set(scenario.touched_brokers)
    topics = []
    for t in scenario.cluster.topics:
        kept = tuple(p for p in t.partitions if touched.intersection(p.replicas))
        if kept:
            topics.append(replace(t, partitions=kept))
    return Scenario(replace(scenario.cluster, topics=tuple(topics)), scenario.failures, scenario.allow_unclean)


def _solve(scenario: Scenario, failed: tuple[str, ...], time_limit: float, start: Placement | None = None) -> ScenarioVerdict:
    from placement.solve.planner import PlanOptions, plan_recovery

    plan = plan_recovery(scenario.cluster, scenario.failures,
                         PlanOptions(time_limit=time_limit, feasibility_only=True, verify_with_z3=False, workers=1),
                         start=start)
    if plan.status.meets_invariants:
        # a recovery that moved healthy items to make room is no footprint of touched items alone
        composable = plan.solver.get("decided", "touched") == "touched"
        return ScenarioVerdict(failed, True, "solver",
                               footprint=footprint(scenario, plan.placement) if composable else None)
    first_levels = [st["levels"][0] for st in plan.solver.get("stages", []) if st.get("levels")]
    # not survived only when the least shortfall is proven above zero; a timeout decides nothing
    proven = plan.status is Status.DEGRADED and all(lv["proven"] for lv in first_levels)
    return ScenarioVerdict(failed, False if proven else None, "solver", (), plan.violations,
                           tuple(plan.solver.get("conflict", ())))


# -- symmetry -----------------------------------------------------------------------

def node_classes(cluster: Cluster) -> list[list[str]]:
    """Nodes that could fail, grouped into interchangeable classes (in cluster order)."""
    holders = _holders(cluster)
    classes: dict[tuple, list[str]] = {}
    for n in cluster.nodes:
        if n.state.value == "failed":
            continue
        key = (n.name,) if n.name in holders else ("empty", n.zone, n.state.value, n.storage_mib, n.cpu_millicores,
                                                  n.memory_mib)
        classes.setdefault(key, []).append(n.name)
    return list(classes.values())


def _sets_of_size(classes: list[list[str]], k: int):
    """Canonical failure sets of k nodes: multisets of class indices, within class sizes."""
    for combo in combinations_with_replacement(range(len(classes)), k):
        counts = Counter(combo)
        if all(c <= len(classes[i]) for i, c in counts.items()):
            yield combo


def _members(classes, combo) -> tuple[str, ...]:
    counts = Counter(combo)
    return tuple(sorted(n for i, c in counts.items() for n in classes[i][:c]))


def _multiplicity(classes, combo) -> int:
    return math.prod(math.comb(len(classes[i]), c) for i, c in Counter(combo).items())


# -- the sweep ----------------------------------------------------------------------

class _Local:
    """Judges batches in this process or a process pool that keeps the cluster."""

    def __init__(self, cluster: Cluster, jobs: int, baseline_ok: bool, time_limit: float):
        self.cluster, self.baseline_ok, self.time_limit = cluster, baseline_ok, time_limit
        self.pool = None
        if jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                            initargs=(cluster, baseline_ok, time_limit))
            self.jobs = jobs

    def judge_all(self, sets: list[Job], done: Callable[[int], None]) -> list[ScenarioVerdict]:
        if self.pool is None:
            out = []
            for members, warm in sets:
                out.append(judge(self.cluster, members, baseline_ok=self.baseline_ok, time_limit=self.time_limit, warm=warm))
                done(1)
            return out
        chunks = _chunks(sets, self.jobs * 8)
        futures = [self.pool.submit(_judge_chunk_in_worker, c) for c in chunks]
        results = []
        for f, c in zip(futures, chunks):
            results.extend(f.result())
            done(len(c))
        return results

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


class _Dask:
    """Judges batches on an existing Dask distributed cluster (optional extra ``distributed``)."""

    def __init__(self, cluster: Cluster, address: str, baseline_ok: bool, time_limit: float):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - depends on the extra
            from placement.models.errors import InputError, Problem

            raise InputError("command line", Problem("--scheduler", "needs the optional extra: "
                                                     "pip install 'placement[distributed]'")) from exc
        try:
            self.client = Client(address, timeout="5s")
        except (OSError, TimeoutError) as exc:
            from placement.models.errors import InputError, Problem

            raise InputError("command line", Problem("--scheduler", f"no Dask scheduler answers at {address!r} "
                                                     f"({exc}); give the address of a running one, "
                                                     "e.g. tcp://10.0.0.5:8786")) from exc
        self.cluster_ref = self.client.scatter(cluster, broadcast=True)
        self.baseline_ok, self.time_limit = baseline_ok, time_limit

    def judge_all(self, sets, done):
        from distributed import as_completed

        n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        chunks = _chunks(sets, n_workers * 8)
        futures = {self.client.submit(judge_chunk, self.cluster_ref, c, self.baseline_ok, self.time_limit, pure=False): i
                   for i, c in enumerate(chunks)}
        results: list[list[ScenarioVerdict] | None] = [None] * len(chunks)
        for f in as_completed(futures):
            i = futures[f]
            results[i] = f.result()
            done(len(chunks[i]))
        return [v for r in results for v in r]

    def close(self) -> None:
        self.client.close()


def _chunks(items: list, pieces: int) -> list[list]:
    size = max(1, math.ceil(len(items) / max(1, pieces)))
    return [items[i:i + size] for i in range(0, len(items), size)]


def judge_chunk(cluster: Cluster, sets: list[Job], baseline_ok: bool, time_limit: float) -> list[ScenarioVerdict]:
    return [judge(cluster, members, baseline_ok=baseline_ok, time_limit=time_limit, warm=warm) for members, warm in sets]


_WORKER: dict = {}


def _init_worker(cluster, baseline_ok, time_limit) -> None:
    _WORKER.update(cluster=cluster, baseline_ok=baseline_ok, time_limit=time_limit)


def _judge_chunk_in_worker(sets) -> list[ScenarioVerdict]:
    return judge_chunk(_WORKER["cluster"], sets, _WORKER["baseline_ok"], _WORKER["time_limit"])


def baseline_valid(cluster: Cluster) -> bool:
    """Does the cluster meet every invariant as it stands (its file failures included)?"""
    from placement.rules import check_all

    scenario = _scenario(cluster, ())
    return not scenario.touched_volumes and not scenario.touched_brokers and not check_all(
        scenario, Placement.current(cluster))


def _volumes_at_risk(cluster: Cluster) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Per live node: the volumes it holds, with the live nodes that must all fail to lose each."""
    at_risk: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for v in cluster.volumes:
        live = frozenset(n for n in v.replicas if cluster.node[n].state.value != "failed")
        for n in live:
            at_risk.setdefault(n, []).append((v.name, live))
    return at_risk


def _lost(at_risk, members: tuple[str, ...]) -> tuple[str, ...]:
    down = set(members)
    return tuple(sorted({v for n in members for v, live in at_risk.get(n, ()) if live <= down}))


def _data_loss(cluster: Cluster, failed: tuple[str, ...], lost: tuple[str, ...]) -> ScenarioVerdict:
    why = tuple(Violation.measured("I7", f"volume {name} loses every replica (on {', '.join(cluster.volume[name].replicas)}): "
                                         "its data is gone; surviving replicas", f"volume {name}", 0, 1) for name in lost)
    return ScenarioVerdict(failed, False, "data-loss", lost, why)


def _compose(combo, previous, single, room) -> Footprint | None:
    """A recovery of ``combo`` from a survived set one smaller and one more node's recovery."""
    for i in range(len(combo)):
        if i and combo[i] == combo[i - 1]:
            continue
        rest = combo[:i] + combo[i + 1:]
        if rest in previous:
            one = single(combo[i], combo.count(combo[i]) - 1)
            if one is not None:
                both = compose(previous[rest], one, room)
                if both is not None:
                    return both
    return None


def _warm(combo, previous) -> Footprint | None:
    """The recovery of a survived subset one smaller, to start the solver from."""
    for i in range(len(combo)):
        rest = combo[:i] + combo[i + 1:]
        if rest in previous:
            return previous[rest]
    return None


def _audit(cluster: Cluster, members: tuple[str, ...], composed: Footprint) -> None:
    """Tests: a composed recovery must pass the plain checks like any other target."""
    from placement.models.errors import InternalError
    from placement.rules import check_all

    broken = check_all(_scenario(cluster, members), apply_footprint(cluster, composed))
    if broken:
        raise InternalError(f"composed recovery of {members} breaks {[str(v) for v in broken]}")


def check_resilience(cluster: Cluster, max_failures: int = 1, *, zones: bool = False, minimum: bool = False,
                     jobs: int = 1, scheduler: str | None = None, prune: bool = True, symmetry: bool = True,
                     compose_recoveries: bool = True, audit: bool = False, time_limit: float = SOLVER_TIME_LIMIT,
                     progress: Callable[[int, int], None] | None = None) -> ResilienceResult:
    """Judge every set of 1..``max_failures`` nodes failing, and with ``zones`` each whole zone."""
    started = time.monotonic()
    baseline_ok = baseline_valid(cluster)
    classes = node_classes(cluster) if symmetry else [[n.name] for n in cluster.nodes if n.state.value != "failed"]
    zone_sets = _zone_failures(cluster) if zones else []
    alive = sum(len(c) for c in classes)
    total = sum(math.comb(alive, k) for k in range(1, max_failures + 1)) + len(zone_sets)
    runner = _Dask(cluster, scheduler, baseline_ok, time_limit) if scheduler else _Local(cluster, jobs, baseline_ok, time_limit)
    sweep = _Sweep(cluster, classes, baseline_ok, runner, total, progress, prune=prune,
                   compose_recoveries=compose_recoveries, audit=audit)
    try:
        for k in range(1, max_failures + 1):
            sweep.judge_sets_of_size(k)
        sweep.judge_zones(zone_sets)
    finally:
        runner.close()
    result = sweep.result(max_failures, zones)
    if minimum:
        from placement.resilience.minima import data_loss_minima

        result.minima = list(data_loss_minima(cluster))
    result.seconds = time.monotonic() - started
    return result


def _zone_failures(cluster: Cluster) -> list[tuple[str, ...]]:
    """Each zone's live nodes, as one failure set per zone."""
    sets = []
    for z in sorted({n.zone for n in cluster.nodes}):
        members = tuple(sorted(n.name for n in cluster.nodes if n.zone == z and n.state.value != "failed"))
        if members:
            sets.append(members)
    return sets


class _Sweep:
    """The failure sets by increasing size: pruned, composed or judged, counted with their weights."""

    def __init__(self, cluster: Cluster, classes: list[list[str]], baseline_ok: bool, runner, total: int,
                 progress: Callable[[int, int], None] | None, *, prune: bool, compose_recoveries: bool, audit: bool):
        self.cluster, self.classes, self.baseline_ok, self.runner = cluster, classes, baseline_ok, runner
        self.total, self.progress, self.finished = total, progress, 0
        self.prune, self.compose_recoveries, self.audit = prune, compose_recoveries, audit
        self.room = NodeRoom(cluster)
        self.already = frozenset(n.name for n in cluster.nodes if n.state.value == "failed")
        self.at_risk = _volumes_at_risk(cluster)
        self.verdicts: list[ScenarioVerdict] = []  # the unsurvived and undecided ones
        self.counts: Counter = Counter()
        self.losing_combos: set[tuple[int, ...]] = set()  # lose data: so does every superset
        self.singles: dict[int, Footprint] = {}  # holder class -> the recovery of its node failing alone
        self.previous: dict[tuple[int, ...], Footprint] = {}  # survived sets one smaller -> their recoveries
        self.current: dict[tuple[int, ...], Footprint] = {}  # survived sets of this size -> their recoveries

    def done(self, count: int) -> None:
        self.finished += count
        if self.progress:
            self.progress(self.finished, self.total)

    def record(self, combo, weight: int, verdict: ScenarioVerdict) -> None:
        if verdict.survived is False:
            self.counts["failing"] += weight
            self.verdicts.append(verdict)
            if verdict.data_lost:
                self.losing_combos.add(combo)
        elif verdict.survived is None:
            self.counts["undecided"] += weight
            self.verdicts.append(verdict)
        elif verdict.footprint is not None and combo is not None:
            self.current[combo] = verdict.footprint

    def single(self, x: int, nth: int) -> Footprint | None:
        """The recovery of the nth node of class x failing alone."""
        if len(self.classes[x]) == 1:
            return self.singles.get(x)
        # a node that holds nothing: failing it changes nothing (when the cluster is valid now)
        return Footprint(self.already | {self.classes[x][nth]}) if self.baseline_ok else None

    def judge_sets_of_size(self, k: int) -> None:
        self.current = {}
        todo, weights = [], []
        for combo in _sets_of_size(self.classes, k):
            weight = _multiplicity(self.classes, combo)
            if self._pruned(combo, weight, k) or (k > 1 and self._decided_without_judging(combo, weight)):
                continue
            todo.append(combo)
            weights.append(weight)
        jobs_now = [(_members(self.classes, c), _warm(c, self.previous)) for c in todo]
        judged = self.runner.judge_all(jobs_now,
                                       lambda n, it=iter(weights): self.done(sum(next(it) for _ in range(n))))
        for combo, weight, verdict in zip(todo, weights, judged):
            self.counts["symmetric"] += weight - 1
            self.counts["solved" if verdict.decided_by == "solver" else "bounded"] += 1
            self.record(combo, weight, verdict)
        if k == 1:
            self.singles = {c[0]: fp for c, fp in self.current.items() if len(self.classes[c[0]]) == 1}
        self.previous = self.current

    def _pruned(self, combo, weight: int, k: int) -> bool:
        """A superset of a set that loses data loses it too: failing, without a judgement."""
        if not (self.prune and k > 1 and any(combo[:i] + combo[i + 1:] in self.losing_combos for i in range(k))):
            return False
        self.losing_combos.add(combo)
        self.counts["pruned"] += weight
        self.counts["failing"] += weight
        self.done(weight)
        return True

    def _decided_without_judging(self, combo, weight: int) -> bool:
        """Data loss (a set test) or a recovery composed from smaller ones decides the set."""
        members = _members(self.classes, combo)
        lost = _lost(self.at_risk, members)
        composed = None
        if not lost and self.compose_recoveries:
            composed = _compose(combo, self.previous, self.single, self.room)
        if not lost and composed is None:
            return False
        verdict = _data_loss(self.cluster, members, lost) if lost else \
            ScenarioVerdict(members, True, "composed", footprint=composed)
        if self.audit and composed is not None:
            _audit(self.cluster, members, composed)
        self.counts["bounded"] += 1
        self.counts["composed"] += composed is not None
        self.counts["symmetric"] += weight - 1
        self.record(combo, weight, verdict)
        self.done(weight)
        return True

    def judge_zones(self, zone_sets: list[tuple[str, ...]]) -> None:
        if not zone_sets:
            return
        for verdict in self.runner.judge_all([(z, None) for z in zone_sets], self.done):
            self.counts["solved" if verdict.decided_by == "solver" else "bounded"] += 1
            self.record(None, 1, verdict)

    def result(self, max_failures: int, zones: bool) -> ResilienceResult:
        counts = self.counts
        failed = [v for v in self.verdicts if v.survived is False]
        counterexample = min(failed, key=lambda v: (len(v.failed), v.failed)) if failed else None
        tolerates = False if failed else (None if counts["undecided"] else True)
        return ResilienceResult(
            tolerates=tolerates, scenarios=self.total, checked=self.total - counts["undecided"],
            solved=counts["solved"], bounded=counts["bounded"], composed=counts["composed"], pruned=counts["pruned"],
            symmetric=counts["symmetric"], failing=counts["failing"], undecided=counts["undecided"],
            counterexample=counterexample, seconds=0.0, max_failures=max_failures, zones=zones)


__all__ = ["ResilienceResult", "ScenarioVerdict", "check_resilience", "judge", "node_classes"]

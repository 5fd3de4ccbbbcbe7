"""Planned maintenance: may these nodes stop now (``ok_to_stop``), and the fewest waves that
stop every node once while the cluster keeps serving (``waves``). SEMANTICS.md section 6.

A *requirement* is one volume or one partition, the in-sync replicas that serve it now and
how many it needs to keep serving:

- a volume: its in-sync replicas (stale ones do not count) on nodes that have not failed;
  it needs ``min_replicas`` of them, by default its replication factor minus one, at least 1;
- a partition: its in-sync replicas on brokers that run (a broker runs while its node is
  neither failed nor stopped); it needs its topic's ``min.insync.replicas``.

Stopping nodes takes away the replicas on them. A set of nodes is ok to stop when every
requirement keeps what it needs, so a requirement may lose at most its *allowance*
(current minus needed) at once. A maintenance wave is such a set, stopped while every
other node runs; the waves partition the nodes to maintain (every live storage node, broker
node or node holding a replica), each at most ``max_wave`` nodes. Finding the fewest is a
capacitated colouring problem:

    minimise k   subject to   every node in exactly one of k waves,  |wave| <= max_wave,
                              sum over the wave of r's replicas <= allowance(r), for every r

The answer is proven by an upper bound (a partition found, checked with the plain rule
above) meeting a lower bound with a certificate anyone can check by hand:

- pairwise-conflicting nodes: two nodes conflict when some requirement's replicas on the two
  together exceed its allowance; k nodes that pairwise conflict need k waves;
- ceil(nodes / max_wave);
- one requirement: each wave takes at most its allowance of its replicas, so it alone needs
  ceil(replicas / allowance) waves;
- CP-SAT's proof that one wave fewer is infeasible.

A requirement that is already short, or that cannot lose even the replicas on one node,
makes every partition impossible: that is a negative verdict naming them.
"""
from __future__ import annotations

import heapq
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from placement.models.cluster import Cluster, NodeState
from placement.models.errors import InputError, InternalError, Problem

WAVES_TIME_LIMIT = 60.0  # seconds of CP-SAT in all, when the bounds do not meet at once


# -- requirements -----------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    """A volume or partition, where its serving in-sync replicas are, and how many it needs."""

    kind: str  # "volume" or "partition"
    name: str
    holders: tuple[tuple[str, int], ...]  # node -> in-sync replicas of it serving there (cluster order)
    needed: int
    brokers: tuple[tuple[str, tuple[int, ...]], ...] = ()  # partitions: node -> its in-sync brokers there

    @property
    def subject(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def current(self) -> int:
        return sum(count for _, count in self.holders)

    @property
    def allowance(self) -> int:
        """How many of its serving replicas may stop at once."""
        return self.current - self.needed

    def on(self, nodes: Iterable[str]) -> int:
        chosen = set(nodes)
        return sum(count for node, count in self.holders if node in chosen)

    def replica_words(self) -> str:
        return "in-sync replica" if self.kind == "volume" else "in-sync replica on a running broker"

    def needs_words(self) -> str:
        return "--min-replicas" if self.kind == "volume" else "min.insync.replicas"


def requirements(cluster: Cluster, min_replicas: int | None = None) -> list[Requirement]:
    """Every volume and partition with its serving replicas, volumes first, in cluster order."""
    failed = {n.name for n in cluster.nodes if n.state is NodeState.FAILED}
    order = {n.name: i for i, n in enumerate(cluster.nodes)}
    out = []
    for v in cluster.volumes:
        held = Counter(n for n in v.in_sync_replicas if n not in failed)
        needed = min_replicas if min_replicas is not None else max(1, v.replication_factor - 1)
        out.append(Requirement("volume", v.name, tuple(sorted(held.items(), key=lambda h: order[h[0]])), needed))
    for p in cluster.partitions:
        where: dict[str, list[int]] = {}
        for b in p.isr:
            node = cluster.broker[b].node
            if node not in failed:
                where.setdefault(node, []).append(b)
        nodes = sorted(where, key=order.__getitem__)
        out.append(Requirement("partition", p.label, tuple((n, len(where[n])) for n in nodes), cluster.min_insync(p),
                               tuple((n, tuple(where[n])) for n in nodes)))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- ok to stop -------------------------------------------------------------------------

@dataclass(frozen=True)
class Shortfall:
    """A volume or partition that would not keep what it needs."""

    kind: str
    name: str
    current: int  # serving in-sync replicas with the nodes stopped
    needed: int
    before: int  # serving in-sync replicas now, before anything stops
    stopped: tuple[str, ...]  # the stopped nodes that held its replicas
    brokers: tuple[int, ...] = ()  # partitions: the in-sync brokers that stop with them

    @property
    def already_short(self) -> bool:
        return self.before < self.needed

    @property
    def message(self) -> str:
        plural = "" if self.current == 1 else "s"
        replicas = f"in-sync replica{plural} on running nodes" if self.kind == "volume" else \
            f"in-sync replica{plural} on running brokers"
        needs = "" if self.kind == "volume" else " (min.insync.replicas)"
        words = f"{self.kind} {self.name} keeps {self.current} {replicas}, needs {self.needed}{needs}"
        if self.stopped:
            lost = self.before - self.current
            what = f"broker{'s' if len(self.brokers) != 1 else ''} {', '.join(map(str, self.brokers))} on " \
                if self.brokers else ""
            words += f"; stopping {what}{', '.join(self.stopped)} takes {lost} of its {self.before}"
        if self.already_short:
            words += f"; it was already short before stopping anything ({self.before} of {self.needed})"
        return words

    def to_document(self) -> dict:
        doc = {"kind": self.kind, "name": self.name, "current": self.current, "needed": self.needed,
               "before": self.before, "alreadyShort": self.already_short, "stopped": list(self.stopped),
               "message": self.message}
        if self.kind == "partition":
            doc["brokers"] = list(self.brokers)
        return doc


@dataclass(frozen=True)
class StopVerdict:
    """``ok_to_stop``'s answer: yes, or no with each volume and partition that would fall short."""

    nodes: tuple[str, ...]
    ok: bool
    min_replicas: int | None
    shortfalls: tuple[Shortfall, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def already_short(self) -> tuple[Shortfall, ...]:
        return tuple(s for s in self.shortfalls if s.already_short)

    def to_document(self) -> dict:
        return {"okToStop": self.ok, "nodes": list(self.nodes), "minReplicas": self.min_replicas,
                "shortfalls": [s.to_document() for s in self.shortfalls],
                "alreadyShort": len(self.already_short), "notes": list(self.notes)}


def _check_cluster(cluster) -> None:
    if not isinstance(cluster, Cluster):
        raise InputError("options", Problem("cluster", f"expected a cluster (placement.load_cluster(path)), got "
                                                       f"{type(cluster).__name__}"))


def check_min_replicas(min_replicas, source: str = "options") -> int | None:
    if min_replicas is None:
        return None
    if isinstance(min_replicas, bool) or not isinstance(min_replicas, int) or not 1 <= min_replicas <= 3:
        raise InputError(source, Problem("--min-replicas", f"{min_replicas!r} is not a number of replicas Portworx "
                                                           "keeps: give a whole number from 1 to 3"))
    return min_replicas


def _node_names(cluster: Cluster, nodes, what: str, source: str) -> tuple[str, ...]:
    import difflib

    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
        raise InputError(source, Problem(what, f"expected a list of node names, got {type(nodes).__name__} "
                                               f"{str(nodes)[:80]!r}; e.g. [\"node-1\", \"node-2\"]"))
    names = sorted(cluster.node)
    problems, out = [], []
    for name in nodes:
        if not isinstance(name, str):
            problems.append(Problem(what, f"{str(name)[:80]!r} is not a node name (a string)"))
        elif name not in cluster.node:
            hint = difflib.get_close_matches(name, names, n=1)
            known = f"did you mean {hint[0]!r}?" if hint else \
                "nodes: " + ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            problems.append(Problem(what, f"{name[:80]!r} is not a node of cluster {cluster.name!r} ({known})"))
        elif name not in out:
            out.append(name)
    if problems:
        raise InputError(source, problems)
    order = {n.name: i for i, n in enumerate(cluster.nodes)}
    return tuple(sorted(out, key=order.__getitem__))


def ok_to_stop(cluster: Cluster, nodes: Iterable[str], min_replicas: int | None = None, *,
               source: str | None = None) -> StopVerdict:
    """May ``nodes`` stop now, with no step taken? Yes when every volume keeps at least
    ``min_replicas`` in-sync replicas on running nodes (default: its replication factor minus
    one, at least 1) and every partition keeps its min.insync.replicas in-sync replicas on
    running brokers. Otherwise no, with each one that falls short (linear in the cluster)."""
    _check_cluster(cluster)
    where = source or cluster.source or "options"
    min_replicas = check_min_replicas(min_replicas, where)
    stopping = _node_names(cluster, nodes, "--ok-to-stop", where)
    stopped = set(stopping)
    failed = {n.name for n in cluster.nodes if n.state is NodeState.FAILED}
    shortfalls = []
    # one pass over the cluster, without building every requirement (the 1,000-node cluster in ~50 ms)
    for v in cluster.volumes:
        serving = [n for n in v.in_sync_replicas if n not in failed]
        needed = min_replicas if min_replicas is not None else max(1, v.replication_factor - 1)
        lost = [n for n in serving if n in stopped]
        if len(serving) - len(lost) < needed:
            shortfalls.append(Shortfall("volume", v.name, len(serving) - len(lost), needed, len(serving), tuple(lost)))
    runs = {b.id: b.node not in failed for b in cluster.brokers}
    stops = {b.id: b.node for b in cluster.brokers if b.node in stopped and b.node not in failed}
    order = _order(cluster) if stops else {}
    for t in cluster.topics:
        for p in t.partitions:
            serving = [b for b in p.isr if runs[b]]
            lost = [b for b in serving if b in stops] if stops else []
            if len(serving) - len(lost) < t.min_insync_replicas:
                nodes_lost = tuple(dict.fromkeys(sorted((stops[b] for b in lost), key=order.__getitem__)))
                shortfalls.append(Shortfall("partition", p.label, len(serving) - len(lost), t.min_insync_replicas,
                                            len(serving), nodes_lost, tuple(lost)))
    notes = tuple(f"node {n} has already failed: stopping it changes nothing" for n in stopping
                  if cluster.node[n].state is NodeState.FAILED)
    return StopVerdict(stopping, not shortfalls, min_replicas, tuple(shortfalls), notes)


def _order(cluster: Cluster) -> dict[str, int]:
    return {n.name: i for i, n in enumerate(cluster.nodes)}


# -- waves ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    """Two nodes that cannot stop in one wave, and the requirement that forbids it."""

    nodes: tuple[str, str]
    requirement: Requirement

    @property
    def message(self) -> str:
        r = self.requirement
        a, b = self.nodes
        on = f"{r.on([a]) + r.on([b])} of them" if r.on([a]) + r.on([b]) != 2 else "one each"
        return (f"{a} and {b}: {r.subject} may lose only {r.allowance} of its {r.current} "
                f"{r.replica_words()}s at once (needs {r.needed}), and they hold {on}")

    def to_document(self) -> dict:
        r = self.requirement
        return {"nodes": list(self.nodes), "subject": r.subject, "allowance": r.allowance, "current": r.current,
                "needed": r.needed, "message": self.message}


@dataclass(frozen=True)
class WavePlan:
    """``waves``' answer: the waves (each ok to stop while all others run), the lower bound
    with its certificate, and whether the two meet (``proven``); or, when no partition can
    exist, ``possible`` false and the requirements that forbid it (``blocking``)."""

    possible: bool
    waves: tuple[tuple[str, ...], ...]
    proven: bool
    lower_bound: int
    certificate: dict
    max_wave: int | None
    min_replicas: int | None
    nodes: int  # nodes to maintain
    blocking: tuple[Shortfall, ...] = ()
    conflicts: tuple[Conflict, ...] = ()  # why the certificate's nodes cannot share a wave
    conflicting_pairs: int = 0  # node pairs that cannot share a wave, in all
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    solver: dict = field(default_factory=dict)

    def to_document(self) -> dict:
        return {"waves": [list(w) for w in self.waves], "proven": self.proven, "possible": self.possible,
                "count": len(self.waves), "lowerBound": self.lower_bound, "certificate": self.certificate,
                "maxWave": self.max_wave, "minReplicas": self.min_replicas, "nodes": self.nodes,
                "blocking": [b.to_document() for b in self.blocking],
                "conflicts": [c.to_document() for c in self.conflicts], "conflictingPairs": self.conflicting_pairs,
                "notes": list(self.notes), "solver": self.solver, "seconds": round(self.seconds, 3)}


def nodes_to_maintain(cluster: Cluster) -> tuple[str, ...]:
    """Every live storage node, broker node or node holding a replica, in cluster order."""
    holding = {n for v in cluster.volumes for n in v.replicas} | {b.node for b in cluster.brokers}
    return tuple(n.name for n in cluster.nodes
                 if n.state is not NodeState.FAILED and (n.is_storage or n.name in holding))


class _Colouring:
    """The waves problem over the nodes to maintain: each requirement that binds, by node."""

    def __init__(self, nodes: tuple[str, ...], reqs: list[Requirement], max_wave: int | None):
        self.nodes, self.max_wave = nodes, max_wave
        self.index = {n: i for i, n in enumerate(nodes)}
        distinct: dict[tuple, Requirement] = {}
        for r in reqs:
            held = tuple((n, c) for n, c in r.holders if n in self.index)
            if sum(c for _, c in held) <= r.allowance:
                continue  # all of it may stop at once: it constrains nothing
            seen = distinct.get(held)
            if seen is None or r.allowance < seen.allowance:
                distinct[held] = r
        self.reqs = list(distinct.values())
        self.allowance = [r.allowance for r in self.reqs]
        self.by_node: list[list[tuple[int, int]]] = [[] for _ in nodes]  # node -> (requirement, replicas there)
        for j, r in enumerate(self.reqs):
            for n, c in r.holders:
                if n in self.index:
                    self.by_node[self.index[n]].append((j, c))
        self.neighbours: list[set[int]] = [set() for _ in nodes]
        self.reason: dict[tuple[int, int], int] = {}
        for j, r in enumerate(self.reqs):
            held = [(self.index[n], c) for n, c in r.holders if n in self.index]
            for x in range(len(held)):
                for y in range(x + 1, len(held)):
                    (a, ca), (b, cb) = held[x], held[y]
                    if ca + cb > r.allowance and b not in self.neighbours[a]:
                        self.neighbours[a].add(b)
                        self.neighbours[b].add(a)
                        self.reason[(min(a, b), max(a, b))] = j

    @property
    def pairs(self) -> int:
        return len(self.reason)

    def conflict(self, a: int, b: int) -> Conflict:
        r = self.reqs[self.reason[(min(a, b), max(a, b))]]
        x, y = sorted((a, b))
        return Conflict((self.nodes[x], self.nodes[y]), r)

    # -- upper bounds: greedy partitions --------------------------------------------------
    def first_fit(self, order: Iterable[int]) -> list[list[int]]:
        """Each node into the first wave it fits (size and every requirement), else a new one."""
        waves: list[list[int]] = []
        loads: list[dict[int, int]] = []
        for i in order:
            for g, load in enumerate(loads):
                if self._fits(i, waves[g], load):
                    self._put(i, waves[g], load)
                    break
            else:
                waves.append([])
                loads.append({})
                self._put(i, waves[-1], loads[-1])
        return waves

    def _fits(self, i: int, wave: list[int], load: dict[int, int]) -> bool:
        if self.max_wave is not None and len(wave) >= self.max_wave:
            return False
        return all(load.get(j, 0) + c <= self.allowance[j] for j, c in self.by_node[i])

    def _put(self, i: int, wave: list[int], load: dict[int, int]) -> None:
        wave.append(i)
        for j, c in self.by_node[i]:
            load[j] = load.get(j, 0) + c

    def dsatur(self) -> list[list[int]]:
        """Most-constrained node first (distinct waves among its conflicting neighbours, then
        degree), into the first wave it fits: Brélaz's colouring heuristic with capacities."""
        n = len(self.nodes)
        wave_of = [-1] * n
        seen: list[set[int]] = [set() for _ in range(n)]
        heap = [(0, -len(self.neighbours[i]), i) for i in range(n)]
        heapq.heapify(heap)
        waves: list[list[int]] = []
        loads: list[dict[int, int]] = []
        while heap:
            sat, _, i = heapq.heappop(heap)
            if wave_of[i] >= 0 or -sat != len(seen[i]):
                continue
            for g, load in enumerate(loads):
                if g not in seen[i] and self._fits(i, waves[g], load):
                    break
            else:
                g = len(waves)
                waves.append([])
                loads.append({})
            self._put(i, waves[g], loads[g])
            wave_of[i] = g
            for k in self.neighbours[i]:
                if wave_of[k] < 0 and g not in seen[k]:
                    seen[k].add(g)
                    heapq.heappush(heap, (-len(seen[k]), -len(self.neighbours[k]), k))
        return waves

    # -- lower bounds ---------------------------------------------------------------------
    def clique(self, enough: int, budget: float) -> list[int]:
        """A large set of pairwise-conflicting nodes (greedy from the busiest nodes; stops at ``enough``)."""
        best: list[int] = []
        started = time.monotonic()
        by_degree = sorted(range(len(self.nodes)), key=lambda i: (-len(self.neighbours[i]), i))
        for start in by_degree:
            if len(self.neighbours[start]) + 1 <= len(best) or time.monotonic() - started > budget:
                break
            chosen = [start]
            candidates = set(self.neighbours[start])
            while candidates:
                k = max(candidates, key=lambda c: (len(self.neighbours[c] & candidates), -c))
                chosen.append(k)
                candidates &= self.neighbours[k]
            if len(chosen) > len(best):
                best = chosen
                if len(best) >= enough:
                    break
        return best

    def item_bound(self) -> tuple[int, int | None]:
        best, which = 0, None
        for j, r in enumerate(self.reqs):
            need = math.ceil(sum(c for n, c in r.holders if n in self.index) / max(1, r.allowance))
            if need > best:
                best, which = need, j
        return best, which

    # -- the exact answer: CP-SAT ------------------------------------------------------------
    def solve(self, k: int, clique: list[int], hint: list[list[int]] | None, time_limit: float, seed: int = 0):
        """Partition into at most k waves: ('feasible', waves), ('infeasible', None) or ('unknown', None)."""
        from ortools.sat.python import cp_model

        model = cp_model.CpModel()
        n = len(self.nodes)
        x = [[model.NewBoolVar(f"wave[{self.nodes[i]},{g}]") for g in range(k)] for i in range(n)]
        for i in range(n):
            model.AddExactlyOne(x[i])
        if self.max_wave is not None:
            for g in range(k):
                model.Add(sum(x[i][g] for i in range(n)) <= self.max_wave)
        for j, r in enumerate(self.reqs):
            held = [(self.index[m], c) for m, c in r.holders if m in self.index]
            unit = all(c == 1 for _, c in held)
            for g in range(k):
                if unit and r.allowance == 1:
                    model.AddAtMostOne(x[i][g] for i, _ in held)
                else:
                    model.Add(sum(c * x[i][g] for i, c in held) <= r.allowance)
        for g, i in enumerate(clique[:k]):  # symmetry: the conflicting nodes take the first waves
            model.Add(x[i][g] == 1)
        if hint:
            for g, wave in enumerate(hint[:k]):
                for i in wave:
                    model.AddHint(x[i][g], 1)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.1, time_limit)
        solver.parameters.num_workers = 2
        solver.parameters.random_seed = seed
        status = solver.Solve(model)
        if status == cp_model.INFEASIBLE:
            return "infeasible", None
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            waves = [[i for i in range(n) if solver.Value(x[i][g])] for g in range(k)]
            return "feasible", [w for w in waves if w]
        return "unknown", None


def _blocking(nodes: tuple[str, ...], reqs: list[Requirement]) -> list[Shortfall]:
    """Requirements that no partition into waves can meet: already short, or unable to lose
    even the replicas on one of its nodes."""
    maintained = set(nodes)
    out = []
    for r in reqs:
        if r.current < r.needed:
            out.append(Shortfall(r.kind, r.name, r.current, r.needed, r.current, ()))
            continue
        for n, c in r.holders:
            if n in maintained and c > r.allowance:
                brokers = dict(r.brokers).get(n, ())
                out.append(Shortfall(r.kind, r.name, r.current - c, r.needed, r.current, (n,), brokers))
    return out


def waves(cluster: Cluster, max_wave: int | None = None, min_replicas: int | None = None, *,
          time_limit: float = WAVES_TIME_LIMIT, source: str | None = None) -> WavePlan:
    """The fewest waves of nodes to stop one after another, every node to maintain in exactly one,
    each at most ``max_wave`` nodes and ok to stop while every other node runs; the minimum is
    proven by a lower-bound certificate or CP-SAT within ``time_limit`` (else ``proven`` is
    false and the bound is given)."""
    started = time.monotonic()
    _check_cluster(cluster)
    where = source or cluster.source or "options"
    min_replicas = check_min_replicas(min_replicas, where)
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not 0 < time_limit < 1e6:
        raise InputError(where, Problem("--time-limit", f"{str(time_limit)[:40]!r} is not a number of seconds: give "
                                                        "a number above 0"))
    if max_wave is not None and (isinstance(max_wave, bool) or not isinstance(max_wave, int) or max_wave < 1):
        raise InputError(where, Problem("--max-wave", f"{str(max_wave)[:40]!r} is not a number of nodes: give a "
                                                      "whole number of at least 1"))
    nodes = nodes_to_maintain(cluster)
    reqs = requirements(cluster, min_replicas)
    common = dict(max_wave=max_wave, min_replicas=min_replicas, nodes=len(nodes))
    blocking = _blocking(nodes, reqs)
    if blocking:
        return WavePlan(False, (), True, 0, {"kind": "blocking", "requirements": len(blocking)}, **common,
                        blocking=tuple(blocking), seconds=time.monotonic() - started,
                        notes=(_blocking_note(blocking),))
    if not nodes:
        return WavePlan(True, (), True, 0, {"kind": "none", "why": "there are no nodes to maintain"}, **common,
                        seconds=time.monotonic() - started)
    problem = _Colouring(nodes, reqs, max_wave)
    candidates = [problem.dsatur(), _zone_waves(cluster, problem)]
    best = min(candidates, key=len)
    lower, certificate, clique = _lower_bound(problem, len(best))
    solver: dict = {}
    proven = lower >= len(best)
    deadline = started + time_limit
    while not proven:
        left = deadline - time.monotonic()
        if left <= 0.05:
            break
        t0 = time.monotonic()
        verdict, found = problem.solve(len(best) - 1, clique, best, left)
        solver = {"groups": len(best) - 1, "status": verdict, "seconds": round(time.monotonic() - t0, 3)}
        if verdict == "feasible":
            best = found
            proven = lower >= len(best)
        elif verdict == "infeasible":
            proven = True
            lower = len(best)
            certificate = {"kind": "infeasible", "groups": len(best) - 1, "solver": "CP-SAT",
                           "seconds": solver["seconds"],
                           "why": f"CP-SAT proved that no {len(best) - 1} waves can hold every node"}
        else:
            break
    chosen = _canonical(problem, best)
    _check_waves(cluster, nodes, reqs, chosen, max_wave)
    conflicts = _certificate_conflicts(problem, certificate, clique)
    certificate.pop("index", None)
    return WavePlan(True, chosen, proven, lower, certificate, **common, conflicts=conflicts[:45],
                    conflicting_pairs=problem.pairs, notes=_notes(cluster, chosen, lower, certificate),
                    seconds=time.monotonic() - started, solver=solver)


def _certificate_conflicts(problem: _Colouring, certificate: dict, clique: list[int]) -> tuple[Conflict, ...]:
    """Why the certificate's nodes cannot share a wave: each conflicting pair and its reason."""
    if certificate.get("kind") == "item":
        members = sorted(problem.index[n] for n in certificate["holders"])
    else:
        members = sorted(clique)
    return tuple(problem.conflict(a, b) for x, a in enumerate(members) for b in members[x + 1:]
                 if (a, b) in problem.reason)


def _zone_waves(cluster: Cluster, problem: _Colouring) -> list[list[int]]:
    """Waves that never mix zones: each zone's nodes packed first-fit (often the best there is:
    with zone spread a zone holds at most one replica of each volume)."""
    zone = {n.name: n.zone for n in cluster.nodes}
    out: list[list[int]] = []
    for z in sorted({zone[n] for n in problem.nodes}):
        out += problem.first_fit(i for i, n in enumerate(problem.nodes) if zone[n] == z)
    return out


def _lower_bound(problem: _Colouring, upper: int) -> tuple[int, dict, list[int]]:
    """The best of the three hand-checkable bounds, with its certificate."""
    n = len(problem.nodes)
    size = math.ceil(n / problem.max_wave) if problem.max_wave else 1
    item, which = problem.item_bound()
    clique = problem.clique(upper, budget=5.0)
    best = max(size, item, len(clique), 1)
    if size == best:
        cert = {"kind": "size", "nodes": n, "maxWave": problem.max_wave,
                "why": f"{_plural(n, 'node')} to maintain, at most {problem.max_wave} per wave"
                if problem.max_wave else "there is at least one node to maintain"}
    elif item == best:
        r = problem.reqs[which]
        held = [m for m, _ in r.holders if m in problem.index]
        cert = {"kind": "item", "subject": r.subject, "holders": held, "replicas": r.current,
                "allowance": r.allowance, "needed": r.needed, "index": which,
                "why": f"{r.subject} has {r.current} {r.replica_words()}s (on {', '.join(held)}) and needs "
                       f"{r.needed}, so one wave may stop only {r.allowance} of them: "
                       f"ceil({r.current} / {r.allowance}) = {item} waves"}
    else:
        names = [problem.nodes[i] for i in clique]
        cert = {"kind": "clique", "nodes": names,
                "why": f"{_plural(len(names), 'node')} ({', '.join(names)}) of which no two can stop in the same wave"}
    return best, cert, clique


def _canonical(problem: _Colouring, waves_: list[list[int]]) -> tuple[tuple[str, ...], ...]:
    ordered = sorted((sorted(w) for w in waves_ if w), key=lambda w: w[0])
    return tuple(tuple(problem.nodes[i] for i in w) for w in ordered)


def _check_waves(cluster: Cluster, nodes: tuple[str, ...], reqs: list[Requirement],
                 chosen: tuple[tuple[str, ...], ...], max_wave: int | None) -> None:
    """The plain check every answer passes before it leaves: a partition of the nodes, each
    wave within max_wave and ok to stop while every other node runs."""
    placed = [n for w in chosen for n in w]
    if sorted(placed) != sorted(nodes):
        raise InternalError(f"waves do not partition the nodes to maintain: {chosen}")
    for w in chosen:
        if max_wave is not None and len(w) > max_wave:
            raise InternalError(f"wave {w} has more than {max_wave} nodes")
        stopped = set(w)
        for r in reqs:
            if r.current - sum(c for n, c in r.holders if n in stopped) < r.needed:
                raise InternalError(f"wave {w} is not ok to stop: {r.subject}")


def _blocking_note(blocking: list[Shortfall]) -> str:
    short = [b for b in blocking if b.already_short]
    stuck = [b for b in blocking if not b.already_short]
    words = []
    if short:
        words.append(f"{_plural(len(short), 'volume or partition')} already short before stopping anything")
    if stuck:
        nodes = sorted({n for b in stuck for n in b.stopped})
        words.append(f"{_plural(len(stuck), 'volume or partition')} that cannot lose any serving replica, so "
                     f"{_plural(len(nodes), 'node')} ({', '.join(nodes[:8])}{', ...' if len(nodes) > 8 else ''}) "
                     "can never stop")
    return "no waves exist: " + "; ".join(words)


def _notes(cluster: Cluster, chosen, lower: int, certificate: dict) -> tuple[str, ...]:
    zone = {n.name: n.zone for n in cluster.nodes}
    by_zone: dict[str, set[str]] = {}
    for w in chosen:
        for n in w:
            by_zone.setdefault(zone[n], set()).add(n)
    zones_of = [{zone[n] for n in w} for w in chosen]
    notes = []
    if len(chosen) > 1 and all(len(z) == 1 for z in zones_of) and \
            all(set(w) == by_zone[next(iter(z))] for w, z in zip(chosen, zones_of)):
        names = [next(iter(z)) for z in zones_of]
        notes.append(f"the waves are the zones ({', '.join(names)}): no volume or partition has more of its serving "
                     "replicas in one zone than it may lose at once (zone spread and rack awareness keep them in "
                     f"distinct zones); fewer than {len(chosen)} waves cannot be, as the lower bound says")
    return tuple(notes)


__all__ = ["Conflict", "Requirement", "Shortfall", "StopVerdict", "WavePlan", "nodes_to_maintain", "ok_to_stop",
           "requirements", "waves"]

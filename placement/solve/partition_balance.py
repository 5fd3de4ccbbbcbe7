"""The partitions stage's start, evened out: the least (most - fewest) per rack, exactly, among
the targets that differ from the start only by exchanges that change nothing above the balance
level; and when those are all the targets at the levels' optimum (``choices_forced``), a proof.

A decided partition's candidate brokers (not its fixed replicas) fall into classes
(``_class_of``): the zone (where racks matter; the balance groups are the racks then), whether
it held a replica before (no copy) and whether that replica is in sync (a source). Exchanging a
chosen broker for another candidate of the same class keeps every level above balance as it
is: the replica count, the zones covered (I6's racks, the racks level), the data copied, a
source kept to lead and copy from. So each (partition, class) is a demand for k distinct
brokers among the class's candidates, and the brokers' loads (replicas held after the move)
are the degrees of a bipartite b-matching on top of what they hold anyway.

The load vectors such matchings give form an M-convex set (the boundary of integral flows of a
network with fixed supplies), and there an element that minimises the sum of squared loads is
decreasingly minimal and increasingly maximal at once (Frank and Murota, "Discrete decreasing
minimization", Part I): the lowest maximum and the highest minimum of every rack together, so
the least (most - fewest) of each rack -- the partitions stage's balance level -- within these
exchanges. That is one min-cost flow with convex costs (a broker's k-th replica costs
(held + k)^2 - (held + k - 1)^2, scaled above a tie-break: the fewest exchanges from the start,
which had evened bytes too), solved exactly by OR-Tools' network simplex (C++).

The network stays small: a class whose candidates are every running broker of its zones (the
new replica of a rack move or a refill, one per zone) reaches them through one shared node per
zone instead of an arc per broker (no broker of such a zone holds the partition, so any may take
it); only classes with exclusions (the replicas a rack move keeps, several new ones in one zone)
list their candidates. A broker's convex arcs stop at the start's highest load in its balance
group (the optimum's maximum is no higher).

Complexity: O(P_d (R + Z) + B Z) to read the classes (P_d decided partitions, R replicas,
Z zones, B running brokers; a partition's domain is not walked when it is what
``Space.for_partitions`` builds: its fixed replicas, the ones a rack move may keep, and every
running broker of its candidate zones), a network of O(P_d R + B Z + B L) arcs (L: the start's
highest load), and the flow.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations_with_replacement

from placement.models.plan import PartitionTarget, Placement


@dataclass
class _Class:
    """One class of one decided partition's candidates: how many there are, the chosen ones, and
    either the candidates listed (``listed``) or the zones whose every running broker is one
    (``pool``: none of them holds the partition)."""

    key: tuple
    cls: tuple
    count: int
    picked: list[int]
    listed: list[int] | None = None
    pool: frozenset[str] = frozenset()

    def candidates(self, by_zone: dict[str, list[int]]) -> list[int]:
        if self.listed is not None:
            return self.listed
        return [b for z in sorted(self.pool) for b in by_zone[z]]


def _class_of(b: int, zone_of: dict[int, str], by_rack: bool, old, sources) -> tuple:
    """What an exchange must keep of a chosen broker (module docstring)."""
    return (zone_of[b] if by_rack else "", b in old, b in sources)


def _groups(space) -> tuple[dict[int, str], dict[str, list[int]], bool]:
    """(running broker -> zone, zone -> its running brokers in id order, whether the balance groups
    are racks: ``objectives._PartitionsShape``)."""
    scenario = space.scenario
    cluster = scenario.cluster
    zone_of = {b: cluster.node[n].zone for b, n in space.base.brokers.items() if n is not None}
    by_zone: dict[str, list[int]] = defaultdict(list)
    for b in sorted(zone_of):
        by_zone[zone_of[b]].append(b)
    return zone_of, by_zone, bool(scenario.rack_required or scenario.rack_preferred)


def partition_classes(space, target: Placement, *, walk: bool = False):
    """Per decided partition: (key, its classes: class -> ``_Class``), the classes sorted. The
    domain is walked only where it is not ``Space.for_partitions``' shape (or with ``walk``: the
    tests compare both readings)."""
    scenario = space.scenario
    cluster = scenario.cluster
    zone_of, by_zone, by_rack = _groups(space)
    for key, domain in space.partition_domain.items():
        p = cluster.partition[key]
        fixed = space.fixed_members.get(key, ())
        old, sources = p.replicas, set(scenario.sources(p))
        chosen = set(target.partitions[key].replicas)
        zones = space.partition_zones.get(key)
        running = {b for b in old if b in zone_of}
        shaped = (not walk and zones is not None and sources.issubset(old)
                  and len(domain) == len(running) + sum(len(by_zone[z]) for z in zones)
                  - sum(1 for b in running if zone_of[b] in zones))
        classes: dict[tuple, _Class] = {}
        if shaped:
            for b in sorted(running):
                if b in fixed:
                    continue
                c = classes.setdefault(_class_of(b, zone_of, by_rack, old, sources), _Class(key, (), 0, [], []))
                c.count += 1
                c.listed.append(b)
                if b in chosen:
                    c.picked.append(b)
            pools: dict[str, set[str]] = defaultdict(set)
            for z in zones:
                pools[z if by_rack else ""].add(z)
            for name, pool in pools.items():
                cls = (name, False, False)
                count = sum(len(by_zone[z]) for z in pool) - sum(1 for b in running if zone_of[b] in pool)
                if count <= 0:
                    continue
                picked = sorted(b for b in chosen if b not in old and b in zone_of and zone_of[b] in pool)
                if any(zone_of[b] in pool for b in running) or len(picked) > 1:
                    listed = [b for z in sorted(pool) for b in by_zone[z] if b not in running]
                    classes[cls] = _Class(key, cls, count, picked, listed)
                else:
                    classes[cls] = _Class(key, cls, count, picked, None, frozenset(pool))
        else:
            for b in domain:
                if b in fixed or b not in zone_of:
                    continue
                cls = _class_of(b, zone_of, by_rack, old, sources)
                c = classes.setdefault(cls, _Class(key, cls, 0, [], []))
                c.count += 1
                c.listed.append(b)
                if b in chosen:
                    c.picked.append(b)
        for cls, c in classes.items():
            c.cls = cls
        yield key, dict(sorted(classes.items()))


def partition_loads(space, target: Placement) -> dict[int, int]:
    """Running broker -> the partition replicas it holds in ``target``: O(P R)."""
    held = {b: 0 for b, n in space.base.brokers.items() if n is not None}
    for t in target.partitions.values():
        for b in t.replicas:
            if b in held:
                held[b] += 1
    return held


def even_out(space, target: Placement) -> Placement:
    """``target`` (a start that lies in ``space``) with each (partition, class)'s brokers chosen
    anew by the min-cost flow of the module docstring; ``target`` itself where nothing changes."""
    if not space.partition_domain:
        return target
    zone_of, by_zone, by_rack = _groups(space)
    choices = [c for _, classes in partition_classes(space, target) for c in classes.values()
               if c.picked and c.count > len(c.picked)]
    if not choices:
        return target
    held = partition_loads(space, target)
    group = {b: zone_of[b] if by_rack else "" for b in zone_of}
    ceiling: dict[str, int] = defaultdict(int)  # per balance group, the start's highest load
    for b, load in held.items():
        ceiling[group[b]] = max(ceiling[group[b]], load)
    top = {b: ceiling[group[b]] for b in held}
    for c in choices:
        for b in c.picked:
            held[b] -= 1  # decided anew below
    chosen = _flow(choices, held, by_zone, top)
    partitions = dict(target.partitions)
    swaps: dict = defaultdict(dict)
    for c, now in zip(choices, chosen):
        leaving = [b for b in c.picked if b not in now]
        coming = [b for b in now if b not in c.picked]
        for a, b in zip(leaving, coming):
            swaps[c.key][a] = b
    for key, swap in swaps.items():
        t = target.partitions[key]
        replicas = tuple(swap.get(b, b) for b in t.replicas)
        partitions[key] = PartitionTarget(t.topic, t.partition, replicas, t.leader if t.leader in replicas else None)
    return Placement(brokers=target.brokers, volumes=target.volumes, partitions=partitions)


def _flow(choices: list[_Class], held: dict[int, int], by_zone: dict[str, list[int]],
          top: dict[int, int]) -> list[list[int]]:
    """Per class, the brokers the least-cost flow picks (module docstring): supply k at the class;
    a listed class has an arc of capacity 1 to each candidate (cost 1 where the start did not
    pick it), a pooled one an arc to its pool's node, which reaches each broker of the pool; each
    broker's units go to the sink at the convex cost of its squared load, scaled above every
    tie-break together."""
    import numpy as np
    from ortools.graph.python import min_cost_flow

    brokers = sorted({b for c in choices for b in c.candidates(by_zone)})
    index = {b: i for i, b in enumerate(brokers)}
    pools = sorted({c.pool for c in choices if c.listed is None}, key=sorted)
    pool_index = {pool: i for i, pool in enumerate(pools)}
    first_pool = len(choices)
    first_broker = first_pool + len(pools)
    sink = first_broker + len(brokers)
    units = sum(len(c.picked) for c in choices)
    scale = units + 1  # every exchange together costs less than one unit of squared load
    tails, heads, caps, costs = [], [], [], []

    def arc(tail: int, head: int, cap: int, cost: int) -> None:
        tails.append(tail)
        heads.append(head)
        caps.append(cap)
        costs.append(cost)

    for i, c in enumerate(choices):
        if c.listed is None:
            arc(i, first_pool + pool_index[c.pool], len(c.picked), 0)
            continue
        were = set(c.picked)
        for b in c.listed:
            arc(i, first_broker + index[b], 1, 0 if b in were else 1)
    for pool, i in pool_index.items():
        for z in sorted(pool):
            for b in by_zone[z]:
                arc(first_pool + i, first_broker + index[b], units, 0)
    for b in brokers:
        for k in range(1, max(0, top[b] - held[b]) + 1):
            arc(first_broker + index[b], sink, 1, scale * (2 * (held[b] + k) - 1))  # (held+k)^2 - (held+k-1)^2
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(np.array(tails, dtype=np.int64), np.array(heads, dtype=np.int64),
                                                     np.array(caps, dtype=np.int64), np.array(costs, dtype=np.int64))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    for i, c in enumerate(choices):
        supplies[i] = len(c.picked)
    supplies[sink] = -units
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    if flow.solve() != flow.OPTIMAL:
        return [list(c.picked) for c in choices]  # the start is a feasible flow: this does not happen
    flows = flow.flows(arcs)
    chosen: list[list[int]] = [[] for _ in choices]
    pooled: dict[int, dict[int, int]] = defaultdict(dict)  # pool -> broker -> units it takes
    for a in np.nonzero(flows)[0].tolist():
        tail, head = tails[a], heads[a]
        if tail < first_pool:
            if head >= first_broker:
                chosen[tail].append(brokers[head - first_broker])
        elif tail < first_broker:
            pooled[tail - first_pool][brokers[head - first_broker]] = int(flows[a])
    for i, takes in pooled.items():  # a pool's units to its classes: each keeps its start's broker where it can
        members = [j for j, c in enumerate(choices) if c.listed is None and pool_index[c.pool] == i]
        waiting = []
        for j in members:
            b = choices[j].picked[0]
            if takes.get(b, 0) > 0:
                takes[b] -= 1
                chosen[j].append(b)
            else:
                waiting.append(j)
        left = iter(b for b in sorted(takes) for _ in range(takes[b]))
        for j in waiting:
            chosen[j].append(next(left))
    return chosen


def choices_forced(space, target: Placement) -> bool:
    """Whether every decided partition's choice is forced (``unforced``: none is not)."""
    return not unforced(space, target, first=True)


def unforced(space, target: Placement, *, first: bool = False) -> list:
    """The decided partitions (only the first with ``first``) where some target meeting every
    invariant, with the levels above balance at their optimum, may pick another count of brokers
    of some class than ``target`` does. With none, those targets are exactly ``target``'s
    exchanges, ``even_out``'s answer is the balance level's optimum, and ``target``'s copied and
    racks levels are theirs.

    Per partition the levels above balance are sums of its own terms (the data it copies; with
    ``rackAware: preferred``, the zones it covers) and nothing couples partitions in this stage,
    so a target at their optimum has each partition at its own best (least copy, then most zones)
    among the class counts meeting its rules (its replica count, the zones it needs with
    ``rackAware: required``, a source kept when its fixed replicas hold none). Those counts are
    enumerated: at most C(K + s - 1, s) per partition (K classes, s open slots: a handful). A
    partition the target leaves short, or with another count as good, is unforced.
    O(P_d (R + Z) + the partitions' count vectors)."""
    scenario = space.scenario
    cluster = scenario.cluster
    zone_of, _, by_rack = _groups(space)
    required, preferred = scenario.rack_required, scenario.rack_preferred
    found = []
    for key, classes in partition_classes(space, target):
        p = cluster.partition[key]
        fixed = space.fixed_members.get(key, ())
        sources = set(scenario.sources(p))
        replicas = target.partitions[key].replicas
        domain_picked = sum(len(c.picked) for c in classes.values())
        if len(set(replicas)) != len(p.replicas) or len(fixed) + domain_picked != len(replicas) \
                or not set(fixed).issubset(replicas):
            found.append(key)
            if first:
                break
            continue
        order = list(classes)
        mine = tuple(len(classes[c].picked) for c in order)
        fixed_zones = {zone_of[b] for b in fixed if b in zone_of}
        needs_source = not any(b in sources for b in fixed) and any(c[2] for c in order)
        needed = scenario.racks_needed(p) if required else 0
        best, ties = None, 0
        for pick in combinations_with_replacement(range(len(order)), len(p.replicas) - len(fixed)):
            vector = [0] * len(order)
            for k in pick:
                vector[k] += 1
            if any(vector[k] > classes[c].count for k, c in enumerate(order)):
                continue
            used = [c for k, c in enumerate(order) if vector[k]]
            if needs_source and not any(c[2] for c in used):
                continue
            zones = len(fixed_zones | {c[0] for c in used}) if by_rack else 0
            if zones < needed:
                continue
            new = sum(vector[k] for k, c in enumerate(order) if not c[1])
            score = (p.size_mib * new, -zones if preferred else 0)
            if best is None or score < best[0]:
                best, ties = (score, tuple(vector)), 1
            elif score == best[0]:
                ties += 1
        if best is None or ties != 1 or best[1] != mine:
            found.append(key)
            if first:
                break
    return found


__all__ = ["choices_forced", "even_out", "partition_classes", "partition_loads", "unforced"]

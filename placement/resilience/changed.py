"""Judging a recovery by what it changes: the plain checks restricted to the items that can break.

The sweep judges thousands of candidate recoveries (greedy certificates, making-room results,
repaired recoveries of subsets, each revert of ``trim``) with ``check_all``, whose cost grows with
the whole cluster although a candidate changes a handful of items. ``valid(scenario, target)``
answers the same question -- does ``check_all(scenario, target)`` find nothing? -- by running the
per-item rules only over the items whose verdict can differ from the cluster as it stands.

Precondition: the cluster as it stands (its file failures only) meets every invariant and nothing
is touched (``sweep.baseline_valid``): every broker runs, every node carries what fits; the
scenario fails more nodes and adds nothing else (no drain, no retired broker, no --max-used). Let
V be the volumes the target places differently from now, plus the touched and the lost ones; B the
brokers it places differently, plus the touched ones; P the partitions it changes (replicas or
leader), plus those with a replica or an in-sync replica on a broker of B that does not run in the
target (or, with racks required, runs in another zone than now), plus the lost ones; N the nodes
the target adds a replica of a volume of V or a broker of B to. Every other item keeps the verdict
it has now, which is "valid":

- a volume outside V keeps its replicas, none on a failed node (else touched) and no stale one
  live (else touched): its count and its nodes' eligibility are those of the start, and the zones
  its replicas cover meet ``zones_needed`` (else touched; failing nodes only lowers it): I1, I2 hold;
- a broker outside B, none of whose volumes is in V, runs where it runs now (not failed, else
  touched) on the replicas it has now: I3 holds;
- a partition outside P keeps its replicas and leader, and each of its brokers runs in the target
  as it does now (in the same zone where racks are required): I6 reads of its brokers only
  whether they run and their zones, and the racks needed only fall as nodes fail (``rack_zones``
  shrinks): I6 holds; it is not lost and has no new replica: I7 holds;
- a node outside N carries at most what it carries now (what the target takes away only frees
  room), which fits: I4 and I5 hold. A node of N carries the target's replicas of the volumes
  listed there now or in V, and its brokers alike.

Each rule then judges only those items (``placement.rules.items``: a check given items says
exactly what the full check says of them): volumes V, brokers B and those using a volume of V
(their I3 reads V's replicas), partitions P, nodes N -- I5 with the target's volumes cut to those
on N (all a node of N carries), so that the rest of the target is never walked.
``tests/test_changed.py`` compares ``valid`` with ``check_all`` on many random clusters, failures
and perturbed targets, with and without ``within``.

Cost: O(V + B + P') to find what a target changes, P' the partitions of the scenario's cluster
(the sweep's local scenario keeps only the touched ones), or O(|within|) when the caller knows
where the target can differ (``within``: a footprint's items); then O(V + B + P + N's volumes)
and the rules' own scans of the cluster's volumes and brokers for the items named (set look-ups).
"""
from __future__ import annotations

from placement.models.plan import Placement
from placement.rules.items import Items
from placement.scenario import Scenario

_MISSING = object()
_INDEX: dict[tuple, tuple] = {}  # (id(volumes), id(brokers)) -> (volumes, brokers, the indexes below)


def _partitions_naming(cluster) -> dict[int, list]:
    """Broker -> the keys of the partitions listing it as a replica or in-sync replica (per cluster, once)."""
    from placement.rules import _per_cluster

    def make(c):
        index: dict[int, list] = {}
        for p in c.partitions:
            for b in dict.fromkeys((*p.replicas, *p.isr)):
                index.setdefault(b, []).append(p.key)
        return index

    return _per_cluster(cluster, "partitions naming a broker", make)


def _indexes(cluster) -> tuple[dict, dict, dict]:
    """(volume -> brokers using it, node -> volumes listing a replica there, node -> brokers there),
    once per volumes and brokers (a cluster cut to some partitions shares them)."""
    key = (id(cluster.volumes), id(cluster.brokers))
    hit = _INDEX.get(key)
    if hit is not None and hit[0] is cluster.volumes and hit[1] is cluster.brokers:
        return hit[2]
    brokers_of: dict[str, list[int]] = {}
    brokers_on: dict[str, list[int]] = {}
    for b in cluster.brokers:
        brokers_on.setdefault(b.node, []).append(b.id)
        for v in b.volumes:
            brokers_of.setdefault(v, []).append(b.id)
    volumes_on: dict[str, list[str]] = {}
    for v in cluster.volumes:
        for n in v.replicas:
            volumes_on.setdefault(n, []).append(v.name)
    if len(_INDEX) > 8:
        _INDEX.clear()
    made = (brokers_of, volumes_on, brokers_on)
    _INDEX[key] = (cluster.volumes, cluster.brokers, made)
    return made


def changes(scenario: Scenario, target: Placement, within: tuple | None = None) -> tuple[set[str], set[int], set]:
    """(V, B, P) as the module docstring defines them. ``within``: (volumes, brokers, partitions)
    outside which the caller knows the target places everything as now (a footprint's items, with
    the volumes it drops, all touched or lost), so that only those are compared; None: all are."""
    cluster = scenario.cluster
    volumes = set(scenario.touched_volumes) | {v.name for v in scenario.lost_volumes}
    got = target.volumes
    by_name = cluster.volume
    for name in (by_name if within is None else within[0]):
        v = by_name.get(name)
        if v is None:
            continue
        nodes, t = v.replicas, got.get(name)
        if t is not nodes and (t is None or tuple(t) != nodes):
            volumes.add(name)
    brokers = set(scenario.touched_brokers)
    placed = target.brokers
    for bid in (cluster.broker if within is None else within[1]):
        b = cluster.broker.get(bid)
        if b is not None and placed.get(bid, _MISSING) != b.node:
            brokers.add(bid)
    partitions = set()
    chosen = target.partitions
    for key in (cluster.partition if within is None else within[2]):
        p = cluster.partition.get(key)
        if p is None:
            continue
        t = chosen.get(key)
        if t is None or tuple(t.replicas) != p.replicas or t.leader != p.leader:
            partitions.add(key)
    # a partition reads of its brokers only whether they run (and, with racks required, their zone):
    # every broker runs now, so those of B that stop (or change zone) are the ones that matter
    naming = _partitions_naming(cluster)
    racks = scenario.rack_required
    node_of = cluster.node
    for b in brokers:
        there = placed.get(b)
        if there is None or (racks and node_of[there].zone != node_of[cluster.broker[b].node].zone):
            partitions.update(naming.get(b, ()))
    partitions.update(scenario.lost_partitions)
    return volumes, brokers, partitions


def judged_items(scenario: Scenario, target: Placement, within: tuple | None = None) -> tuple[Items, set[str]]:
    """The items whose verdict can differ from now's: V, B and P, the brokers using V (their I3
    reads V's replicas) and the nodes N a replica or a broker is added to; and the volumes the node
    rules need on N (those listed there now, and V)."""
    cluster = scenario.cluster
    volumes, brokers, partitions = changes(scenario, target, within)
    brokers_of, volumes_on, brokers_on = _indexes(cluster)
    judged_brokers = set(brokers)
    for v in volumes:
        judged_brokers.update(brokers_of.get(v, ()))
    # N: the nodes a replica or a broker is added to (the others carry at most what they carry now)
    nodes = {n for name in volumes for n in target.volumes.get(name, ()) if n not in cluster.volume[name].replicas}
    for b in brokers:
        there = target.brokers.get(b)
        if there is not None and there != cluster.broker[b].node:
            nodes.add(there)
    on_nodes = set(volumes)
    for n in nodes:
        on_nodes.update(volumes_on.get(n, ()))
    items = Items(frozenset(volumes), frozenset(judged_brokers), frozenset(nodes), frozenset(partitions))
    return items, on_nodes


def within(cluster, fp) -> tuple:
    """Where ``composition.apply_footprint(cluster, fp)`` can differ from the cluster as it is: the
    footprint's items, and the volumes with a replica on a node it fails (``changes``' ``within``)."""
    volumes_on = _indexes(cluster)[1]
    return (fp.volumes.keys() | {v for n in fp.failed for v in volumes_on.get(n, ())}, fp.brokers.keys(),
            fp.partitions.keys())


def applies(scenario: Scenario) -> bool:
    """The operation only fails nodes (what the module's argument covers)."""
    f = scenario.failures
    return not f.removed_brokers and not f.drained and f.max_used_percent is None


def valid(scenario: Scenario, target: Placement, within: tuple | None = None) -> bool:
    """``not check_all(scenario, target)``, for a scenario whose cluster meets every invariant as it
    stands and that only fails nodes (the caller's promise: ``sweep.baseline_valid``). ``within``:
    as in ``changes`` (the caller's promise too)."""
    from placement.rules import (anti_affinity, broker_anti_affinity, capacity, hyperconvergence, kafka,
                                 no_invented_data, replication)

    if not applies(scenario):
        from placement.rules import check_all

        return not check_all(scenario, target)
    items, on_nodes = judged_items(scenario, target, within)
    if broker_anti_affinity.check(scenario, target, items):
        return False
    got = target.volumes  # I5 on N reads only the volumes on N: the rest of the target is not walked
    carried = Placement(brokers=target.brokers, volumes={v: got[v] for v in on_nodes if v in got}, partitions={})
    if capacity.check(scenario, carried, items):
        return False
    return not any(rule.check(scenario, target, items) for rule in (replication, anti_affinity, hyperconvergence,
                                                                     kafka, no_invented_data))


__all__ = ["changes", "judged_items", "valid", "within"]

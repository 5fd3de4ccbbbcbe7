"""Judging a recovery by what it changes: the plain checks restricted to the items that can break.

The sweep judges thousands of candidate recoveries (greedy certificates, making-room results,
repaired recoveries of subsets, each revert of ``trim``) with ``check_all``, whose cost grows with
the whole cluster although a candidate changes a handful of items. ``valid(scenario, target)``
answers the same question -- does ``check_all(scenario, target)`` find nothing? -- by running the
per-item rules only over the items whose verdict can differ from the cluster as it stands.

Precondition: the cluster as it stands (its file failures only) meets every invariant and nothing
is touched (``sweep.baseline_valid``); the scenario fails more nodes and adds nothing else (no
drain, no retired broker, no --max-used). Let V be the volumes the target places differently from
now, plus the touched and the lost ones; B the brokers it places differently, plus the touched
ones; P the partitions it changes (replicas or leader), plus those with a replica or an in-sync
replica in B. Every other item keeps the verdict it has now, which is "valid":

- a volume outside V keeps its replicas, none on a failed node (else touched) and no stale one
  live (else touched): its count and its nodes' eligibility are those of the start, and the zones
  its replicas cover meet ``zones_needed`` (else touched; failing nodes only lowers it): I1, I2 hold;
- a broker outside B, none of whose volumes is in V, runs where it runs now (not failed, else
  touched) on the replicas it has now: I3 holds;
- a partition outside P keeps its replicas and leader on brokers that run where they run now:
  the brokers running, the in-sync replicas and the racks are those of the start, and the racks
  needed only fall as nodes fail (``rack_zones`` shrinks): I6 holds; and no broker of it lost its
  data (a broker that lost data is touched), so I7 holds;
- a node none of whose replicas or brokers is in V or B (as now or in the target) carries what it
  carries now, which fits (the cluster is valid now): I4 and I5 hold. A node that is (N) carries
  the target's replicas of the volumes listed there now or placed there, and its brokers alike.

The per-item rules (I1, I2, I3, I6, I7) run over a cluster restricted to V, B and P, closed under
what the rules look up (the brokers of P's partitions as now and in the target, the volumes of the
kept brokers); the node rules (I4, I5) over one restricted to the volumes and brokers on N, whose
other nodes carry a part of what they carry now (which fits). Each with the target restricted
alike. ``tests/test_changed.py`` compares ``valid`` with ``check_all`` on many random clusters,
failures and perturbed targets.

Cost: O(V + B + P') to find what a target changes, P' the partitions of the scenario's cluster
(the sweep's local scenario keeps only the touched ones), or O(|within|) when the caller knows
where the target can differ (``within``: a footprint's items); then O(V + B + P + N's items).
"""
from __future__ import annotations

from dataclasses import replace

from placement.models.plan import Placement
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


def _indexes(cluster) -> tuple[dict, dict, dict, dict, dict]:
    """(volume -> brokers using it, node -> volumes listing a replica there, node -> brokers there,
    volume -> its place, broker -> its place), once per volumes and brokers (a cluster cut to some
    partitions shares them)."""
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
    made = (brokers_of, volumes_on, brokers_on, {v.name: i for i, v in enumerate(cluster.volumes)},
            {b.id: i for i, b in enumerate(cluster.brokers)})
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
    naming = _partitions_naming(cluster)
    for b in brokers:
        partitions.update(naming.get(b, ()))
    return volumes, brokers, partitions


def restricted(scenario: Scenario, target: Placement, within: tuple | None = None
               ) -> tuple[tuple[Scenario, Placement], tuple[Scenario, Placement]]:
    """The scenario and target cut down to the changed items, closed under the per-item rules'
    look-ups; and cut down to the nodes those items use (N), for the node rules."""
    cluster = scenario.cluster
    volumes, brokers, partitions = changes(scenario, target, within)
    brokers_of, volumes_on, brokers_on, _, _ = _indexes(cluster)
    kept_brokers = set(brokers)
    for v in volumes:
        kept_brokers.update(brokers_of.get(v, ()))
    chosen = target.partitions
    for key in partitions:
        p = cluster.partition[key]
        t = chosen.get(key)
        kept_brokers.update(b for b in (*p.replicas, *p.isr, *(t.replicas if t is not None else ()))
                            if b in cluster.broker)
    kept_volumes = set(volumes)
    for b in kept_brokers:
        kept_volumes.update(cluster.broker[b].volumes)
    topics = _topics(cluster, partitions)
    items = _cut(scenario, target, kept_volumes, kept_brokers, topics,
                 {k: t for k in partitions if (t := chosen.get(k)) is not None})
    nodes = set()  # N: the nodes whose replicas or brokers change
    for name in volumes:
        nodes.update(cluster.volume[name].replicas)
        nodes.update(target.volumes.get(name, ()))
    for b in brokers:
        nodes.add(cluster.broker[b].node)
        if target.brokers.get(b) is not None:
            nodes.add(target.brokers[b])
    on_nodes = set(volumes)
    carried = set(brokers)
    for n in nodes:
        on_nodes.update(volumes_on.get(n, ()))
        carried.update(brokers_on.get(n, ()))
    return items, _cut(scenario, target, on_nodes, carried, (), {})


def _topics(cluster, keys) -> tuple:
    """The cluster's topics with only these partitions, in the cluster's order (found by their place)."""
    from placement.rules import partition_positions

    place = partition_positions(cluster)
    topics, current, kept = [], None, []
    for key in sorted(keys, key=place.__getitem__):
        if current is None or key[0] != current.name:
            if kept:
                topics.append(replace(current, partitions=tuple(kept)))
            current, kept = cluster.topic[key[0]], []
        kept.append(cluster.partition[key])
    if kept:
        topics.append(replace(current, partitions=tuple(kept)))
    return tuple(topics)


def _cut(scenario: Scenario, target: Placement, volumes: set[str], brokers: set[int], topics: tuple,
         partitions: dict) -> tuple[Scenario, Placement]:
    cluster = scenario.cluster
    *_, volume_place, broker_place = _indexes(cluster)
    small = replace(cluster, volumes=tuple(cluster.volume[v] for v in sorted(volumes, key=volume_place.__getitem__)),
                    brokers=tuple(cluster.broker[b] for b in sorted(brokers, key=broker_place.__getitem__)),
                    topics=topics)
    small.__dict__["node"] = cluster.node  # the same nodes: their index shared
    got, placed = target.volumes, target.brokers
    cut = Placement(brokers={b: placed[b] for b in brokers if b in placed},
                    volumes={v: got[v] for v in volumes if v in got}, partitions=partitions)
    return Scenario(small, scenario.failures, scenario.allow_unclean), cut


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
    (small, cut), (on_nodes, carried) = restricted(scenario, target, within)
    if broker_anti_affinity.check(on_nodes, carried) or capacity.check(on_nodes, carried):
        return False
    return not any(rule.check(small, cut) for rule in (replication, anti_affinity, hyperconvergence, kafka,
                                                       no_invented_data))


__all__ = ["changes", "restricted", "valid", "within"]

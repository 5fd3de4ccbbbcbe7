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
- node-level rules (I4 brokers per node, I5 capacity) are run whole: they are cheap.

The per-item rules (I1, I2, I3, I6, I7) run over a cluster restricted to V, B and P, closed under
what the rules look up (the brokers of P's partitions, the volumes of the kept brokers), with the
target restricted alike. ``tests/test_changed.py`` compares ``valid`` with ``check_all`` on many
random clusters, failures and perturbed targets.
"""
from __future__ import annotations

from dataclasses import replace

from placement.models.plan import Placement
from placement.scenario import Scenario

_MISSING = object()
_INDEX: dict[int, tuple] = {}  # id(cluster) -> (cluster, broker -> keys of partitions naming it)


def _partitions_naming(cluster) -> dict[int, list]:
    """Broker -> the keys of the partitions listing it as a replica or in-sync replica (per cluster, once)."""
    hit = _INDEX.get(id(cluster))
    if hit is not None and hit[0] is cluster:
        return hit[1]
    index: dict[int, list] = {}
    for p in cluster.partitions:
        for b in dict.fromkeys((*p.replicas, *p.isr)):
            index.setdefault(b, []).append(p.key)
    if len(_INDEX) > 8:
        _INDEX.clear()
    _INDEX[id(cluster)] = (cluster, index)
    return index


def changes(scenario: Scenario, target: Placement) -> tuple[set[str], set[int], set]:
    """(V, B, P) as the module docstring defines them."""
    cluster = scenario.cluster
    current = Placement.current(cluster)
    volumes = set(scenario.touched_volumes) | {v.name for v in scenario.lost_volumes}
    got = target.volumes
    for name, nodes in current.volumes.items():
        t = got.get(name)
        if t is not nodes and (t is None or tuple(t) != nodes):
            volumes.add(name)
    brokers = set(scenario.touched_brokers)
    for bid, node in current.brokers.items():
        if target.brokers.get(bid, _MISSING) != node:
            brokers.add(bid)
    partitions = set()
    for key, cur in current.partitions.items():
        t = target.partitions.get(key)
        if t is not cur and (t is None or tuple(t.replicas) != cur.replicas or t.leader != cur.leader):
            partitions.add(key)
    naming = _partitions_naming(cluster)
    for b in brokers:
        partitions.update(naming.get(b, ()))
    return volumes, brokers, partitions


def restricted(scenario: Scenario, target: Placement) -> tuple[Scenario, Placement]:
    """The scenario and target cut down to the changed items (closed under the rules' look-ups)."""
    cluster = scenario.cluster
    volumes, brokers, partitions = changes(scenario, target)
    kept_brokers = set(brokers)
    kept_brokers.update(b.id for b in cluster.brokers if volumes.intersection(b.volumes))
    by_topic: dict[str, set[int]] = {}
    for key in partitions:
        p = cluster.partition[key]
        kept_brokers.update(b for b in (*p.replicas, *p.isr) if b in cluster.broker)
        by_topic.setdefault(key[0], set()).add(key[1])
    kept_volumes = set(volumes)
    for b in kept_brokers:
        kept_volumes.update(cluster.broker[b].volumes)
    topics = tuple(replace(t, partitions=tuple(p for p in t.partitions if p.id in by_topic[t.name]))
                   for t in cluster.topics if t.name in by_topic)
    small = replace(cluster, volumes=tuple(v for v in cluster.volumes if v.name in kept_volumes),
                    brokers=tuple(b for b in cluster.brokers if b.id in kept_brokers), topics=topics)
    cut = Placement(brokers=target.brokers,
                    volumes={v: nodes for v, nodes in target.volumes.items() if v in kept_volumes},
                    partitions={k: t for k, t in target.partitions.items() if k in partitions})
    return Scenario(small, scenario.failures, scenario.allow_unclean), cut


def applies(scenario: Scenario) -> bool:
    """The operation only fails nodes (what the module's argument covers)."""
    f = scenario.failures
    return not f.removed_brokers and not f.drained and f.max_used_percent is None


def valid(scenario: Scenario, target: Placement) -> bool:
    """``not check_all(scenario, target)``, for a scenario whose cluster meets every invariant as it
    stands and that only fails nodes (the caller's promise: ``sweep.baseline_valid``)."""
    from placement.rules import (anti_affinity, broker_anti_affinity, capacity, hyperconvergence, kafka,
                                 no_invented_data, replication)

    if not applies(scenario):
        from placement.rules import check_all

        return not check_all(scenario, target)
    if broker_anti_affinity.check(scenario, target) or capacity.check(scenario, target):
        return False
    small, cut = restricted(scenario, target)
    return not any(rule.check(small, cut) for rule in (replication, anti_affinity, hyperconvergence, kafka,
                                                       no_invented_data))


__all__ = ["changes", "restricted", "valid"]

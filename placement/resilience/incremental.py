"""A failure set's scenario built from the healthy cluster's, in time proportional to what it touches.

The sweep judges thousands of failure sets of one cluster. ``Scenario`` computes its facts
(survivors, touched volumes and brokers, lost partitions, ...) by walking every volume, broker
and partition, although failing two nodes changes them only for the volumes with a replica
there and the brokers there. ``Healthy`` computes the facts once for the cluster as it stands
(per process) and derives a failure set's from them:

Precondition (``Healthy.applies``): the cluster as it stands meets every invariant with nothing
touched (``sweep.baseline_valid``), and the scenario only fails more nodes (no drain, no retired
broker, no --max-used). Let F be the extra failed nodes. Then

- survivors change only for the volumes with a replica on F (survivors are the in-sync replicas
  on nodes not failed); so do stale replicas (and a live stale replica would be touched now);
- a broker's ``broker_must_move`` reads its node's state, its volumes' survivors and data, and
  the brokers-per-node load of its node; it can change only for a broker on F or one of whose
  volumes has a replica on F (loads on live nodes only fall as nodes fail, and none is over now:
  ``over_broker_limit_nodes`` and ``over_limit_nodes`` stay empty);
- a volume's ``touched`` verdict reads its survivors, the zones it needs (which only fall as
  zones lose their last ready storage node, so a volume whose survivors did not change keeps
  meeting them) and whether a touched broker uses it: it can change only for a volume with a
  replica on F or a volume of a touched broker;
- a broker that lost its data must move (it is touched), so lost partitions are among the
  partitions of touched brokers, and touched partitions are those partitions (derived when the
  local scenario is first asked for: a set answered by a repaired certificate never needs them).

Each candidate is then judged by ``Scenario``'s own predicates on the new scenario, and the
facts are stored as the cached properties ``Scenario`` would compute (same values, same order);
every fact not stored here is computed by ``Scenario`` as usual. The local scenario (the
partitions of touched brokers only, what the greedy certificate needs) shares the facts, none of
which reads partitions except those recomputed on it. ``tests/test_incremental.py`` compares
every stored fact with a scenario built from scratch on random clusters and failure sets.

Cost per failure set (F nodes, V_F volumes with a replica there, B_F brokers there or on those
volumes, P_F their partitions): O(V + N) for copying two dicts and a tuple (C-level), plus
O(V_F R + B_F + P_F log P_F) in Python.
"""
from __future__ import annotations

from dataclasses import replace

from placement.models.cluster import Cluster, NodeLoad, NodeState
from placement.models.failures import Failures
from placement.rules import partition_positions
from placement.scenario import Scenario


class Healthy:
    """What every failure set of this cluster shares: the healthy cluster's facts and indexes."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.already = frozenset(n.name for n in cluster.nodes if n.state is NodeState.FAILED)
        base = Scenario(cluster, Failures(self.already))
        self.base = base
        self.usable = (not base.touched_volumes and not base.touched_brokers and not base.over_limit_nodes
                       and not base.over_broker_limit_nodes and not base.lost_volumes)
        self.survivors = base._survivors
        self.survivor_sets = base._survivor_sets
        self.stale = base._stale
        self.volume_index = {v.name: i for i, v in enumerate(cluster.volumes)}
        self.broker_index = {b.id: i for i, b in enumerate(cluster.brokers)}
        self.volumes_on: dict[str, list[str]] = {}  # node -> the volumes listing a replica there
        for v in cluster.volumes:
            for n in v.replicas:
                self.volumes_on.setdefault(n, []).append(v.name)
        self.brokers_on: dict[str, list[int]] = {}  # node -> the brokers on it
        self.brokers_of: dict[str, list[int]] = {}  # volume -> the brokers using it
        for b in cluster.brokers:
            self.brokers_on.setdefault(b.node, []).append(b.id)
            for v in b.volumes:
                self.brokers_of.setdefault(v, []).append(b.id)
        # zone -> alive READY storage nodes (I2's zones) and alive READY nodes (racks)
        self.storage_zone_nodes: dict[str, set[str]] = {}
        self.ready_zone_nodes: dict[str, set[str]] = {}
        for n in base.alive_nodes:
            if n.state is NodeState.READY:
                self.ready_zone_nodes.setdefault(n.zone, set()).add(n.name)
                if n.is_storage:
                    self.storage_zone_nodes.setdefault(n.zone, set()).add(n.name)
        self.partitions_of = base._partitions_of
        self.partition_keys = base.partition_keys
        # the greedy start's room with everything placed as now (``greedy_placement(as_now=)``)
        used = cluster.storage_used_mib
        load = {n.name: NodeLoad() for n in cluster.nodes}
        for b in cluster.brokers:
            load[b.node] = load[b.node].plus(NodeLoad.of_broker(b))
        self.as_now = ({n.name: base.storage_limit_mib(n.name) - used[n.name] for n in cluster.nodes}, load)

    def applies(self, failures: Failures) -> bool:
        f = failures
        return (self.usable and self.already <= f.nodes and not f.removed_brokers and not f.drained
                and f.max_used_percent is None and f.min_replicas is None)

    def scenario(self, failed) -> Scenario:
        """``Scenario(cluster, Failures(already | failed))`` with its facts derived from the healthy ones."""
        cluster = self.cluster
        down = frozenset(failed) - self.already
        failures = Failures(self.already | down)
        scenario = Scenario(cluster, failures)
        if not self.applies(failures):
            return scenario
        facts = scenario.__dict__  # cached properties live here; Scenario is frozen, its facts too
        gone = failures.nodes
        facts["alive_nodes"] = tuple(n for n in cluster.nodes if n.name not in gone)
        storage_zones = tuple(sorted(z for z, nodes in self.storage_zone_nodes.items() if not nodes <= gone))
        facts["zones_with_ready_storage"] = storage_zones
        if scenario.hyperconverged:
            facts["rack_zones"] = storage_zones
        else:
            facts["rack_zones"] = tuple(sorted(z for z, nodes in self.ready_zone_nodes.items() if not nodes <= gone))
        facts["over_limit_nodes"] = ()
        facts["over_broker_limit_nodes"] = ()
        hit = sorted({v for n in down for v in self.volumes_on.get(n, ())}, key=self.volume_index.__getitem__)
        survivors = self.survivors.copy()
        survivor_sets = self.survivor_sets.copy()
        stale = self.stale
        lost = []
        for name in hit:
            alive = tuple(n for n in survivors[name] if n not in gone)
            survivors[name] = alive
            survivor_sets[name] = frozenset(alive)
            if not alive:
                lost.append(cluster.volume[name])
            if stale[name] and not down.isdisjoint(stale[name]):
                if stale is self.stale:
                    stale = stale.copy()
                stale[name] = {n: mib for n, mib in stale[name].items() if n not in gone}
        facts["_survivors"] = survivors
        facts["_survivor_sets"] = survivor_sets
        facts["_stale"] = stale
        facts["lost_volumes"] = tuple(lost)
        candidates = {b for n in down for b in self.brokers_on.get(n, ())}
        candidates.update(b for v in hit for b in self.brokers_of.get(v, ()))
        touched_brokers = tuple(sorted((b for b in candidates if scenario.broker_must_move(cluster.broker[b])),
                                       key=self.broker_index.__getitem__))
        facts["touched_brokers"] = touched_brokers
        maybe = set(hit)
        maybe.update(v for b in touched_brokers for v in cluster.broker[b].volumes)
        touched_volumes = _touched_volumes(scenario, sorted(maybe, key=self.volume_index.__getitem__),
                                           touched_brokers)
        facts["touched_volumes"] = touched_volumes
        lost_brokers = {b for b in touched_brokers if scenario.broker_lost_data(cluster.broker[b])}
        facts["lost_partitions"] = frozenset(
            p.key for b in lost_brokers for p in self.partitions_of.get(b, ()) if lost_brokers.issuperset(p.replicas))
        facts["_partitions_of"] = self.partitions_of
        facts["partition_keys"] = self.partition_keys
        return scenario

    def local(self, scenario: Scenario) -> Scenario:
        """The scenario with only the partitions that have a replica on a touched broker
        (``sweep._local``), sharing ``scenario``'s facts: none of them reads the partitions
        left out (those read below are recomputed on the smaller cluster)."""
        cluster = scenario.cluster
        usable = self.applies(scenario.failures) and cluster is self.cluster
        if usable and "touched_partitions" not in scenario.__dict__:  # derived here, where it is first needed
            keys = {p.key for b in scenario.touched_brokers for p in self.partitions_of.get(b, ())}
            scenario.__dict__["touched_partitions"] = tuple(sorted(keys, key=partition_positions(cluster).__getitem__))
        topics = _topics(cluster, scenario.touched_partitions)
        small = replace(cluster, topics=topics)
        shared = small.__dict__
        for name in ("node", "volume", "broker", "storage_used_mib", "zones"):
            shared[name] = getattr(cluster, name)
        local = Scenario(small, scenario.failures, scenario.allow_unclean)
        if not usable:
            return local
        facts = local.__dict__
        for name in ("alive_nodes", "zones_with_ready_storage", "rack_zones", "over_limit_nodes",
                     "over_broker_limit_nodes", "_survivors", "_survivor_sets", "_stale", "lost_volumes",
                     "touched_brokers", "touched_volumes", "touched_partitions", "lost_partitions"):
            facts[name] = getattr(scenario, name)
        return local


def _topics(cluster, keys) -> tuple:
    """The cluster's topics with only these partitions, in the cluster's order (found by their place)."""
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


def _touched_volumes(scenario: Scenario, candidates: list[str], touched_brokers: tuple[int, ...]) -> tuple[str, ...]:
    """``Scenario.touched_volumes`` over the candidates (those whose verdict can differ from now's)."""
    cluster = scenario.cluster
    broker_volumes = {v for b in touched_brokers for v in cluster.broker[b].volumes}
    node = cluster.node
    out = []
    for name in candidates:
        v = cluster.volume[name]
        alive = scenario.survivors(name)
        if not alive:
            continue
        covered = len({node[n].zone for n in alive})
        if (len(alive) != v.replication_factor or covered < scenario.zones_needed(v)
                or len(alive) != len(v.replicas) or name in broker_volumes):
            out.append(name)  # drained or over-limit nodes: none in a scenario that only fails nodes
    return tuple(out)


__all__ = ["Healthy"]

"""When a failure set with no recovery settles its supersets: the sweep's monotonicity theorem.

The sweep's question for a failure set S (``placement.solve.feasibility.recovery_exists``) is
Q(S): is there a target T with

- ``check_all(S, T)`` empty (the plain checks, I1-I7, with S and the file's failed nodes failed),
- every broker the scenario keeps in place (``Scenario.must_stay``: its restart would take a
  partition it is in sync for below min.insync.replicas) on its node,
- every hyperconverged broker at Portworx's replica ceiling that moves onto a node without an
  in-sync replica of its volume dropping another listed replica (``placement.solve.reachable``),
- partitions refilled as the partitions stage does (running replicas kept, new ones from brokers
  that run)?

Only the plain checks and these restrictions of the solver's space; not whether a safe order of
steps reaches T (the sweep does not ask that).

**Theorem.** Let the cluster meet every invariant as it stands (``baseline_valid``), let the
operation fail nodes only (no drain, no retired broker, no --max-used: what ``check`` asks), and
let S' = S + X fail more nodes than S. If Q(S') holds, Q(S) holds, provided

(a) zone spread: ``zones_needed(v)`` is the same under S and S' for every volume, i.e. with
    zoneSpread on, min(RF_max, zones keeping a ready storage node) is equal under both;
(b) racks: with ``rackAware: required``, min(partition RF_max, ``rack_zones``) is equal under both;
(c) every broker running on a node of X is one the solver may move under S
    (``Scenario.may_move_healthy`` under S) whenever brokers are hyperconverged or racks are
    required; and, hyperconverged, none of its volumes lists three or more replicas with one on
    its node (the ceiling rule would bind it under S, where it runs, and not under S').

Contrapositive, what the sweep uses: **if S has no recovery (Q(S) proven false) and S' = S + X
meets (a)-(c), S' has none**, so S' is counted failing without a solver call.

*Proof.* If S' loses data, S' has no recovery (I7) and nothing is to prove; so every volume keeps
an in-sync replica under S' and, failing fewer nodes, under S. Take T' with Q(S'), and let T be
T' with every broker of X that ``must_stay`` under S put back on its node (only possible where
(c) does not require it movable: brokers not hyperconverged and racks not required).

- I1: each volume with data under S has data under S', so T' gives it exactly RF replicas, on
  nodes alive under S' (hence under S), storage, READY or cordoned keeping what they had: each
  may hold it under S too (``may_hold_replica`` differs between S and S' only in aliveness).
- I2: same replica sets, so no node twice; zones covered are the same and needed are equal by (a).
- I3: each broker runs where T' runs it, alive and ready (or cordoned at home) under S as under
  S'; one put back runs on its own node, alive under S, ready or cordoned at home as at the start.
  Hyperconvergence looks only at T's replica sets, unchanged, and no broker put back is
  hyperconverged. No broker is retired.
- I4, I5: on every node T' holds the same replicas and brokers, minus the brokers put back;
  those put back sit on nodes of X, which hold nothing else in T' (failed under S'), so each of
  those holds a subset of what it held at the start, which fits (the cluster is valid).
- I6: partitions are T' 's; the same brokers run; sources are in-sync replicas (independent of
  failures); racks: only a broker put back changes zone, and none is put back when racks are
  required; the zones needed are equal by (b).
- I7: no volume lost under S (above); a partition loses data only when each of its brokers lost
  its data, which under S implies under S' (failing fewer nodes loses less), and T' has none; new
  partition replicas copy from the same running sources.
- Brokers kept in place: ``may_move_healthy`` counts the in-sync replicas on nodes alive, so a
  broker the solver may not move under S may not under S' either; one not on X whose node
  survives S' is untouched there, so T' keeps it at home; one on X is movable under S by (c), or
  put back.
- Ceiling: for a broker running under both, the rule binds a move to a node that holds no
  in-sync replica; failing fewer nodes keeps more in sync, so it binds fewer moves under S, and
  the replicas T' drops are the same. A broker on X runs under S only: (c) excludes its binding.
- Partitions stage: it depends on which brokers run and where (unchanged but for brokers put
  back, only without required racks) and on sources and racks needed (equal by (b)).

So T meets Q(S). The sets counted this way are judged by nothing else: ``tests/test_monotone.py``
checks the theorem by brute force on small random clusters (every set with no recovery, every
superset meeting the condition: ``recovery_exists`` is False there too) and that the sweep's
verdicts, counts and counterexample equal judging every set with the solver.

Without the conditions the property fails, and the sweep judges such supersets: with one zone
fewer a volume needs one zone fewer (a set that fails for want of a zone survives once a whole
zone is gone), and a broker that must stay under S may move under S' (its node failed).
"""
from __future__ import annotations

from placement.models.cluster import BrokerPlacement, Cluster, NodeState, RackAware
from placement.solve.reachable import PORTWORX_CEILING


class Monotonicity:
    """The facts the theorem's condition reads, computed once per cluster: O(1) per zone count and
    O(partitions of the brokers on the extra node) per check."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.already = frozenset(n.name for n in cluster.nodes if n.state is NodeState.FAILED)
        self.zone = {n.name: n.zone for n in cluster.nodes}
        self.hyperconverged = cluster.policy.broker_placement is BrokerPlacement.REQUIRED
        self.rack_required = cluster.policy.rack_aware is RackAware.REQUIRED
        ready = [n for n in cluster.nodes if n.state is NodeState.READY]
        # zone -> alive READY storage nodes (zones_with_ready_storage), and where a broker can run (rack_zones)
        self.storage_zones = _count_by_zone(n for n in ready if n.is_storage)
        self.rack_zones = self.storage_zones if self.hyperconverged else _count_by_zone(ready)
        self.max_volume_rf = max((v.replication_factor for v in cluster.volumes), default=0)
        self.max_partition_rf = max((len(p.replicas) for p in cluster.partitions), default=0)
        self.brokers_on: dict[str, list[int]] = {}
        for b in cluster.brokers:
            self.brokers_on.setdefault(b.node, []).append(b.id)
        # broker -> (nodes of its partitions' in-sync brokers, min.insync.replicas) where it is in sync
        self.in_sync_of: dict[int, list[tuple[tuple[str, ...], int]]] = {}
        if self.hyperconverged or self.rack_required:
            node_of = {b.id: b.node for b in cluster.brokers}
            for p in cluster.partitions:
                nodes = tuple(node_of[b] for b in p.isr if b in node_of)
                for b in p.isr:
                    if b in node_of:
                        self.in_sync_of.setdefault(b, []).append((nodes, cluster.min_insync(p)))
        self.at_ceiling: set[int] = set()  # hyperconverged brokers the ceiling rule binds while they run
        if self.hyperconverged:
            for b in cluster.brokers:
                for name in b.volumes:
                    v = cluster.volume[name]
                    if b.node in v.replicas and len(v.replicas) >= PORTWORX_CEILING:
                        self.at_ceiling.add(b.id)

    def carries(self, smaller: frozenset[str], extra: frozenset[str]) -> bool:
        """Conditions (a)-(c) of the theorem for S = ``smaller`` and S' = S + ``extra`` (the
        sweep's failures, without the file's failed nodes): a proof that S has no recovery is
        then one that S' has none."""
        down = self.already | smaller
        more = down | extra
        policy = self.cluster.policy
        if policy.zone_spread and not _same_need(self.storage_zones, self.zone, down, more, self.max_volume_rf):
            return False
        if self.rack_required and not _same_need(self.rack_zones, self.zone, down, more, self.max_partition_rf):
            return False
        if self.hyperconverged or self.rack_required:
            for node in extra:
                for b in self.brokers_on.get(node, ()):
                    if b in self.at_ceiling or not self._movable(b, down):
                        return False
        return True

    def _movable(self, broker: int, down: frozenset[str]) -> bool:
        """``Scenario.may_move_healthy`` with ``down`` failed: its restart keeps every partition it
        is in sync for at or above min.insync.replicas."""
        for nodes, least in self.in_sync_of.get(broker, ()):
            if sum(1 for n in nodes if n not in down) - 1 < least:
                return False
        return True


def _count_by_zone(nodes) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for n in nodes:
        out.setdefault(n.zone, set()).add(n.name)
    return {z: frozenset(s) for z, s in out.items()}


def _same_need(zone_nodes: dict[str, frozenset[str]], zone_of: dict[str, str], down: frozenset[str],
               more: frozenset[str], most: int) -> bool:
    """min(r, zones left) is the same with ``down`` and with ``more`` failed, for every r <= ``most``."""
    def left(failed: frozenset[str], zones) -> int:
        return sum(1 for z in zones if not failed.issuperset(zone_nodes[z]))

    touched = {zone_of[n] for n in more - down if n in zone_of} & zone_nodes.keys()
    if not touched:
        return True  # the extra nodes empty no zone that counts
    before, after = left(down, zone_nodes), left(more, zone_nodes)
    return before == after or after >= most


__all__ = ["Monotonicity"]

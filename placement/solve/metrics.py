"""What a plan costs and how soon the cluster serves again, from the target alone."""
from __future__ import annotations

import math
from dataclasses import dataclass

from placement.models.plan import Placement
from placement.models.units import MIB_PER_GIB, size_mib
from placement.scenario import Scenario
from placement.solve.leaders import unclean_elections


def copied_mib(scenario: Scenario, target: Placement) -> int:
    """CONTRACT: usedGiB of every new volume replica, the stale GiB of every stale replica brought
    in sync (``Scenario.copy_cost_mib``), plus sizeGiB of every new partition replica."""
    cluster = scenario.cluster
    total = 0
    for name, nodes in target.volumes.items():
        total += sum(scenario.copy_cost_mib(name, n) for n in set(nodes))
    for key, t in target.partitions.items():
        p = cluster.partition[key]
        if t.replicas == p.replicas:
            continue  # most partitions keep their replicas: nothing new (a reordering copies nothing)
        original = set(p.replicas)
        total += p.size_mib * sum(1 for b in set(t.replicas) if b not in original)
    return total


@dataclass(frozen=True)
class Copied:
    """What reaching a target copies over the network, counted twice: ``gib`` is CONTRACT 4's
    figure exactly (the usedGiB, stale GiB and sizeGiB the file gives), ``mib`` the solvers'
    integer unit (each item rounded up to a whole MiB, so ``mib / 1024 - gib`` is under one
    MiB per item); ``items`` is how many replicas were counted (new, resynced, new partition ones)."""

    gib: float
    mib: int
    items: int


def copied(scenario: Scenario, target: Placement) -> Copied:
    """The copied data of ``target`` in GiB as the contract defines it, and in MiB as the objective counts it."""
    cluster = scenario.cluster
    parts: list[float] = []
    total_mib = 0
    for name, nodes in target.volumes.items():
        volume = cluster.volume[name]
        stale_gib = dict(volume.stale)
        for n in set(nodes):
            mib = scenario.copy_cost_mib(name, n)
            if mib == 0 and n in scenario.survivors(name):
                continue
            total_mib += mib
            parts.append(_given_gib(stale_gib.get(n, volume.used_gib) if n in scenario.stale_replicas(name)
                                    else volume.used_gib, mib))
    for key, t in target.partitions.items():
        p = cluster.partition[key]
        if t.replicas == p.replicas:
            continue  # a reordering copies nothing
        original = set(p.replicas)
        for _ in (b for b in set(t.replicas) if b not in original):
            total_mib += p.size_mib
            parts.append(_given_gib(p.size_gib, p.size_mib))
    return Copied(math.fsum(parts), total_mib, len(parts))


def _given_gib(given: float, mib: int) -> float:
    """The GiB the file gave for an item, where it is the one its MiB were made from (a cluster built
    in code may give MiB only, or change the MiB after the fact): otherwise the MiB in GiB."""
    return float(given) if given and size_mib(given) == mib else mib / MIB_PER_GIB


def plan_metrics(scenario: Scenario, target: Placement) -> dict:
    cluster = scenario.cluster
    new_replicas = sum(1 for name, nodes in target.volumes.items()
                       for n in set(nodes) if n not in scenario.survivors(name) and n not in scenario.stale_replicas(name))
    resynced = sum(1 for name, nodes in target.volumes.items() for n in set(nodes) if n in scenario.stale_replicas(name))
    dropped = sum(1 for v in cluster.volumes for n in v.replicas if n not in target.volumes.get(v.name, ()))
    serving, waiting, moved = [], [], []
    for b in cluster.brokers:
        to = target.brokers.get(b.id)
        if to is None or to == b.node:
            continue
        moved.append(b.id)
        ready = all(to in scenario.survivors(v) for v in b.volumes)
        (serving if ready else waiting).append(b.id)
    moved_partition_replicas = 0
    for key, t in target.partitions.items():
        before = cluster.partition[key].replicas
        if t.replicas != before:  # the same replicas move nothing; only a changed list is counted
            moved_partition_replicas += sum(1 for b in t.replicas if b not in before)
    alive = {b.id for b in cluster.brokers if scenario.is_alive(b.node) and not scenario.is_removed(b.id)}
    running = {b for b, n in target.brokers.items() if n is not None}
    under_before, under_after = [], []
    chosen_of = target.partitions.get
    is_alive, all_alive = alive.__contains__, alive.issuperset
    min_insync = {name: topic.min_insync_replicas for name, topic in cluster.topic.items()}  # cluster.min_insync
    for p in cluster.partitions:  # counted by map and set, not a generator per partition (150,000 of them)
        need = min_insync[p.topic]
        isr = p.isr  # as listed, as the former sum over it: every one alive (most partitions) counts len(isr)
        if (len(isr) if all_alive(isr) else sum(map(is_alive, isr))) < need:
            under_before.append(p.label)
        t = chosen_of(p.key)
        if t is None or len(running.intersection(t.replicas)) < need:  # distinct replicas that run
            under_after.append(p.label)
    metrics = {
        "copiedGiB": round(copied(scenario, target).gib, 3),  # CONTRACT 4's exact sum, written to three decimals
        "newVolumeReplicas": new_replicas,
        "droppedVolumeReplicas": dropped,
        "movedBrokers": len(moved),
        "brokersServingAtOnce": serving,
        "brokersWaitingForResync": waiting,
        "brokersNotRunning": sorted(b for b, n in target.brokers.items() if n is None),
        "movedPartitionReplicas": moved_partition_replicas,
        "lostVolumes": [v.name for v in scenario.lost_volumes],
        "underMinIsrBefore": under_before,  # in-sync replicas left by the failure, below min.insync.replicas
        "underMinIsrAfter": under_after,  # replicas in the target (all in sync once it is reached), below it
        "uncleanElections": unclean_elections(scenario, target),
    }
    if any(scenario.stale_replicas(v.name) for v in cluster.volumes):
        metrics["resyncedVolumeReplicas"] = resynced  # stale replicas brought in sync (their GiB are in copiedGiB)
    return metrics

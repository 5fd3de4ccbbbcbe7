"""Which items a rule's check judges: every one (``None``), or only those named here.

Every rule is a conjunction of local predicates over items -- a volume's replicas, a broker's
home, a node's load, a partition's replicas and leader -- so a check may judge a subset of them
and say exactly what the full check says about those. ``placement.rules.changes`` names the
items a target changed; the others keep the verdict they had."""
from __future__ import annotations

from dataclasses import dataclass

PKey = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class Items:
    volumes: frozenset[str]
    brokers: frozenset[int]
    nodes: frozenset[str]
    partitions: frozenset[PKey]


def volumes(cluster, items: Items | None):
    """The cluster's volumes judged, in the cluster's order (a few of many found by their place)."""
    if items is None:
        return cluster.volumes
    if len(items.volumes) * 16 > len(cluster.volumes):
        return [v for v in cluster.volumes if v.name in items.volumes]
    from placement.rules import volume_positions

    place = volume_positions(cluster)
    return [cluster.volumes[i] for i in sorted(place[name] for name in items.volumes if name in place)]


def brokers(cluster, items: Items | None):
    return cluster.brokers if items is None else [b for b in cluster.brokers if b.id in items.brokers]


def nodes(cluster, items: Items | None):
    return cluster.nodes if items is None else [n for n in cluster.nodes if n.name in items.nodes]


def partitions(cluster, items: Items | None):
    """The cluster's partitions judged, in the cluster's order (a few of many found by their place)."""
    if items is None:
        return cluster.partitions
    if len(items.partitions) * 16 > len(cluster.partitions):
        return [p for p in cluster.partitions if p.key in items.partitions]
    from placement.rules import partition_positions

    place = partition_positions(cluster)
    return [cluster.partitions[i] for i in sorted(place[key] for key in items.partitions if key in place)]

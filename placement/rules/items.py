"""Which items a rule's check judges: every one (``None``), or only those named here.

Every rule is a conjunction of local predicates over items -- a volume's replicas, a broker's
home, a node's load, a partition's replicas and leader -- so a check may judge a subset of them
and say exactly what the full check says about those. ``placement.rules.changes`` names the
items a target changed; the others keep the verdict they had."""
from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

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
    from placement.rules import volume_positions

    return _in_order(cluster.volumes, items.volumes, attrgetter("name"), lambda: volume_positions(cluster))


def brokers(cluster, items: Items | None):
    return cluster.brokers if items is None else [b for b in cluster.brokers if b.id in items.brokers]


def nodes(cluster, items: Items | None):
    return cluster.nodes if items is None else [n for n in cluster.nodes if n.name in items.nodes]


def partitions(cluster, items: Items | None):
    """The cluster's partitions judged, in the cluster's order (a few of many found by their place)."""
    if items is None:
        return cluster.partitions
    from placement.rules import partition_positions

    return _in_order(cluster.partitions, items.partitions, attrgetter("key"), lambda: partition_positions(cluster))


def _in_order(every: list, wanted: frozenset, key, positions) -> list:
    """The items of ``every`` whose key is ``wanted``, in ``every``'s order: a walk where many are
    wanted, else each found by its place (``positions()``: key -> index, made once per cluster)."""
    if len(wanted) * 16 > len(every):
        return [x for x in every if key(x) in wanted]
    place = positions()
    return [every[i] for i in sorted(place[k] for k in wanted if k in place)]

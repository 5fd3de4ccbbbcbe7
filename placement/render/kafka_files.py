"""The files Kafka's own tools read.

- ``kafka-reassign-partitions.sh --execute --reassignment-json-file``:
  ``{"version": 1, "partitions": [{"topic", "partition", "replicas"}]}``, only the
  partitions whose replica list changes, each once, never an empty list;
- the rollback file: the same partitions with their current replicas;
- ``kafka-leader-election.sh --election-type PREFERRED --path-to-json-file``:
  ``{"partitions": [{"topic", "partition"}]}``, the partitions whose leader moves
  to its preferred (first) replica.
"""
from __future__ import annotations

from placement.models.cluster import Cluster
from placement.models.plan import Plan

REASSIGNMENT_VERSION = 1


def _changed(cluster: Cluster, plan: Plan):
    for p in cluster.partitions:
        t = plan.placement.partitions.get(p.key)
        if t is not None and t.replicas and tuple(t.replicas) != p.replicas:
            yield p, t


def reassignment(cluster: Cluster, plan: Plan) -> dict:
    return {"version": REASSIGNMENT_VERSION,
            "partitions": [{"topic": p.topic, "partition": p.id, "replicas": list(t.replicas)}
                           for p, t in _changed(cluster, plan)]}


def rollback(cluster: Cluster, plan: Plan) -> dict:
    return {"version": REASSIGNMENT_VERSION,
            "partitions": [{"topic": p.topic, "partition": p.id, "replicas": list(p.replicas)}
                           for p, _ in _changed(cluster, plan)]}


def preferred_election(cluster: Cluster, plan: Plan) -> dict | None:
    moves = [{"topic": p.topic, "partition": p.id} for p in cluster.partitions
             if (t := plan.placement.partitions.get(p.key)) is not None and t.leader is not None
             and t.leader != p.leader and t.replicas and t.replicas[0] == t.leader]
    return {"partitions": moves} if moves else None

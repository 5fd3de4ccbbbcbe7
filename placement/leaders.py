"""Leadership after the move: keep a leader that still runs; otherwise elect the
first in-sync replica that runs, in the preferred order (replicas[0] first)."""
from __future__ import annotations

from dataclasses import replace

from models.plan import Placement
from placement.scenario import Scenario


def elect_leaders(scenario: Scenario, target: Placement) -> Placement:
    cluster = scenario.cluster
    running = {b for b, n in target.brokers.items() if n is not None}
    partitions: dict = {}
    for key, t in target.partitions.items():
        original = cluster.partition[key]
        if t.leader is not None and t.leader in t.replicas and t.leader in running:
            partitions[key] = t
            continue
        choices = [b for b in t.replicas if b in running and b in original.isr]
        choices += [b for b in t.replicas if b in running and b not in choices]
        choices += [b for b in t.replicas if b not in choices]
        partitions[key] = replace(t, leader=choices[0] if choices else None)
    return Placement(brokers=target.brokers, volumes=target.volumes, partitions=partitions)



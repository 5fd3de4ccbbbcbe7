"""With ``rackAware: preferred`` the table says how many partitions a plan leaves spanning fewer
zones than they could (racks come after serving brokers soonest, DESIGN's level order), and how many
did at the start; the stranger's test found 338 such partitions after one node failure, unsaid."""
from __future__ import annotations

import io
from dataclasses import replace

from placement.models.cluster import RackAware
from placement.models.failures import resolve_failures
from placement.models.generate import generate_cluster
from placement.render.tables import console, rack_shortfall, render_plan
from placement.solve.planner import plan_recovery


def _table(cluster, plan) -> str:
    buffer = io.StringIO()
    render_plan(console(buffer), cluster, plan)
    return buffer.getvalue()


def _cluster(rack_aware=RackAware.PREFERRED):
    cluster = generate_cluster(nodes=9, zones=3, brokers=6, volumes=12, partitions=60, seed=2)
    return replace(cluster, policy=replace(cluster.policy, rack_aware=rack_aware))


def test_partitions_left_in_one_zone_are_counted_and_said():
    cluster = _cluster()
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert rack_shortfall(cluster, plan) == (0, 0)  # the generator lays partitions out rack-aware
    assert "span fewer zones" not in _table(cluster, plan)
    zone = {b.id: cluster.node[b.node].zone for b in cluster.brokers}
    same = {}
    for b in sorted(zone):
        same.setdefault(zone[b], []).append(b)
    pair = next(bs[:2] for bs in same.values() if len(bs) >= 2)  # two brokers in one zone
    partitions = dict(plan.placement.partitions)
    moved = sorted(partitions)[:3]
    for key in moved:
        partitions[key] = replace(partitions[key], replicas=tuple(pair), leader=pair[0])
    short = replace(plan, placement=replace(plan.placement, partitions=partitions))
    assert rack_shortfall(cluster, short) == (3, 0)
    assert ("3 partitions now span fewer zones than they could (0 before the plan; rackAware: preferred; racks come "
            "after serving brokers soonest)") in _table(cluster, short)
    off = _cluster(RackAware.OFF)
    assert "span fewer zones" not in _table(off, replace(short, cluster=off.name))

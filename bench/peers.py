"""placement against the Kafka rebalancers, removing one broker (3 racks, RF 3).

Peers (the optional ``bench`` extra): Yelp's kafka-utils (kafka-cluster-manager
``decommission`` with the partition-count "greedy" and the genetic balancer) and
LinkedIn's kafka-tools (kafka-assigner ``remove``, then its ``rackaware`` balance
module). Each runs offline, as a library, on the same in-memory layout.

    python bench/peers.py            # 6/100, 30/3,000, 100/20,000
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = [(6, 100), (30, 3000), (100, 20000)]
REMOVED = 0


def layout(brokers: int, partitions: int):
    from placement.models.generate import generate_cluster

    cluster = generate_cluster(nodes=brokers, zones=3, brokers=brokers, volumes=brokers, partitions=partitions,
                               seed=1, partitions_per_topic=100)
    rack = {b.id: cluster.node[b.node].zone for b in cluster.brokers}
    assignment = {p.key: list(p.replicas) for p in cluster.partitions}
    sizes = {p.key: p.size_gib for p in cluster.partitions}
    return cluster, rack, assignment, sizes


def run_placement(cluster, rack, assignment):
    import ortools.sat.python.cp_model  # noqa: F401  start-up, not timed
    import z3  # noqa: F401

    from placement.models.failures import resolve_failures
    from placement.solve.planner import PlanOptions, plan_recovery

    started = time.perf_counter()
    plan = plan_recovery(cluster, resolve_failures(cluster, [], remove_brokers=[REMOVED]), PlanOptions(time_limit=60))
    seconds = time.perf_counter() - started
    new = {k: list(t.replicas) for k, t in plan.placement.partitions.items()}
    leaders = {k: t.leader for k, t in plan.placement.partitions.items()}
    return new, leaders, seconds, plan.status.value


def run_yelp(rack, assignment, genetic: bool):
    logging.disable(logging.WARNING)
    from kafka_utils.kafka_cluster_manager.cluster_info.cluster_topology import ClusterTopology
    from kafka_utils.kafka_cluster_manager.cluster_info.genetic_balancer import GeneticBalancer
    from kafka_utils.kafka_cluster_manager.cluster_info.partition_count_balancer import PartitionCountBalancer
    from kafka_utils.kafka_cluster_manager.cluster_info.partition_measurer import UniformPartitionMeasurer

    brokers = {b: {"host": f"broker-{b}", "rack": rack[b]} for b in rack}
    args = argparse.Namespace()
    measurer = UniformPartitionMeasurer(None, brokers, assignment, args)
    started = time.perf_counter()
    topology = ClusterTopology({k: list(v) for k, v in assignment.items()}, brokers, measurer,
                               lambda broker: broker.metadata["rack"])
    balancer = (GeneticBalancer if genetic else PartitionCountBalancer)(topology, args)
    balancer.decommission_brokers([REMOVED])
    new = {k: list(v) for k, v in topology.assignment.items()}
    seconds = time.perf_counter() - started
    return new, {k: v[0] for k, v in new.items()}, seconds, "done"


def run_linkedin(rack, assignment, sizes):
    from kafka.tools.assigner.actions.balancemodules.rackaware import ActionBalanceRackAware
    from kafka.tools.assigner.actions.remove import ActionRemove
    from kafka.tools.models.broker import Broker
    from kafka.tools.models.cluster import Cluster
    from kafka.tools.models.topic import Topic

    logging.disable(logging.WARNING)
    started = time.perf_counter()
    cluster = Cluster()
    for b in sorted(rack):
        broker = Broker(f"broker-{b}", id=b)
        broker.rack = rack[b]
        cluster.add_broker(broker)
    by_topic: dict[str, list] = {}
    for (topic, pid), replicas in assignment.items():
        by_topic.setdefault(topic, []).append((pid, replicas))
    for topic, parts in by_topic.items():
        t = Topic(topic, len(parts))
        for pid, replicas in parts:
            for pos, b in enumerate(replicas):
                t.partitions[pid].add_replica(cluster.brokers[b], pos)
            t.partitions[pid].size = sizes[(topic, pid)]
        cluster.add_topic(t)
    args = argparse.Namespace(brokers=[REMOVED], to_brokers=[], exclude_topics=[])
    ActionRemove(args, cluster).process_cluster()
    del cluster.brokers[REMOVED]  # the retired broker takes nothing back
    ActionBalanceRackAware(args, cluster).process_cluster()
    new = {(p.topic.name, p.num): [b.id for b in p.replicas] for p in cluster.partitions()}
    seconds = time.perf_counter() - started
    return new, {k: v[0] for k, v in new.items()}, seconds, "done"


def judge(rack, assignment, sizes, new, leaders) -> dict:
    bound = sum(1 for r in assignment.values() if REMOVED in r)
    moved = sum(1 for k, r in new.items() for b in r if b not in assignment[k])
    moved_gib = sum(sizes[k] for k, r in new.items() for b in r if b not in assignment[k])
    rack_violations = sum(1 for r in new.values() if len({rack[b] for b in r}) < len(r))
    broken = sum(1 for k, r in new.items() if REMOVED in r or len(set(r)) != len(assignment[k]))
    count = Counter(b for r in new.values() for b in r)
    running = [b for b in rack if b != REMOVED]
    spreads = []
    for z in sorted(set(rack.values())):
        loads = [count[b] for b in running if rack[b] == z]
        spreads.append(max(loads) - min(loads))
    data = Counter()
    for k, r in new.items():
        for b in r:
            data[b] += sizes[k]
    byte_spreads = []
    for z in sorted(set(rack.values())):
        loads = [data[b] for b in running if rack[b] == z]
        byte_spreads.append(max(loads) - min(loads))
    lead = Counter(leaders.values())
    return {"gibSpread": round(max(byte_spreads), 1),"moved": moved, "bound": bound, "movedGiB": round(moved_gib, 1), "rackViolations": rack_violations,
            "invalid": broken, "rackSpread": max(spreads),
            "leaderSpread": max(lead[b] for b in running) - min(lead[b] for b in running)}


def main() -> list[str]:
    lines = ["| brokers / partitions | tool | replicas moved (lower bound) | GiB moved | rack violations | "
             "within-rack spread | leader spread | within-rack GiB spread | wall time | status |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    tools = [("placement", lambda c, r, a, s: run_placement(c, r, a)),
             ("Yelp greedy decommission", lambda c, r, a, s: run_yelp(r, a, genetic=False)),
             ("Yelp genetic decommission", lambda c, r, a, s: run_yelp(r, a, genetic=True)),
             ("LinkedIn remove + rackaware", lambda c, r, a, s: run_linkedin(r, a, s))]
    for brokers, partitions in SIZES:
        cluster, rack, assignment, sizes = layout(brokers, partitions)
        for name, run in tools:
            try:
                new, leaders, seconds, status = run(cluster, rack, assignment, sizes)
            except Exception as exc:  # noqa: BLE001 - a peer that fails is a result too
                lines.append(f"| {brokers} / {partitions} | {name} | failed: {type(exc).__name__}: {exc} | | | | | | | |")
                print(lines[-1], flush=True)
                continue
            j = judge(rack, assignment, sizes, new, leaders)
            invalid = f", {j['invalid']} invalid partitions" if j["invalid"] else ""
            lines.append(f"| {brokers} / {partitions} | {name} | {j['moved']} ({j['bound']}) | {j['movedGiB']} | "
                         f"{j['rackViolations']} | {j['rackSpread']} | {j['leaderSpread']} | {j['gibSpread']} | {seconds:.2f} s | "
                         f"{status}{invalid} |")
            print(lines[-1], flush=True)
    return lines


if __name__ == "__main__":
    main()

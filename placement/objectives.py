"""The planner's objective, in priority order (DESIGN.md "Planning semantics").

Each level is a list of (coefficient, term) pairs, minimised in turn and fixed
before the next:

1. invariants   meet every invariant; where impossible, the fewest shortfalls
                (missing replicas, zones, brokers not running, partition replicas)
2. copied       the least data copied over the network (MiB)
3. untouched    move nothing healthy: keep surviving replicas and healthy brokers
4. waiting      displaced brokers serve soonest: on a node that already holds a
                surviving replica of each of their volumes
5. racks        rack awareness (``rackAware: preferred``)
6. balance      spread new replicas over nodes (stage A) and partition
                replicas over brokers (stage B): min-max of counts
"""
from __future__ import annotations

from placement.rules import kafka

Level = tuple[str, list[tuple[int, object]]]


def stage_a(enc) -> list[Level]:
    space = enc.space
    scenario = space.scenario
    cluster = scenario.cluster
    copied, kept, new_at = [], [], {}
    for name, nodes in space.volume_domain.items():
        survivors = set(scenario.survivors(name))
        used = cluster.volume[name].used_mib
        for n in nodes:
            if n in survivors:
                kept += [(1, 1), (-1, enc.vol(name, n))]  # a dropped surviving replica costs 1
            else:
                copied.append((used, enc.vol(name, n)))
                new_at.setdefault(n, []).append(enc.vol(name, n))
    for b, nodes in space.broker_domain.items():
        broker = cluster.broker[b]
        if scenario.is_alive(broker.node) and broker.node in nodes:
            kept += [(1, 1), (-1, enc.brk(b, broker.node))]  # a restarted healthy broker costs 1
    waiting = []
    for b, nodes in space.broker_domain.items():
        volumes = cluster.broker[b].volumes
        if not volumes:
            continue
        ready = set.intersection(*(set(scenario.survivors(v)) for v in volumes))
        waiting += [(1, enc.brk(b, n)) for n in nodes if n not in ready]
    levels: list[Level] = [
        ("invariants", [(1, s) for _, s in enc.slacks]),
        ("copied", copied + enc.partition_copy),
        ("untouched", kept),
        ("waiting", waiting),
    ]
    if scenario.rack_preferred:
        levels.append(("racks", kafka.rack_conflicts(enc)))
    levels.append(("balance", _min_max(enc, list(new_at.values()), "new_replicas")))
    return levels


def stage_b(enc) -> list[Level]:
    space = enc.space
    scenario = space.scenario
    copied = []
    loads: dict[int, list] = {}
    for key, brokers in space.partition_domain.items():
        p = scenario.cluster.partition[key]
        for b in brokers:
            if b not in p.replicas:
                copied.append((p.size_mib, enc.part(key, b)))
            loads.setdefault(b, []).append(enc.part(key, b))
    counts = {}
    for target in space.base.partitions.values():
        if target.key in space.partition_domain:
            continue
        for b in target.replicas:
            counts[b] = counts.get(b, 0) + 1
    groups = [terms + ([counts[b]] if counts.get(b) else []) for b, terms in sorted(loads.items())]
    levels: list[Level] = [("invariants", [(1, s) for _, s in enc.slacks]), ("copied", copied)]
    if scenario.rack_preferred:
        levels.append(("racks", kafka.rack_spread(enc)))
    levels.append(("balance", _min_max(enc, groups, "partition_replicas")))
    return levels


def _min_max(enc, groups: list[list], name: str) -> list[tuple[int, object]]:
    """One variable bounding every group's sum from above, with the averaging
    lower bound made explicit (DESIGN.md: it lets the solver prove min-max fast)."""
    groups = [g for g in groups if any(not isinstance(t, int) for t in g)]
    if not groups:
        return []
    top = max(len(g) + sum(t for t in g if isinstance(t, int)) for g in groups)
    peak = enc.new_int(0, top, f"max_{name}")
    for g in groups:
        enc.model.Add(sum(g) <= peak)
    enc.model.Add(len(groups) * peak >= sum(sum(g) for g in groups))
    return [(1, peak)]

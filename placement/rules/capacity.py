"""I5 capacity: on every node the replicas it holds fit ``storageGiB`` and the
brokers on it fit ``cpu`` and ``memoryGiB`` (absent: unlimited). Under
``--rebalance --max-used p`` the replicas must fit p percent of ``storageGiB``
(``Scenario.storage_limit_mib``).

Sizes are MiB and millicores; each constraint is divided by the gcd of its
coefficients (exact, and it keeps CP-SAT's numbers small)."""
from __future__ import annotations

import math
from collections import defaultdict
from functools import reduce

from placement.models.cluster import NodeLoad
from placement.models.plan import Placement, Violation
from placement.models.units import gib
from placement.rules import items as judged
from placement.rules.items import Items
from placement.rules.terms import smt_weighted
from placement.scenario import Scenario

ID = "I5"
TITLE = "capacity"


def storage_held_mib(cluster, target: Placement) -> dict[str, int]:
    """Node -> MiB the target's replicas take there (a node listed twice for a volume counts twice)."""
    storage: dict[str, int] = defaultdict(int)
    for v, nodes in target.volumes.items():
        for n in nodes:
            storage[n] += cluster.volume[v].size_mib
    return storage


def broker_load(cluster, target: Placement) -> dict[str, NodeLoad]:
    """Node -> what the target's running brokers take there (count, CPU, memory)."""
    load: dict[str, NodeLoad] = defaultdict(NodeLoad)
    for b, n in target.brokers.items():
        if n is not None and b in cluster.broker:
            load[n] = load[n].plus(NodeLoad.of_broker(cluster.broker[b]))
    return load


def check(scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
    cluster = scenario.cluster
    storage = storage_held_mib(cluster, target)
    cpu: dict[str, int] = defaultdict(int)
    memory: dict[str, int] = defaultdict(int)
    for b, n in target.brokers.items():
        if n is not None:
            cpu[n] += cluster.broker[b].cpu_millicores
            memory[n] += cluster.broker[b].memory_mib
    out: list[Violation] = []
    percent = scenario.failures.max_used_percent
    for node in judged.nodes(cluster, items):
        n = node.name
        limit = scenario.storage_limit_mib(n)
        if storage[n] > limit:
            if percent is None:
                what, needed = f"more than its {node.storage_gib:g} GiB", node.storage_gib
            else:
                needed = gib(limit)
                what = f"more than --max-used {percent:g}% of its {node.storage_gib:g} GiB ({needed:g} GiB)"
            out.append(Violation.measured(ID, f"node {n} would hold {gib(storage[n]):g} GiB of replicas, {what}",
                                          f"node {n}", gib(storage[n]), f"<= {needed:g}"))
        if node.cpu_millicores is not None and cpu[n] > node.cpu_millicores:
            out.append(Violation.measured(ID, f"node {n} would run brokers needing {cpu[n] / 1000:g} cores, more than its "
                                              f"{node.cpu_millicores / 1000:g}", f"node {n}", cpu[n] / 1000,
                                          f"<= {node.cpu_millicores / 1000:g}"))
        if node.memory_mib is not None and memory[n] > node.memory_mib:
            out.append(Violation.measured(ID, f"node {n} would run brokers needing {gib(memory[n]):g} GiB of memory, "
                                              f"more than its {gib(node.memory_mib):g} GiB", f"node {n}", gib(memory[n]),
                                          f"<= {gib(node.memory_mib):g}"))
    return out


def _limits(enc):
    """Per node with decisions: (weighted terms, free room, room up to the physical storage when the
    rebalance's limit may fall short, else None) for storage, cpu and memory."""
    space = enc.space
    cluster = space.scenario.cluster
    for n in space.nodes_with_decisions:
        node = cluster.node[n]
        fixed = space.fixed_load[n]
        vols = space.decided_volumes_at.get(n, [])
        brokers = space.decided_brokers_at.get(n, [])
        if vols:
            # a node already over its limit keeps what is fixed there (I5 reports it) but takes nothing new
            limit = space.scenario.storage_limit_mib(n)
            physical = max(0, node.storage_mib - fixed.storage_mib) if limit < node.storage_mib else None
            yield [(cluster.volume[v].size_mib, enc.vol(v, n)) for v in vols], max(0, limit - fixed.storage_mib), physical
        if brokers and node.cpu_millicores is not None:
            yield [(cluster.broker[b].cpu_millicores, enc.brk(b, n)) for b in brokers], max(0, node.cpu_millicores - fixed.cpu_millicores), None
        if brokers and node.memory_mib is not None:
            yield [(cluster.broker[b].memory_mib, enc.brk(b, n)) for b in brokers], max(0, node.memory_mib - fixed.memory_mib), None


def _reduced(terms, *rooms):
    terms = [(c, t) for c, t in terms if c]
    g = reduce(math.gcd, [c for c, _ in terms], 0) or 1
    return [(c // g, t) for c, t in terms], *(None if r is None else r // g for r in rooms)


def encode_cpsat(enc) -> None:
    for i, (terms, room, physical) in enumerate(_limits(enc)):
        terms, room, physical = _reduced(terms, room, physical)
        if not terms:
            continue
        total = sum(c * t for c, t in terms)
        if physical is None or physical <= room or not enc.relaxed:
            enc.add(ID, total <= room)
            continue
        # a rebalance's limit may fall short on a node (one minor shortfall, outweighed by any
        # missing replica: redundancy is never traded for a utilisation target); its storage may not
        over = enc.shortfall(ID, 1, f"max-used#{i}", minor=True)
        enc.add(ID, total <= room + (physical - room) * over)


def encode_z3(enc) -> None:
    for terms, room, _ in _limits(enc):
        terms, room = _reduced(terms, room)
        if terms:
            enc.add(ID, f"(<= {smt_weighted(terms)} {room})")

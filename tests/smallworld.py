"""Seeded random small clusters and an exhaustive brute-force planner to judge the real one.

The brute force shares nothing with the planner but the scenario's facts (what
survives, what is eligible, what the failure touches): it enumerates every
replica set of every touched volume and every node (or none) for every touched
broker, and scores each with its own arithmetic.
"""
from __future__ import annotations

import random
from itertools import combinations, product

from placement.models.cluster import NodeState
from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.scenario import Scenario
from placement.solve.reachable import ceiling_moves


def random_cluster(seed: int, *, max_nodes: int = 6, tight: bool = True, kafka_heavy: bool = False) -> dict:
    """A valid cluster document: replicas fit their nodes, brokers sit on a replica of their volume.

    ``kafka_heavy``: more brokers and partitions, and broker volumes often at RF 1, so
    that failures leave brokers unable to run and their partitions must move."""
    rng = random.Random(seed)
    zones = [f"zone-{z}" for z in "abc"[: rng.randint(1, 3)]]
    n_nodes = rng.randint(3, max_nodes)
    nodes = []
    for i in range(1, n_nodes + 1):
        node = {"name": f"node-{i}", "zone": rng.choice(zones),
                "storageGiB": rng.choice([0, 100, 200, 300] if rng.random() < 0.15 else [100, 200, 300, 400])}
        if rng.random() < 0.1:
            node["state"] = "cordoned"
        if rng.random() < 0.5:
            node["cpu"] = rng.choice([2, 4, 8])
        nodes.append(node)
    free = {n["name"]: n["storageGiB"] for n in nodes}
    rf_default = rng.choice([2, 3])
    volumes = []
    for i in range(rng.randint(3, 4) if kafka_heavy else rng.randint(1, 3)):
        size = rng.choice([50, 100, 150]) if tight else 50
        rf = rng.choice([1, 2, 3]) if rng.random() < 0.2 else rf_default
        if kafka_heavy:
            size, rf = 50, (1 if rng.random() < 0.6 else rf_default)
        fits = [n for n in free if free[n] >= size]
        if len(fits) < rf:
            continue
        chosen = rng.sample(fits, rf)
        for n in chosen:
            free[n] -= size
        volumes.append({"name": f"pvc-{i}", "sizeGiB": size, "usedGiB": rng.choice([size, size // 2, 10]),
                        "replicationFactor": rf, "replicas": chosen})
    brokers = []
    used_nodes: set[str] = set()
    for i, v in enumerate(volumes[: rng.randint(3, 4) if kafka_heavy else rng.randint(1, 3)]):
        hosts = [n for n in v["replicas"] if n not in used_nodes]
        if not hosts:
            continue
        host = rng.choice(hosts)
        used_nodes.add(host)
        brokers.append({"id": i, "node": host, "volumes": [v["name"]], "cpu": rng.choice([1, 2])})
    for node in nodes:  # current brokers fit their nodes
        need = sum(b["cpu"] for b in brokers if b["node"] == node["name"])
        if "cpu" in node and node["cpu"] < need:
            node["cpu"] = need
    topics = []
    if brokers:
        rf = rng.randint(1, len(brokers))
        parts = []
        for pid in range(rng.randint(3, 6) if kafka_heavy else rng.randint(1, 3)):
            replicas = rng.sample([b["id"] for b in brokers], rf)
            parts.append({"id": pid, "replicas": replicas, "sizeGiB": rng.choice([0, 5, 10])})
        topics.append({"name": "events", "partitions": parts})
    policy = {"volumeReplicationFactor": rf_default, "zoneSpread": rng.random() < 0.7,
              "brokerPlacement": "required" if rng.random() < 0.8 else "preferred",
              "rackAware": rng.choice(["preferred", "off"])}
    return {"name": f"random-{seed}", "policy": policy, "nodes": nodes, "volumes": volumes,
            "brokers": brokers, "topics": topics}


def random_scenario(seed: int, *, removal: bool = False, **kwargs) -> Scenario:
    """A random cluster with one or two failed nodes; with ``removal``, one broker retired
    instead (and sometimes a node failed too)."""
    doc = random_cluster(seed, **kwargs)
    if kwargs.get("kafka_heavy"):
        doc["policy"]["brokersPerNode"] = 2
    cluster = parse_cluster(doc, f"random-{seed}")
    rng = random.Random(seed * 7919 + 1)
    alive = [n.name for n in cluster.nodes]
    if removal and cluster.brokers:
        failed = rng.sample(alive, 1) if rng.random() < 0.3 else []
        retired = [rng.choice(sorted(cluster.broker))]
        return Scenario(cluster, resolve_failures(cluster, failed, remove_brokers=retired))
    failed = rng.sample(alive, rng.choice([1, 1, 1, 2]) if len(alive) > 3 else 1)
    return Scenario(cluster, resolve_failures(cluster, failed))


def _volume_options(scenario: Scenario, name: str) -> list[tuple[str, ...]]:
    v = scenario.cluster.volume[name]
    cands = [n.name for n in scenario.cluster.nodes if scenario.may_hold_replica(v, n.name)]
    return [s for k in range(v.replication_factor + 1) for s in combinations(cands, k)]


def _broker_options(scenario: Scenario, bid: int) -> list[str | None]:
    b = scenario.cluster.broker[bid]
    if scenario.is_removed(bid):
        return [None]
    if scenario.must_stay(b):
        return [None, b.node]  # moving it would take a partition below min.insync.replicas
    return [None] + [n.name for n in scenario.cluster.nodes if scenario.may_host_broker(b, n.name)]


def search_size(scenario: Scenario) -> int:
    size = 1
    for v in scenario.touched_volumes:
        size *= len(_volume_options(scenario, v))
    for b in scenario.touched_brokers:
        size *= len(_broker_options(scenario, b))
    return size


def brute_force(scenario: Scenario) -> tuple[int, int] | None:
    """The lexicographic minimum of (invariant shortfall, copied MiB) over the whole decision space."""
    cluster = scenario.cluster
    nodes = {n.name: n for n in cluster.nodes}
    policy = cluster.policy
    touched_v = list(scenario.touched_volumes)
    touched_b = list(scenario.touched_brokers)
    fixed_storage = {n: 0 for n in nodes}
    for v in cluster.volumes:
        if v.name not in touched_v and scenario.has_data(v.name):
            for n in v.replicas:
                fixed_storage[n] += v.size_mib
    fixed_brokers = {n: [] for n in nodes}
    for b in cluster.brokers:
        if b.id not in touched_b:
            fixed_brokers[b.node].append(b)
    best = None
    for combo in product(*(_volume_options(scenario, v) for v in touched_v)):
        storage = dict(fixed_storage)
        short = copied = 0
        target = {}
        for name, chosen in zip(touched_v, combo):
            vol = cluster.volume[name]
            target[name] = set(chosen)
            for n in chosen:
                storage[n] += vol.size_mib
            short += vol.replication_factor - len(chosen)
            short += max(0, scenario.zones_needed(vol) - len({nodes[n].zone for n in chosen}))
            survivors = set(scenario.survivors(name))
            copied += vol.used_mib * sum(1 for n in chosen if n not in survivors)
        if any(storage[n] > nodes[n].storage_mib for n in nodes):
            continue
        for where in product(*(_broker_options(scenario, b) for b in touched_b)):
            placed = {b: n for b, n in zip(touched_b, where)}
            ok = True
            for bid, n in placed.items():
                broker = cluster.broker[bid]
                if n is None or policy.broker_placement.value != "required":
                    continue
                for v in broker.volumes:
                    holders = target.get(v, set(cluster.volume[v].replicas) if scenario.has_data(v) else set())
                    if n not in holders:
                        ok = False
            for n in nodes:
                here = fixed_brokers[n] + [cluster.broker[b] for b, m in placed.items() if m == n]
                if len(here) > policy.brokers_per_node:
                    ok = False
                cap = nodes[n].cpu_millicores
                if cap is not None and sum(b.cpu_millicores for b in here) > cap:
                    ok = False
            if not ok:
                continue
            running = {b.id for b in cluster.brokers if b.id not in touched_b} | {b for b, n in placed.items() if n}
            b_short = sum(1 for b, n in placed.items() if n is None and not scenario.is_removed(b))
            p_short = p_copied = 0
            for p in cluster.partitions:
                vacated = sum(1 for b in p.replicas if b not in running)
                online = bool(running.intersection(scenario.sources(p)))
                outsiders = len(running - set(p.replicas))
                refill = min(vacated, outsiders) if online else 0
                p_short += vacated - refill + (0 if online else 1)
                p_copied += refill * p.size_mib
            key = (short + b_short + p_short, copied + p_copied)
            if best is None or key < best:
                best = key
    return best


def _whole_volume_options(scenario: Scenario, v) -> list[tuple[tuple[str, ...], tuple[int, int, int]]]:
    """Every replica set of the volume (up to its RF, over nodes that may hold it) with its own
    (shortfall, copied MiB, dropped keepable survivors)."""
    cluster = scenario.cluster
    cands = [n.name for n in cluster.nodes if scenario.may_hold_replica(v, n.name)]
    keepable = {n for n in scenario.survivors(v.name) if scenario.may_hold_replica(v, n)}
    options = []
    for k in range(v.replication_factor + 1):
        for chosen in combinations(cands, k):
            zones = len({cluster.node[n].zone for n in chosen})
            short = v.replication_factor - k + max(0, scenario.zones_needed(v) - zones)
            copied = sum(scenario.copy_cost_mib(v.name, n) for n in chosen)
            dropped = len(keepable - set(chosen))
            options.append((chosen, (short, copied, dropped)))
    options.sort(key=lambda o: o[1])
    return options


def _decided_brokers(scenario: Scenario) -> list[int]:
    """Every broker whose restart keeps its partitions serving (``Scenario.may_move_healthy``) or that
    must move; under a rebalance only those that must move (brokers stay)."""
    cluster = scenario.cluster
    if scenario.failures.max_used_percent is not None:
        return list(scenario.touched_brokers)
    return [b.id for b in cluster.brokers if b.id in scenario.touched_brokers or scenario.may_move_healthy(b)]


def whole_search_size(scenario: Scenario) -> int:
    size = 1
    for v in scenario.cluster.volumes:
        if scenario.has_data(v.name):
            size *= len(_whole_volume_options(scenario, v))
    for b in _decided_brokers(scenario):
        size *= len(_broker_options(scenario, b))
    return size


def brute_force_whole(scenario: Scenario) -> tuple[int, int, int] | None:
    """The lexicographic minimum of (invariant shortfall, copied MiB, healthy items disturbed) over the
    unrestricted problem: every volume with data and every broker decided (under a rebalance,
    brokers stay), by a depth-first search that prunes with component-wise lower bounds. A node
    over a rebalance's storage limit (within its storage) is a minor shortfall, outweighed by any
    other, as the planner counts it; the shortfall returned is their sum."""
    cluster = scenario.cluster
    policy = cluster.policy
    nodes = {n.name: n for n in cluster.nodes}
    volumes = [v for v in cluster.volumes if scenario.has_data(v.name)]
    options = [[(chosen, (short, 0, copied, moved)) for chosen, (short, copied, moved) in _whole_volume_options(scenario, v)]
               for v in volumes]
    least = [tuple(min(o[1][i] for o in opts) for i in range(4)) for opts in options]
    rest_bound = [tuple(sum(least[j][i] for j in range(k, len(volumes))) for i in range(4))
                  for k in range(len(volumes) + 1)]
    decided = _decided_brokers(scenario)
    fixed_brokers = {n: [] for n in nodes}
    for b in cluster.brokers:
        if b.id not in decided:
            fixed_brokers[b.node].append(b)
    best: list = [None]

    def add(a, b):
        return tuple(x + y for x, y in zip(a, b))

    def restart_cost(b, n) -> int:
        """A healthy broker moved off a node it could have stayed on costs 1."""
        here = b.node
        if n == here or not scenario.is_alive(here) or not scenario.may_host_broker(b, here):
            return 0
        if scenario.hyperconverged and not all(scenario.has_data(v) and scenario.may_hold_replica(cluster.volume[v], here)
                                               for v in b.volumes):
            return 0
        return 1

    def brokers_dfs(i, target, placed, key):
        if best[0] is not None and key > best[0]:
            return
        if i == len(decided):
            finish(target, placed, key)
            return
        bid = decided[i]
        broker = cluster.broker[bid]
        for n in _broker_options(scenario, bid):
            if n is not None:
                if policy.broker_placement.value == "required":
                    if any(n not in target.get(v, ()) for v in broker.volumes):
                        continue
                here = fixed_brokers[n] + [cluster.broker[b] for b, m in placed.items() if m == n] + [broker]
                if len(here) > policy.brokers_per_node:
                    continue
                cap = nodes[n].cpu_millicores
                if cap is not None and sum(b.cpu_millicores for b in here) > cap:
                    continue
                mem = nodes[n].memory_mib
                if mem is not None and sum(b.memory_mib for b in here) > mem:
                    continue
                cost = (0, 0, 0, restart_cost(broker, n))
            else:
                cost = (0, 0, 0, 0) if scenario.is_removed(bid) else (1, 0, 0, restart_cost(broker, None))
            placed[bid] = n
            brokers_dfs(i + 1, target, placed, add(key, cost))
            del placed[bid]

    def finish(target, placed, key):
        for bid, volume, others in ceiling_moves(scenario):  # only targets the steps can reach
            to = placed.get(bid, cluster.broker[bid].node)
            if to is not None and to != cluster.broker[bid].node and to not in scenario.survivors(volume) \
                    and all(m in target.get(volume, ()) for m in others):
                return
        off = 0  # brokers that stay (not decided), each short of a replica under it where none is kept
        for b in cluster.brokers:
            if b.id not in decided and policy.broker_placement.value == "required":
                off += sum(1 for v in b.volumes if scenario.has_data(v) and b.node not in target.get(v, ()))
        key = add(key, (off, 0, 0, 0))
        running = {b.id for b in cluster.brokers if b.id not in decided} | {b for b, n in placed.items() if n}
        p_short = p_copied = 0
        for p in cluster.partitions:
            vacated = sum(1 for b in p.replicas if b not in running)
            online = bool(running.intersection(scenario.sources(p)))
            outsiders = len(running - set(p.replicas))
            refill = min(vacated, outsiders) if online else 0
            p_short += vacated - refill + (0 if online else 1)
            p_copied += refill * p.size_mib
        total = add(key, (p_short, 0, p_copied, 0))
        if best[0] is None or total < best[0]:
            best[0] = total

    def volumes_dfs(i, storage, target, key):
        if best[0] is not None and add(key, rest_bound[i]) > best[0]:
            return
        if i == len(volumes):
            over = sum(1 for n in nodes if storage[n] > scenario.storage_limit_mib(n))
            brokers_dfs(0, target, {}, add(key, (0, over, 0, 0)))
            return
        v = volumes[i]
        for chosen, cost in options[i]:
            if any(storage[n] + v.size_mib > nodes[n].storage_mib for n in chosen):
                continue
            for n in chosen:
                storage[n] += v.size_mib
            target[v.name] = set(chosen)
            volumes_dfs(i + 1, storage, target, add(key, cost))
            for n in chosen:
                storage[n] -= v.size_mib
            del target[v.name]

    volumes_dfs(0, {n: 0 for n in nodes}, {}, (0, 0, 0, 0))
    if best[0] is None:
        return None
    major, minor, copied, moved = best[0]
    return major + minor, copied, moved


def room_cluster(seed: int) -> dict:
    """A small, tightly packed cluster (4-5 nodes of 100-200 GiB, 3-5 volumes of 50-150 GiB at RF 1-3,
    up to 2 brokers): where one node fails, its volumes often find no node with room unless a
    healthy replica or broker moves (``only_room_helps`` tells)."""
    rng = random.Random(seed)
    zones = [f"zone-{z}" for z in "abc"[: rng.randint(1, 3)]]
    n_nodes = rng.randint(4, 5)
    nodes = [{"name": f"node-{i}", "zone": zones[(i - 1) % len(zones)] if rng.random() < 0.7 else rng.choice(zones),
              "storageGiB": rng.choice([100, 150, 200])} for i in range(1, n_nodes + 1)]
    free = {n["name"]: n["storageGiB"] for n in nodes}
    volumes = []
    for i in range(rng.randint(3, 5)):
        size = rng.choice([50, 50, 100, 150])
        rf = rng.choice([1, 2, 2, 3])
        fits = [n for n in free if free[n] >= size]
        if len(fits) < rf:
            continue
        chosen = rng.sample(fits, rf)
        for n in chosen:
            free[n] -= size
        volumes.append({"name": f"pvc-{i}", "sizeGiB": size, "usedGiB": rng.choice([size, size // 2, 10]),
                        "replicationFactor": rf, "replicas": chosen})
    brokers = []
    used: set[str] = set()
    for i, v in enumerate(volumes[: rng.randint(0, 2)]):
        hosts = [n for n in v["replicas"] if n not in used]
        if hosts:
            host = rng.choice(hosts)
            used.add(host)
            brokers.append({"id": i, "node": host, "volumes": [v["name"]]})
    topics = []
    if brokers:
        topics = [{"name": "events", "partitions": [{"id": 0, "replicas": [b["id"] for b in brokers], "sizeGiB": 1}]}]
    policy = {"volumeReplicationFactor": 2, "zoneSpread": rng.random() < 0.5, "brokerPlacement": "required",
              "rackAware": "off"}
    return {"name": f"room-{seed}", "policy": policy, "nodes": nodes, "volumes": volumes, "brokers": brokers,
            "topics": topics}


def room_scenario(seed: int) -> Scenario:
    """``room_cluster(seed)`` with one node failed."""
    doc = room_cluster(seed)
    cluster = parse_cluster(doc, doc["name"])
    rng = random.Random(seed * 31 + 7)
    return Scenario(cluster, resolve_failures(cluster, [rng.choice(sorted(cluster.node))]))


def only_room_helps(scenario: Scenario) -> bool:
    """No data lost, every invariant can hold, but not with every healthy replica and broker fixed."""
    if scenario.lost_volumes:
        return False
    return brute_force(scenario)[0] > 0 and brute_force_whole(scenario)[0] == 0


def disturbed(scenario: Scenario, target) -> int:
    """Healthy items the target disturbs (the objective's untouched level, by its own arithmetic):
    in-sync replicas dropped where they could have stayed, and brokers moved off a node they could
    have stayed on."""
    cluster = scenario.cluster
    count = 0
    for v in cluster.volumes:
        if scenario.has_data(v.name):
            kept = set(target.volumes.get(v.name, ()))
            count += sum(1 for n in scenario.survivors(v.name) if scenario.may_hold_replica(v, n) and n not in kept)
    for b in cluster.brokers:
        to = target.brokers.get(b.id)
        here = b.node
        if to == here or scenario.is_removed(b.id) or not scenario.is_alive(here) or not scenario.may_host_broker(b, here):
            continue
        if scenario.hyperconverged and not all(scenario.has_data(v) and scenario.may_hold_replica(cluster.volume[v], here)
                                               for v in b.volumes):
            continue
        count += 1
    return count


def operation_scenario(seed: int, kind: str) -> Scenario:
    """A random small cluster under a planned operation or an imperfect start:

    - ``drain``: one or two live nodes drained (a node failed too, now and then);
    - ``rebalance``: one or two empty nodes joined, every node within 40-90%;
    - ``return``: a node back from a failure, its replicas stale (some already rebuilt elsewhere,
      so that a volume may list more replicas than its replication factor);
    - ``imperfect``: a start that already breaks invariants (a node over its storage, a volume
      above or below its replication factor, a broker off its volume, no leader or a leader
      outside the ISR).
    """
    rng = random.Random(seed * 104729 + len(kind))
    doc = random_cluster(seed)
    names = [n["name"] for n in doc["nodes"]]
    drain: list[str] = []
    fail: list[str] = []
    percent = None
    if kind == "drain":
        drain = rng.sample(names, 1 if len(names) < 5 or rng.random() < 0.7 else 2)
        if rng.random() < 0.2:
            fail = rng.sample([n for n in names if n not in drain], 1)
    elif kind == "rebalance":
        zones = sorted({n["zone"] for n in doc["nodes"]})
        for i in range(rng.randint(1, 2)):
            doc["nodes"].append({"name": f"node-new-{i}", "zone": rng.choice(zones), "storageGiB": rng.choice([200, 300])})
        percent = rng.choice([40, 50, 60, 75, 90])
    elif kind == "return":
        back = rng.choice(names)
        sizes = {n["name"]: n["storageGiB"] for n in doc["nodes"]}
        used = {n: 0 for n in sizes}
        for v in doc["volumes"]:
            for n in v["replicas"]:
                used[n] += v["sizeGiB"]
        for v in doc["volumes"]:
            if back not in v["replicas"]:
                continue
            v["stale"] = {back: rng.choice([0, 1, 5, v["usedGiB"]])}
            room = [n for n in names if n not in v["replicas"] and sizes[n] - used[n] >= v["sizeGiB"]]
            if room and rng.random() < 0.4 and len(v["replicas"]) < 4:
                extra = rng.choice(room)  # rebuilt at once elsewhere: the stale one is surplus
                v["replicas"].append(extra)
                used[extra] += v["sizeGiB"]
    elif kind == "imperfect":
        for _ in range(rng.randint(1, 2)):
            what = rng.choice(["overfull", "above", "below", "broker", "leader", "isr"])
            if what == "overfull":
                node = rng.choice(doc["nodes"])
                held = sum(v["sizeGiB"] for v in doc["volumes"] if node["name"] in v["replicas"])
                if held:
                    node["storageGiB"] = max(50, held - 50)
            elif what in ("above", "below") and doc["volumes"]:
                v = rng.choice(doc["volumes"])
                if what == "above":
                    spare = [n["name"] for n in doc["nodes"] if n["name"] not in v["replicas"] and n["storageGiB"]]
                    if spare:
                        v["replicas"].append(rng.choice(spare))
                elif len(v["replicas"]) > 1:
                    v["replicas"].pop()
                    for b in doc["brokers"]:
                        if v["name"] in b["volumes"] and b["node"] not in v["replicas"]:
                            b["node"] = v["replicas"][0]
            elif what == "broker" and doc["brokers"]:
                b = rng.choice(doc["brokers"])
                taken = {x["node"] for x in doc["brokers"]}
                free = [n for n in names if n not in taken]
                if free:
                    b["node"] = rng.choice(free)
            elif what in ("leader", "isr") and doc["topics"]:
                p = rng.choice(doc["topics"][0]["partitions"])
                if what == "leader":
                    p["leader"] = -1
                elif len(p["replicas"]) > 1:
                    p["isr"] = p["replicas"][1:]
                    p["leader"] = p["replicas"][0]
        for node in doc["nodes"]:  # brokers still fit their nodes' CPU
            need = sum(b["cpu"] for b in doc["brokers"] if b["node"] == node["name"])
            if "cpu" in node and node["cpu"] < need:
                node["cpu"] = need
        if rng.random() < 0.4:
            fail = rng.sample(names, 1)
    else:
        raise ValueError(kind)
    cluster = parse_cluster(doc, f"{kind}-{seed}")
    return Scenario(cluster, resolve_failures(cluster, fail, drain=drain, max_used_percent=percent))



def unreachable_safely(plan) -> bool:
    """The plan's target meets every invariant but its steps cannot be made safe (a negative verdict
    the model checker gives, which the brute force of targets does not judge): every violation is
    one of its steps', and the model checker's counterexamples say so."""
    execution = plan.metrics.get("execution", {})
    return bool(plan.violations) and not execution.get("safe", True) and \
        all("the steps cannot be made safe" in v.message for v in plan.violations)


__all__ = ["random_cluster", "random_scenario", "brute_force", "brute_force_whole", "search_size",
           "whole_search_size", "room_cluster", "room_scenario", "only_room_helps", "disturbed",
           "operation_scenario", "unreachable_safely", "NodeState"]

"""The partitions stage's space and bounds, made in linear time (issue 14), against the code they
replace: the former ``_PartitionsShape.of`` (it walked every decided partition's domain, and
water-filled once per count of moved replicas) and the former ``Space.for_partitions`` loop,
copied here as they were; and the closed-form least water-filling spread against the minimum
over every count. On the small worlds of ``tests.test_partition_balance`` (racks required,
preferred and off; refills, rack moves, offline partitions) and on a 1,000-partition world."""
from __future__ import annotations

import random
from collections import defaultdict

import pytest

from placement.solve import objectives
from placement.solve.objectives import _least_waterfill_spread, _waterfill_spread
from placement.solve.space import Space, _short_of_zones
from tests.test_partition_balance import CASES, world


def _former_shape(space):
    """``_PartitionsShape.of`` before issue 14's change, verbatim but for returning a tuple (and
    the brokers that may receive, which became the groups that may)."""
    scenario = space.scenario
    cluster = scenario.cluster
    running = {b: n for b, n in space.base.brokers.items() if n is not None}
    held = {b: 0 for b in running}
    for key, target in space.base.partitions.items():
        kept = space.fixed_members.get(key, target.replicas) if key in space.partition_domain else target.replicas
        for b in kept:
            if b in held:
                held[b] += 1
    by_rack = scenario.rack_required or scenario.rack_preferred
    groups: dict[str, list[int]] = {}
    for b, node in sorted(running.items()):
        groups.setdefault(cluster.node[node].zone if by_rack else "all", []).append(b)
    must_copy, most_cover = 0, 0
    zone_of = {b: cluster.node[n].zone for b, n in running.items()}
    receivers: set[int] = set()
    for key, domain in space.partition_domain.items():
        p = cluster.partition[key]
        kept = space.fixed_members.get(key, ())
        slots = len(p.replicas) - len(kept)
        old = [b for b in p.replicas if b in running]
        new = len(set(domain) - set(p.replicas))
        must_copy += p.size_mib * min(new, max(len(p.replicas) - len(old),
                                               scenario.racks_needed(p) - len({zone_of[b] for b in old})
                                               if scenario.rack_required else 0))
        covered = {zone_of[b] for b in kept}
        reachable = covered | {zone_of[b] for b in domain if b not in kept}
        most_cover += min(len(reachable), len(covered) + slots)
        receivers.update(b for b in domain if b not in kept)
    spread_bound = 0
    receiving = set()
    for name, brokers in groups.items():
        if any(b in receivers for b in brokers):
            receiving.add(name)
            low, high = _former_moved_into(space, brokers)
            loads = [held[b] for b in brokers]
            spread_bound += min(_waterfill_spread(loads, units) for units in range(low, high + 1))
    return groups, held, must_copy, most_cover, spread_bound, frozenset(receiving)


def _former_moved_into(space, brokers):
    members = set(brokers)
    fewest = most = 0
    for key, domain in space.partition_domain.items():
        kept = space.fixed_members.get(key, ())
        candidates = set(domain) - set(kept)
        vacated = len(space.scenario.cluster.partition[key].replicas) - len(kept)
        inside = len(candidates & members)
        most += min(vacated, inside)
        if candidates and candidates <= members:
            fewest += min(vacated, inside)
    return fewest, most


def _former_for_partitions(scenario, storage_and_brokers):
    """``Space.for_partitions``' loop before issue 14's change: (domain, kept, zones)."""
    cluster = scenario.cluster
    running = sorted(b for b, n in storage_and_brokers.brokers.items() if n is not None)
    zone = {b: cluster.node[storage_and_brokers.brokers[b]].zone for b in running}
    racks = scenario.rack_required or scenario.rack_preferred
    by_zone = defaultdict(list)
    for b in running:
        by_zone[zone[b]].append(b)
    domain, kept, zones_of = {}, {}, {}
    every_zone = frozenset(by_zone)
    for p in cluster.partitions:
        whole = all(storage_and_brokers.brokers.get(b) is not None for b in p.replicas)
        if whole and not (scenario.rack_required and _short_of_zones(scenario, p, zone)):
            continue
        keep = tuple(b for b in p.replicas if storage_and_brokers.brokers.get(b) is not None)
        online = any(storage_and_brokers.brokers.get(s) is not None for s in scenario.sources(p))
        vacated = len(p.replicas) - len(keep)
        covered = {zone[b] for b in keep}
        fixed = keep
        if scenario.rack_required and online and _short_of_zones(scenario, p, zone):
            fixed = tuple(b for b in keep if sum(1 for o in keep if zone[o] == zone[b]) == 1)
            lacking = every_zone - covered
            fresh = [b for z in sorted(lacking) for b in by_zone[z]]
            domain[p.key] = tuple(sorted(set(keep) | set(fresh)))
            kept[p.key] = fixed
            zones_of[p.key] = lacking
            continue
        candidates = [b for b in running if b not in keep] if online else []
        zones_of[p.key] = every_zone if online else frozenset()
        if racks:
            fresh = [b for b in candidates if zone[b] not in covered]
            if len({zone[b] for b in fresh}) >= vacated:
                candidates = fresh
                zones_of[p.key] = zones_of[p.key] - covered
        domain[p.key] = tuple(sorted(set(keep) | set(candidates)))
        kept[p.key] = fixed
    return domain, kept, zones_of


def _big_world():
    """A 1,000-partition world in four zones, racks required, brokers moved and lost."""
    from placement.models.failures import resolve_failures
    from placement.models.loading import parse_cluster
    from placement.models.plan import Placement
    from placement.scenario import Scenario

    rng = random.Random(7)
    nodes = [{"name": f"n{i}", "zone": f"zone-{'abcd'[i % 4]}", "storageGiB": 100} for i in range(40)]
    brokers = [{"id": i, "node": f"n{i}", "volumes": []} for i in range(40)]
    topics = [{"name": f"t{k}", "partitions": [{"id": j, "replicas": rng.sample(range(40), 3), "sizeGiB": rng.choice([0, 1, 3])}
                                               for j in range(10)]} for k in range(100)]
    doc = {"name": "big", "nodes": nodes, "brokers": brokers, "volumes": [], "topics": topics,
           "policy": {"brokerPlacement": "preferred", "brokersPerNode": 8, "rackAware": "required"}}
    cluster = parse_cluster(doc, "big")
    failed = [f"n{i}" for i in range(0, 40, 4)]  # zone-a
    scenario = Scenario(cluster, resolve_failures(cluster, failed))
    placed = {b.id: (b.node if b.node not in failed else (None if b.id % 8 == 0 else f"n{b.id + 1}"))
              for b in cluster.brokers}
    current = Placement.current(cluster)
    return scenario, Placement(brokers=placed, volumes=current.volumes, partitions=current.partitions)


def _worlds():
    return [world(seed) for seed in CASES] + [_big_world()]


@pytest.mark.parametrize("index", range(len(CASES) + 1))
def test_the_space_and_its_shape_are_those_of_the_former_code(index):
    scenario, stage = (_big_world() if index == len(CASES) else world(CASES[index]))
    space = Space.for_partitions(scenario, stage)
    assert (space.partition_domain, space.fixed_members, space.partition_zones) == \
        _former_for_partitions(scenario, stage)
    shape = objectives._PartitionsShape.of(space)
    assert (shape.groups, shape.held, shape.must_copy, shape.most_cover, shape.spread_bound, shape.receiving) == \
        _former_shape(space)
    # the per-zone counts read from the shape equal those of walking the domain
    zone_of, _ = space.running_zones
    for key, domain in space.partition_domain.items():
        p = scenario.cluster.partition[key]
        walked: dict[str, list[int]] = {}
        for b in domain:
            if b not in space.fixed_members.get(key, ()):
                walked.setdefault(zone_of[b], [0, 0])[b in p.replicas] += 1
        assert space.candidate_zones(key) == walked


def test_the_big_world_has_rack_moves_and_refills():
    scenario, stage = _big_world()
    space = Space.for_partitions(scenario, stage)
    running = {b for b, n in stage.brokers.items() if n}
    moves = sum(1 for key, kept in space.fixed_members.items()
                if len(kept) < sum(1 for b in scenario.cluster.partition[key].replicas if b in running))
    assert moves >= 20 and len(space.partition_domain) - moves >= 20
    assert objectives._PartitionsShape.of(space).must_copy > 0


def test_the_least_water_filling_spread_is_the_minimum_over_every_count():
    rng = random.Random(3)
    for _ in range(3000):
        held = [rng.randint(0, 12) for _ in range(rng.randint(1, 7))]
        low = rng.randint(0, 30)
        high = low + rng.randint(0, 30)
        assert _least_waterfill_spread(held, low, high) == min(_waterfill_spread(held, u) for u in range(low, high + 1)), \
            (held, low, high)

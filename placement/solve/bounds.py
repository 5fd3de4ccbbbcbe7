"""Lower bounds of the storage-and-brokers levels over the unrestricted problem.

The unrestricted problem decides everything: every volume's replicas over every
node that may hold them and every broker over every node that may host it (under
``--rebalance``, every volume; brokers stay). The planner decides less -- only
what the operation touches, and at scale only some candidate nodes -- and calls
its answer optimal only where it meets these bounds (SEMANTICS.md section 3):
with every invariant met, a solution of the narrow space that copies
``copied`` and disturbs ``untouched`` healthy items is optimal overall, since any
use of a healthy move costs at least one more unit of ``untouched``.

The bounds, each valid for every placement that meets every invariant:

- copied: each volume short of keepable in-sync replicas gains them at the cheapest
  copies left (stale replicas it may resync, or new ones at ``usedGiB``, whichever
  copies less: a replica far behind costs more to resync than to build again);
  each partition replica of a retired broker is rebuilt on another; and each node
  over its storage limit must shed replicas of at least its excess, the cheapest
  such set by an exact knapsack per node (a fractional one when too large); and each
  displaced broker that no node can host while its volumes keep every survivor rebuilds one of
  them (its volumes' least ``usedGiB``: ``objectives._homeless_brokers``);
- untouched: surplus in-sync replicas are dropped; a broker kept where its volume
  has no in-sync replica either moves or costs a replica; each over-limit node
  drops the fewest replicas that bring it under its limit (and, for solutions that
  copy exactly ``copied``, the fewest among its cheapest sets); each such homeless broker drops
  one survivor.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import reduce

from placement.scenario import Scenario

KNAPSACK_CELLS = 2_000_000  # items x capacity units solved exactly per node; beyond, the fractional bound


@dataclass(frozen=True)
class LowerBounds:
    copied: int = 0  # MiB, valid once every invariant holds
    untouched: int = 0  # valid once every invariant holds
    untouched_at_copied: int = 0  # valid for placements that meet every invariant and copy exactly ``copied``
    later: dict[str, int] = field(default_factory=dict)  # waiting, racks, racks@waiting, balance (over the narrow space)
    unreachable: tuple[str, ...] = ()  # nodes no placement brings under their storage limit
    # for the balance level: replicas missing and surplus over all volumes, the nodes that could
    # receive a new replica, and the most brokers a placement could restart
    missing: int = 0
    surplus: int = 0
    receivers: int = 0
    restarts: int = 0

    @staticmethod
    def _at(name: str, above):
        """The value the level of that name reached, if it is above."""
        return next((level.value for level in above if level.name == name), None)

    def for_level(self, name: str, above) -> int:
        """The bound on level ``name`` given the results of the levels above (0 when nothing is known)."""
        if not above or not above[0].proven or above[0].value != 0:
            return 0  # the bounds below hold only where every invariant is met
        if name == "copied":
            return self.copied
        if name == "untouched":
            copied = above[1].value if len(above) > 1 else None
            return self.untouched_at_copied if copied == self.copied else self.untouched
        if name == "racks":
            # the strongest of the bounds that hold given the levels above (objectives.narrow_later_bounds)
            waiting = self._at("waiting", above) == self.later.get("waiting")
            kept = self._at("untouched", above) == 0
            holding = ["racks"] + (["racks@waiting"] if waiting else []) + (["racks@kept"] if kept else []) \
                + (["racks@kept+waiting"] if waiting and kept else [])
            return max(self.later.get(key, 0) for key in holding)
        if name == "balance" and len(above) > 2 and above[2].name == "untouched" and self.receivers:
            # each healthy replica dropped beyond the surplus is built again somewhere: at least
            # this many new replicas, spread over the nodes that could take one
            dropped = max(0, above[2].value - self.restarts)
            new = self.missing + max(0, dropped - self.surplus)
            kept = self.later.get("balance@kept", 0) if above[2].value == 0 else 0
            racks = self._at("racks", above)
            if racks is not None and racks <= self.later.get("racks", 0):  # every broker in a zone of its fewest conflicts
                kept = max(kept, self.later.get("balance@racks", 0),
                           self.later.get("balance@kept+racks", 0) if above[2].value == 0 else 0)
            return max(self.later.get(name, 0), -(-new // self.receivers), kept)
        return self.later.get(name, 0)


@dataclass(frozen=True)
class _Item:
    """A replica an over-limit node may shed: its size, the least it costs to copy it back elsewhere,
    and whether dropping it disturbs a healthy replica."""

    size: int
    copy: int
    disturbs: int  # 0 or 1
    volume: str = ""


def unrestricted_lower_bounds(scenario: Scenario, later: dict[str, int] | None = None) -> LowerBounds:
    cluster = scenario.cluster
    copied = untouched = 0
    missing: dict[str, int] = {}
    surplus: dict[str, int] = {}
    next_cost: dict[str, int] = {}  # the copy a further lost replica of the volume costs at least
    for v in cluster.volumes:
        if not scenario.has_data(v.name):
            continue
        keepable = [n for n in scenario.survivors(v.name) if scenario.may_hold_replica(v, n)]
        missing[v.name] = max(0, v.replication_factor - len(keepable))
        surplus[v.name] = max(0, len(keepable) - v.replication_factor)
        resyncs = sorted(mib for n, mib in scenario.stale_replicas(v.name).items() if scenario.may_hold_replica(v, n))
        costs = sorted(resyncs + [v.used_mib] * (missing[v.name] + 1))  # a resync dearer than a new copy comes after it
        copied += sum(costs[:missing[v.name]])
        next_cost[v.name] = costs[missing[v.name]]
        untouched += surplus[v.name]
    copied += _retired_partition_copies(scenario)
    over = [n for n in scenario.over_limit_nodes if not scenario.is_drained(n)]
    untouched += _brokers_kept_off_their_data(scenario, set(over))
    knap_copy = knap_fewest = knap_fewest_cheapest = 0
    unreachable = []
    for node in over:
        items = _items(scenario, node, surplus, next_cost)
        excess = scenario.start_storage_mib[node] - scenario.storage_limit_mib(node)
        if sum(i.size for i in items) < excess:
            unreachable.append(node)
            continue
        cheapest, fewest_of_cheapest, _ = _cheapest_set(items, excess)
        knap_copy += cheapest
        knap_fewest += _fewest_disturbed(items, excess)
        knap_fewest_cheapest += fewest_of_cheapest
    receivers = sum(1 for n in scenario.alive_nodes if n.is_storage and not scenario.is_drained(n.name))
    restarts = len(scenario.touched_brokers) if scenario.failures.max_used_percent is not None else \
        sum(1 for b in cluster.brokers if scenario.is_alive(b.node))
    # displaced brokers no node can host while their volumes keep every survivor (from the narrow
    # bounds: objectives._homeless_brokers): each drops one of its survivors and builds it again
    copied += (later or {}).get("copied@homes", 0)
    untouched += (later or {}).get("untouched@homes", 0)
    return LowerBounds(copied=copied + knap_copy, untouched=untouched + knap_fewest,
                       untouched_at_copied=untouched + max(knap_fewest, knap_fewest_cheapest),
                       later=dict(later or {}), unreachable=tuple(unreachable), missing=sum(missing.values()),
                       surplus=sum(surplus.values()), receivers=receivers, restarts=restarts)


def _retired_partition_copies(scenario: Scenario) -> int:
    """With every invariant met, each partition replica of a retired broker is rebuilt on another."""
    retired = scenario.failures.removed_brokers
    if not retired:
        return 0
    return sum(p.size_mib * sum(1 for b in p.replicas if b in retired) for p in scenario.cluster.partitions)


def _brokers_kept_off_their_data(scenario: Scenario, over: set[str]) -> int:
    """Brokers that must move or cost a replica: alive where they may stay, but a volume of theirs
    has no in-sync replica there while its keepable ones already fill its replication factor (so a
    replica under the broker displaces one of them, beyond any surplus). Volumes on over-limit nodes are left to the
    knapsacks, so that nothing is counted twice."""
    cluster = scenario.cluster
    count = 0
    for bid in scenario.touched_brokers:
        b = cluster.broker[bid]
        n = b.node
        if not scenario.hyperconverged or scenario.is_removed(bid) or not scenario.may_host_broker(b, n):
            continue
        if scenario.failures.max_used_percent is not None and not scenario.broker_must_move(b):
            continue  # a rebalance does not move brokers
        volumes = [cluster.volume[v] for v in b.volumes]
        if not all(scenario.has_data(v.name) and scenario.may_hold_replica(v, n) for v in volumes):
            continue  # it must move anyway, at no cost
        if any(over.intersection(v.replicas) for v in volumes):
            continue
        if any(n not in scenario.survivors(v.name)
               and sum(1 for m in scenario.survivors(v.name) if scenario.may_hold_replica(v, m)) >= v.replication_factor
               for v in volumes):
            count += 1
    return count


def _items(scenario: Scenario, node: str, surplus: dict[str, int], next_cost: dict[str, int]) -> list[_Item]:
    """The replicas ``node`` may shed. Under a rebalance a broker stays, and with it the replica under it."""
    cluster = scenario.cluster
    pinned: set[str] = set()
    if scenario.failures.max_used_percent is not None and scenario.hyperconverged:
        for b in cluster.brokers:
            if b.node == node and not scenario.broker_must_move(b) and b.id not in scenario.touched_brokers:
                pinned.update(b.volumes)
    items = []
    for v in cluster.volumes:
        if node not in v.replicas or v.name in pinned:
            continue
        if not scenario.has_data(v.name) or node in scenario.stale_replicas(v.name):
            items.append(_Item(v.size_mib, 0, 0, v.name))  # a lost volume's or a stale replica: free to drop
        elif surplus[v.name] > 0:
            items.append(_Item(v.size_mib, 0, 0, v.name))
        else:
            items.append(_Item(v.size_mib, next_cost[v.name], 1, v.name))
    return items


def replicas_to_shed(scenario: Scenario) -> dict[str, set[str]]:
    """node over its storage limit -> the volumes whose replicas there a cheapest set sheds (the
    knapsack's choice: least copy, then fewest healthy replicas), for a greedy start."""
    cluster = scenario.cluster
    surplus: dict[str, int] = {}
    next_cost: dict[str, int] = {}
    for v in cluster.volumes:
        if scenario.has_data(v.name):
            keepable = sum(1 for n in scenario.survivors(v.name) if scenario.may_hold_replica(v, n))
            surplus[v.name] = max(0, keepable - v.replication_factor)
            missing = max(0, v.replication_factor - keepable)
            resyncs = sorted(m for n, m in scenario.stale_replicas(v.name).items() if scenario.may_hold_replica(v, n))
            next_cost[v.name] = sorted(resyncs + [v.used_mib] * (missing + 1))[missing]
    shed: dict[str, set[str]] = {}
    for node in scenario.over_limit_nodes:
        if scenario.is_drained(node):
            continue
        items = _items(scenario, node, surplus, next_cost)
        excess = scenario.start_storage_mib[node] - scenario.storage_limit_mib(node)
        if sum(i.size for i in items) < excess:
            shed[node] = {i.volume for i in items}  # as much as it can
            continue
        _, _, chosen = _cheapest_set(items, excess)
        shed[node] = {items[i].volume for i in chosen}
    return shed


def _fewest_disturbed(items: list[_Item], excess: int) -> int:
    """The fewest disturbing items whose sizes, with every free one, reach ``excess``."""
    room = excess - sum(i.size for i in items if not i.disturbs)
    count = 0
    for size in sorted((i.size for i in items if i.disturbs), reverse=True):
        if room <= 0:
            break
        room -= size
        count += 1
    return count


def _cheapest_set(items: list[_Item], excess: int) -> tuple[int, int, list[int]]:
    """(least copy of a set of items of total size >= excess, fewest disturbing items among such sets,
    the indices of one such set). Exact by dynamic programming over sizes (divided by their gcd)
    where small enough; otherwise the fractional relaxation's copy, no claim on the count (0), and
    a set taken greedily by copy per MiB."""
    if excess <= 0:
        return 0, 0, []
    g = reduce(math.gcd, [i.size for i in items], 0) or 1  # every sum of sizes is a multiple of g,
    units = -(-excess // g)  # so reaching ``excess`` is reaching its next multiple of g
    if units * len(items) > KNAPSACK_CELLS:
        return _fractional_copy(items, excess), 0, _greedy_set(items, excess)
    inf = (math.inf, math.inf)
    best = [(0, 0)] + [inf] * units  # best[k]: (copy, disturbed) of a set of at least k units
    took = []  # took[i][k]: item i improved best[k] (to walk the choice back)
    for item in items:
        w = item.size // g
        mark = bytearray(units + 1)
        for k in range(units, 0, -1):
            prev = best[max(0, k - w)]
            if prev is inf:
                continue
            cand = (prev[0] + item.copy, prev[1] + item.disturbs)
            if cand < best[k]:
                best[k] = cand
                mark[k] = 1
        took.append(mark)
    copy, disturbed = best[units]
    chosen, k = [], units
    for i in range(len(items) - 1, -1, -1):
        if k > 0 and took[i][k]:
            chosen.append(i)
            k = max(0, k - items[i].size // g)
    return int(copy), int(disturbed), sorted(chosen)


def _greedy_set(items: list[_Item], excess: int) -> list[int]:
    order = sorted(range(len(items)), key=lambda i: (items[i].copy / items[i].size, -items[i].size))
    chosen, room = [], excess
    for i in order:
        if room <= 0:
            break
        chosen.append(i)
        room -= items[i].size
    return sorted(chosen)


def _fractional_copy(items: list[_Item], excess: int) -> int:
    """The LP relaxation of the knapsack: items by copy per MiB, the last one in part (a lower bound)."""
    total = 0.0
    room = excess
    for item in sorted(items, key=lambda i: i.copy / i.size):
        if room <= 0:
            break
        take = min(1.0, room / item.size)
        total += take * item.copy
        room -= item.size
    return math.floor(total)

"""I1 replication restored: every volume that still has data has exactly its
replication factor of replicas, all on storage nodes that may hold them
(``Scenario.may_hold_replica``: alive, not drained; a cordoned node only keeps
what it had). A target replica is in sync once the plan has run: a stale
replica kept in the target is resynced by it."""
from __future__ import annotations

from placement.models.cluster import NodeState
from placement.models.plan import Placement, Violation
from placement.models.units import gib
from placement.rules.capacity import storage_held_mib
from placement.rules import items as judged
from placement.rules.items import Items
from placement.rules.terms import smt_sum
from placement.scenario import Scenario

ID = "I1"
TITLE = "replication restored"


def _listed(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


class _Room:
    """What every short volume's reason reads, made once per check: the nodes that may hold a
    replica of any volume (alive READY storage nodes, not drained), and each node's limit and room
    left under the target. A reason then costs O(nodes) of look-ups, not O(nodes) of fact
    derivations (a thousand short volumes on a thousand nodes: seconds before)."""

    def __init__(self, scenario: Scenario, target: Placement):
        cluster = scenario.cluster
        self.order = {n.name: i for i, n in enumerate(cluster.nodes)}
        self.ready = [n.name for n in cluster.nodes if not scenario.is_failed(n.name) and n.is_storage
                      and not scenario.is_drained(n.name) and n.state is NodeState.READY]
        self.ready_set = frozenset(self.ready)
        self.limit = {n.name: scenario.storage_limit_mib(n.name) for n in cluster.nodes}
        held = storage_held_mib(cluster, target)
        self.free = {n: self.limit[n] - held.get(n, 0) for n in self.limit}

    def eligible(self, scenario: Scenario, volume) -> list[str]:
        """The nodes that may hold a replica of the volume (``Scenario.may_hold_replica``), in order:
        the READY ones, and a cordoned one where it already holds a replica of it."""
        extra = [n for n in dict.fromkeys(volume.replicas)
                 if n not in self.ready_set and scenario.may_hold_replica(volume, n)]
        return sorted(self.ready + extra, key=self.order.__getitem__) if extra else self.ready


def _shortfall_reason(scenario: Scenario, volume, target: Placement, room: _Room) -> str:
    """Why the target keeps fewer replicas than the replication factor, from the facts: too few nodes
    may hold one, too few are large enough, the others have no room left, or there is room and the
    target simply adds no replica there (a hand-made or cut-short plan)."""
    eligible = room.eligible(scenario, volume)
    if len(eligible) < volume.replication_factor:
        return f"only {len(eligible)} ready storage node{'s' if len(eligible) != 1 else ''} remain"
    has = set(target.volumes.get(volume.name, ()))
    free = {n: room.free[n] for n in eligible if n not in has}
    roomy = [n for n in free if free[n] >= volume.size_mib]
    within = "" if scenario.failures.max_used_percent is None else \
        f" within --max-used {scenario.failures.max_used_percent:g}%"
    if roomy:
        where = _listed([f"{n} ({gib(free[n]):g} GiB free{within})" for n in roomy])
        return (f"no replica is added, though {where} {'has' if len(roomy) == 1 else 'have'} room for its "
                f"{volume.size_gib:g} GiB")
    large = [n for n in eligible if room.limit[n] >= volume.size_mib]
    if len(large) < volume.replication_factor:
        return f"only {len(large)} ready storage nodes are large enough{within} for its {volume.size_gib:g} GiB"
    return (f"the other eligible nodes ({_listed(sorted(free))}) have no room left{within} for its "
            f"{volume.size_gib:g} GiB")


def check(scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
    out: list[Violation] = []
    room = None  # what the target leaves on each node, computed once a reason needs it
    for v in judged.volumes(scenario.cluster, items):
        if not scenario.has_data(v.name):
            continue  # I7's business
        nodes = target.volumes.get(v.name, ())
        subject = f"volume {v.name}"
        if len(nodes) < v.replication_factor:
            if room is None:
                room = _Room(scenario, target)
            out.append(Violation.measured(ID, f"volume {v.name} keeps {len(nodes)} of {v.replication_factor} replicas: "
                                              f"{_shortfall_reason(scenario, v, target, room)}", subject,
                                          len(nodes), v.replication_factor))
        elif len(nodes) > v.replication_factor:
            out.append(Violation.measured(ID, f"volume {v.name} has {len(nodes)} replicas, more than its replication factor",
                                          subject, len(nodes), v.replication_factor))
        for n in dict.fromkeys(nodes):
            if not scenario.may_hold_replica(v, n):
                node = scenario.cluster.node[n]
                why = ("is failed" if scenario.is_failed(n) else "is storageless" if not node.is_storage
                       else "is drained and must be emptied" if scenario.is_drained(n)
                       else "is cordoned and receives nothing new")
                out.append(Violation(ID, f"volume {v.name} has a replica on node {n}, which {why}", subject))
    return out


def encode_cpsat(enc) -> None:
    scenario = enc.space.scenario
    for v, nodes in enc.space.decided_volumes_with_data():
        name = v.name
        held = [enc.vol(name, n) for n in nodes]
        short = enc.shortfall(ID, v.replication_factor, name)
        enc.add(ID, sum(held) + short == v.replication_factor)
        for n in nodes:
            if not scenario.may_hold_replica(v, n):
                enc.add(ID, enc.vol(name, n) == 0)


def encode_z3(enc) -> None:
    scenario = enc.space.scenario
    for v, nodes in enc.space.decided_volumes_with_data():
        name = v.name
        enc.add(ID, f"(= {smt_sum(enc.vol(name, n) for n in nodes)} {v.replication_factor})")
        for n in nodes:
            if not scenario.may_hold_replica(v, n):
                enc.add(ID, f"(= {enc.vol(name, n)} 0)")


def stale_at_start(scenario: Scenario) -> list[Violation]:
    """The start as it is: a stale replica counts towards the replication factor only once
    resynced, so a volume with one is short of in-sync replicas until then."""
    out: list[Violation] = []
    for v in scenario.cluster.volumes:
        stale = scenario.stale_replicas(v.name)
        if not stale or not scenario.has_data(v.name):
            continue
        have = len(scenario.survivors(v.name))
        if have >= v.replication_factor:
            continue  # not short: a surplus is check's "more than its replication factor"
        behind = ", ".join(f"{n} ({gib(mib):g} GiB behind)" for n, mib in sorted(stale.items()))
        out.append(Violation.measured(ID, f"volume {v.name} has {have} in-sync replica{'s' if have != 1 else ''} of "
                                          f"{v.replication_factor}: stale on {behind}, which count only once resynced",
                                      f"volume {v.name}", have, v.replication_factor))
    return out

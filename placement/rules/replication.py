"""I1 replication restored: every volume that still has data has exactly its
replication factor of replicas, all on storage nodes that may hold them
(``Scenario.may_hold_replica``: alive, not drained; a cordoned node only keeps
what it had). A target replica is in sync once the plan has run: a stale
replica kept in the target is resynced by it."""
from __future__ import annotations

from placement.models.plan import Placement, Violation
from placement.models.units import gib
from placement.rules.terms import smt_sum
from placement.scenario import Scenario

ID = "I1"
TITLE = "replication restored"


def _shortfall_reason(scenario: Scenario, volume, have: int) -> str:
    eligible = [n.name for n in scenario.cluster.nodes if scenario.may_hold_replica(volume, n.name)]
    if len(eligible) < volume.replication_factor:
        return f"only {len(eligible)} ready storage node{'s' if len(eligible) != 1 else ''} remain"
    roomy = [n for n in eligible if scenario.storage_limit_mib(n) >= volume.size_mib]
    if len(roomy) < volume.replication_factor:
        limit = "" if scenario.failures.max_used_percent is None else \
            f" within --max-used {scenario.failures.max_used_percent:g}%"
        return f"only {len(roomy)} ready storage nodes are large enough{limit} for its {volume.size_gib:g} GiB"
    return f"the other eligible nodes have no room left for its {volume.size_gib:g} GiB"


def check(scenario: Scenario, target: Placement) -> list[Violation]:
    out: list[Violation] = []
    for v in scenario.cluster.volumes:
        if not scenario.has_data(v.name):
            continue  # I7's business
        nodes = target.volumes.get(v.name, ())
        subject = f"volume {v.name}"
        if len(nodes) < v.replication_factor:
            out.append(Violation.measured(ID, f"volume {v.name} keeps {len(nodes)} of {v.replication_factor} replicas: "
                                              f"{_shortfall_reason(scenario, v, len(nodes))}", subject,
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

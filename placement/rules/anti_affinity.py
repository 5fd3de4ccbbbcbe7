"""I2 anti-affinity: no two replicas of one volume on the same node; with
``zoneSpread``, a volume's replicas cover min(RF, zones holding a ready storage
node) distinct zones."""
from __future__ import annotations

from collections import Counter, defaultdict

from placement.models.plan import Placement, Violation
from placement.rules import items as judged
from placement.rules.items import Items
from placement.rules.terms import smt_sum
from placement.scenario import Scenario

ID = "I2"
TITLE = "volume anti-affinity and zone spread"


def _by_zone(scenario: Scenario, nodes) -> dict[str, list[str]]:
    zones: dict[str, list[str]] = defaultdict(list)
    for n in nodes:
        zones[scenario.cluster.node[n].zone].append(n)
    return dict(sorted(zones.items()))


def check(scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
    out: list[Violation] = []
    for v in judged.volumes(scenario.cluster, items):
        if not scenario.has_data(v.name):
            continue
        nodes = target.volumes.get(v.name, ())
        subject = f"volume {v.name}"
        for n, count in sorted(Counter(nodes).items()):
            if count > 1:
                out.append(Violation.measured(ID, f"volume {v.name} has {count} replicas on node {n}; "
                                                  "a node holds at most one", subject, count, "<= 1"))
        needed = scenario.zones_needed(v)
        covered = len({scenario.cluster.node[n].zone for n in nodes})
        if covered < needed:
            out.append(Violation.measured(ID, f"volume {v.name} spans {covered} zone{'s' if covered != 1 else ''}, "
                                              f"fewer than the {needed} its replication factor and the ready zones allow",
                                          subject, covered, needed))
    return out


def encode_cpsat(enc) -> None:
    scenario = enc.space.scenario
    for v, nodes in enc.space.decided_volumes_with_data():
        name = v.name
        if enc.space.max_multiplicity > 1:
            for n in nodes:
                enc.add(ID, enc.vol(name, n) <= 1)
        needed = scenario.zones_needed(v)
        if needed == 0:
            continue
        covered = [enc.any_of([enc.vol(name, n) for n in members], f"zone[{name}@{zone}]")
                   for zone, members in _by_zone(scenario, nodes).items()]
        short = enc.shortfall(ID, needed, name)
        enc.add(ID, sum(covered) + short >= needed)


def encode_z3(enc) -> None:
    scenario = enc.space.scenario
    for v, nodes in enc.space.decided_volumes_with_data():
        name = v.name
        for n in nodes:
            enc.add(ID, f"(<= {enc.vol(name, n)} 1)")
        needed = scenario.zones_needed(v)
        if needed == 0:
            continue
        covered = [enc.any_of([enc.vol(name, n) for n in members], zone)
                   for zone, members in _by_zone(scenario, nodes).items()]
        enc.add(ID, f"(>= {smt_sum(covered)} {needed})")

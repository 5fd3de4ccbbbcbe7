"""I7 no invented data: a new replica is built only from a surviving (in-sync)
replica. A volume that lost every in-sync replica has lost its data, even where
stale replicas remain (they are behind: no source for a copy); it is reported by
name and never appears restored. A partition whose every broker lost its data is too."""
from __future__ import annotations

from placement.models.plan import Placement, Violation
from placement.rules import items as judged
from placement.rules.items import Items
from placement.rules.terms import smt_sum
from placement.scenario import Scenario

ID = "I7"
TITLE = "no invented data"


def check(scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
    out: list[Violation] = []
    for v in scenario.lost_volumes:
        if items is not None and v.name not in items.volumes:
            continue
        stale = sorted(scenario.stale_replicas(v.name))
        if stale:
            what = (f"volume {v.name} lost every in-sync replica: its only live replica{'s' if len(stale) > 1 else ''} "
                    f"({', '.join(stale)}) {'are' if len(stale) > 1 else 'is'} stale and cannot rebuild it; its data is gone; "
                    "restore it from a backup; in-sync replicas")
        else:
            where = ", ".join(v.replicas) if v.replicas else "no node"
            what = (f"volume {v.name} lost every replica (it had {where}): its data is gone; "
                    "restore it from a backup; surviving replicas")
        out.append(Violation.measured(ID, what, f"volume {v.name}", 0, 1))
        if target.volumes.get(v.name):
            out.append(Violation(ID, f"volume {v.name} is given replicas on {', '.join(target.volumes[v.name])}, "
                                     f"but there is no surviving replica to build them from", f"volume {v.name}"))
    running = {b for b, n in target.brokers.items() if n is not None}
    lost, chosen_of = scenario.lost_partitions, target.partitions.get  # looked up once, not per partition
    for p in judged.partitions(scenario.cluster, items):
        if p.key in lost:
            out.append(Violation(ID, f"partition {p.label} lost its data: every broker holding it "
                                     f"({', '.join(str(b) for b in p.replicas)}) lost its volumes", f"partition {p.label}"))
        t = chosen_of(p.key)
        new = sorted(set(t.replicas) - set(p.replicas)) if t and tuple(t.replicas) != p.replicas else []
        if new and not running.intersection(scenario.sources(p)):
            out.append(Violation(ID, f"partition {p.label} gets new replicas on brokers {new}, but none of its "
                                     f"in-sync replicas {list(scenario.sources(p))} runs to copy them from", f"partition {p.label}"))
    return out


def _lost_anything(scenario: Scenario) -> bool:
    return bool(scenario.lost_volumes) or bool(scenario.lost_partitions)


def _new_members(enc):
    """(partition, broker it may newly hold, the partition's sources) over decided partitions."""
    scenario = enc.space.scenario
    partition = scenario.cluster.partition
    for key, brokers in enc.space.partition_domain.items():
        p = partition[key]
        if brokers is p.replicas:
            continue  # its own brokers, as listed (``Space.around``): none is new
        for b in brokers:
            if b not in p.replicas:
                yield p, b, scenario.sources(p)


def encode_cpsat(enc) -> None:
    scenario = enc.space.scenario
    for v in scenario.lost_volumes:
        for n in enc.space.volume_domain.get(v.name, ()):
            enc.add(ID, enc.vol(v.name, n) == 0)
    mult = enc.space.max_multiplicity
    for p, b, sources in _new_members(enc):  # a new partition replica copies from a running in-sync one
        enc.add(ID, enc.part(p.key, b) <= mult * sum(enc.runs(s) for s in sources))
    if _lost_anything(scenario) and not enc.relaxed:
        enc.add(ID, False)  # the loss itself breaks I7; a relaxed plan carries it as a fixed cost


def encode_z3(enc) -> None:
    scenario = enc.space.scenario
    for v in scenario.lost_volumes:
        for n in enc.space.volume_domain.get(v.name, ()):
            enc.add(ID, f"(= {enc.vol(v.name, n)} 0)")
    for p, b, sources in _new_members(enc):
        enc.add(ID, f"(or (= {enc.part(p.key, b)} 0) (> {smt_sum(enc.runs(s) for s in sources)} 0))")
    if _lost_anything(scenario):
        enc.add(ID, "false")

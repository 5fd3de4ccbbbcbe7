"""A target judged where it differs from the start.

The start (the current placement, the file's failed nodes only) is judged in full by
``check_start`` (the plan's ``preexisting``). Every rule is a conjunction of local predicates
over items (``placement.rules.items``), and an item's predicate reads only its own placement and
a few facts of the items it references: a volume its replica nodes' states and the zones with
ready storage; a broker its node's state and (hyperconverged) its volumes' replicas; a node the
replicas and brokers placed on it; a partition its replicas, its leader, whether and where its
brokers run, and the racks that count. So where the start breaks nothing, a target breaks
exactly what it breaks among the items whose inputs changed: those it places differently, those
on nodes whose state the operation changed, and everything that references them.

``placement.solve.judging.check_changed`` judges a target so where the planner judges
intermediate targets (the greedy start); the final plan is still judged in full by the plain
checks and Z3."""
from __future__ import annotations

from placement.models.plan import Placement
from placement.rules import start_scenario
from placement.rules.items import Items
from placement.scenario import Scenario


def changed_items(scenario: Scenario, target: Placement) -> Items | None:
    """The items whose verdict under ``scenario`` may differ from their verdict at the start, or
    None where a fact every item reads changed (then only the full check will do)."""
    cluster = scenario.cluster
    before = start_scenario(cluster)
    if (scenario.allow_unclean != before.allow_unclean or scenario.failures.max_used_percent is not None
            or scenario.zones_with_ready_storage != before.zones_with_ready_storage
            or scenario.rack_zones != before.rack_zones):
        return None
    reference = _judged_start(cluster, before)
    restated = ((scenario.failures.nodes ^ before.failures.nodes) | scenario.failures.drained
                | before.failures.drained)  # nodes whose state differs from the start's
    ref_volumes, new_volumes = reference.volumes, target.volumes
    volumes = set()
    nodes = set(restated)
    for v in cluster.volumes:
        was, now = ref_volumes.get(v.name), new_volumes.get(v.name)
        if was is not now and was != now:
            volumes.add(v.name)
            nodes.update(was or ())
            nodes.update(now or ())
        elif restated and not restated.isdisjoint(v.replicas):
            volumes.add(v.name)  # its survivors or a replica node's state changed
    volumes.update(name for name in new_volumes if name not in cluster.volume)
    ref_brokers, new_brokers = reference.brokers, target.brokers
    moved = set()  # brokers that run elsewhere, or no longer (or newly) run
    for b in set(ref_brokers) | set(new_brokers):
        was, now = ref_brokers.get(b), new_brokers.get(b)
        if was != now:
            moved.add(b)
            nodes.update(n for n in (was, now) if n is not None)
    brokers = set(moved) | set(scenario.failures.removed_brokers)
    for b in cluster.brokers:
        if b.node in restated or (scenario.hyperconverged and not volumes.isdisjoint(b.volumes)):
            brokers.add(b.id)
    partitions = set(scenario.lost_partitions) | set(before.lost_partitions)
    ref_partitions = reference.partitions
    unlike = ref_partitions.get  # a partition kept unchanged is mostly the very same object
    partitions.update(key for key, t in target.partitions.items() if t is not unlike(key) and t != unlike(key))
    partitions.update(ref_partitions.keys() - target.partitions.keys())
    for b in moved:  # whether and where a replica's broker runs (its rack)
        partitions.update(p.key for p in scenario.partitions_of(b))
    return Items(frozenset(volumes), frozenset(brokers), frozenset(nodes), frozenset(partitions))


def _judged_start(cluster, before: Scenario) -> Placement:
    """The placement ``check_start`` judges: the current one without the volumes lost at the start."""
    current = Placement.current(cluster)
    lost = {v.name for v in before.lost_volumes}
    if not lost:
        return current
    return Placement(brokers=current.brokers, volumes={v: n for v, n in current.volumes.items() if v not in lost},
                     partitions=current.partitions)

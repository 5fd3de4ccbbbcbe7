"""Leadership after the move.

A partition keeps its leader while that broker runs and stays a replica. One
that must change, or whose replicas change, gets its preferred leader
(replicas[0]) when that broker runs and is in sync; otherwise the running
in-sync replica that leads the fewest partitions so far (leaders spread over
running brokers). With no in-sync replica running, the partition has no leader
unless ``allow_unclean`` lets an out-of-sync one lead (the plan then lists it
under ``uncleanElections``). A new leader is put first in the replica list, so
that Kafka's PREFERRED election elects it. Finally leadership is evened out
over running brokers, among in-sync replicas only (no data moves).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from placement.models.plan import Placement
from placement.scenario import Scenario


def elect_leaders(scenario: Scenario, target: Placement, *, even_out: bool = True) -> Placement:
    """Leaders for the target; ``even_out=False`` skips the balancing pass (validity only)."""
    cluster = scenario.cluster
    running = {b for b, n in target.brokers.items() if n is not None}
    leaders: Counter = Counter()
    chosen: dict = {}
    pending = []
    for key in scenario.partition_keys:  # sorted, made once per scenario
        t = target.partitions.get(key)
        if t is None:
            continue
        original = cluster.partition[key]
        unchanged = tuple(t.replicas) == original.replicas
        if unchanged and t.leader in running and t.leader in t.replicas and t.leader in scenario.sources(original):
            chosen[key] = t.leader
        else:
            sources = [b for b in t.replicas if b in running and b in scenario.sources(original)]
            if not sources:
                chosen[key] = None
                continue
            if t.replicas[0] in sources:
                chosen[key] = t.replicas[0]
            elif original.leader in sources:
                chosen[key] = original.leader
            else:
                pending.append((key, sources))
                continue
        if chosen[key] is not None:
            leaders[chosen[key]] += 1
    for key, sources in pending:
        pick = min(sources, key=lambda b: (leaders[b], sources.index(b)))
        chosen[key] = pick
        leaders[pick] += 1
    if even_out:
        _even_out(scenario, target, running, chosen, leaders)
    partitions = {}
    for key, t in target.partitions.items():
        leader = chosen[key]
        replicas = tuple(t.replicas)
        if leader is not None and leader != cluster.partition[key].leader and replicas[0] != leader:
            # a new leader goes first, so that a PREFERRED election makes it leader (order only, no data)
            replicas = (leader,) + tuple(b for b in replicas if b != leader)
        unchanged = leader == t.leader and replicas == tuple(t.replicas)
        partitions[key] = t if unchanged else replace(t, replicas=replicas, leader=leader)
    return Placement(brokers=target.brokers, volumes=target.volumes, partitions=partitions)


def _even_out(scenario: Scenario, target: Placement, running: set[int], chosen: dict, leaders: Counter,
              max_rounds: int = 20) -> None:
    """Spread leadership over running brokers: move a partition's leadership to another of
    its running in-sync replicas whenever that broker leads at least two fewer partitions.
    Each move narrows the gap and moves no data; it stops when no such move is left."""
    cluster = scenario.cluster
    for b in running:
        leaders.setdefault(b, 0)
    order = [key for key in scenario.partition_keys if chosen.get(key) is not None]
    options: dict = {}  # computed only for the partitions whose leader could give one away

    def options_of(key):
        if key not in options:
            original = cluster.partition[key]
            sources = scenario.sources(original)
            options[key] = [b for b in target.partitions[key].replicas if b in running and b in sources]
        return options[key]

    for _ in range(max_rounds):
        moved = False
        # a leadership moves only from a broker leading at least two more than the fewest; the
        # fewest never falls within a round, so this round's first value is a safe filter
        low = min(leaders.values(), default=0)
        for key in order:
            current = chosen[key]
            if leaders[current] < low + 2:
                continue
            best = min(options_of(key), key=lambda b: (leaders[b], b))
            if leaders[best] + 1 < leaders[current]:
                leaders[current] -= 1
                leaders[best] += 1
                chosen[key] = best
                moved = True
        if not moved:
            return


def unclean_elections(scenario: Scenario, target: Placement) -> list[str]:
    """Partitions whose new leader was not in sync: it loses the messages it lacked."""
    cluster = scenario.cluster
    return [cluster.partition[k].label for k in sorted(k for k, t in target.partitions.items()
            if t.leader is not None and t.leader != cluster.partition[k].leader
            and t.leader not in cluster.partition[k].isr)]

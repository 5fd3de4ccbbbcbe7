"""Leadership after the move.

A partition keeps its leader while that broker runs and stays a replica. One
that must change, or whose replicas change, gets its preferred leader
(replicas[0]) when that broker runs and is in sync; otherwise the running
in-sync replica that leads the fewest partitions so far (leaders spread over
running brokers). With no in-sync replica running, the partition has no leader
unless ``allow_unclean`` lets an out-of-sync one lead (the plan then lists it
under ``uncleanElections``). A new leader is put first in the replica list, so
that Kafka's PREFERRED election elects it. Finally leadership is evened out
over running brokers, among in-sync replicas only (no data moves), but only
over the partitions the plan elects a leader for anyway (those whose leader
must change or whose replicas change): a partition that keeps its replicas
and a running in-sync leader keeps that leader. Balancing the leadership of
partitions nothing happened to is not recovery, it would give a healthy
cluster steps (a reassignment to reorder replicas and an election), and
Kafka's own preferred-leader rebalancing does that job; the leaders counted
still include every partition, so the elected ones go where leadership is
thinnest.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from placement.models.plan import Placement
from placement.scenario import Scenario


def elect_leaders(scenario: Scenario, target: Placement, *, even_out: bool = True) -> Placement:
    """Leaders for the target; ``even_out=False`` skips the balancing pass (validity only).
    O(partitions x RF) per pass (one election pass, at most ``max_rounds`` balancing passes):
    150,000 partitions are visited as tight loops over locals, a partition that keeps its
    leader and its replica list kept as the very same object."""
    partition = scenario.cluster.partition
    sources_of = scenario.sources
    running = {b for b, n in target.brokers.items() if n is not None}
    leaders: Counter = Counter()
    chosen: dict = {}
    pending = []
    elected: set = set()  # the partitions given a leader anew: the only ones balancing may change
    get = target.partitions.get
    keys = scenario.partition_keys  # sorted, made once per scenario
    if len(target.partitions) * 8 < len(keys):
        keys = sorted(target.partitions)  # a few: the same order, without a pass over every partition
    for key in keys:
        t = get(key)
        if t is None:
            continue
        original = partition[key]
        sources = sources_of(original)
        leader = t.leader
        if leader in running and leader in sources and leader in t.replicas and tuple(t.replicas) == original.replicas:
            chosen[key] = leader  # unchanged replicas, its leader still runs in sync: it keeps leading
        else:
            present = [b for b in t.replicas if b in running and b in sources]
            if not present:
                chosen[key] = None
                continue
            elected.add(key)
            if t.replicas[0] in present:
                leader = t.replicas[0]
            elif original.leader in present:
                leader = original.leader
            else:
                pending.append((key, present))
                continue
            chosen[key] = leader
        leaders[leader] += 1
    for key, present in pending:
        pick = min(present, key=lambda b: (leaders[b], present.index(b)))
        chosen[key] = pick
        leaders[pick] += 1
    if even_out:
        _even_out(scenario, target, running, chosen, leaders, elected)
    partitions = {}
    for key, t in target.partitions.items():
        leader = chosen[key]
        if leader is not None and leader != t.replicas[0] and leader != partition[key].leader:
            # a new leader goes first, so that a PREFERRED election makes it leader (order only, no data)
            partitions[key] = replace(t, replicas=(leader,) + tuple(b for b in t.replicas if b != leader),
                                      leader=leader)
        elif leader != t.leader:
            partitions[key] = replace(t, replicas=tuple(t.replicas), leader=leader)
        else:
            partitions[key] = t
    return Placement(brokers=target.brokers, volumes=target.volumes, partitions=partitions)


def _even_out(scenario: Scenario, target: Placement, running: set[int], chosen: dict, leaders: Counter,
              elected: set, max_rounds: int = 20) -> None:
    """Spread leadership over running brokers: move an ``elected`` partition's leadership to another
    of its running in-sync replicas whenever that broker leads at least two fewer partitions.
    Each move narrows the gap and moves no data; it stops when no such move is left.
    Each round visits the partitions in order (O(partitions x RF)); each partition's
    candidates are listed once, when its leader first could give one away."""
    partition = scenario.cluster.partition
    sources_of = scenario.sources
    parts = target.partitions
    for b in running:
        leaders.setdefault(b, 0)
    order = [key for key in scenario.partition_keys if key in elected and chosen.get(key) is not None]
    current_of = [chosen[key] for key in order]
    options: list = [None] * len(order)  # candidates, listed only for partitions whose leader could give one away
    changed: set[int] = set()
    for _ in range(max_rounds):
        moved = False
        # a leadership moves only from a broker leading at least two more than the fewest; the
        # fewest never falls within a round, so this round's first value is a safe filter
        threshold = min(leaders.values(), default=0) + 2
        for i, current in enumerate(current_of):
            count = leaders[current]
            if count < threshold:
                continue
            candidates = options[i]
            if candidates is None:
                key = order[i]
                sources = sources_of(partition[key])
                candidates = options[i] = [b for b in parts[key].replicas if b in running and b in sources]
            best, fewest = current, count  # the candidate leading the fewest, the lowest id among equals
            for b in candidates:
                n = leaders[b]
                if n < fewest or (n == fewest and b < best):
                    best, fewest = b, n
            if fewest + 1 < count:
                leaders[current] -= 1
                leaders[best] += 1
                current_of[i] = best
                changed.add(i)
                moved = True
        if not moved:
            break
    for i in changed:
        chosen[order[i]] = current_of[i]


def unclean_elections(scenario: Scenario, target: Placement) -> list[str]:
    """Partitions whose new leader was not in sync: it loses the messages it lacked."""
    partition = scenario.cluster.partition
    unclean = []
    for key, t in target.partitions.items():
        leader = t.leader
        if leader is not None:
            original = partition[key]
            if leader != original.leader and leader not in original.isr:
                unclean.append(key)
    return [partition[k].label for k in sorted(unclean)]

"""Targets the steps can reach: what the execution rules (SEMANTICS.md section 5) ask of a target.

A running broker that moves off a node holding a replica of its volume keeps that replica in
sync until it has moved (no drop under a running broker), and its pod restarts only where the
volume is already in sync. Where it goes to a node without an in-sync replica, one is added
there first; at Portworx's ceiling (3 replicas, or as many as the volume lists at the start) a
replica must be dropped before that add, and it cannot be the one under the broker. So the
target must drop another of the replicas the volume lists -- else no order of the steps
reaches it safely (the seed's --drain node-1 was such a target). The planner asks this of
every target it searches; the plain checks and the model checker need no such rule (a target
breaking it is valid, only unreachable), so it lives here, beside the solver, not in the rules.
"""
from __future__ import annotations

from typing import Iterator

from placement.scenario import Scenario

PORTWORX_CEILING = 3  # replicas Portworx holds of a volume (more only where it already lists more)


def ceiling_moves(scenario: Scenario) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(running broker, volume of it at the ceiling with a replica under the broker, the volume's
    other listed replicas): a move of the broker to a node without an in-sync replica of the
    volume needs one of those others dropped in the target."""
    cluster = scenario.cluster
    if not scenario.hyperconverged:
        return
    for b in cluster.brokers:
        host = b.node
        if scenario.is_failed(host) or scenario.is_removed(b.id):
            continue  # not running: the replica under it may go first
        for name in b.volumes:
            v = cluster.volume[name]
            if host in v.replicas and len(v.replicas) >= PORTWORX_CEILING and scenario.has_data(name):
                yield b.id, name, tuple(n for n in v.replicas if n != host)


def encode_cpsat(enc) -> None:
    """For each such broker and each node it may move to that holds no in-sync replica of the
    volume: moving there implies the target drops another listed replica."""
    scenario = enc.space.scenario
    for bid, volume, others in ceiling_moves(scenario):
        survivors = set(scenario.survivors(volume))
        host = scenario.cluster.broker[bid].node
        for n in enc.space.broker_domain.get(bid, ()):
            if n in survivors or n == host:
                continue  # no move, or a move onto data already in sync
            dropped = [1 - enc.vol(volume, m) for m in others]
            if any(isinstance(d, int) and d > 0 for d in dropped):
                continue  # one of them is dropped whatever is decided
            terms = [d for d in dropped if not isinstance(d, int)]
            if not terms:
                enc.model.Add(enc.brk(bid, n) == 0)
            else:
                enc.model.Add(sum(terms) >= 1).OnlyEnforceIf(enc.brk(bid, n))


def reachable(scenario: Scenario, target) -> bool:
    """The same rule on a concrete target (for tests and the brute force)."""
    for bid, volume, others in ceiling_moves(scenario):
        to = target.brokers.get(bid)
        if to is None or to == scenario.cluster.broker[bid].node or to in scenario.survivors(volume):
            continue
        kept = set(target.volumes.get(volume, ()))
        if all(m in kept for m in others):
            return False
    return True

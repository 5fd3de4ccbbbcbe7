"""The least number of node failures that loses data, with a witness, proven by a solver.

A volume's data is lost when every node holding a replica of it fails. A Kafka
partition's data is lost when every broker holding it loses its data, and a
broker loses its data when every replica of every one of its volumes is gone
(a broker without volumes keeps its log on its node's disk). Each item is thus
the set of nodes that must all fail; the least failure set that loses *some*
item is a hitting-set problem, solved with CP-SAT:

    minimise  sum f[n]   subject to   OR_i lost[i],   lost[i] -> f[n] for n in nodes(i)

CP-SAT's OPTIMAL status is the proof; ``prove_minimum`` re-proves the bound
independently with Z3 (no set one smaller loses anything).
"""
from __future__ import annotations

from dataclasses import dataclass

from placement.models.cluster import Cluster


@dataclass(frozen=True)
class Minimum:
    what: str  # "volume" or "partition"
    failures: int | None  # least number of node failures that loses one; None: none can
    witness: tuple[str, ...]  # a failure set of that size
    loses: tuple[str, ...]  # what that witness loses
    proven: bool

    def to_document(self) -> dict:
        return {"failures": self.failures, "witness": list(self.witness), "loses": list(self.loses),
                "proven": self.proven}


def _live(cluster: Cluster, nodes) -> frozenset[str]:
    return frozenset(n for n in nodes if cluster.node[n].state.value != "failed")


def volume_items(cluster: Cluster) -> dict[str, frozenset[str]]:
    """Each volume that still has data, with the live nodes that must all fail to lose it (its
    in-sync replicas: a stale replica keeps no data alive)."""
    items = {v.name: _live(cluster, v.in_sync_replicas) for v in cluster.volumes}
    return {name: nodes for name, nodes in items.items() if nodes}


def partition_items(cluster: Cluster) -> dict[str, frozenset[str]]:
    """Each partition that still has data, with the live nodes that must all fail to lose it."""
    def broker_nodes(b) -> frozenset[str]:
        if not b.volumes:
            return _live(cluster, [b.node])
        return frozenset().union(*(_live(cluster, cluster.volume[v].in_sync_replicas) for v in b.volumes))

    per_broker = {b.id: broker_nodes(b) for b in cluster.brokers}
    items = {}
    for p in cluster.partitions:
        holders = [per_broker[b] for b in p.replicas if per_broker[b]]
        if holders:  # a broker whose data is gone already holds nothing of it
            items[p.label] = frozenset().union(*holders)
    return items


def least_loss(items: dict[str, frozenset[str]], what: str, time_limit: float = 60.0) -> Minimum:
    from ortools.sat.python import cp_model

    if not items:
        return Minimum(what, None, (), (), True)
    distinct = sorted(set(items.values()), key=lambda s: (len(s), sorted(s)))
    nodes = sorted(set().union(*distinct))
    model = cp_model.CpModel()
    fails = {n: model.NewBoolVar(f"fail[{n}]") for n in nodes}
    lost = [model.NewBoolVar(f"lost[{i}]") for i in range(len(distinct))]
    for lit, group in zip(lost, distinct):
        for n in group:
            model.AddImplication(lit, fails[n])
    model.AddBoolOr(lost)
    # every loss takes at least the smallest item: a bound that closes the proof at once
    model.Add(sum(fails.values()) >= len(distinct[0]))
    model.Minimize(sum(fails.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Minimum(what, None, (), (), False)
    witness = frozenset(n for n in nodes if solver.Value(fails[n]))
    loses = tuple(sorted(name for name, group in items.items() if group <= witness))
    return Minimum(what, len(witness), tuple(sorted(witness)), loses, status == cp_model.OPTIMAL)


def prove_minimum(items: dict[str, frozenset[str]], size: int) -> bool:
    """Z3: no set of ``size - 1`` node failures loses any item (so ``size`` is least)."""
    import z3

    if size <= 0:
        return True
    nodes = sorted(set().union(*items.values()))
    fail = {n: z3.Bool(f"f_{i}") for i, n in enumerate(nodes)}
    solver = z3.Solver()
    solver.add(z3.Or([z3.And([fail[n] for n in group]) for group in set(items.values())]))
    solver.add(z3.PbLe([(fail[n], 1) for n in nodes], size - 1))
    return solver.check() == z3.unsat


def data_loss_minima(cluster: Cluster, time_limit: float = 60.0) -> tuple[Minimum, Minimum]:
    return (least_loss(volume_items(cluster), "volume", time_limit),
            least_loss(partition_items(cluster), "partition", time_limit))


__all__ = ["Minimum", "data_loss_minima", "least_loss", "partition_items", "prove_minimum", "volume_items"]

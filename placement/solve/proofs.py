"""Proofs with Z3 over the planner's own decision space.

``prove_copied_bound`` shows that no placement meeting every invariant copies
less data than a given amount: the objective bound, added to the invariants,
is unsatisfiable. Symbolic, so meant for small and medium clusters.
"""
from __future__ import annotations

from dataclasses import dataclass

from placement.models.plan import Placement
from placement.rules import RULES
from placement.rules.terms import smt_weighted
from placement.scenario import Scenario
from placement.solve.smt import SmtEncoding
from placement.solve.space import Space


@dataclass(frozen=True)
class Proof:
    claim: str
    verdict: str  # "proved" (bound is UNSAT), "refuted" (a cheaper placement exists) or "unknown"
    witness: Placement | None = None  # a cheaper placement, when refuted


def proof_space(scenario: Scenario) -> Space:
    """The storage-and-brokers stage's candidates for volumes and brokers, and every touched partition free over all brokers."""
    space = Space.for_planning(scenario)
    brokers = tuple(sorted(scenario.cluster.broker))
    domain = {key: brokers for key in scenario.touched_partitions}
    return Space(scenario, space.base, space.volume_domain, space.broker_domain, domain)


def copied_expression(enc: SmtEncoding) -> str:
    space = enc.space
    scenario = space.scenario
    cluster = scenario.cluster
    terms = []
    for name, nodes in space.volume_domain.items():
        survivors = set(scenario.survivors(name))
        terms += [(scenario.copy_cost_mib(name, n), enc.vol(name, n)) for n in nodes if n not in survivors]
    for key, brokers in space.partition_domain.items():
        p = cluster.partition[key]
        terms += [(p.size_mib, enc.part(key, b)) for b in brokers if b not in p.replicas]
    return smt_weighted(terms)


def prove_copied_bound(scenario: Scenario, copied_mib: int, timeout_ms: int = 60_000) -> Proof:
    enc = SmtEncoding(proof_space(scenario))
    for rule in RULES:
        rule.encode_z3(enc)
    claim = f"no placement meeting every invariant copies less than {copied_mib} MiB"
    solver = enc.solver(extra=[f"(< {copied_expression(enc)} {copied_mib})"])
    solver.set("timeout", timeout_ms)
    verdict = enc.check(solver, list(enc.lits))
    if verdict == "unsat":
        return Proof(claim, "proved")
    if verdict == "sat":
        return Proof(claim, "refuted", _model_placement(enc, solver.model()))
    return Proof(claim, "unknown")


def _model_placement(enc: SmtEncoding, model) -> Placement:
    import z3

    def val(name: str) -> int:
        if name.lstrip("-").isdigit():
            return int(name)
        return model.eval(z3.Int(name), model_completion=True).as_long()

    space = enc.space
    volumes = dict(space.base.volumes)
    for v, nodes in space.volume_domain.items():
        volumes[v] = tuple(n for n in nodes for _ in range(val(enc.vol(v, n))))
    brokers = dict(space.base.brokers)
    for b, nodes in space.broker_domain.items():
        brokers[b] = next((n for n in nodes if val(enc.brk(b, n))), None)
    return Placement(brokers=brokers, volumes=volumes, partitions=dict(space.base.partitions))

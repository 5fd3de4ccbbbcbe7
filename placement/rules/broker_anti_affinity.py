"""I4 broker anti-affinity: at most ``brokersPerNode`` brokers on a node."""
from __future__ import annotations

from collections import Counter

from placement.models.plan import Placement, Violation
from placement.rules import items as judged
from placement.rules.items import Items
from placement.rules.terms import smt_sum
from placement.scenario import Scenario

ID = "I4"
TITLE = "broker anti-affinity"


def check(scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
    limit = scenario.cluster.policy.brokers_per_node
    counts = Counter(n for n in target.brokers.values() if n is not None)
    return [Violation.measured(ID, f"node {n} runs {c} brokers "
                                   f"({', '.join(str(b) for b, m in sorted(target.brokers.items()) if m == n)}), "
                                   "more than brokersPerNode", f"node {n}", c, f"<= {limit}")
            for n, c in sorted(counts.items()) if c > limit and (items is None or n in items.nodes)]


def encode_cpsat(enc) -> None:
    space = enc.space
    limit = space.scenario.cluster.policy.brokers_per_node
    for n, brokers in sorted(space.decided_brokers_at.items()):
        already = space.fixed_load[n].brokers
        # a node already over the limit keeps what it has (I4 reports it) but takes no one new
        enc.add(ID, sum(enc.brk(b, n) for b in brokers) <= max(0, limit - already))


def encode_z3(enc) -> None:
    space = enc.space
    limit = space.scenario.cluster.policy.brokers_per_node
    for n, brokers in sorted(space.decided_brokers_at.items()):
        already = space.fixed_load[n].brokers
        enc.add(ID, f"(<= {smt_sum(enc.brk(b, n) for b in brokers)} {max(0, limit - already)})")

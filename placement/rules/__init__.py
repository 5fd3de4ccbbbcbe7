"""The registry of invariants (CONTRACT section 2), one module per rule family.

Each module has ``ID``, ``TITLE``, ``check(scenario, target) -> [Violation]``
(plain Python, the ground truth), ``encode_cpsat(enc)`` and ``encode_z3(enc)``,
every constraint guarded by the rule's one enforcement literal.
"""
from __future__ import annotations

from models.plan import Placement, Violation
from placement.rules import anti_affinity, broker_spread, capacity, data_loss, hyperconvergence, kafka, replication
from placement.scenario import Scenario

RULES = (replication, anti_affinity, hyperconvergence, broker_spread, capacity, kafka, data_loss)
RULE_IDS = tuple(r.ID for r in RULES)
BY_ID = {r.ID: r for r in RULES}


def check_all(scenario: Scenario, target: Placement) -> list[Violation]:
    """Every violation of every invariant, in rule order."""
    return [v for rule in RULES for v in rule.check(scenario, target)]

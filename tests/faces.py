"""Judging one placement with each face of each rule: the plain check, CP-SAT and Z3."""
from __future__ import annotations

from placement.models.plan import Placement
from placement.rules import RULES
from placement.scenario import Scenario
from placement.solve.cpsat import CpEncoding, holds, pin
from placement.solve.smt import SmtEncoding
from placement.solve.space import Space


def verdicts(scenario: Scenario, target: Placement) -> dict[str, tuple[bool, bool, bool]]:
    """rule id -> (check holds, CP-SAT holds, Z3 holds)."""
    space = Space.around(scenario, target)
    cp = CpEncoding(space, relaxed=False)
    smt = SmtEncoding(space)
    for rule in RULES:
        rule.encode_cpsat(cp)
        rule.encode_z3(smt)
    pin(cp, target)
    z3_solver = smt.solver(extra=smt.fix_to(target))
    result = {}
    for rule in RULES:
        by_check = not rule.check(scenario, target)
        by_cp = holds(cp, rule.ID) if rule.ID in cp.lits else True
        by_z3 = smt.check(z3_solver, [rule.ID]) == "sat" if rule.ID in smt.lits else True
        result[rule.ID] = (by_check, by_cp, by_z3)
    return result

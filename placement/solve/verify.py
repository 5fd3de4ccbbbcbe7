"""Independent verification: the plain checks and Z3 judge a placement separately.

They must agree on which invariants a placement breaks; if they do not, that
is a bug in placement, reported as an InternalError (exit 3), never hidden.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from placement.execute.checker import ExecutionVerdict
from placement.models.errors import InternalError
from placement.models.plan import Placement, Violation
from placement.rules import RULES, check_all
from placement.scenario import Scenario
from placement.solve.smt import SmtEncoding
from placement.solve.space import Space


@dataclass(frozen=True)
class Verdict:
    violations: tuple[Violation, ...]  # from the plain checks, with reasons
    broken: tuple[str, ...]  # invariants broken, as both judges found
    execution: "ExecutionVerdict | None" = None  # the steps' model check, when steps were judged

    @property
    def ok(self) -> bool:
        return not self.violations and (self.execution is None or self.execution.safe)

    def with_execution(self, execution: "ExecutionVerdict") -> "Verdict":
        return replace(self, execution=execution)


def z3_broken_rules(scenario: Scenario, target: Placement) -> set[str]:
    """The invariants Z3 finds broken, by evaluating each rule's encoding on the concrete placement."""
    space = Space.around(scenario, target)
    enc = SmtEncoding(space, values=target)
    for rule in RULES:
        rule.encode_z3(enc)
    broken = set()
    for rule, verdict in enc.ground_verdicts().items():
        if verdict == "unknown":
            raise InternalError(f"Z3 could not decide {rule} for a concrete placement")
        if verdict == "unsat":
            broken.add(rule)
    return broken


def verify_placement(scenario: Scenario, target: Placement, *, use_z3: bool = True) -> Verdict:
    violations = tuple(check_all(scenario, target))
    by_check = {v.invariant for v in violations}
    if use_z3:
        by_z3 = z3_broken_rules(scenario, target)
        if by_z3 != by_check:
            raise InternalError(
                "the plain checks and Z3 disagree on this placement: checks find "
                f"{sorted(by_check) or 'nothing'} broken, Z3 finds {sorted(by_z3) or 'nothing'}; "
                "please report this with the cluster and plan files")
    return Verdict(violations, tuple(sorted(by_check)))

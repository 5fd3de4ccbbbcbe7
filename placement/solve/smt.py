"""Z3 backend: the same rules, written as SMT-LIB text over the same Space.

Text rather than z3py objects because building a few hundred thousand terms
through the Python API takes seconds, while Z3 parses the same text in a
fraction of that (DESIGN.md: verification must stay cheap at 1,000 volumes).
Membership variables are integers (a corrupted plan may list a node twice);
the rules themselves say "at most one".

``import z3`` happens only here, lazily.
"""
from __future__ import annotations

from typing import Any, Iterable

from placement.models.plan import Placement
from placement.rules.terms import smt_sum
from placement.solve.space import PKey, Space


def _z3():
    import z3

    return z3


class SmtEncoding:
    """The vocabulary rules use to encode themselves for Z3. Always strict: no shortfall."""

    backend = "z3"
    relaxed = False

    def __init__(self, space: Space, values: Placement | None = None):
        """Symbolic over the space's domains, or, given ``values``, ground: every
        membership is the placement's number and Z3 evaluates the rules on it."""
        self.space = space
        self.values = values
        self.by_rule: dict[str, dict[str, None]] = {}  # ground mode: rule -> its distinct constraints
        self.decls: list[str] = []
        self.asserts: list[str] = []
        self.lits: dict[str, str] = {}
        self.partition_copy: list[tuple[int, str]] = []
        self._vol: dict[tuple[str, str], str] = {}
        self._brk: dict[tuple[int, str], str] = {}
        self._runs: dict[int, str] = {}
        self._part: dict[tuple[PKey, int], str] = {}
        self._lead: dict[tuple[PKey, int], str] = {}
        self._fresh = 0
        mult = space.max_multiplicity
        if values is not None:
            return
        for i, (v, nodes) in enumerate(sorted(space.volume_domain.items())):
            for j, n in enumerate(nodes):
                self._vol[v, n] = self._int(f"x{i}_{j}", 0, mult)
        for i, (b, nodes) in enumerate(sorted(space.broker_domain.items())):
            placed = [self._brk.setdefault((b, n), self._int(f"y{i}_{j}", 0, 1)) for j, n in enumerate(nodes)]
            self._runs[b] = self._int(f"r{i}", 0, 1)
            self.asserts.append(f"(= {self._runs[b]} {smt_sum(placed)})")
        for i, (key, brokers) in enumerate(sorted(space.partition_domain.items())):
            kept = space.fixed_members.get(key, ())
            for j, b in enumerate(brokers):
                if b in kept:
                    continue
                self._part[key, b] = self._int(f"z{i}_{j}", 0, mult)
                self._lead[key, b] = self._int(f"l{i}_{j}", 0, 1)

    def _int(self, name: str, low: int, high: int) -> str:
        self.decls.append(f"(declare-const {name} Int)")
        self.asserts.append(f"(<= {low} {name} {high})")
        return name

    # -- vocabulary ------------------------------------------------------------
    def lit(self, rule: str) -> str:
        if rule not in self.lits:
            self.lits[rule] = f"rule_{rule}"
            self.decls.append(f"(declare-const rule_{rule} Bool)")
        return self.lits[rule]

    def add(self, rule: str, constraint: str) -> None:
        if constraint == "true":
            return
        if self.values is not None:
            # ground: the same closed formula once is enough (a partition's are mostly alike)
            self.by_rule.setdefault(rule, {})[constraint] = None
            return
        self.asserts.append(f"(=> {self.lit(rule)} {constraint})")

    def shortfall(self, rule: str, upper: int, name: str, *, minor: bool = False) -> str:
        return "0"  # Z3 judges strictly: nothing may fall short

    def new_bool(self, name: str) -> str:
        self._fresh += 1
        return self._int(f"a{self._fresh}", 0, 1)

    def new_int(self, low: int, high: int, name: str) -> str:
        self._fresh += 1
        return self._int(f"a{self._fresh}", low, high)

    def vol(self, volume: str, node: str) -> str:
        if self.values is not None:
            nodes = self.values.volumes.get(volume)
            return str(nodes.count(node)) if nodes else "0"
        if volume in self.space.volume_domain:
            return self._vol.get((volume, node), "0")
        return str(self.space.fixed_volume_count(volume, node))

    def brk(self, broker: int, node: str) -> str:
        if self.values is not None:
            return "1" if self.values.brokers.get(broker) == node else "0"
        if broker in self.space.broker_domain:
            return self._brk.get((broker, node), "0")
        return "1" if self.space.base.brokers.get(broker) == node else "0"

    def runs(self, broker: int) -> str:
        if self.values is not None:
            return "0" if self.values.brokers.get(broker) is None else "1"
        if broker in self.space.broker_domain:
            return self._runs[broker]
        return "0" if self.space.base.brokers.get(broker) is None else "1"

    def part(self, key: PKey, broker: int) -> str:
        if self.values is not None:
            chosen = self.values.partitions.get(key)
            return str(chosen.replicas.count(broker)) if chosen else "0"
        if key in self.space.partition_domain:
            if broker in self.space.fixed_members.get(key, ()):
                return "1"
            return self._part.get((key, broker), "0")
        return str(self.space.fixed_partition_count(key, broker))

    def lead(self, key: PKey, broker: int) -> str:
        if self.values is not None:
            chosen = self.values.partitions.get(key)
            return "1" if chosen is not None and chosen.leader == broker else "0"
        if (key, broker) in self._lead:
            return self._lead[key, broker]
        target = self.space.base.partitions.get(key)
        return "1" if target is not None and target.leader == broker else "0"

    @property
    def decides_leaders(self) -> bool:
        return self.values is not None or bool(self._lead)

    def ground_verdicts(self) -> dict[str, str]:
        """Ground mode: Z3's verdict ('sat' or 'unsat') on each rule's constraints."""
        z3 = _z3()
        verdicts = {}
        for rule, constraints in self.by_rule.items():
            solver = z3.Solver()
            solver.from_string("\n".join(f"(assert {c})" for c in constraints))
            verdicts[rule] = str(solver.check())
        return verdicts

    def both(self, a: str, b: str, name: str) -> str:
        if a == "0" or b == "0":
            return "0"
        if a == "1":
            return b
        if b == "1":
            return a
        return f"(ite (and (> {a} 0) (> {b} 0)) 1 0)"

    def any_of(self, terms: list[str], name: str) -> str:
        total = smt_sum(terms)
        if total == "0":
            return "0"
        return f"(ite (> {total} 0) 1 0)"

    # -- values ------------------------------------------------------------
    def fix_to(self, target: Placement) -> list[str]:
        """Assertions that pin every variable to the target's values."""
        pins = []
        for (v, n), var in self._vol.items():
            pins.append(f"(= {var} {sum(1 for m in target.volumes.get(v, ()) if m == n)})")
        for (b, n), var in self._brk.items():
            pins.append(f"(= {var} {1 if target.brokers.get(b) == n else 0})")
        for (key, b), var in self._part.items():
            chosen = target.partitions.get(key)
            pins.append(f"(= {var} {sum(1 for m in chosen.replicas if m == b) if chosen else 0})")
        for (key, b), var in self._lead.items():
            chosen = target.partitions.get(key)
            pins.append(f"(= {var} {1 if chosen is not None and chosen.leader == b else 0})")
        return pins

    def text(self, extra: Iterable[str] = ()) -> str:
        body = [f"(assert {a})" for a in self.asserts] + [f"(assert {e})" for e in extra]
        return "\n".join(self.decls + body)

    def solver(self, extra: Iterable[str] = ()) -> Any:
        z3 = _z3()
        solver = z3.SolverFor("QF_LIA")
        solver.from_string(self.text(extra))
        return solver

    def literal(self, rule: str) -> Any:
        return _z3().Bool(self.lits[rule])

    def check(self, solver: Any, assumptions: list[str]) -> str:
        """'sat', 'unsat' or 'unknown' under the given rule literals."""
        return str(solver.check(*[self.literal(r) for r in assumptions]))

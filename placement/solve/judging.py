"""The planner's judgement of an intermediate target (its greedy start): where the start breaks
nothing, only the items the target changed are judged (``placement.rules.changes``), with
leaders elected for the partitions among them; the final plan is judged in full."""
from __future__ import annotations

from placement.models.plan import Placement, Violation
from placement.rules import RULES, check_start
from placement.rules.changes import changed_items
from placement.scenario import Scenario
from placement.solve.leaders import elect_leaders


def check_changed(scenario: Scenario, target: Placement) -> list[Violation] | None:
    """``check_all(scenario, elect_leaders(scenario, target, even_out=False))``, judged only on the
    items that changed since the start (leaders elected only for the partitions among them); None
    where that cannot stand for the full check: the start already breaks something, or the
    operation changes a fact every item reads."""
    if check_start(scenario.cluster):
        return None
    items = changed_items(scenario, target)
    if items is None:
        return None
    changed = {key: target.partitions[key] for key in items.partitions if key in target.partitions}
    judged = elect_leaders(scenario, Placement(brokers=target.brokers, volumes=target.volumes, partitions=changed),
                           even_out=False)
    return [v for rule in RULES for v in rule.check(scenario, judged, items)]

"""The library as operators call it (the README's operator script)."""
from __future__ import annotations

from pathlib import Path

import placement

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


def test_operator_script():
    cluster = placement.load_cluster(SEED)
    plan = placement.plan(cluster, fail=["node-2"], time_limit=10)
    assert plan.status is placement.Status.OPTIMAL
    assert plan.placement.brokers[1] == "node-4"
    assert [s.action for s in plan.steps][:2] == ["fence-node", "drop-volume-replica"]
    assert plan.metrics["copiedGiB"] == 75.0 and not plan.violations
    verdict = placement.verify(cluster, plan.to_document())
    assert verdict.ok


def test_bad_input_raises_one_exception_type():
    cluster = placement.load_cluster(SEED)
    try:
        placement.plan(cluster, fail=["node-9"])
    except placement.InputError as exc:
        assert exc.problems[0].path == "--fail"
    else:
        raise AssertionError("an unknown node must be refused")

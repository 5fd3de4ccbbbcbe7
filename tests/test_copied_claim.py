"""``metrics.copiedGiB`` is CONTRACT 4's figure: the usedGiB of every new volume replica (the stale GiB
of a resync) plus the sizeGiB of every new partition replica, summed exactly from the file's GiB.
Our solvers count whole MiB (each item rounded up), so verify accepts a claim within one MiB per
replica counted of the exact sum (plus 0.0015 GiB for three decimals and float noise), and says
both figures in full when it refuses one. A stranger's witness with the exact sum 848584.4 GiB was
refused ("is 848584.4, but the target copies 848585 GiB") before."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

import placement
from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.scenario import Scenario
from placement.solve.metrics import copied, copied_mib

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


@pytest.fixture(scope="module")
def fractional():
    """The seed with usedGiB that are no whole MiB: node-2's two replicas copy 40.3 + 35.7 = 76 GiB
    exactly, 41,268 + 36,557 MiB = 76.00098 GiB rounded up per replica."""
    doc = yaml.safe_load(SEED.read_text())
    doc["volumes"][0]["usedGiB"], doc["volumes"][1]["usedGiB"] = 40.3, 35.7
    cluster = parse_cluster(doc, "fractional.yaml")
    return cluster, placement.plan(cluster, fail=["node-2"])


def test_the_plan_carries_the_exact_contract_figure(fractional):
    cluster, plan = fractional
    assert plan.metrics["copiedGiB"] == 76.0  # not 76.001, the MiB figure
    figures = copied(Scenario(cluster, resolve_failures(cluster, ["node-2"])), plan.placement)
    assert figures.items == 2 and figures.mib == 41_268 + 36_557
    assert figures.mib == copied_mib(Scenario(cluster, resolve_failures(cluster, ["node-2"])), plan.placement)
    assert abs(figures.gib - 76.0) < 1e-9


@pytest.mark.parametrize("claimed", [76.0, 76.001, 76.0009766, 75.999, 76.0034])
def test_claims_within_the_mib_rounding_verify(fractional, claimed):
    cluster, plan = fractional
    document = plan.to_document()
    document["metrics"]["copiedGiB"] = claimed
    assert placement.verify(cluster, document).ok


@pytest.mark.parametrize("claimed", [76.004, 75.99, 77, 0])
def test_claims_beyond_it_do_not_and_say_both_figures_in_full(fractional, claimed):
    cluster, plan = fractional
    document = copy.deepcopy(plan.to_document())
    document["metrics"]["copiedGiB"] = claimed
    verdict = placement.verify(cluster, document)
    (claim,) = [c for c in verdict.false_claims if c.field == "metrics.copiedGiB"]
    assert claim.message.startswith(f"is {placement.models.units.gib_text(claimed)}, but the target copies 76 GiB (")
    assert "within 0.003 GiB of it is accepted: up to 1 MiB for each of the 2 replicas counted" in claim.message


def test_large_figures_are_written_in_full():
    from placement.models.units import gib_text

    assert gib_text(848584.424) == "848,584.424 GiB"
    assert gib_text(1138490.0) == "1,138,490 GiB"
    assert gib_text(0.0) == "0 GiB" and gib_text(10.5) == "10.5 GiB"

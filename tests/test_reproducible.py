"""The same input gives the same plan every run (DESIGN: fixed solver seeds, sorted iteration).

The README's capture session (tests/captures/strimzi-messy, imported) has several equally good
placements; with CP-SAT's workers racing, 8 runs of ``plan --fail node-0002`` returned 3 different
ones (and a different "no order can beat" line in the README). Small models search in
interleaved batches (``cpsat.level_parameters``), which makes the answer reproducible."""
from __future__ import annotations

from pathlib import Path

import placement
from placement.imports import import_cluster

CAPTURE = Path(__file__).parent / "captures" / "strimzi-messy"
RUNS = 8


def _target(plan) -> str:
    return repr(plan.placement)


def test_the_readme_capture_plans_the_same_every_run():
    cluster = import_cluster(CAPTURE).cluster
    plans = [placement.plan(cluster, fail=["node-0002"]) for _ in range(RUNS)]
    assert all(p.status.value == "optimal" for p in plans)
    assert len({_target(p) for p in plans}) == 1
    assert len({p.timeline.lower_bound for p in plans}) == 1  # the README's "no order can beat" line


def test_small_models_search_in_reproducible_batches():
    from ortools.sat.python import cp_model

    from placement.solve.cpsat import REPRODUCIBLE_VARIABLES, level_parameters

    for variables, reproducible in ((10, True), (REPRODUCIBLE_VARIABLES, True), (REPRODUCIBLE_VARIABLES + 1, False)):
        solver = cp_model.CpSolver()
        level_parameters(solver, first=True, workers=2, seed=0, seconds=1.0, variables=variables)
        assert solver.parameters.interleave_search is reproducible
        assert solver.parameters.num_workers == 2

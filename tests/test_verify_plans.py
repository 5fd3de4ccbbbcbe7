"""The planner's own plans always verify (issue 9 item 1): every example and the random
differential clusters, planned, written as a plan document, read back and judged by
``placement.verify`` as a user's plan would be -- the target by the plain checks and Z3,
the steps replayed against the cluster and model-checked, the failed list against the
fences. Steps never carry an empty replica list."""
from __future__ import annotations

import json

import pytest

import placement
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.solve.planner import plan_recovery
from tests.smallworld import random_scenario
from tests.test_examples import EXAMPLES, RUNS


def _judged(cluster, plan, fail=(), zones=()):
    document = json.loads(json.dumps(plan.to_document()))  # through JSON, as a file would be
    for s in document["steps"]:
        for entry in s.get("partitions", ()):
            assert entry.get("replicas", [0]) != [], s
    verdict = placement.verify(cluster, document, fail, zones)
    assert verdict.execution is None or verdict.execution.safe, \
        [c.message for c in verdict.execution.counterexamples] + list(verdict.execution.undecided)
    assert verdict.ok == plan.status.meets_invariants
    return verdict


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_example_plans_and_verifies(name):
    (fail, zones), _ = RUNS[name]
    cluster = load_cluster(EXAMPLES / name)
    plan = plan_recovery(cluster, resolve_failures(cluster, fail, zones))
    _judged(cluster, plan)
    _judged(cluster, plan, fail, zones)  # told the same failures on the command line


@pytest.mark.parametrize("name,fail", [("tight-capacity.yaml", ["node-1", "node-4"]), ("seed.yaml", ["node-1", "node-2"]),
                                       ("zone-loss.yaml", ["a-1", "b-1"]), ("fragile.yaml", ["node-1", "node-2"])])
def test_harder_failures_of_the_examples_plan_and_verify(name, fail):
    cluster = load_cluster(EXAMPLES / name)
    plan = plan_recovery(cluster, resolve_failures(cluster, fail))
    _judged(cluster, plan)


KINDS = [(s, False, False) for s in range(100)] + [(s, True, False) for s in range(60)] + [(s, True, True) for s in range(60)]


@pytest.mark.parametrize("seed,kafka_heavy,removal", KINDS)
def test_random_differential_clusters_plan_and_verify(seed, kafka_heavy, removal):
    scenario = random_scenario(seed, kafka_heavy=kafka_heavy, removal=removal)
    plan = plan_recovery(scenario.cluster, scenario.failures)
    _judged(scenario.cluster, plan)

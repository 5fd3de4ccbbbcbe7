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


def _operation_cases():
    cases = [("seed.yaml", node) for node in ("node-1", "node-2", "node-3", "node-4", "node-5")]
    cases += [("zone-loss.yaml", node) for node in ("a-1", "b-2", "c-1")]
    return cases


@pytest.mark.parametrize("name,node", _operation_cases())
def test_drains_plan_and_verify_through_the_document(name, node):
    """A drain's plan records its drained nodes; verify judges the steps by them (cordons allowed,
    floors of RF - 1). Whenever the planner says a drain meets every invariant, it verifies; when
    no safe order exists for its target, the plan says so and verify agrees."""
    cluster = load_cluster(EXAMPLES / name)
    plan = plan_recovery(cluster, resolve_failures(cluster, drain=[node]))
    document = json.loads(json.dumps(plan.to_document()))
    assert document.get("drained") == [node]
    verdict = placement.verify(cluster, document)
    assert verdict.ok == plan.status.meets_invariants
    unsafe = [v for v in plan.violations if "steps cannot be made safe" in v.message]
    assert (verdict.execution is not None and not verdict.execution.safe) == bool(unsafe)
    if verdict.execution is not None and verdict.ok:
        assert [s.action for s in plan.steps][:1] == ["cordon-node"]
        assert not any(s.action == "fence-node" for s in plan.steps)


@pytest.mark.parametrize("seed", range(40))
def test_random_drains_and_rebalances_plan_and_verify(seed):
    import random

    scenario = random_scenario(seed)
    cluster = scenario.cluster
    rng = random.Random(seed)
    live = sorted(n.name for n in cluster.nodes if n.state.value != "failed")
    if seed % 2:
        failures = resolve_failures(cluster, drain=[rng.choice(live)])
    else:
        failures = resolve_failures(cluster, max_used_percent=rng.choice([60, 75, 90]))
    plan = plan_recovery(cluster, failures)
    if plan.status.value == "infeasible":
        pytest.skip("no target was found (the planner's answer; nothing to verify)")
    verdict = placement.verify(cluster, json.loads(json.dumps(plan.to_document())))
    assert verdict.ok == plan.status.meets_invariants

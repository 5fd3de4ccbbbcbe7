"""The execution model checker: valid plans proven safe, mutated plans caught, and the
per-resource reduction agreeing with exhaustive exploration of every configuration."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from models.failures import resolve_failures
from models.loading import load_cluster
from models.plan import Step
from placement.execution import check_execution, check_execution_exhaustively
from placement.planner import plan_recovery
from placement.scenario import Scenario
from tests.smallworld import random_scenario


def _plan(scenario: Scenario):
    return plan_recovery(scenario.cluster, scenario.failures)


def _with_steps(steps, extra):
    return tuple(steps) + tuple(extra)


VALID = [s for s in range(300)][:220]


@pytest.mark.parametrize("seed", VALID)
def test_planner_steps_are_safe(seed):
    scenario = random_scenario(seed, kafka_heavy=seed % 2 == 1)
    verdict = check_execution(scenario, _plan(scenario).steps)
    assert verdict.safe, [c.to_document() for c in verdict.counterexamples]


def _seed():
    cluster = load_cluster("examples/seed.yaml")
    scenario = Scenario(cluster, resolve_failures(cluster, ["node-2"]))
    return scenario, list(_plan(scenario).steps)


def _next_id(steps):
    return max(s.id for s in steps) + 1


def test_drop_before_its_add_is_caught():
    scenario, steps = _seed()
    add = next(s for s in steps if s.action == "add-volume-replica")
    # drop the add's source replica with nothing to wait for: the resync loses its source
    steps.append(Step(_next_id(steps), "drop-volume-replica", {"volume": add.args["volume"], "node": add.args["source"]}, ()))
    verdict = check_execution(scenario, tuple(steps))
    assert not verdict.safe
    assert any("no in-sync source" in c.message or "no in-sync replica" in c.message for c in verdict.counterexamples)


def test_removed_after_edge_is_caught():
    scenario, steps = _seed()
    steps = [replace(s, after=()) if s.action == "move-broker" else s for s in steps]
    verdict = check_execution(scenario, tuple(steps))
    assert not verdict.safe
    assert any("before that node is fenced" in c.message for c in verdict.counterexamples)
    assert all(c.events for c in verdict.counterexamples)


def test_second_broker_on_a_node_is_caught():
    scenario, steps = _seed()
    steps.append(Step(_next_id(steps), "move-broker", {"broker": 0, "from": "node-1", "to": "node-3"}, ()))
    verdict = check_execution(scenario, tuple(steps))
    assert any("brokers" in c.message and "node-3" in c.message for c in verdict.counterexamples)


def test_overfilled_node_mid_plan_is_caught():
    cluster = load_cluster("examples/tight-capacity.yaml")
    scenario = Scenario(cluster, resolve_failures(cluster, ["node-1"]))
    steps = list(_plan(scenario).steps)
    # one more resync onto node-3 while the 60 GiB replica is already there
    steps.append(Step(_next_id(steps), "add-volume-replica", {"volume": "pvc-mid-a", "node": "node-3", "source": "node-4"}, ()))
    verdict = check_execution(scenario, tuple(steps))
    assert any("node-3 would hold" in c.message for c in verdict.counterexamples)


def test_broker_started_before_its_replica_resyncs_is_caught():
    cluster = load_cluster("examples/seed.yaml")
    scenario = Scenario(cluster, resolve_failures(cluster, ["node-2"]))
    steps = list(_plan(scenario).steps)
    # move broker 1 to node-5, where pvc-kafka-1's replica is new, without waiting for it
    steps = [replace(s, args={**s.args, "to": "node-5"}) if s.action == "move-broker" else s for s in steps]
    verdict = check_execution(scenario, tuple(steps))
    assert any("before its volume" in c.message for c in verdict.counterexamples)


@pytest.mark.parametrize("seed", range(60))
def test_reduction_agrees_with_exhaustive_exploration(seed):
    scenario = random_scenario(seed)
    steps = list(_plan(scenario).steps)
    rng = random.Random(seed)
    if steps and rng.random() < 0.6:  # sometimes break it: drop every dependency of one step
        i = rng.randrange(len(steps))
        steps[i] = replace(steps[i], after=())
    if len(steps) > 9:
        pytest.skip("exhaustive exploration is for small plans")
    reduced = check_execution(scenario, tuple(steps))
    full = check_execution_exhaustively(scenario, tuple(steps))
    assert reduced.safe == full.safe
    assert {c.message for c in reduced.counterexamples} <= {c.message for c in full.counterexamples}

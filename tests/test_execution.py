"""The execution model checker: valid plans proven safe, mutated plans caught, and the
per-resource reduction agreeing with exhaustive exploration of every configuration."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from placement.execute.checker import check_execution, check_execution_exhaustively
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.models.plan import Step
from placement.scenario import Scenario
from placement.solve.planner import plan_recovery
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


@pytest.mark.parametrize("seed", range(60))
def test_planner_steps_after_a_broker_removal_are_safe(seed):
    scenario = random_scenario(seed, removal=True, kafka_heavy=True)
    plan = _plan(scenario)
    verdict = check_execution(scenario, plan.steps, plan.placement)
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


def _planned_and_sometimes_broken(scenario: Scenario, seed: int, chance: float) -> list[Step]:
    """The planner's steps; with the given chance, one step loses every dependency."""
    steps = list(_plan(scenario).steps)
    rng = random.Random(seed)
    if steps and rng.random() < chance:
        i = rng.randrange(len(steps))
        steps[i] = replace(steps[i], after=())
    return steps


@pytest.mark.parametrize("seed", range(60))
def test_reduction_agrees_with_exhaustive_exploration(seed):
    scenario = random_scenario(seed)
    steps = _planned_and_sometimes_broken(scenario, seed, 0.6)
    if len(steps) > 9:
        pytest.skip("exhaustive exploration is for small plans")
    reduced = check_execution(scenario, tuple(steps))
    full = check_execution_exhaustively(scenario, tuple(steps))
    assert reduced.safe == full.safe
    assert {c.message for c in reduced.counterexamples} <= {c.message for c in full.counterexamples}


def _every_order(scenario: Scenario, steps) -> tuple[bool, int]:
    """Brute force, written independently of the checker's search: walk every sequence of
    start/finish events the dependencies allow, judging every resource after every event."""
    from placement.execute.checker import ATOMIC, _Resources

    by_id = {s.id: s for s in steps}
    resources = _Resources(scenario, by_id)
    sequences = 0

    def safe_here(started, finished):
        return all(resources.judge(r, started, finished) is None for r in resources.touching)

    def walk(started: frozenset, finished: frozenset) -> bool:
        nonlocal sequences
        if not safe_here(started, finished):
            return False
        moves = []
        for sid, s in by_id.items():
            if sid not in started and set(s.after) <= finished:
                moves.append((started | {sid}, finished | {sid} if s.action in ATOMIC else finished))
            elif sid in started and sid not in finished:
                moves.append((started, finished | {sid}))
        if not moves:
            sequences += 1
        return all(walk(*m) for m in moves)

    return walk(frozenset(), frozenset()), sequences


@pytest.mark.slow  # a long sweep: run by make test, skipped by make test-fast
@pytest.mark.parametrize("seed", range(300))
def test_checker_agrees_with_every_order_enumerated(seed):
    scenario = random_scenario(seed, kafka_heavy=seed % 3 == 0)
    steps = _planned_and_sometimes_broken(scenario, seed, 0.5)
    if len(steps) > 7:
        pytest.skip("every order of a plan this long is too many to enumerate")
    reduced = check_execution(scenario, tuple(steps))
    safe, _ = _every_order(scenario, steps)
    assert reduced.safe == safe


def _swap_cluster():
    """n3 is full with w's replica and receives v's; w moves off n3 to n5."""
    from placement.models.loading import parse_cluster

    return parse_cluster({
        "name": "swap",
        "policy": {"volumeReplicationFactor": 2, "zoneSpread": False, "brokerPlacement": "preferred"},
        "nodes": [{"name": f"n{i}", "storageGiB": 100} for i in range(1, 6)],
        "volumes": [{"name": "v", "sizeGiB": 100, "replicas": ["n1", "n2"]},
                    {"name": "w", "sizeGiB": 100, "replicas": ["n3", "n4"]}],
    }, "swap")


def test_a_resync_waits_for_room_on_a_full_node():
    from placement.models.plan import Placement
    from placement.execute.steps import build_steps

    cluster = _swap_cluster()
    scenario = Scenario(cluster, resolve_failures(cluster, []))
    current = Placement.current(cluster)
    target = Placement(current.brokers, {"v": ("n3", "n2"), "w": ("n5", "n4")}, current.partitions)
    steps = build_steps(scenario, target)
    verdict = check_execution(scenario, steps, target)
    assert verdict.safe, [c.to_document() for c in verdict.counterexamples]
    add_v = next(s for s in steps if s.action == "add-volume-replica" and s.args["volume"] == "v")
    drop_w = next(s for s in steps if s.action == "drop-volume-replica" and s.args["node"] == "n3")
    assert drop_w.id in add_v.after
    without = tuple(replace(s, after=tuple(a for a in s.after if a != drop_w.id)) if s.id == add_v.id else s for s in steps)
    caught = check_execution(scenario, without, target)
    assert any("n3 would hold 200 GiB" in c.message for c in caught.counterexamples)


def test_steps_that_miss_the_target_are_caught():
    scenario, steps = _seed()
    target = _plan(scenario).placement
    last_add = max(s.id for s in steps if s.action == "add-volume-replica")
    short = tuple(s for s in steps if s.id != last_add)
    verdict = check_execution(scenario, short, target)
    assert any("the target says" in c.message for c in verdict.counterexamples)
    assert check_execution(scenario, tuple(steps), target).safe


@pytest.mark.parametrize("seed", range(40))
def test_unreduced_lower_bound_never_exceeds_the_exhaustive_count(seed):
    scenario = random_scenario(seed)
    steps = _plan(scenario).steps
    if len(steps) > 12:
        pytest.skip("exhaustive exploration is for small plans")
    reduced = check_execution(scenario, steps)
    full = check_execution_exhaustively(scenario, steps)
    assert 10 ** reduced.unreduced_log10 <= full.states * (1 + 1e-9)


def _replay(scenario: Scenario, steps, events) -> frozenset:
    """Run a counterexample's events from the start, refusing any the plan does not allow."""
    from placement.execute.checker import ATOMIC

    by_id = {s.id: s for s in steps}
    started, finished = set(), set()
    for event in events:
        kind, sid = event.split()
        sid = int(sid)
        if kind == "start":
            assert sid not in started and set(by_id[sid].after) <= finished, event
            started.add(sid)
            if by_id[sid].action in ATOMIC:
                finished.add(sid)
        else:
            assert sid in started and sid not in finished, event
            finished.add(sid)
    return frozenset(started), frozenset(finished)


@pytest.mark.parametrize("mutate", ["drop_source", "no_after", "second_broker", "early_broker"])
def test_counterexamples_replay_to_an_unsafe_state(mutate):
    from placement.execute.checker import _Resources

    scenario, steps = _seed()
    if mutate == "drop_source":
        add = next(s for s in steps if s.action == "add-volume-replica")
        steps.append(Step(_next_id(steps), "drop-volume-replica", {"volume": add.args["volume"], "node": add.args["source"]}, ()))
    elif mutate == "no_after":
        steps = [replace(s, after=()) for s in steps]
    elif mutate == "second_broker":
        steps.append(Step(_next_id(steps), "move-broker", {"broker": 0, "from": "node-1", "to": "node-3"}, ()))
    else:
        steps = [replace(s, args={**s.args, "to": "node-5"}) if s.action == "move-broker" else s for s in steps]
    verdict = check_execution(scenario, tuple(steps))
    assert not verdict.safe
    resources = _Resources(scenario, {s.id: s for s in steps})
    for c in verdict.counterexamples:
        started, finished = _replay(scenario, steps, c.events)
        problems = {resources.judge(r, started, finished) for r in resources.touching}
        assert c.message in problems

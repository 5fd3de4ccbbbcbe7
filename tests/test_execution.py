"""The execution model checker: valid plans proven safe, mutated plans caught, and the
per-resource reduction agreeing with the plain semantics explored over every global
configuration (``placement.execute.exhaustive``)."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placement.execute.checker import check_execution, check_execution_exhaustively
from placement.execute.closure import max_closure
from placement.execute.exhaustive import ATOMIC, _Semantics
from placement.execute.order import StepOrder
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster, parse_cluster
from placement.models.plan import Placement, Step
from placement.scenario import Scenario
from placement.solve.planner import plan_recovery
from tests.smallworld import random_scenario


def _plan(scenario: Scenario):
    return plan_recovery(scenario.cluster, scenario.failures)


@pytest.mark.parametrize("seed", range(220))
def test_planner_steps_are_safe_and_reach_the_target(seed):
    scenario = random_scenario(seed, kafka_heavy=seed % 2 == 1)
    plan = _plan(scenario)
    verdict = check_execution(scenario, plan.steps, plan.placement)
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


def _messages(verdict) -> str:
    return " | ".join(c.message for c in verdict.counterexamples)


def test_dropping_a_copy_source_before_the_copy_is_caught():
    scenario, steps = _seed()
    add = next(s for s in steps if s.action == "add-volume-replica")
    steps.append(Step(_next_id(steps), "drop-volume-replica", {"volume": add.args["volume"], "node": add.args["source"]}, ()))
    verdict = check_execution(scenario, tuple(steps))
    assert not verdict.safe
    assert f"copies from {add.args['source']} while {add.args['source']} holds no replica" in _messages(verdict)


def test_a_move_off_a_failed_node_before_its_fence_is_caught():
    scenario, steps = _seed()
    steps = [replace(s, after=()) if s.action == "move-broker" else s for s in steps]
    verdict = check_execution(scenario, tuple(steps))
    assert "before that node is fenced" in _messages(verdict)
    assert all(c.events for c in verdict.counterexamples)


def test_second_broker_on_a_node_is_caught():
    scenario, steps = _seed()
    steps.append(Step(_next_id(steps), "move-broker", {"broker": 0, "from": "node-1", "to": "node-3"}, ()))
    verdict = check_execution(scenario, tuple(steps))
    assert "node node-3 would run 2 brokers" in _messages(verdict)


def test_overfilled_node_mid_plan_is_caught():
    cluster = load_cluster("examples/tight-capacity.yaml")
    scenario = Scenario(cluster, resolve_failures(cluster, ["node-1"]))
    steps = list(_plan(scenario).steps)
    # one more copy onto node-3, which the 60 GiB replica fills
    steps.append(Step(_next_id(steps), "add-volume-replica", {"volume": "pvc-mid-a", "node": "node-3", "source": "node-4"}, ()))
    verdict = check_execution(scenario, tuple(steps))
    assert "node node-3 would hold" in _messages(verdict)


def test_broker_started_before_its_replica_is_in_sync_is_caught():
    scenario, steps = _seed()
    # move broker 1 to node-5, where pvc-kafka-1's replica is new, without waiting for it
    steps = [replace(s, args={**s.args, "to": "node-5"}) if s.action == "move-broker" else s for s in steps]
    verdict = check_execution(scenario, tuple(steps))
    assert "broker 1 is moved to node-5" in _messages(verdict) and "node-5 holds no replica" in _messages(verdict)


def test_steps_that_miss_the_target_are_caught():
    scenario, steps = _seed()
    target = _plan(scenario).placement
    last_add = max(s.id for s in steps if s.action == "add-volume-replica")
    short = tuple(s for s in steps if s.id != last_add)
    verdict = check_execution(scenario, short, target)
    assert "the target says" in _messages(verdict)
    assert check_execution(scenario, tuple(steps), target).safe


# -- against the plain semantics --------------------------------------------------------------

MUTATIONS = ("none", "no_after", "one_no_after", "duplicate", "wrong_from", "drop_source", "extra_add", "extra_drop",
             "fence_healthy", "drop_one_edge")


def _mutated(scenario: Scenario, seed: int, steps: list[Step]) -> list[Step]:
    rng = random.Random(seed)
    kind = MUTATIONS[seed % len(MUTATIONS)]
    cluster = scenario.cluster
    if not steps or kind == "none":
        return steps
    i = rng.randrange(len(steps))
    nxt = _next_id(steps)
    if kind == "no_after":
        return [replace(s, after=()) for s in steps]
    if kind == "one_no_after":
        steps[i] = replace(steps[i], after=())
    elif kind == "duplicate":
        steps.append(replace(steps[i], id=nxt))
    elif kind == "wrong_from":
        moves = [j for j, s in enumerate(steps) if s.action == "move-broker"]
        if moves:
            j = rng.choice(moves)
            steps[j] = replace(steps[j], args={**steps[j].args, "from": rng.choice(sorted(cluster.node))})
    elif kind == "drop_source":
        adds = [s for s in steps if s.action == "add-volume-replica"]
        if adds:
            a = rng.choice(adds)
            steps.append(Step(nxt, "drop-volume-replica", {"volume": a.args["volume"], "node": a.args["source"]}, ()))
    elif kind in ("extra_add", "extra_drop") and cluster.volumes:
        v = rng.choice(cluster.volumes)
        node = rng.choice(sorted(cluster.node))
        if kind == "extra_add":
            source = rng.choice(sorted(cluster.node))
            steps.append(Step(nxt, "add-volume-replica", {"volume": v.name, "node": node, "source": source},
                              tuple(rng.sample([s.id for s in steps], min(2, len(steps))))))
        else:
            steps.append(Step(nxt, "drop-volume-replica", {"volume": v.name, "node": node}, ()))
    elif kind == "fence_healthy":
        steps.append(Step(nxt, "fence-node", {"node": rng.choice(sorted(cluster.node))}, ()))
    elif kind == "drop_one_edge":
        chain = [j for j, s in enumerate(steps) if s.after]
        if chain:
            j = rng.choice(chain)
            steps[j] = replace(steps[j], after=steps[j].after[1:])
    return steps


@pytest.mark.parametrize("seed", range(150))
def test_reduction_agrees_with_the_plain_semantics(seed):
    scenario = random_scenario(seed, kafka_heavy=seed % 3 == 0, removal=seed % 5 == 0)
    steps = _mutated(scenario, seed, list(_plan(scenario).steps))
    if len(steps) > 9:
        pytest.skip("exhaustive exploration is for small plans")
    reduced = check_execution(scenario, tuple(steps))
    full = check_execution_exhaustively(scenario, tuple(steps))
    assert not full.undecided
    assert reduced.safe == full.safe, (_messages(reduced), _messages(full))


@pytest.mark.slow  # a long sweep: run by make test, skipped by make test-fast
@pytest.mark.parametrize("seed", range(150, 900))
def test_reduction_agrees_with_the_plain_semantics_sweep(seed):
    test_reduction_agrees_with_the_plain_semantics(seed)


@pytest.mark.parametrize("seed", range(40))
def test_unreduced_lower_bound_never_exceeds_the_exhaustive_count(seed):
    scenario = random_scenario(seed)
    steps = _plan(scenario).steps
    if len(steps) > 12:
        pytest.skip("exhaustive exploration is for small plans")
    reduced = check_execution(scenario, steps)
    full = check_execution_exhaustively(scenario, steps)
    assert 10 ** reduced.unreduced_log10 <= full.states * (1 + 1e-9)


def _replay(scenario: Scenario, steps, events):
    """Run a counterexample's events with the plain semantics, refusing any the plan does not
    allow; the world reached and whether the last event was impossible there."""
    by_id = {s.id: s for s in steps}
    sem = _Semantics(scenario, by_id)
    world = sem.start()
    started, finished = set(), set()
    for n, event in enumerate(events):
        kind, sid = event.split()
        sid = int(sid)
        if kind == "start":
            assert sid not in started and set(by_id[sid].after) <= finished, event
            world, why = sem.begin(world, sid)
            if why:
                assert n == len(events) - 1, f"{event} is impossible before the end: {why}"
                return None, True
            started.add(sid)
            if by_id[sid].action in ATOMIC:
                finished.add(sid)
        else:
            assert sid in started and sid not in finished, event
            world = sem.end(world, sid)
            finished.add(sid)
    return sem.unsafe(world, frozenset(started), frozenset(finished)), False


@pytest.mark.parametrize("mutate", ["drop_source", "no_after", "second_broker", "early_broker", "fence_healthy",
                                    "add_twice"])
def test_counterexamples_replay_to_an_unsafe_state_or_an_impossible_step(mutate):
    scenario, steps = _seed()
    if mutate == "drop_source":
        add = next(s for s in steps if s.action == "add-volume-replica")
        steps.append(Step(_next_id(steps), "drop-volume-replica", {"volume": add.args["volume"], "node": add.args["source"]}, ()))
    elif mutate == "no_after":
        steps = [replace(s, after=()) for s in steps]
    elif mutate == "second_broker":
        steps.append(Step(_next_id(steps), "move-broker", {"broker": 0, "from": "node-1", "to": "node-3"}, ()))
    elif mutate == "early_broker":
        steps = [replace(s, args={**s.args, "to": "node-5"}) if s.action == "move-broker" else s for s in steps]
    elif mutate == "fence_healthy":
        steps.append(Step(_next_id(steps), "fence-node", {"node": "node-3"}, ()))
    else:
        add = next(s for s in steps if s.action == "add-volume-replica")
        steps.append(replace(add, id=_next_id(steps)))
    verdict = check_execution(scenario, tuple(steps))
    assert not verdict.safe
    for c in verdict.counterexamples:
        if "neither waits for the other" in c.message:
            continue  # a pair of steps, not one state: shown by the start of the second one
        problem, impossible = _replay(scenario, steps, c.events)
        assert impossible or problem, c.message


# -- the pieces --------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=7), st.data())
def test_max_closure_matches_brute_force(weights, data):
    n = len(weights)
    needs = [sorted(set(data.draw(st.lists(st.integers(0, n - 1), max_size=3)))) for _ in range(n)]
    best, chosen = max_closure(weights, needs)
    brute = 0
    for mask in range(1 << n):
        members = {i for i in range(n) if mask >> i & 1}
        if all(set(needs[i]) <= members for i in members):
            brute = max(brute, sum(weights[i] for i in members))
    assert best == brute
    assert all(set(needs[i]) <= chosen for i in chosen)
    assert sum(weights[i] for i in chosen) == best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 30), max_size=3), min_size=2, max_size=30))
def test_ancestor_sets_and_bitsets_agree(edges):
    steps = {i + 1: Step(i + 1, "fence-node", {"node": "n"}, tuple(sorted({a + 1 for a in after if a < i})))
             for i, after in enumerate(edges)}
    sets = StepOrder(steps)
    bits = StepOrder(steps, set_budget=-1)
    assert sets.representation == "sets" and bits.representation == "bitsets"
    for a in steps:
        for b in steps:
            assert sets.before(a, b) == bits.before(a, b)
        assert sets.ancestors(a) == bits.ancestors(a)


# -- bounded: proofs or an honest undecided, quickly -------------------------------------------

def _wide_cluster(nodes: int, replicas: int):
    return parse_cluster({
        "name": "wide",
        "policy": {"volumeReplicationFactor": 3, "zoneSpread": False, "brokerPlacement": "preferred", "brokersPerNode": 20},
        "nodes": [{"name": f"n{i}", "storageGiB": 1000} for i in range(nodes)],
        "volumes": [{"name": "v", "sizeGiB": 10, "replicationFactor": 3, "replicas": [f"n{i}" for i in range(replicas)]}],
        "brokers": [{"id": i, "node": f"n{i}", "volumes": []} for i in range(18)],
        "topics": [{"name": "t", "minInsyncReplicas": 2,
                    "partitions": [{"id": 0, "replicas": list(range(18)), "leader": 16, "isr": [16, 17]}]}],
    }, "wide")


def test_sixteen_unordered_drops_on_one_volume_are_proven_at_once():
    cluster = _wide_cluster(20, 20)
    scenario = Scenario(cluster, resolve_failures(cluster, []))
    steps = tuple(Step(i + 1, "drop-volume-replica", {"volume": "v", "node": f"n{i}"}, ()) for i in range(16))
    verdict = check_execution(scenario, steps)
    assert verdict.safe and verdict.states < 1000


def test_sixteen_unordered_adds_on_one_volume_are_caught_at_once():
    cluster = _wide_cluster(20, 3)
    scenario = Scenario(cluster, resolve_failures(cluster, []))
    steps = tuple(Step(i + 1, "add-volume-replica", {"volume": "v", "node": f"n{i + 3}", "source": "n0"}, ())
                  for i in range(16))
    verdict = check_execution(scenario, steps)
    assert not verdict.safe and "Portworx keeps at most 3" in _messages(verdict)


def test_sixteen_unordered_broker_moves_end_undecided_in_bounded_time():
    """Sixteen out-of-sync brokers of one partition move in no order while it is also
    reassigned: 3^17 configurations, none unsafe, but no bound settles it; beyond the
    per-resource budget the answer is undecided (exit 1), never a guess, and it comes in
    bounded time."""
    import time

    cluster = _wide_cluster(40, 3)
    scenario = Scenario(cluster, resolve_failures(cluster, []))
    steps = [Step(i + 1, "move-broker", {"broker": i, "from": f"n{i}", "to": f"n{i + 20}"}, ()) for i in range(16)]
    steps.append(Step(17, "reassign-partitions", {"partitions": [{"topic": "t", "partition": 0,
                                                                  "replicas": list(range(18))}]}, ()))
    started = time.perf_counter()
    verdict = check_execution(scenario, tuple(steps))
    assert time.perf_counter() - started < 60
    assert not verdict.safe and verdict.undecided and "partition t-0" in verdict.undecided[0]
    assert "undecided" in verdict.to_document() and not verdict.to_document()["safe"]


def test_a_long_chain_of_steps_is_decided():
    """A hand-written plan that runs 3,000 steps one after another (a replica moved back and
    forth): quadratically many ancestor pairs, so the order is kept as bitsets, and the plan is
    still proven, in one chain per replica."""
    from placement.execute import order

    cluster = _wide_cluster(20, 3)
    scenario = Scenario(cluster, resolve_failures(cluster, []))
    steps, sid = [], 0
    for _ in range(750):
        for node_from, node_to in (("n1", "n5"), ("n5", "n1")):
            sid += 1
            steps.append(Step(sid, "drop-volume-replica", {"volume": "v", "node": node_from}, (sid - 1,) if sid > 1 else ()))
            sid += 1
            steps.append(Step(sid, "add-volume-replica", {"volume": "v", "node": node_to, "source": "n0"}, (sid - 1,)))
    assert StepOrder({s.id: s for s in steps}).representation == "bitsets"
    assert len(steps) ** 2 // 2 > order.SET_BUDGET
    verdict = check_execution(scenario, tuple(steps))
    assert verdict.safe, _messages(verdict)


def test_a_resync_waits_for_room_on_a_full_node():
    from placement.execute.steps import build_steps

    cluster = parse_cluster({
        "name": "swap",
        "policy": {"volumeReplicationFactor": 2, "zoneSpread": False, "brokerPlacement": "preferred"},
        "nodes": [{"name": f"n{i}", "storageGiB": 100} for i in range(1, 6)],
        "volumes": [{"name": "v", "sizeGiB": 100, "replicas": ["n1", "n2"]},
                    {"name": "w", "sizeGiB": 100, "replicas": ["n3", "n4"]}],
    }, "swap")
    scenario = Scenario(cluster, resolve_failures(cluster, []))
    current = Placement.current(cluster)
    target = Placement(current.brokers, {"v": ("n3", "n2"), "w": ("n5", "n4")}, current.partitions)
    steps = build_steps(scenario, target)
    verdict = check_execution(scenario, steps, target)
    assert verdict.safe, _messages(verdict)
    add_v = next(s for s in steps if s.action == "add-volume-replica" and s.args["volume"] == "v")
    drop_w = next(s for s in steps if s.action == "drop-volume-replica" and s.args["node"] == "n3")
    assert drop_w.id in add_v.after
    without = tuple(replace(s, after=tuple(a for a in s.after if a != drop_w.id)) if s.id == add_v.id else s for s in steps)
    caught = check_execution(scenario, without, target)
    assert "n3 would hold 200 GiB" in _messages(caught)

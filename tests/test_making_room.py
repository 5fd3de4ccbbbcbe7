"""The making-room greedy (placement/resilience/making_room.py) against brute force on small packed
clusters: every target it returns passes the plain checks, it finds one on most failures that only
making room survives, it finds none where brute force proves no valid target exists, trimming keeps
a valid target and moves no more healthy items, and the sweep with it keeps the verdicts, counts and
smallest counterexample of judging every set."""
from __future__ import annotations

import pytest

from placement.models.loading import parse_cluster
from placement.resilience.making_room import composable, healthy_changes, make_room, trim
from placement.resilience.composition import footprint
from placement.resilience.sweep import _local, baseline_valid, check_resilience
from placement.rules import check_all
from placement.solve.greedy import greedy_placement
from placement.solve.leaders import elect_leaders
from tests.smallworld import brute_force_whole, only_room_helps, room_cluster, room_scenario
from tests.test_monotone import world


def _attempt(scenario):
    local = _local(scenario)
    start = elect_leaders(local, greedy_placement(local, spread=True), even_out=False)
    return local, start


ROOMY = [s for s in range(300) if only_room_helps(room_scenario(s))]


def test_the_greedy_makes_room_where_only_making_room_helps():
    """On failures that brute force shows survive only by moving healthy items: each target the
    greedy returns passes the plain checks and moves healthy items; it finds half of them at least."""
    assert len(ROOMY) >= 10
    found = valid = 0
    for seed in ROOMY:
        scenario = room_scenario(seed)
        if not baseline_valid(scenario.cluster):
            continue
        valid += 1
        local, start = _attempt(scenario)
        made = make_room(local, start)
        if made is None:
            continue
        found += 1
        assert not check_all(local, made), seed
        assert healthy_changes(local, made) != ([], []), seed  # only room helps: something healthy moved
        trimmed = trim(local, made)
        assert not check_all(local, trimmed), seed
        assert all(len(a) <= len(b) for a, b in zip(healthy_changes(local, trimmed), healthy_changes(local, made)))
        assert not composable(local, footprint(local, trimmed))
    assert valid >= 8 and 2 * found >= valid, (found, valid)


@pytest.mark.parametrize("seed", range(0, 300, 3))
def test_no_certificate_where_no_valid_target_exists(seed):
    """Where brute force over the whole space finds no target meeting every invariant, the greedy
    returns none (and wherever it returns one, it passes the plain checks)."""
    scenario = room_scenario(seed)
    if scenario.lost_volumes or not baseline_valid(scenario.cluster):
        return
    local, start = _attempt(scenario)
    made = make_room(local, start)
    if brute_force_whole(scenario)[0] > 0:
        assert made is None
    elif made is not None:
        assert not check_all(local, made)


def test_trim_puts_back_a_healthy_move_that_is_not_needed():
    """A valid target with one extra healthy replica moved somewhere it fits: trim puts it back,
    and the recovery composes again."""
    for seed in range(300):
        doc = room_cluster(seed)
        cluster = parse_cluster(doc, doc["name"])
        scenario = room_scenario(seed)
        if scenario.lost_volumes or not baseline_valid(cluster):
            continue
        local, start = _attempt(scenario)
        if check_all(local, start):
            continue  # the plain greedy is not valid here: not this test's case
        for v in cluster.volumes:
            if v.name in local.touched_volumes:
                continue
            for away in v.replicas:
                for to in sorted(cluster.node):
                    moved = tuple(to if n == away else n for n in v.replicas)
                    if to in v.replicas or not local.may_hold_replica(v, to):
                        continue
                    target = type(start)(start.brokers, {**start.volumes, v.name: moved}, start.partitions)
                    if check_all(local, target):
                        continue
                    trimmed = trim(local, target)
                    assert trimmed.volumes[v.name] == v.replicas
                    assert composable(local, footprint(local, trimmed))
                    return
    pytest.fail("no cluster with a healthy move to undo")


SWEEPS = [s for s in range(2, 180, 3) if baseline_valid(world(s))][:20]  # the packed ones


@pytest.mark.slow
@pytest.mark.parametrize("seed", SWEEPS)
def test_the_sweep_with_the_greedy_agrees_with_judging_every_set(seed):
    cluster = world(seed)
    every = check_resilience(cluster, 3, prune=False, symmetry=False, compose_recoveries=False, making_room=False)
    fast = check_resilience(cluster, 3, audit=True)
    assert every.undecided == 0 and every.made_room == 0
    assert (fast.tolerates, fast.scenarios, fast.failing, fast.undecided) == \
        (every.tolerates, every.scenarios, every.failing, every.undecided)
    assert (fast.counterexample.failed if fast.counterexample else None) == \
        (every.counterexample.failed if every.counterexample else None)


def test_the_greedy_saves_solver_calls():
    """On the packed clusters the greedy certifies some sets, and the sweep asks the solver less;
    the verdicts stay those of the sweep without it."""
    made = with_calls = without_calls = 0
    for seed in SWEEPS[:10]:
        cluster = world(seed)
        on = check_resilience(cluster, 2, audit=True)
        off = check_resilience(cluster, 2, audit=True, making_room=False)
        assert (on.tolerates, on.failing, on.undecided) == (off.tolerates, off.failing, off.undecided)
        made += on.made_room
        with_calls += on.solved
        without_calls += off.solved
    assert made > 0 and with_calls < without_calls

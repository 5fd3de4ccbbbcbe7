"""The sweep's monotonicity theorem (``placement.resilience.monotone``) by brute force: on small
random clusters under every policy the theorem names (zone spread on and off, racks required,
brokers hyperconverged or not, min.insync.replicas that pin brokers in place), every failure set
with no recovery and every superset meeting the condition has none either (``recovery_exists``
judged on each, a refutation over the unrestricted problem: a proof); and the sweep, which
settles such supersets without the solver, reaches the verdicts, counts and counterexample of
judging every set."""
from __future__ import annotations

import random
from itertools import combinations

import pytest

from placement.models.failures import Failures
from placement.models.loading import parse_cluster
from placement.resilience.monotone import Monotonicity
from placement.resilience.sweep import baseline_valid, check_resilience
from placement.scenario import Scenario
from placement.solve.feasibility import recovery_exists
from tests.smallworld import random_cluster, room_cluster


def world(seed: int):
    """A small random cluster (tight storage, or a packed one where only making room helps), its
    policy and topics drawn again so that every condition of the theorem is exercised."""
    rng = random.Random(seed * 104729 + 3)
    doc = room_cluster(seed) if seed % 3 == 2 else random_cluster(seed, max_nodes=6, kafka_heavy=seed % 3 == 1)
    doc["policy"]["rackAware"] = rng.choice(["required", "required", "preferred", "off"])
    doc["policy"]["brokerPlacement"] = rng.choice(["required", "required", "preferred"])
    doc["policy"]["zoneSpread"] = rng.random() < 0.7
    if seed % 3 == 1:
        doc["policy"]["brokersPerNode"] = 2
    for topic in doc["topics"]:
        rf = len(topic["partitions"][0]["replicas"]) if topic["partitions"] else 1
        topic["minInsyncReplicas"] = rng.randint(1, rf)
    return parse_cluster(doc, f"world-{seed}")


def verdicts(cluster, k: int) -> dict[tuple[str, ...], bool | str]:
    """Every set of up to k nodes: "lost" (data loss), else whether a recovery exists (proven)."""
    names = [n.name for n in cluster.nodes]
    out: dict[tuple[str, ...], bool | str] = {}
    for size in range(1, k + 1):
        for s in combinations(names, size):
            scenario = Scenario(cluster, Failures(frozenset(s)))
            if scenario.lost_volumes:
                out[s] = "lost"
                continue
            found = recovery_exists(scenario, time_limit=20)
            assert found.exists is not None and (found.exists or found.decided == "everything")
            out[s] = found.exists
    return out


def theorem_cases(seeds) -> dict[str, int]:
    """Check the theorem on every (set with no recovery, superset) pair of these clusters."""
    seen = {"refuted": 0, "carried": 0, "survive": 0}
    for seed in seeds:
        cluster = world(seed)
        if not baseline_valid(cluster):
            continue
        truth = verdicts(cluster, min(4, len(cluster.nodes)))
        mono = Monotonicity(cluster)
        for s, ok in truth.items():
            if ok is not False:
                continue
            seen["refuted"] += 1
            for t, later in truth.items():
                if len(t) <= len(s) or not set(s) <= set(t):
                    continue
                extra = frozenset(t) - set(s)
                if later is True:
                    seen["survive"] += 1  # not monotone: the condition must exclude it
                if mono.carries(frozenset(s), extra):
                    seen["carried"] += 1
                    assert later is not True, f"world({seed}): {s} has no recovery but {t} has one"
    return seen


CHUNKS = [range(i, i + 40) for i in range(0, 400, 40)]


@pytest.mark.parametrize("seeds", CHUNKS[:2], ids=lambda r: f"{r.start}-{r.stop - 1}")
def test_no_recovery_carries_to_supersets_meeting_the_condition(seeds):
    seen = theorem_cases(seeds)
    assert seen["refuted"] >= 20 and seen["carried"] >= 20


@pytest.mark.slow  # the rest of the brute force: run by make test
@pytest.mark.parametrize("seeds", CHUNKS[2:], ids=lambda r: f"{r.start}-{r.stop - 1}")
def test_no_recovery_carries_to_supersets_meeting_the_condition_more(seeds):
    seen = theorem_cases(seeds)
    assert seen["refuted"] >= 20 and seen["carried"] >= 20


def test_the_zone_condition_is_needed():
    """A witness that failing more can help: node-1 failing alone leaves a volume short of a zone
    it needs, and with node-3 failing too that zone is gone, so the volume needs one zone fewer and
    a recovery exists. The condition refuses to carry the refutation there."""
    cluster = world(63)
    one, two = ("node-1",), ("node-1", "node-3")
    assert recovery_exists(Scenario(cluster, Failures(frozenset(one))), time_limit=20).exists is False
    assert recovery_exists(Scenario(cluster, Failures(frozenset(two))), time_limit=20).exists is True
    assert not Monotonicity(cluster).carries(frozenset(one), frozenset({"node-3"}))


SWEEPS = [s for s in range(120) if baseline_valid(world(s))][:45]


@pytest.mark.parametrize("seed", SWEEPS)
def test_the_sweep_settles_supersets_and_agrees_with_judging_every_set(seed):
    """The sweep with settling (and composition, pruning, symmetry) against judging every set with
    the solver: the same verdict, counts and smallest counterexample."""
    cluster = world(seed)
    every = check_resilience(cluster, 3, prune=False, symmetry=False, compose_recoveries=False)
    fast = check_resilience(cluster, 3, audit=True)
    assert every.settled == 0 and every.undecided == 0
    assert (fast.tolerates, fast.scenarios, fast.failing, fast.undecided) == \
        (every.tolerates, every.scenarios, every.failing, every.undecided)
    assert (fast.counterexample.failed if fast.counterexample else None) == \
        (every.counterexample.failed if every.counterexample else None)
    assert fast.solved + fast.bounded + fast.symmetric + fast.pruned == fast.scenarios


def test_settling_saves_solver_calls():
    settled = solved_with = solved_without = 0
    for seed in SWEEPS:
        cluster = world(seed)
        on = check_resilience(cluster, 3)
        off = check_resilience(cluster, 3, prune=False)
        settled += on.settled
        solved_with += on.solved
        solved_without += off.solved
    assert settled >= 20 and solved_with < solved_without

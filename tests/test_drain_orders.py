"""Drains (and drains with a failure): the planner's steps against every order of every target.

QA found the seed's --drain node-2,node-4 and --drain node-1 --fail node-2 degraded ("the steps
cannot be made safe") although safe orders of the very same targets exist. Here, on the seed and
on small random clusters, the brute force takes the actions a target implies (fences, cordons,
drops, resyncs, adds from any in-sync source, broker moves, the Kafka steps) and searches every
sequential order of them under the plain execution semantics (``placement.execute.exhaustive``,
the ground truth the model checker is tested against). It asserts:

- a plan the planner calls safe is safe under the plain semantics too (small plans);
- when the planner says its target's steps cannot be made safe, no order of that target's
  actions is safe, and no valid target at all (every replica set and broker node the plain
  checks pass, partitions where they are) has a safe order.
"""
from __future__ import annotations

from itertools import combinations, product

import pytest

from placement.execute.exhaustive import ATOMIC, INSYNC, _Semantics, explore_everything
from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import Placement, Step
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve.planner import PlanOptions, plan_recovery
from tests.smallworld import operation_scenario, unreachable_safely

EXPLORE_LIMIT = 20_000  # states of explore_everything for the plan's own steps
TARGET_LIMIT = 400  # valid targets searched for a safe order when the planner finds none


def target_actions(scenario: Scenario, target: Placement) -> list[Step]:
    """What a target implies, in no order: written from the semantics, not from the step builder."""
    cluster = scenario.cluster
    actions: list[tuple[str, dict]] = [("fence-node", {"node": n}) for n in sorted(scenario.failures.nodes)]
    actions += [("cordon-node", {"node": n}) for n in sorted(scenario.failures.drained)]
    for v in cluster.volumes:
        if v.name not in target.volumes:
            continue
        wanted = set(target.volumes[v.name])
        stale = scenario.stale_replicas(v.name)
        for n in v.replicas:
            if scenario.is_failed(n) or n not in wanted:
                actions.append(("drop-volume-replica", {"volume": v.name, "node": n}))
            elif n in stale:
                actions.append(("resync-volume-replica", {"volume": v.name, "node": n}))
        for n in sorted(wanted - set(v.replicas)):
            actions.append(("add-volume-replica", {"volume": v.name, "node": n, "source": ""}))
    for b in cluster.brokers:
        to = target.brokers.get(b.id)
        if to is not None and to != b.node:
            actions.append(("move-broker", {"broker": b.id, "from": b.node, "to": to}))
    moved = [{"topic": p.topic, "partition": p.id, "replicas": list(target.partitions[p.key].replicas)}
             for p in cluster.partitions if tuple(target.partitions[p.key].replicas) != p.replicas]
    if moved:
        actions.append(("reassign-partitions", {"partitions": moved}))
    elected = [{"topic": p.topic, "partition": p.id, "leader": target.partitions[p.key].leader}
               for p in cluster.partitions if target.partitions[p.key].leader not in (None, p.leader)]
    if elected:
        actions.append(("elect-leaders", {"partitions": elected}))
    return [Step(i, action, args) for i, (action, args) in enumerate(actions, start=1)]


def any_safe_order(scenario: Scenario, target: Placement) -> bool:
    """Some sequence of the target's actions (each started and finished before the next, an add
    copying from any replica in sync when it starts) keeps every state safe."""
    steps = {s.id: s for s in target_actions(scenario, target)}
    sem = _Semantics(scenario, steps)
    everything = frozenset(steps)
    seen = {frozenset()}
    frontier = [(frozenset(), sem.start())]
    if sem.unsafe(frontier[0][1], frozenset(), frozenset()):
        return False
    while frontier:
        done, world = frontier.pop()
        if done == everything:
            return True
        for sid in sorted(everything - done):
            base = steps[sid]
            variants = [base]
            if base.action == "add-volume-replica":
                sources = sorted(n for (v, n), st in world.replicas if v == base.args["volume"] and st == INSYNC)
                variants = [Step(sid, base.action, {**base.args, "source": n}) for n in sources]
            for step in variants:
                steps[sid] = step
                begun, why = sem.begin(world, sid)
                if begun is None:
                    continue
                running = done | {sid}
                atomic = step.action in ATOMIC
                if sem.unsafe(begun, running, running if atomic else done):
                    continue
                ended = begun if atomic else sem.end(begun, sid)
                if not atomic and sem.unsafe(ended, running, running):
                    continue
                if running not in seen:
                    seen.add(running)
                    frontier.append((running, ended))
                break  # the state after it is the same whatever the source
            steps[sid] = base
    return False


def valid_targets(scenario: Scenario):
    """Every target the plain checks pass with every broker running and partitions where they are."""
    cluster = scenario.cluster
    current = Placement.current(cluster)
    volumes = [v for v in cluster.volumes if scenario.has_data(v.name)]
    sets = [list(combinations([n.name for n in cluster.nodes if scenario.may_hold_replica(v, n.name)],
                              v.replication_factor)) for v in volumes]
    hosts = [[n.name for n in cluster.nodes if scenario.may_host_broker(b, n.name)] for b in cluster.brokers]
    for chosen in product(*sets):
        placed = {v.name: c for v, c in zip(volumes, chosen)}
        for where in product(*hosts):
            target = Placement(brokers={b.id: n for b, n in zip(cluster.brokers, where)}, volumes=placed,
                               partitions=current.partitions)
            if not check_all(scenario, target):
                yield target


def judge(scenario: Scenario) -> str:
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=30))
    if plan.status.meets_invariants:
        assert plan.metrics["execution"]["safe"]
        plain = explore_everything(scenario, plan.steps, limit=EXPLORE_LIMIT)
        assert plain.safe or plain.undecided, [c.message for c in plain.counterexamples]
        return "safe"
    if not unreachable_safely(plan):
        return "short"  # no valid target: judged by the differential tests of the targets
    assert not any_safe_order(scenario, plan.placement), "the planner's target has a safe order it missed"
    targets = list(valid_targets(scenario))
    if len(targets) > TARGET_LIMIT:
        return "unsafe, too many targets to search"
    for target in targets:
        assert not any_safe_order(scenario, target), f"a safe target exists: {target}"
    return "unsafe"


SEED = "examples/seed.yaml"


def _seed_scenario(drain, fail=(), min_replicas=None) -> Scenario:
    from placement import load_cluster

    cluster = load_cluster(SEED)
    return Scenario(cluster, resolve_failures(cluster, list(fail), drain=list(drain), min_replicas=min_replicas))


SEED_NODES = [f"node-{i}" for i in range(1, 6)]
SEED_CASES = ([((n,), ()) for n in SEED_NODES] + [(pair, ()) for pair in combinations(SEED_NODES, 2)]
              + [((d,), (f,)) for d in SEED_NODES for f in SEED_NODES if d != f])


@pytest.mark.parametrize("drain,fail", SEED_CASES)
def test_seed_drains_are_safe_whenever_some_order_is(drain, fail):
    judge(_seed_scenario(drain, fail))


def test_qa_drains_plan_safely():
    """QA's two cases: each has a safe order of a cheapest target (their hand plans verify)."""
    for drain, fail, copied in ((("node-2", "node-4"), (), 110), (("node-1",), ("node-2",), 145)):
        scenario = _seed_scenario(drain, fail)
        plan = plan_recovery(scenario.cluster, scenario.failures)
        assert plan.status.value == "optimal" and plan.metrics["execution"]["safe"]
        assert plan.metrics["copiedGiB"] == copied


def test_min_replicas_3_drain_has_no_safe_order_and_keeps_every_wait():
    """At RF 3 with --min-replicas 3 no replica can be exchanged (dropping first leaves 2 in sync,
    adding first exceeds Portworx's 3): degraded, with every valid target searched; and the drop
    under broker 0 still waits for its move (it lost that wait before)."""
    scenario = _seed_scenario(("node-1",), min_replicas=3)
    assert judge(scenario) == "unsafe"
    plan = plan_recovery(scenario.cluster, scenario.failures)
    steps = {s.id: s for s in plan.steps}
    move = next(s.id for s in plan.steps if s.action == "move-broker" and s.args["broker"] == 0)
    drop = next(s for s in plan.steps if s.action == "drop-volume-replica" and s.args == {"volume": "pvc-kafka-0", "node": "node-1"})

    def ancestors(sid):
        out, stack = set(), [sid]
        while stack:
            for a in steps[stack.pop()].after:
                if a not in out:
                    out.add(a)
                    stack.append(a)
        return out

    assert move in ancestors(drop.id)


RANDOM_SEEDS = range(80)


@pytest.mark.parametrize("seed", RANDOM_SEEDS)
def test_random_drains_are_safe_whenever_some_order_is(seed):
    judge(operation_scenario(seed, "drain"))

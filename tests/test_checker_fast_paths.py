"""The execution model checker's passes over every volume and partition (``_partitions`` and
``_reaches_target``, which skip what no step touches): the same verdict as the walks they
replaced, kept here verbatim, on random plans whose targets and steps are damaged."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from placement.execute import checker
from placement.execute.checker import INSYNC, PRESENT, STATUS_WORDS, _Local, check_execution
from placement.execute.steps import build_steps
from placement.solve.planner import plan_recovery
from tests.smallworld import operation_scenario, random_scenario
from tests.test_rules import _mutate


def _old_partitions(self) -> None:
    cluster = self.cluster
    for p in cluster.partitions:
        key = p.key
        reassigns = self.reassigns.get(key, ())
        brokers = set(p.replicas)
        for _, target in reassigns:
            brokers.update(target)
        moving = [b for b in brokers if b in self.moves]
        if not moving and not reassigns:
            continue
        if key in self.bad_partitions or any(b in self.bad_brokers for b in moving):
            continue
        base = sum(1 for b in p.isr if self.running_at_start[b])
        floor = min(cluster.min_insync(p), base)
        at_risk = sum(1 for b in set(p.isr) if self.running_at_start[b] and (b in self.moves or reassigns))
        if base - at_risk >= floor:
            self._bounded()  # even if every in-sync replica that may stop stops at once, enough remain
            continue
        members = self.order.in_order(set().union(*(self.moves[b] for b in moving)) | {s for s, _ in reassigns})
        local = _Local(members, self.order, self.steps)

        def judge(started, finished, key=key, local=local, floor=floor, p=p, base=base):
            _, isr = self._partition_world(key, local, started, finished)
            count = sum(1 for b in isr if self._runs(b, local, started, finished))
            if count < floor:
                return (f"partition {p.label} would have {count} in-sync replicas running, fewer than "
                        f"{floor} (min.insync.replicas {cluster.min_insync(p)}, {base} at the start)")
            return None

        stoppable = sum(local.bit(m[0]) for b in set(p.isr) if self.running_at_start[b] and (m := self.moves.get(b)))
        self._explore(f"partition {p.label}", local, judge, probe=stoppable)


def _old_reaches_target(self) -> None:
    target = self.target
    everything = tuple(f"finish {sid}" for sid in self.order.topo)
    misses: list[str] = []
    for volume, nodes in sorted(target.volumes.items()):
        v = self.cluster.volume[volume]
        holders = {}
        for node in set(v.replicas) | {self.steps[s].args["node"] for s in self.volume_steps.get(volume, ())}:
            chain = self.chains.get((volume, node))
            if chain is not None and not chain.valid:
                holders = None
                break
            status = chain.final if chain else self.status_at_start(volume, node)
            if status in PRESENT:
                holders[node] = status
        if holders is None:
            continue
        if set(holders) != set(nodes):
            misses.append(f"volume {volume} ends on {sorted(holders)}, the target says {sorted(nodes)}")
        else:
            behind = sorted(n for n, s in holders.items() if s != INSYNC)
            if behind:
                misses.append(f"volume {volume} ends with replicas on {behind} not in sync "
                              f"({', '.join(STATUS_WORDS[holders[n]] for n in behind)})")
    for broker, node in sorted(target.brokers.items()):
        if node is None or broker in self.bad_brokers:
            continue
        where = self.broker_locations.get(broker, [self.cluster.broker[broker].node])[-1]
        if where != node:
            misses.append(f"broker {broker} ends on {where}, the target says {node}")
    partition, bad, reassigns_of, elects_of = self.cluster.partition, self.bad_partitions, self.reassigns.get, self.elects.get
    for key, t in sorted(target.partitions.items()):  # 150,000 at 5,000 nodes: locals, lists made only to differ
        if key in bad or not t.replicas:
            continue  # nothing can be reassigned to an empty list: the partition stays where it was
        p = partition[key]
        reassigns = reassigns_of(key)
        ends = reassigns[-1][1] if reassigns else p.replicas
        if ends != t.replicas and list(ends) != list(t.replicas):  # equal sequences of any kind are equal lists
            misses.append(f"partition {p.label} ends on brokers {list(ends)}, the target says {list(t.replicas)}")
            continue
        elects = elects_of(key)
        leader = elects[-1][1] if elects else p.leader
        if t.leader is not None and leader != t.leader:
            misses.append(f"partition {p.label} ends led by {leader}, the target says {t.leader}")
    for miss in misses[:20]:
        self.record(everything, miss)


def _verdicts(scenario, steps, target, monkeypatch):
    new = check_execution(scenario, steps, target)
    with monkeypatch.context() as old:
        old.setattr(checker._Checker, "_partitions", _old_partitions)
        old.setattr(checker._Checker, "_reaches_target", _old_reaches_target)
        before = check_execution(scenario, steps, target)
    return new, before


def _scenarios():
    for seed in range(25):
        yield random_scenario(seed, kafka_heavy=True)
    for seed in range(8):
        for kind in ("drain", "rebalance", "return", "imperfect"):
            yield operation_scenario(seed, kind)


@pytest.mark.parametrize("index", range(25 + 8 * 4))
def test_the_model_check_judges_damaged_plans_as_the_full_walks_did(index, monkeypatch):
    scenario = list(_scenarios())[index]
    plan = plan_recovery(scenario.cluster, scenario.failures)
    target = plan.placement
    steps = build_steps(scenario, target)
    rng = random.Random(index)
    cases = [(steps, target)]
    for _ in range(4):
        target = _mutate(rng, scenario, target)  # a target the steps do not reach
        cases.append((steps, target))
    for k in range(min(3, len(steps))):  # a step left out (and from what waits for it)
        gone = steps[k].id
        cases.append((tuple(replace(s, after=tuple(a for a in s.after if a != gone)) for s in steps if s.id != gone),
                      plan.placement))
    seen_unsafe = False
    for case_steps, case_target in cases:
        new, before = _verdicts(scenario, case_steps, case_target, monkeypatch)
        assert new == before
        seen_unsafe = seen_unsafe or not new.safe
    assert seen_unsafe or len(cases) == 1 or plan.placement == target

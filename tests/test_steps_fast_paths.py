"""The steps' builder skips volumes the target keeps as they are (every replica in sync on a
node that runs, the same nodes): the same steps as the lay-out that visited every volume, kept
here verbatim, on random failures, planned operations and imperfect starts, and on targets
damaged at random (so that volumes, brokers and partitions change in unplanned ways)."""
from __future__ import annotations

import random

import pytest

from placement.execute import steps as steps_module
from placement.execute.steps import _VolumeWork, build_steps
from placement.solve.planner import plan_recovery
from tests.smallworld import operation_scenario, random_scenario
from tests.test_rules import _mutate


def _old_lay_out(self) -> None:
    cluster, target = self.cluster, self.target
    work: dict[str, _VolumeWork] = {}
    for v in sorted(cluster.volumes, key=lambda v: (-v.used_mib, v.name)):
        if v.name in target.volumes:
            work[v.name] = self.volume_work(v, tuple(target.volumes[v.name]))
            self.wake(("volume", v.name))
    moving = [b for b in cluster.brokers if self.destination(b.id) is not None]
    for b in moving:
        self.wake(("broker", b.id))
    while True:
        while self.queue:
            kind, key = item = self.queue.popleft()
            self.queued.discard(item)
            if kind == "volume":
                self.advance(work[key])
            elif key not in self.moved:
                self.try_move(cluster.broker[key])
        unfinished = [w for w in work.values() if w.new or w.surplus]
        if not unfinished and all(b.id in self.moved for b in moving):
            return
        if any(self.advance(w, drop_first=True) for w in unfinished):
            continue  # one surplus replica went first: see what that unblocked
        self.lay_out_regardless(unfinished, [b for b in moving if b.id not in self.moved])
        return


def _scenarios():
    for seed in range(25):
        yield random_scenario(seed, kafka_heavy=seed % 2 == 1, removal=seed % 5 == 0)
    for seed in range(8):
        for kind in ("drain", "rebalance", "return", "imperfect"):
            yield operation_scenario(seed, kind)


@pytest.mark.parametrize("index", range(25 + 8 * 4))
def test_the_steps_are_those_of_the_lay_out_that_visited_every_volume(index, monkeypatch):
    scenario = list(_scenarios())[index]
    target = plan_recovery(scenario.cluster, scenario.failures).placement
    rng = random.Random(index)
    targets = [target]
    for _ in range(4):
        targets.append(_mutate(rng, scenario, targets[-1]))
    for t in targets:
        new = build_steps(scenario, t)
        with monkeypatch.context() as old:
            old.setattr(steps_module._Builder, "lay_out", _old_lay_out)
            before = build_steps(scenario, t)
        assert new == before

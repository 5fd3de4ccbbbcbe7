"""Planned operations and imperfect starts (CONTRACT sections 5 and 7): drains, rebalances,
the node that comes back with stale replicas, and starts that already break invariants --
each against exhaustive brute force on small random clusters, and through the CLI."""
from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from placement import cli
from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import Status
from placement.rules import check_all
from placement.solve.metrics import copied_mib
from placement.solve.planner import PlanOptions, plan_recovery
from tests.smallworld import brute_force_whole, disturbed, operation_scenario, unreachable_safely, whole_search_size

SIZE_LIMIT = 2_000_000
KINDS = ("drain", "rebalance", "return", "imperfect")
PER_KIND = 150


def _cases():
    for kind in KINDS:
        for seed in range(PER_KIND):
            yield kind, seed


@pytest.mark.parametrize("kind,seed", list(_cases()))
def test_operation_matches_brute_force(kind, seed):
    """Status, copied data (stale GiB included) and healthy items disturbed are those of the
    brute force's optimum over the unrestricted problem; the target passes the plain checks
    exactly when the brute force meets every invariant; nothing raises (never exit 3)."""
    scenario = operation_scenario(seed, kind)
    if whole_search_size(scenario) > SIZE_LIMIT:
        pytest.skip("too large for the brute force")
    best = brute_force_whole(scenario)
    plan = plan_recovery(scenario.cluster, scenario.failures, PlanOptions(time_limit=30))
    shortfall, copied, moved = best
    lost = bool(scenario.lost_volumes) or any(scenario.partition_lost_data(p) for p in scenario.cluster.partitions)
    expected = Status.OPTIMAL if shortfall == 0 and not lost else Status.DEGRADED
    if unreachable_safely(plan):
        expected = Status.DEGRADED  # the target is judged below; no safe way to it is a negative verdict
    assert plan.status == expected, [str(v) for v in plan.violations]
    if shortfall == 0:
        assert copied_mib(scenario, plan.placement) == copied
        assert disturbed(scenario, plan.placement) == moved
        assert plan.metrics["copiedGiB"] == round(copied / 1024, 3)
    assert bool(check_all(scenario, plan.placement)) == (shortfall > 0 or lost)
    if scenario.failures.drained:
        assert not any(set(scenario.failures.drained) & set(nodes) for nodes in plan.placement.volumes.values())
        assert not set(scenario.failures.drained) & set(plan.placement.brokers.values())
    if scenario.failures.max_used_percent is not None:  # brokers stay under a rebalance
        assert all(plan.placement.brokers[b.id] == b.node for b in scenario.cluster.brokers
                   if b.id not in scenario.touched_brokers)


# -- the seed: node return, drain, rebalance -------------------------------------------------

def seed_doc() -> dict:
    with open("examples/seed.yaml") as f:
        return yaml.safe_load(f)


def waited_for_node_2() -> dict:
    """Portworx waited for node-2: it comes back with its replicas 6 and 4.5 GiB behind."""
    doc = seed_doc()
    doc["volumes"][0]["stale"] = {"node-2": 6}
    doc["volumes"][1]["stale"] = {"node-2": 4.5}
    doc["brokers"][1]["node"] = "node-4"  # the broker was rescheduled onto node-4 meanwhile
    return doc


def test_node_return_resyncs_stale_replicas_and_keeps_brokers():
    cluster = parse_cluster(waited_for_node_2(), "returned")
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert plan.placement.volumes["pvc-kafka-0"] == ("node-1", "node-2", "node-3")
    assert set(plan.placement.volumes["pvc-kafka-1"]) == {"node-2", "node-4", "node-3"}
    assert plan.placement.brokers == {0: "node-1", 1: "node-4", 2: "node-3"}
    assert plan.metrics["copiedGiB"] == 10.5  # the stale GiB, not the volumes' 40 + 35 usedGiB
    assert plan.metrics["resyncedVolumeReplicas"] == 2 and plan.metrics["newVolumeReplicas"] == 0
    assert [v.invariant for v in plan.preexisting] == ["I1", "I1"]  # two volumes short of in-sync replicas
    assert "stale on node-2 (6 GiB behind)" in plan.preexisting[0].message


def test_node_return_after_a_rebuild_drops_the_surplus_stale_replica():
    """Rebuilt at once on node-5: the returning node-2 holds a surplus stale replica, dropped at no copy."""
    doc = waited_for_node_2()
    doc["volumes"][0]["replicas"].append("node-5")
    cluster = parse_cluster(doc, "returned")
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert set(plan.placement.volumes["pvc-kafka-0"]) == {"node-1", "node-3", "node-5"}
    assert plan.metrics["copiedGiB"] == 4.5  # only pvc-kafka-1's resync
    assert plan.status is Status.OPTIMAL


def test_resyncing_a_stale_replica_only_where_it_copies_less():
    """A stale replica as far behind as a new one costs: which one is kept is then the balance's call,
    but never more copied than the cheaper of the two."""
    doc = waited_for_node_2()
    doc["volumes"][0]["stale"] = {"node-2": 40}  # as far behind as usedGiB: no cheaper than a new replica
    cluster = parse_cluster(doc, "returned")
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert plan.metrics["copiedGiB"] == 44.5


def test_drain_empties_the_node_and_moves_its_broker_with_its_data():
    cluster = parse_cluster(seed_doc(), "seed")
    plan = plan_recovery(cluster, resolve_failures(cluster, drain=["node-1"]))
    assert not any("node-1" in nodes for nodes in plan.placement.volumes.values())
    to = plan.placement.brokers[0]
    assert to != "node-1" and to in plan.placement.volumes["pvc-kafka-0"]
    assert all(tuple(t.replicas) == cluster.partition[k].replicas for k, t in plan.placement.partitions.items())
    doc = plan.to_document()
    assert doc["drained"] == ["node-1"] and doc["failed"] == [] and doc["preexisting"] == []


def test_rebalance_fills_the_new_nodes_with_the_least_data():
    doc = seed_doc()
    doc["volumes"][2]["replicas"] = ["node-3", "node-5", "node-4"]  # node-4 holds 200 GiB, node-3 300
    doc["nodes"].append({"name": "node-6", "zone": "zone-c", "storageGiB": 1000})
    cluster = parse_cluster(doc, "seed")
    plan = plan_recovery(cluster, resolve_failures(cluster, max_used_percent=25))
    used = {n.name: sum(cluster.volume[v].size_mib for v, nodes in plan.placement.volumes.items() if n.name in nodes)
            for n in cluster.nodes}
    assert max(used.values()) <= 250 * 1024
    assert plan.status is Status.OPTIMAL
    # node-3 sheds exactly one replica, the one with the least data that is not under its broker
    assert plan.metrics["copiedGiB"] == 35 and plan.metrics["droppedVolumeReplicas"] == 1
    assert plan.placement.brokers == {0: "node-1", 1: "node-2", 2: "node-3"}
    assert plan.to_document()["maxUsedPercent"] == 25


def test_rebalance_that_no_placement_meets_keeps_redundancy_and_says_why():
    """Every node within 25% is impossible (node-3 is zone-c's only node): the plan keeps every
    replica and lists the nodes over the limit, never trading redundancy for it."""
    cluster = parse_cluster(seed_doc(), "seed")
    plan = plan_recovery(cluster, resolve_failures(cluster, max_used_percent=25))
    assert plan.status is Status.DEGRADED
    assert [v.invariant for v in plan.violations] == ["I5"]
    assert "--max-used 25%" in plan.violations[0].message and "node-3" in plan.violations[0].message
    assert all(len(nodes) == 3 for nodes in plan.placement.volumes.values())


# -- imperfect starts -------------------------------------------------------------------------

IMPERFECT = {
    "node over its storage": lambda d: d["nodes"][2].update(storageGiB=250),
    "volume above its RF": lambda d: d["volumes"][0]["replicas"].append("node-4"),
    "four listed replicas": lambda d: d["volumes"][0].update(replicationFactor=2, replicas=["node-1", "node-2", "node-3", "node-5"]),
    "volume below its RF": lambda d: d["volumes"][1].update(replicas=["node-2", "node-4"]),
    "broker off its volume": lambda d: d["brokers"][0].update(node="node-5"),
    "partition on a failed broker": lambda d: d["nodes"][1].update(state="failed"),
    "no leader": lambda d: d["topics"][0]["partitions"][0].update(leader=-1),
    "no leader, empty ISR": lambda d: d["topics"][0]["partitions"][0].update(leader=-1, isr=[]),
    "leader outside the ISR": lambda d: d["topics"][0]["partitions"][0].update(leader=0, isr=[1]),
}


@pytest.mark.parametrize("name", sorted(IMPERFECT))
def test_imperfect_starts_plan_and_list_what_they_broke(name, tmp_path):
    doc = seed_doc()
    IMPERFECT[name](doc)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli.main, ["plan", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    document = json.loads(result.stdout)
    assert document["preexisting"], "the start broke something: preexisting says what"
    if result.exit_code == 0:
        assert document["status"] in ("optimal", "feasible") and document["violations"] == []
    plan_file = tmp_path / "p.json"
    plan_file.write_text(result.stdout)
    verdict = CliRunner().invoke(cli.main, ["verify", str(path), str(plan_file)])
    assert verdict.exit_code == result.exit_code, verdict.output


def test_a_leaderless_partition_gets_a_leader_where_one_can_lead():
    doc = seed_doc()
    doc["topics"][0]["partitions"][0].update(leader=-1)
    cluster = parse_cluster(doc, "t")
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert plan.placement.partitions[("orders", 0)].leader in (0, 1)
    assert any(v.subject == "partition orders-0" and "no leader" in v.message for v in plan.preexisting)
    assert plan.status is Status.OPTIMAL


def test_a_node_over_its_storage_sheds_the_least_data():
    doc = seed_doc()
    doc["nodes"][0]["storageGiB"] = 150  # node-1 holds pvc-kafka-0 (broker 0's) and pvc-kafka-2: 200 GiB
    cluster = parse_cluster(doc, "t")
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert plan.status is Status.OPTIMAL
    assert "node-1" not in plan.placement.volumes["pvc-kafka-2"]  # not the replica under broker 0
    assert plan.metrics["copiedGiB"] == 30
    assert [v.invariant for v in plan.preexisting] == ["I5"]


# -- the command line -------------------------------------------------------------------------

def test_plan_drain_and_rebalance_on_the_command_line(tmp_path):
    runner = CliRunner()
    drained = runner.invoke(cli.main, ["plan", "examples/seed.yaml", "--drain", "node-4", "--format", "json"])
    assert drained.exit_code == 0, drained.output
    assert json.loads(drained.stdout)["drained"] == ["node-4"]
    several = runner.invoke(cli.main, ["plan", "examples/seed.yaml", "--drain", "node-4", "node-5", "--format", "json"])
    assert json.loads(several.stdout)["drained"] == ["node-4", "node-5"]
    commas = runner.invoke(cli.main, ["plan", "examples/seed.yaml", "--drain", "node-4,node-5", "--format", "json"])
    assert json.loads(commas.stdout)["drained"] == ["node-4", "node-5"]
    table = runner.invoke(cli.main, ["plan", "examples/seed.yaml", "--drain", "node-4"])
    assert "Plan for seed: drain node-4" in table.stdout
    rebalance = runner.invoke(cli.main, ["plan", "examples/seed.yaml", "--rebalance", "--max-used", "40",
                                         "--min-replicas", "2", "--format", "json"])
    assert rebalance.exit_code == 0, rebalance.output
    doc = json.loads(rebalance.stdout)
    assert doc["maxUsedPercent"] == 40 and doc["minReplicas"] == 2


@pytest.mark.parametrize("args,fragment", [
    (["--rebalance"], "needs --max-used"),
    (["--max-used", "50"], "goes with --rebalance"),
    (["--min-replicas", "2"], "goes with --drain"),
    (["node-4"], "node names belong after --drain"),
    (["--drain", "node-9"], "'node-9' is not a node"),
    (["--drain", "node-2", "--fail", "node-2"], "also named as failed"),
    (["--rebalance", "--max-used", "0"], "--max-used"),
    (["--rebalance", "--max-used", "101"], "--max-used"),
    (["--drain", "node-4", "--min-replicas", "4"], "--min-replicas"),
])
def test_plan_refuses_bad_operations(args, fragment):
    result = CliRunner().invoke(cli.main, ["plan", "examples/seed.yaml", *args])
    assert result.exit_code == 2
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_verify_judges_drains_and_rebalances_by_what_the_plan_says(tmp_path):
    runner = CliRunner()
    drained = runner.invoke(cli.main, ["plan", "examples/seed.yaml", "--drain", "node-4", "--format", "json"])
    good = tmp_path / "drain.json"
    good.write_text(drained.stdout)
    assert runner.invoke(cli.main, ["verify", "examples/seed.yaml", str(good)]).exit_code == 0
    document = json.loads(drained.stdout)
    document["placement"]["volumes"]["pvc-kafka-1"] = ["node-2", "node-4", "node-3"]  # left on the drained node
    document["steps"] = []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    result = runner.invoke(cli.main, ["verify", "examples/seed.yaml", str(bad)])
    assert result.exit_code == 1 and "drained" in result.output
    # a rebalance plan whose target leaves a node over the limit
    current = runner.invoke(cli.main, ["plan", "examples/seed.yaml", "--format", "json"])
    document = json.loads(current.stdout)
    document["maxUsedPercent"] = 25
    over = tmp_path / "over.json"
    over.write_text(json.dumps(document))
    result = runner.invoke(cli.main, ["verify", "examples/seed.yaml", str(over)])
    assert result.exit_code == 1 and "--max-used 25%" in result.output


def test_library_calls():
    import placement

    cluster = placement.load_cluster("examples/seed.yaml")
    drain = placement.plan(cluster, drain=["node-4"])
    assert drain.drained == ("node-4",) and drain.status.meets_invariants
    rebalance = placement.plan(cluster, max_used=40, min_replicas=2)
    assert rebalance.max_used_percent == 40 and rebalance.min_replicas == 2
    assert placement.verify(cluster, drain.to_document()).ok
    with pytest.raises(placement.InputError, match="expected a list of node names"):
        placement.plan(cluster, drain="node-4")


def test_demo_act_4_tells_both_returns_from_the_planner():
    """Act 4: (a) Portworx waited (RF 2 meanwhile, a resync of what was written) against (b) rebuilt
    at once (75 GiB, RF 3 in about a minute): data copied and time at reduced redundancy, computed."""
    from placement.models.loading import load_cluster
    from placement.models.plan import apply_placement
    from placement.render.demo import AWAY_HOURS, FAILED_NODE, WRITES_GIB_PER_HOUR, node_returns

    cluster = load_cluster("examples/seed.yaml")
    options = PlanOptions(time_limit=30)
    failed = plan_recovery(cluster, resolve_failures(cluster, [FAILED_NODE]), options)
    recovered = apply_placement(cluster, failed.placement, failed.failed)
    returns = node_returns(cluster, failed, recovered, options)
    waited, rebuilt = returns.waited, returns.rebuilt
    written = AWAY_HOURS * WRITES_GIB_PER_HOUR
    assert waited.behind == {"pvc-kafka-0": written, "pvc-kafka-1": written}
    assert waited.copied_gib == waited.plan.metrics["copiedGiB"] == 2 * written  # the resync, not 40 + 35 GiB
    assert waited.plan.status is Status.OPTIMAL and rebuilt.plan.status is Status.OPTIMAL
    assert waited.reduced_seconds == AWAY_HOURS * 3600 + waited.plan.metrics["timeline"]["fullRedundancySeconds"]
    assert rebuilt.copied_gib == failed.metrics["copiedGiB"] == 75
    assert rebuilt.reduced_seconds == failed.metrics["timeline"]["fullRedundancySeconds"] < 120
    assert rebuilt.plan.metrics["copiedGiB"] == 0  # node-2 returns empty: nothing to resync
    owner = 1
    assert waited.plan.placement.brokers[owner] == rebuilt.plan.placement.brokers[owner] == failed.placement.brokers[owner]


def test_preexisting_describes_the_start_as_it_is():
    """check_start: the file's own failed nodes, stale replicas not counting, brokers on failed nodes
    not running (their partitions said so), over-full nodes, volumes above their RF."""
    from placement.rules import check_start

    doc = waited_for_node_2()
    doc["nodes"][4]["state"] = "failed"  # node-5: pvc-kafka-2's replica there is gone
    doc["brokers"][2]["node"] = "node-5"  # and broker 2 with it
    doc["nodes"][0]["storageGiB"] = 150  # node-1 holds 200 GiB
    cluster = parse_cluster(doc, "start")
    found = {(v.invariant, v.subject): v.message for v in check_start(cluster)}
    assert "which is failed" in found[("I1", "volume pvc-kafka-2")]
    assert "stale on node-2" in found[("I1", "volume pvc-kafka-0")]
    assert "which is failed" in found[("I3", "broker 2")]
    assert "does not run (its node node-5 is failed)" in found[("I6", "partition orders-1")]
    assert "more than its 150 GiB" in found[("I5", "node node-1")]
    invariants = [v.invariant for v in check_start(cluster)]
    assert invariants == sorted(invariants)  # in rule order


LONE_PARTITION = """
name: lone
nodes:
  - {name: node-1, zone: zone-a, storageGiB: 1000}
  - {name: node-2, zone: zone-b, storageGiB: 1000}
  - {name: node-3, zone: zone-c, storageGiB: 1000}
  - {name: node-4, zone: zone-a, storageGiB: 1000}
volumes:
  - {name: pvc-kafka-0, sizeGiB: 100, usedGiB: 40, replicas: [node-1, node-2, node-3]}
  - {name: pvc-kafka-1, sizeGiB: 100, usedGiB: 35, replicas: [node-2, node-4, node-3]}
brokers:
  - {id: 0, node: node-1, volumes: [pvc-kafka-0]}
  - {id: 1, node: node-2, volumes: [pvc-kafka-1]}
topics:
  - name: logs
    partitions:
      - {id: 0, replicas: [0], sizeGiB: 1}
"""


def test_a_drain_whose_steps_cannot_be_safe_is_a_negative_verdict(tmp_path):
    """Broker 0 must leave node-1, but logs-0 has its only in-sync replica there: while the broker
    restarts the partition is offline. The target is valid; no safe way to it: exit 1, said plainly."""
    path = tmp_path / "lone.yaml"
    path.write_text(LONE_PARTITION)
    result = CliRunner().invoke(cli.main, ["plan", str(path), "--drain", "node-1", "--format", "json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["status"] == "degraded" and document["metrics"]["execution"]["safe"] is False
    assert [v["invariant"] for v in document["violations"]] == ["I6"]
    assert "the steps cannot be made safe: partition logs-0" in document["violations"][0]["message"]
    table = CliRunner().invoke(cli.main, ["plan", str(path), "--drain", "node-1"])
    assert table.exit_code == 1 and "the steps cannot be made safe" in table.stdout


def test_a_drain_is_planned_only_to_targets_its_steps_can_reach():
    """Seed, drain node-1: broker 0 cannot go where pvc-kafka-0 would get a new replica (at
    Portworx's ceiling of 3 one must be dropped first, and not the one under the running broker),
    so the plan shuffles brokers onto nodes that already hold their data: as little copied as
    the cheapest target, one healthy broker restarted, and steps proven safe."""
    from placement.models.plan import Placement, PartitionTarget
    from placement.scenario import Scenario
    from placement.solve.reachable import reachable

    cluster = parse_cluster(seed_doc(), "seed")
    failures = resolve_failures(cluster, drain=["node-1"])
    scenario = Scenario(cluster, failures)
    cheapest_but_stuck = Placement(
        brokers={0: "node-4", 1: "node-2", 2: "node-3"},
        volumes={"pvc-kafka-0": ("node-2", "node-3", "node-4"), "pvc-kafka-1": ("node-2", "node-4", "node-3"),
                 "pvc-kafka-2": ("node-3", "node-5", "node-4")},
        partitions={p.key: PartitionTarget(p.topic, p.id, p.replicas, p.leader) for p in cluster.partitions})
    assert not check_all(scenario, cheapest_but_stuck) and not reachable(scenario, cheapest_but_stuck)
    plan = plan_recovery(cluster, failures)
    assert plan.status is Status.OPTIMAL and plan.metrics["execution"]["safe"]
    assert reachable(scenario, plan.placement)
    assert plan.metrics["copiedGiB"] == 70
    assert all(plan.placement.brokers[b] in plan.placement.volumes[f"pvc-kafka-{b}"] for b in range(3))

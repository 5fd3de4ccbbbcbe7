"""Leadership: new leaders come from the in-sync replicas; unclean elections only when asked, and said loudly."""
from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from placement import cli
from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.solve.planner import PlanOptions, plan_recovery

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


def seed_doc() -> dict:
    return yaml.safe_load(SEED.read_text())


def lonely_broker_1(doc: dict) -> dict:
    """Broker 1's volume lives only on node-2: when node-2 fails, broker 1 cannot run."""
    doc["volumes"][1]["replicationFactor"] = 1
    doc["volumes"][1]["replicas"] = ["node-2"]
    return doc


def test_leader_moves_to_a_running_in_sync_replica():
    doc = lonely_broker_1(seed_doc())
    doc["topics"][0]["partitions"][1].update(leader=1, isr=[1, 2])
    cluster = parse_cluster(doc, "t")
    plan = plan_recovery(cluster, resolve_failures(cluster, ["node-2"]))
    t = plan.placement.partitions[("orders", 1)]
    assert 1 not in t.replicas and t.leader == 2
    assert plan.metrics["uncleanElections"] == []


def test_no_in_sync_replica_means_no_leader_unless_unclean(tmp_path):
    doc = lonely_broker_1(seed_doc())
    doc["topics"][0]["partitions"][0].update(leader=1, isr=[1])  # broker 0 is out of sync
    cluster = parse_cluster(doc, "t")
    failures = resolve_failures(cluster, ["node-2"])
    clean = plan_recovery(cluster, failures)
    assert clean.status.value == "degraded"
    assert clean.placement.partitions[("orders", 0)].leader is None
    assert any("has no leader" in v.message and "--allow-unclean" in v.message for v in clean.violations)
    # nothing is copied into the offline partition: there is no source
    assert 1 not in clean.placement.partitions[("orders", 0)].replicas
    assert len(clean.placement.partitions[("orders", 0)].replicas) == 1

    unclean = plan_recovery(cluster, failures, PlanOptions(allow_unclean=True))
    t = unclean.placement.partitions[("orders", 0)]
    assert t.leader == 0 and unclean.metrics["uncleanElections"] == ["orders-0"]

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli.main, ["plan", str(path), "--fail", "node-2", "--allow-unclean"])
    assert "WARNING: unclean leader election for orders-0" in result.stdout
    result = CliRunner().invoke(cli.main, ["plan", str(path), "--fail", "node-2", "--allow-unclean", "--format", "json"])
    document = json.loads(result.stdout)
    assert document["allowUnclean"] is True
    plan_file = tmp_path / "p.json"
    plan_file.write_text(result.stdout)
    assert CliRunner().invoke(cli.main, ["verify", str(path), str(plan_file)]).exit_code == result.exit_code


def test_preferred_leader_restored_where_in_sync():
    doc = seed_doc()
    doc["topics"][0]["partitions"][2].update(replicas=[2, 0], leader=0, isr=[2, 0])
    cluster = parse_cluster(doc, "t")
    plan = plan_recovery(cluster, resolve_failures(cluster, [], remove_brokers=[0]))
    t = plan.placement.partitions[("orders", 2)]
    assert t.replicas[0] == 2 and t.leader == 2


def test_leader_outside_the_isr_loads_and_is_elected_anew():
    """Kafka can report a leader outside the ISR (a describe taken mid-election): the file loads,
    the leader is kept as given, and the plan elects an in-sync one."""
    doc = seed_doc()
    doc["topics"][0]["partitions"][0].update(leader=1, isr=[0])
    cluster = parse_cluster(doc, "t.yaml")
    assert cluster.partition[("orders", 0)].leader == 1
    plan = plan_recovery(cluster, resolve_failures(cluster))
    assert plan.placement.partitions[("orders", 0)].leader == 0


def test_leader_minus_one_is_no_leader():
    """"Leader: none" is -1 in the cluster file, as Kafka prints it, and no leader in the domain."""
    doc = seed_doc()
    doc["topics"][0]["partitions"][0].update(leader=-1)
    cluster = parse_cluster(doc, "t.yaml")
    assert cluster.partition[("orders", 0)].leader is None
    doc["topics"][0]["partitions"][0].update(leader=-2)
    try:
        parse_cluster(doc, "t.yaml")
    except Exception as exc:  # noqa: BLE001
        assert "-1 for no leader" in str(exc)
    else:
        raise AssertionError("a leader that is neither a replica nor -1 must be refused")


def test_min_isr_flags_and_never_worse():
    doc = lonely_broker_1(seed_doc())
    doc["topics"][0]["minInsyncReplicas"] = 2
    cluster = parse_cluster(doc, "t")
    plan = plan_recovery(cluster, resolve_failures(cluster, ["node-2"]))
    before, after = set(plan.metrics["underMinIsrBefore"]), set(plan.metrics["underMinIsrAfter"])
    assert before == {"orders-0", "orders-1"}  # broker 1 is gone, each kept one in-sync replica
    assert after <= before  # refilled on broker 2 or 0, never worse

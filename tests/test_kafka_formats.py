"""Kafka's own formats: what is written parses, and passes Kafka's rejection rules."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement import cli
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster
from placement.render import kafka_files
from placement.solve.planner import plan_recovery
from tests.smallworld import random_scenario

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


def kafka_rejects(doc: dict, brokers: set[int]) -> list[str]:
    """The checks kafka-reassign-partitions.sh makes before it executes a reassignment."""
    errors = []
    if doc.get("version") != 1:
        errors.append("version must be 1")
    seen = set()
    for entry in doc.get("partitions", []):
        if set(entry) - {"topic", "partition", "replicas", "log_dirs"}:
            errors.append(f"unknown fields {set(entry)}")
        key = (entry.get("topic"), entry.get("partition"))
        if key in seen:
            errors.append(f"duplicate topic partition {key}")
        seen.add(key)
        replicas = entry.get("replicas")
        if not isinstance(entry.get("topic"), str) or not isinstance(entry.get("partition"), int):
            errors.append("topic must be a string and partition an integer")
        if not replicas:
            errors.append(f"{key}: partition replica list cannot be empty")
            continue
        if len(set(replicas)) != len(replicas):
            errors.append(f"{key}: replica lists may not contain duplicate entries")
        if set(replicas) - brokers:
            errors.append(f"{key}: non-existent broker ids {set(replicas) - brokers}")
        if "log_dirs" in entry and len(entry["log_dirs"]) != len(replicas):
            errors.append(f"{key}: log_dirs and replicas differ in length")
    return errors


def test_seed_removal_files_round_trip(tmp_path):
    out = tmp_path / "move.json"
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--remove-broker", "2", "--format", "kafka", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    cluster = load_cluster(SEED)
    move = json.loads(out.read_text())
    back = json.loads((tmp_path / "move.rollback.json").read_text())
    election = json.loads((tmp_path / "move.election.json").read_text())
    brokers = set(cluster.broker)
    assert kafka_rejects(move, brokers - {2}) == [] and kafka_rejects(back, brokers) == []
    assert {(e["topic"], e["partition"]) for e in move["partitions"]} == {(e["topic"], e["partition"]) for e in back["partitions"]}
    for e in back["partitions"]:
        assert tuple(e["replicas"]) == cluster.partition[(e["topic"], e["partition"])].replicas
    assert all(2 not in e["replicas"] for e in move["partitions"])
    plan = plan_recovery(cluster, resolve_failures(cluster, [], remove_brokers=[2]))
    for e in election["partitions"]:  # a PREFERRED election elects replicas[0]: it must be the planned leader
        assert set(e) == {"topic", "partition"}
        t = plan.placement.partitions[(e["topic"], e["partition"])]
        assert t.replicas[0] == t.leader


def test_kafka_format_to_stdout_lists_only_changes():
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "--format", "kafka"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"version": 1, "partitions": []}  # the broker moved with its data


def test_table_shows_per_broker_kafka_figures():
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--remove-broker", "2"])
    assert "Kafka brokers" in result.stdout and "GiB in" in result.stdout


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 5000), data=st.data())
def test_after_any_removal_partitions_are_sound(seed, data):
    scenario = random_scenario(seed, kafka_heavy=True)
    cluster = scenario.cluster
    brokers = sorted(cluster.broker)  # some random clusters have no broker: then nothing to remove
    remove = data.draw(st.sets(st.sampled_from(brokers), max_size=len(brokers) - 1)) if brokers else set()
    failures = resolve_failures(cluster, scenario.failures.failed, remove_brokers=remove)
    plan = plan_recovery(cluster, failures)
    running = {b for b, n in plan.placement.brokers.items() if n is not None}
    assert not running & set(remove)
    for p in cluster.partitions:
        t = plan.placement.partitions[p.key]
        assert len(set(t.replicas)) == len(t.replicas)  # no duplicates
        if not set(t.replicas) <= running:  # a dead or removed broker only where none of them runs:
            assert tuple(t.replicas) == p.replicas and not set(t.replicas) & running  # it stays, offline
        assert t.replicas  # never reassigned to no broker (issue 9)
        assert t.leader is None or t.leader in t.replicas
        if len(running) >= len(p.replicas) and running & set(scenario.sources(p)) - set(remove):
            assert len(t.replicas) == len(p.replicas)  # RF kept whenever it can be
    assert kafka_rejects(kafka_files.reassignment(cluster, plan), set(cluster.broker)) == []

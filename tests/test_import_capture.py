"""placement capture with stand-in kubectl executables that replay captured outputs and record their
arguments; and the import command, capture directories in plan/verify/check, and the generated captures."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from placement.models.generate import generate_cluster
from placement.models.errors import InputError
from placement.imports import import_cluster
from placement.imports.capture import capture
from tests.importing import ROOT, samples_dir

sys.path.insert(0, str(ROOT / "bench"))
from capture import write_capture  # noqa: E402  bench/capture.py, the generator of captures

CAPTURES = ROOT / "tests" / "captures"
PLACEMENT = [sys.executable, "-c", "from placement import cli; cli.main()"]

STAND_IN = r'''#!{python}
import json, os, sys, time
args = sys.argv[1:]
with open(os.environ["KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
mode = os.environ.get("KUBECTL_MODE", "")
if args[:1] == ["--context"]:
    args = args[2:]
fixtures = os.environ["KUBECTL_FIXTURES"]
def replay(name):
    sys.stdout.write(open(os.path.join(fixtures, name), encoding="utf-8").read())
    sys.exit(0)
if mode == "forbidden":
    sys.stderr.write('Error from server (Forbidden): nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope\n')
    sys.exit(1)
if mode == "hang":
    time.sleep(30)
verb = args[0]
if verb == "get":
    what = args[1]
    if what == "pods" and "-l" in args:
        replay("px-pods.json")
    if what.startswith("storagenodes"):
        if os.path.exists(os.path.join(fixtures, "storagenodes.json")):
            replay("storagenodes.json")
        sys.stderr.write('error: the server doesn\'t have a resource type "storagenodes"\n')
        sys.exit(1)
    replay({{"nodes": "nodes.json", "pods": "pods.json", "persistentvolumeclaims": "pvc.json", "persistentvolumes": "pv.json"}}[what])
if verb == "exec":
    command = args[args.index("--") + 1:]
    if "pxctl" in command[0]:
        replay({{("status",): "px-status.txt", ("--json", "cluster", "provision-status"): "px-provision-status.json",
                ("--json", "volume", "list"): "px-volumes.json"}}[tuple(command[1:])])
    tool = command[4]
    if mode == "no-kafka-tools":
        sys.stderr.write(tool + ": not found in this pod (looked on PATH, /opt/kafka/bin, /opt/bitnami/kafka/bin)\ncommand terminated with exit code 127\n")
        sys.exit(127)
    replay({{"kafka-topics.sh": "topics.txt", "kafka-log-dirs.sh": "logdirs.txt"}}[tool])
sys.stderr.write("stand-in kubectl: unexpected " + " ".join(args) + "\n")
sys.exit(2)
'''

PX_PODS = {"apiVersion": "v1", "kind": "List", "items": [
    {"metadata": {"name": "px-cluster-abc12", "namespace": "portworx", "labels": {"name": "portworx"}},
     "spec": {"containers": [{"name": "portworx"}, {"name": "csi-node-driver-registrar"}]}, "status": {"phase": "Running"}}]}

READ_ONLY_PXCTL = {("status",), ("--json", "cluster", "provision-status"), ("--json", "volume", "list")}


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    """A kubectl on PATH replaying the files of a fixtures directory; returns (fixtures dir, the calls made)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "kubectl"
    exe.write_text(STAND_IN.format(python=sys.executable), encoding="utf-8")
    exe.chmod(0o755)
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    (fixtures / "px-pods.json").write_text(json.dumps(PX_PODS), encoding="utf-8")
    log = tmp_path / "calls.jsonl"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KUBECTL_FIXTURES", str(fixtures))
    monkeypatch.setenv("KUBECTL_LOG", str(log))

    def calls():
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    return fixtures, calls


def assert_only_reads(calls):
    assert calls
    for args in calls:
        if args[:1] == ["--context"]:
            args = args[2:]
        assert args[0] in ("get", "exec"), args
        if args[0] == "exec":
            command = args[args.index("--") + 1:]
            if command[0].endswith("pxctl"):
                assert tuple(command[1:]) in READ_ONLY_PXCTL, command
            else:
                assert command[:2] == ["sh", "-c"] and command[4] in ("kafka-topics.sh", "kafka-log-dirs.sh"), command
                assert command[-1] == "--describe" and "--alter" not in command and "--create" not in command


def _copy(src: Path, dst: Path) -> None:
    for f in src.iterdir():
        (dst / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")


def test_capture_replays_a_cluster_and_imports_to_it(stand_in, tmp_path):
    fixtures, calls = stand_in
    _copy(CAPTURES / "small", fixtures)
    out = tmp_path / "capture"
    result = capture(out, context="prod", namespace="kafka", bootstrap_server="kafka-0.kafka:9092", timeout=20)
    assert sorted(result.files) == sorted(["nodes.json", "pods.json", "pvc.json", "pv.json", "px-status.txt",
                                           "px-provision-status.json", "px-volumes.json", "topics.txt", "logdirs.txt"])
    assert any("StorageNode" in n for n in result.notes)
    made = calls()
    assert_only_reads(made)
    assert all(c[:2] == ["--context", "prod"] for c in made)
    assert ["--context", "prod", "exec", "-n", "portworx", "px-cluster-abc12", "-c", "portworx", "--",
            "/opt/pwx/bin/pxctl", "status"] in made
    topics_call = next(c for c in made if "kafka-topics.sh" in c)
    assert topics_call[2:7] == ["exec", "-n", "kafka", "kafka-0", "-c"] and topics_call[-3:] == ["--bootstrap-server", "kafka-0.kafka:9092", "--describe"]
    assert import_cluster(out).document == import_cluster(CAPTURES / "small").document


def test_capture_replays_the_real_samples(stand_in, tmp_path):
    """The samples copied from real clusters go through capture unchanged and import (with what they lack reported)."""
    fixtures, calls = stand_in
    samples = samples_dir()
    for name, sample in (("nodes.json", "k8s-node-json-gce-zone-worker-1.json"), ("px-status.txt", "portworx-status-text-1.txt"),
                         ("px-volumes.json", "portworx-volume-inspect-1.json"),
                         ("px-provision-status.json", "portworx-provision-status-jq-1.json"),
                         ("topics.txt", "kafka-topics-describe-3x-nodepool-2.txt"), ("logdirs.txt", "kafka-log-dirs-describe-cloudera-1.txt")):
        (fixtures / name).write_text((samples / sample).read_text(encoding="utf-8"), encoding="utf-8")
    pod = json.loads((samples / "k8s-pod-json-pvc-pending-1.json").read_text(encoding="utf-8"))
    broker = json.loads(json.dumps(pod))
    broker["metadata"].update(name="my-cluster-broker-10", namespace="kafka",
                              labels={"strimzi.io/cluster": "my-cluster", "strimzi.io/kind": "Kafka", "strimzi.io/broker-role": "true"})
    broker["status"]["phase"] = "Running"
    (fixtures / "pods.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [pod, broker]}), encoding="utf-8")
    for name in ("pvc.json", "pv.json"):
        (fixtures / name).write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": []}), encoding="utf-8")
    out = tmp_path / "capture"
    capture(out, timeout=20)
    assert_only_reads(calls())
    r = import_cluster(out)
    assert [b["id"] for b in r.document["brokers"]] == [10, 11, 12, 13]
    assert not r.report.clean


@pytest.mark.parametrize("mode,message", [("forbidden", "access refused"), ("no-kafka-tools", "a tool is missing in the pod"),
                                          ("hang", "did not finish within 1 s")])
def test_capture_failures_are_one_paragraph(stand_in, tmp_path, monkeypatch, mode, message):
    fixtures, calls = stand_in
    _copy(CAPTURES / "small", fixtures)
    monkeypatch.setenv("KUBECTL_MODE", mode)
    with pytest.raises(InputError) as caught:
        capture(tmp_path / "out", timeout=1)
    assert message in caught.value.paragraph()
    assert_only_reads(calls())


def test_capture_without_kubectl_and_into_a_used_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match="kubectl: is not on PATH"):
        capture(tmp_path / "out")
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="holds other files"):
        capture(used)


# ------------------------------------------------------------------ the generated captures

def test_clean_capture_imports_to_the_cluster_it_was_written_from(tmp_path):
    cluster = generate_cluster(nodes=30, zones=3, brokers=9, volumes=60, partitions=300, seed=7, storage_gib=2000)
    write_capture(cluster, tmp_path, seed=7)
    r = import_cluster(tmp_path)
    assert r.report.clean
    got = r.cluster
    assert [(n.name, n.zone, n.state, n.storage_mib, n.cpu_millicores, n.memory_mib) for n in got.nodes] == \
           [(n.name, n.zone, n.state, n.storage_mib, n.cpu_millicores, n.memory_mib) for n in cluster.nodes]
    assert [(v.name, v.size_mib, v.used_mib, v.replication_factor, v.replicas) for v in got.volumes] == \
           [(v.name, v.size_mib, v.used_mib, v.replication_factor, v.replicas) for v in cluster.volumes]
    assert [(b.id, b.node, b.volumes, b.cpu_millicores, b.memory_mib) for b in got.brokers] == \
           [(b.id, b.node, b.volumes, b.cpu_millicores, b.memory_mib) for b in cluster.brokers]
    assert [(t.name, t.min_insync_replicas, [(p.id, p.replicas, p.leader, sorted(p.isr), p.size_mib) for p in t.partitions]) for t in got.topics] == \
           [(t.name, t.min_insync_replicas, [(p.id, p.replicas, p.leader, sorted(p.isr), p.size_mib) for p in t.partitions]) for t in cluster.topics]


def test_messy_strimzi_capture(tmp_path):
    cluster = generate_cluster(nodes=12, zones=3, brokers=4, volumes=20, partitions=60, seed=5, storage_gib=1500, partitions_per_topic=20)
    changes = write_capture(cluster, tmp_path, strimzi=True, messy=True, seed=5)
    r = import_cluster(tmp_path)
    nodes = {n["name"]: n for n in r.document["nodes"]}
    assert [b["id"] for b in r.document["brokers"]] == [b.id for b in cluster.brokers]  # no controller, operator or exporter
    assert all(b["volumes"] == list(cluster.brokers[i].volumes) for i, b in enumerate(r.document["brokers"]))
    assert all(nodes[n]["storageGiB"] == 0 and nodes[n]["state"] == "ready" for n in changes["storageless"])
    assert nodes[changes["cordoned"]]["state"] == "cordoned" and nodes[changes["notReady"]]["state"] == "failed"
    for name in changes["na"]:  # N/A scheduler names: matched by IP, said so
        assert nodes[name]["storageGiB"] == 1500
        assert any(i.message.endswith(f"matched to Kubernetes node {name} by InternalIP") for i in r.report.items)
    volumes = {v["name"]: v for v in r.document["volumes"]}
    ghost_volume, ghost_id = changes["ghost"]
    assert ghost_id in volumes[ghost_volume]["replicas"] and nodes[ghost_id]["state"] == "failed" and nodes[ghost_id]["storageGiB"] > 0
    resync_volume, resync_node = changes["resync"]
    assert volumes[resync_volume]["stale"] == {resync_node: volumes[resync_volume]["usedGiB"]}
    assert volumes[resync_volume]["replicas"][-1] == resync_node and volumes[resync_volume]["replicationFactor"] == 2
    topic, pid = changes["leaderless"]
    leaderless = next(p for t in r.document["topics"] if t["name"] == topic for p in t["partitions"] if p["id"] == pid)
    assert leaderless["leader"] == -1  # Kafka's "Leader: none", as the cluster file says it
    assert {i.kind for i in r.report.items} == {"assumed", "unresolved"}


# ------------------------------------------------------------------ the commands

def run(*args, stdin=None, cwd=None):
    return subprocess.run([*PLACEMENT, *args], capture_output=True, text=True, input=stdin, cwd=cwd or ROOT)


def test_import_command_outputs_exit_codes_and_report(tmp_path):
    out, report = tmp_path / "cluster.json", tmp_path / "report.json"
    done = run("import", str(CAPTURES / "strimzi-messy"), "-o", str(out), "--report", str(report))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "imported 12 nodes" in done.stderr and "unresolved:" in done.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["name"] == "px-cluster-bench"
    rep = json.loads(report.read_text(encoding="utf-8"))
    assert rep["summary"]["unresolved"] == 1 and all(set(i) == {"kind", "source", "item", "message"} for i in rep["items"])
    assert run("import", str(CAPTURES / "strimzi-messy"), "--strict").returncode == 1
    clean = run("import", str(CAPTURES / "small"), "--strict")
    assert clean.returncode == 0 and clean.stdout.startswith("name: px-cluster-bench\n")
    refused = run("import", str(samples_dir() / "kubectl-nodes-text-cordon-1.txt"))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr and "-o json" in refused.stderr
    piped = run("import", "-", stdin=(CAPTURES / "small" / "topics.txt").read_text(encoding="utf-8"))
    assert piped.returncode == 0 and "<stdin>: Kafka topics" in piped.stderr


def test_plan_verify_and_check_take_a_capture_directory(tmp_path):
    directory = str(CAPTURES / "small")
    node = json.loads((CAPTURES / "small" / "pods.json").read_text(encoding="utf-8"))["items"][0]["spec"]["nodeName"]
    plan_file = tmp_path / "plan.json"
    done = run("plan", directory, "--fail", node, "--format", "json", "-o", str(plan_file))
    assert done.returncode == 0, done.stderr
    assert json.loads(plan_file.read_text(encoding="utf-8"))["failed"] == [node]
    assert run("verify", directory, str(plan_file)).returncode == 0
    assert run("check", directory, "--format", "json").returncode in (0, 1)
    assert run("plan", str(tmp_path / "missing-dir-or-file")).returncode == 2

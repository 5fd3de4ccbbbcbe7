"""The command line: exit codes 0/1/2, one clear paragraph on bad input, never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from placement import cli

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def seed_doc() -> dict:
    return yaml.safe_load(SEED.read_text())


def write(tmp_path: Path, name: str, content) -> str:
    path = tmp_path / name
    if isinstance(content, (dict, list)):
        content = yaml.safe_dump(content, sort_keys=False)
    path.write_text(content)
    return str(path)


def edited(change) -> dict:
    doc = seed_doc()
    change(doc)
    return doc


# (name, file content, extra args, text the message must contain)
BAD_INPUTS = [
    ("empty file", "", [], "empty"),
    ("malformed yaml", "nodes:\n  - name: node-1\n   zone: a\n", [], "line 3"),
    ("malformed json", '{"nodes": [}', [], "line 1, column"),
    ("duplicate yaml key", "name: a\nname: b\nnodes: []\n", [], "duplicate key 'name'"),
    ("object-constructing tag", "name: !!python/object/apply:os.system ['echo pwned']\nnodes: []\n", [], "tag"),
    ("replica on undeclared node", edited(lambda d: d["volumes"][1]["replicas"].__setitem__(1, "node-9")), [], "volumes[1].replicas[1]"),
    ("broker's unknown volume", edited(lambda d: d["brokers"][0]["volumes"].__setitem__(0, "pvc-nope")), [], "brokers[0].volumes[0]"),
    ("partition's unknown broker", edited(lambda d: d["topics"][0]["partitions"][1]["replicas"].__setitem__(0, 7)), [], "topics[0].partitions[1].replicas[0]"),
    ("duplicate node", edited(lambda d: d["nodes"][3].__setitem__("name", "node-1")), [], "declared twice"),
    ("duplicate broker id", edited(lambda d: d["brokers"][2].__setitem__("id", 0)), [], "brokers[2].id"),
    ("node twice in a replica set", edited(lambda d: d["volumes"][0]["replicas"].__setitem__(2, "node-1")), [], "listed twice"),
    ("replication factor 4", edited(lambda d: d["volumes"][0].__setitem__("replicationFactor", 4)), [], "1..3"),
    ("negative size", edited(lambda d: d["volumes"][2].__setitem__("sizeGiB", -5)), [], "volumes[2].sizeGiB"),
    ("non-numeric size", edited(lambda d: d["nodes"][0].__setitem__("storageGiB", "lots")), [], "nodes[0].storageGiB"),
    ("min ISR above RF", edited(lambda d: d["topics"][0].__setitem__("minInsyncReplicas", 3)), [], "minInsyncReplicas"),
    ("mixed replica counts", edited(lambda d: d["topics"][0]["partitions"][0].__setitem__("replicas", [0, 1, 2])), [], "different replica counts"),
    ("unsafe node name", edited(lambda d: d["nodes"][4].__setitem__("name", "node-5;rm -rf")), [], "nodes[4].name"),
    ("unknown key", edited(lambda d: d["nodes"][0].__setitem__("storageGib", 5)), [], "did you mean 'storageGiB'"),
    ("used above size", edited(lambda d: d["volumes"][0].__setitem__("usedGiB", 500)), [], "usedGiB"),
    ("not a mapping", "- 1\n- 2\n", [], "expected a mapping"),
    ("boolean as a number", edited(lambda d: d["brokers"][0].__setitem__("cpu", True)), [], "brokers[0].cpu"),
    ("zero bandwidth", edited(lambda d: d["policy"].__setitem__("nodeBandwidthGbps", 0)), [], "policy.nodeBandwidthGbps"),
    ("text bandwidth", edited(lambda d: d["policy"].__setitem__("nodeBandwidthGbps", "fast")), [], "policy.nodeBandwidthGbps"),
    ("unknown --fail node", seed_doc(), ["--fail", "node-7"], "--fail"),
    ("unknown --fail-zone", seed_doc(), ["--fail-zone", "zone-q"], "--fail-zone"),
    ("unknown --remove-broker", seed_doc(), ["--remove-broker", "42"], "--remove-broker"),
]


@pytest.mark.parametrize("name,content,args,needle", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_exit_2_with_a_clear_paragraph(tmp_path, name, content, args, needle):
    path = write(tmp_path, "cluster.json" if name == "malformed json" else "cluster.yaml", content)
    code, out, err = run("plan", path, *args)
    assert code == 2, (out, err)
    assert needle in err
    assert path in err  # names the file
    assert "Traceback" not in err + out
    assert out == ""


def test_missing_file_is_exit_2(tmp_path):
    code, _, err = run("plan", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file" in err


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    def damage(d):
        d["volumes"][0]["replicas"][0] = "node-9"
        d["brokers"][1]["volumes"] = ["pvc-missing"]
        d["nodes"][2]["storageGiB"] = -1
    code, _, err = run("plan", write(tmp_path, "c.yaml", edited(damage)))
    assert code == 2
    assert "3 problems" in err
    for where in ("volumes[0].replicas[0]", "brokers[1].volumes[0]", "nodes[2].storageGiB"):
        assert where in err


def test_unknown_option_is_exit_2():
    code, _, err = run("plan", str(SEED), "--frobnicate")
    assert code == 2 and "frobnicate" in err


def test_plan_seed_json_is_the_contract_document(tmp_path):
    code, out, err = run("plan", str(SEED), "--fail", "node-2", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["cluster"] == "seed" and doc["failed"] == ["node-2"]
    assert doc["status"] == "optimal" and doc["violations"] == []
    assert doc["placement"]["brokers"]["1"] == "node-4"  # the broker goes where its volume already is
    assert set(doc["placement"]["volumes"]) == {"pvc-kafka-0", "pvc-kafka-1", "pvc-kafka-2"}
    assert all(len(set(n)) == 3 for n in doc["placement"]["volumes"].values())
    assert doc["metrics"]["copiedGiB"] == 75.0  # 40 + 35: the two replicas node-2 held
    actions = [s["action"] for s in doc["steps"]]
    assert actions[0] == "fence-node" and "move-broker" in actions and "add-volume-replica" in actions
    for step in doc["steps"]:
        assert all(a < step["id"] for a in step["after"])


def test_plan_writes_output_file_and_verify_accepts_it(tmp_path):
    out_file = tmp_path / "plan.json"
    code, out, _ = run("plan", str(SEED), "--fail", "node-2", "--format", "json", "-o", str(out_file))
    assert code == 0 and out == ""
    code, out, err = run("verify", str(SEED), str(out_file), "--fail", "node-2")
    assert code == 0, err
    assert "verified" in out


def test_plan_table_names_what_moves(tmp_path):
    code, out, _ = run("plan", str(SEED), "--fail", "node-2")
    assert code == 0
    assert "optimal" in out and "node-4" in out and "75 GiB" in out


def test_impossible_recovery_is_exit_1_with_reasons():
    code, out, _ = run("plan", str(ROOT / "examples" / "impossible.yaml"), "--fail", "node-3", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["status"] == "degraded"
    by_rule = {v["invariant"] for v in doc["violations"]}
    assert by_rule == {"I1", "I7"}
    figures = {(v["invariant"], v["subject"], v["current"], v["needed"]) for v in doc["violations"]}
    assert figures == {("I1", "volume pvc-kafka-0", 2, 3), ("I1", "volume pvc-kafka-1", 2, 3),
                       ("I7", "volume pvc-scratch", 0, 1)}
    assert any("only 2 ready storage nodes remain" in v["message"] for v in doc["violations"])  # and why
    assert "pvc-scratch" not in doc["placement"]["volumes"]


def _seed_plan() -> dict:
    code, out, _ = run("plan", str(SEED), "--fail", "node-2", "--format", "json")
    assert code == 0
    return json.loads(out)


def _corrupt_two_replicas_on_a_node(doc):
    doc["placement"]["volumes"]["pvc-kafka-0"] = ["node-1", "node-1", "node-5"]


def _corrupt_broker_on_failed_node(doc):
    doc["placement"]["brokers"]["1"] = "node-2"


def _corrupt_missing_volume(doc):
    del doc["placement"]["volumes"]["pvc-kafka-2"]


def _corrupt_partition_on_dead_broker(doc):
    doc["placement"]["brokers"]["2"] = None


@pytest.mark.parametrize("corrupt,rule", [
    (_corrupt_two_replicas_on_a_node, "I2"),
    (_corrupt_broker_on_failed_node, "I3"),
    (_corrupt_missing_volume, "I1"),
    (_corrupt_partition_on_dead_broker, "I6"),
])
def test_verify_rejects_corrupted_plans(tmp_path, corrupt, rule):
    doc = _seed_plan()
    corrupt(doc)
    path = write(tmp_path, "plan.json", json.dumps(doc))
    code, out, err = run("verify", str(SEED), path)
    assert code == 1, (out, err)
    assert f"[{rule}]" in out


def test_verify_takes_failures_from_the_plan_document(tmp_path):
    doc = _seed_plan()
    doc["placement"]["brokers"]["1"] = "node-2"
    code, out, _ = run("verify", str(SEED), write(tmp_path, "p.json", json.dumps(doc)))
    assert code == 1 and "failed" in out


def test_verify_rejects_plan_naming_unknown_things_as_bad_input(tmp_path):
    doc = _seed_plan()
    doc["placement"]["volumes"]["pvc-kafka-0"] = ["node-1", "node-99", "node-5"]
    code, _, err = run("verify", str(SEED), write(tmp_path, "p.json", json.dumps(doc)))
    assert code == 2 and "node-99" in err and "Traceback" not in err


def _step_drop_fence(doc):
    for step in doc["steps"]:
        step["after"] = [] if step["action"] == "move-broker" else step["after"]


def _step_drop_the_adds(doc):
    doc["steps"] = [s for s in doc["steps"] if s["action"] != "add-volume-replica"]


@pytest.mark.parametrize("corrupt,needle", [
    (_step_drop_fence, "before that node is fenced"),
    (_step_drop_the_adds, "the target says"),
])
def test_verify_model_checks_the_steps(tmp_path, corrupt, needle):
    doc = _seed_plan()
    corrupt(doc)
    code, out, err = run("verify", str(SEED), write(tmp_path, "p.json", json.dumps(doc)))
    assert code == 1, (out, err)
    assert "not safe" in out and needle in out


@pytest.mark.parametrize("change,needle", [
    (lambda d: d["steps"].append({"id": 99, "action": "teleport-broker", "after": []}), "teleport-broker"),
    (lambda d: d["steps"].append({"id": 99, "action": "fence-node", "node": "node-99", "after": []}), "node-99"),
    (lambda d: d["steps"].append({"id": 1, "action": "fence-node", "node": "node-2", "after": []}), "used twice"),
    (lambda d: d["steps"].append({"id": 99, "action": "fence-node", "node": "node-2", "after": [123]}), "123"),
    (lambda d: d["steps"][0].update(after=[len(d["steps"])]), "cycle"),
    (lambda d: d.update(steps={"id": 1}), "list of steps"),
    (lambda d: d["steps"].append({"id": 99, "action": "reassign-partitions", "partitions": [{"topic": "x"}],
                                  "after": []}), "not a partition"),
])
def test_verify_rejects_malformed_steps_as_bad_input(tmp_path, change, needle):
    doc = _seed_plan()
    change(doc)
    code, _, err = run("verify", str(SEED), write(tmp_path, "p.json", json.dumps(doc)))
    assert code == 2, err
    assert needle in err and "Traceback" not in err


def test_verify_of_a_target_without_steps_judges_the_target(tmp_path):
    doc = _seed_plan()
    del doc["steps"]
    code, out, _ = run("verify", str(SEED), write(tmp_path, "p.json", json.dumps(doc)))
    assert code == 0 and "only its target" in out


def test_demo_tells_the_seed_story():
    code, out, _ = run("demo")
    assert code == 0
    assert "node-2 fails" in out and "node-4" in out and "stays on node-4" in out


def test_a_commands_cluster_is_loaded_as_load_cluster_loads_it_then_frozen(tmp_path):
    """The CLI reads its cluster with the collector paused and freezes it (a 5,000-node plan's GC
    time): the same cluster as ``placement.load_cluster``'s, the collector enabled again after, even
    when the file is refused."""
    import gc

    import placement
    from placement.models.errors import InputError

    frozen = gc.get_freeze_count()
    try:
        cluster = cli._load_long_lived(str(SEED))
        assert cluster == placement.load_cluster(str(SEED))
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        bad = tmp_path / "bad.yaml"
        bad.write_text("nodes: 3\n")
        with pytest.raises(InputError):
            cli._load_long_lived(str(bad))
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_plan_pauses_the_cyclic_collector_while_it_plans_and_restores_it(monkeypatch):
    """``plan`` plans and writes with the cyclic collector paused (a 5,000-node plan's young
    collections), and leaves it as it found it: an in-process runner keeps collecting."""
    import gc

    import placement

    seen = []
    real = placement.plan

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(placement, "plan", spy)
    frozen = gc.get_freeze_count()
    try:
        assert gc.isenabled()
        result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert seen == [False] and gc.isenabled()
        result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "no-such-node"])
        assert result.exit_code == 2 and gc.isenabled()  # refused while paused: restored all the same
    finally:
        gc.unfreeze()
        gc.enable()


def test_plan_frees_its_cluster_when_it_ends(monkeypatch):
    """The facts placement makes once per cluster hold the cluster (the start scenario); a command
    drops them when it ends, so the cluster ``plan`` loaded is freed then by reference counting (at
    5,000 nodes 0.08 s, where the interpreter's exit took 0.4 s to tear it down), with the
    collector paused by ``plan`` enabled again."""
    import gc
    import weakref

    import placement.rules

    loaded = []
    real = cli._load_long_lived

    def spy(path):
        cluster = real(path)
        loaded.append(weakref.ref(cluster))
        return cluster

    monkeypatch.setattr(cli, "_load_long_lived", spy)
    frozen = gc.get_freeze_count()
    try:
        result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert len(loaded) == 1 and loaded[0]() is None
        assert not placement.rules._PER_CLUSTER and gc.isenabled()
    finally:
        gc.unfreeze()

"""``--format script``: bash that performs a plan, run here under bash with stand-in
kubectl, pxctl and kafka-*.sh that record every argument they receive."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from placement import cli
from placement.models.errors import InputError
from placement.models.loading import parse_cluster

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is needed to run the scripts")

STANDIN = r'''#!/usr/bin/env bash
# records its name and arguments (NUL-separated, one record per call), then answers like the real tool
{ printf '%s\0' "$(basename "$0")" "$@"; printf '\036\0'; } >> "$STANDIN_LOG"
tool="$(basename "$0")"
case "$tool $*" in
  "kubectl get node"*) echo "${STANDIN_NODE_READY:-False}" ;;
  "kubectl -n "*" get pod "*) cat "$STANDIN_STATE/pod-${!#}" ;;
  "pxctl volume inspect"*) echo "Replication Status  :  ${STANDIN_RESYNC:-Up}" ;;
  "kafka-reassign-partitions.sh"*"--verify"*) echo "Reassignment of partition is completed." ;;
  "kafka-reassign-partitions.sh"*"--execute"*)
    for ((i = 1; i <= $#; i++)); do
      if [[ "${!i}" == --reassignment-json-file ]]; then j=$((i + 1)); cp -- "${!j}" "$STANDIN_STATE/reassignment.json"; fi
    done ;;
esac
exit 0
'''
TOOLS = ("kubectl", "pxctl", "kafka-reassign-partitions.sh", "kafka-leader-election.sh")


@pytest.fixture
def standins(tmp_path):
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for tool in TOOLS:
        path = bin_dir / tool
        path.write_text(STANDIN)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STANDIN_LOG": str(tmp_path / "log"),
           "STANDIN_STATE": str(state), "PLACEMENT_POLL_SECONDS": "0", "TMPDIR": str(tmp_path)}
    (tmp_path / "log").write_bytes(b"")
    return env, tmp_path / "log", state


def calls(log: Path) -> list[list[str]]:
    records = log.read_bytes().split(b"\x1e\x00")
    return [[a.decode() for a in r.split(b"\x00") if a != b""] for r in records if r.strip(b"\x00")]


def script_for(tmp_path, cluster_path, *args) -> Path:
    out = tmp_path / "recover.sh"
    result = CliRunner().invoke(cli.main, ["plan", str(cluster_path), *args, "--format", "script", "-o", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    assert os.access(out, os.X_OK)
    return out


def bash(script: Path, env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([BASH, str(script), *args], env=env, capture_output=True, text=True, timeout=60)


def test_dry_run_prints_every_command_and_runs_none(tmp_path, standins):
    env, log, _ = standins
    script = script_for(tmp_path, SEED, "--fail", "node-2")
    done = bash(script, env)
    assert done.returncode == 0, done.stderr
    assert calls(log) == []  # a dry run touches nothing
    out = done.stdout
    assert "+ kubectl taint nodes --overwrite -- node-2 node.kubernetes.io/out-of-service=nodeshutdown:NoExecute" in out
    assert "+ pxctl volume ha-update --repl 2 --node node-2 -- pvc-kafka-0" in out
    assert "+ pxctl volume ha-update --repl 3 --node node-5 -- pvc-kafka-0" in out
    assert "+ kubectl -n kafka delete pod --force --grace-period=0 -- kafka-1" in out
    assert "dry run: nothing was changed" in out
    assert out.index("--repl 2 --node node-2 -- pvc-kafka-0") < out.index("--repl 3 --node node-5 -- pvc-kafka-0")


def test_apply_performs_the_steps_in_a_safe_order(tmp_path, standins):
    env, log, state = standins
    (state / "pod-kafka-1").write_text("node-4 True")
    script = script_for(tmp_path, SEED, "--fail", "node-2")
    done = bash(script, env, "--apply")
    assert done.returncode == 0, done.stderr
    made = calls(log)
    assert ["kubectl", "taint", "nodes", "--overwrite", "--", "node-2",
            "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"] in made
    changes = [c for c in made if c[:3] == ["pxctl", "volume", "ha-update"]]
    assert changes == [
        ["pxctl", "volume", "ha-update", "--repl", "2", "--node", "node-2", "--", "pvc-kafka-0"],
        ["pxctl", "volume", "ha-update", "--repl", "3", "--node", "node-5", "--", "pvc-kafka-0"],
        ["pxctl", "volume", "ha-update", "--repl", "2", "--node", "node-2", "--", "pvc-kafka-1"],
        ["pxctl", "volume", "ha-update", "--repl", "3", "--node", "node-5", "--", "pvc-kafka-1"],
    ]
    fence = made.index(["kubectl", "cordon", "--", "node-2"])
    delete = made.index(["kubectl", "-n", "kafka", "delete", "pod", "--force", "--grace-period=0", "--", "kafka-1"])
    assert made.index(["kubectl", "get", "node", "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
                       "--", "node-2"]) < fence < delete  # fenced only once down, force-deleted only once fenced
    assert any(c[:3] == ["pxctl", "volume", "inspect"] for c in made)  # resyncs are waited for
    assert "recovery complete" in done.stdout


def test_apply_refuses_to_fence_a_node_that_still_runs(tmp_path, standins):
    env, log, _ = standins
    script = script_for(tmp_path, SEED, "--fail", "node-2")
    done = bash(script, {**env, "STANDIN_NODE_READY": "True", "PLACEMENT_WAIT_TIMEOUT": "0"}, "--apply")
    assert done.returncode == 1 and "timed out" in done.stderr and "node-2 is down" in done.stderr
    assert not any(c[:2] == ["kubectl", "taint"] for c in calls(log))


def test_a_resync_that_never_finishes_times_out_and_stops(tmp_path, standins):
    env, log, state = standins
    (state / "pod-kafka-1").write_text("node-4 True")
    script = script_for(tmp_path, SEED, "--fail", "node-2")
    done = bash(script, {**env, "STANDIN_RESYNC": "Resync", "PLACEMENT_WAIT_TIMEOUT": "0"}, "--apply")
    assert done.returncode == 1 and "timed out" in done.stderr and "in sync on node-5" in done.stderr


def test_a_pod_scheduled_elsewhere_stops_the_script(tmp_path, standins):
    env, _, state = standins
    (state / "pod-kafka-1").write_text("node-3 True")
    script = script_for(tmp_path, SEED, "--fail", "node-2")
    done = bash(script, env, "--apply")
    assert done.returncode == 1 and "scheduled on node-3, not on node-4" in done.stderr


def test_unknown_script_argument_is_refused(tmp_path, standins):
    env, log, _ = standins
    done = bash(script_for(tmp_path, SEED, "--fail", "node-2"), env, "--aply")
    assert done.returncode == 2 and "--aply" in done.stderr and calls(log) == []


def _odd_but_valid_names() -> dict:
    doc = yaml.safe_load(SEED.read_text())
    text = json.dumps(doc).replace("pvc-kafka-0", "Pvc.Kafka_0").replace('"orders"', '"-orders.v1_x"')
    return json.loads(text)


def test_odd_valid_names_arrive_as_single_literal_arguments(tmp_path, standins):
    env, log, state = standins
    doc = _odd_but_valid_names()
    cluster_path = tmp_path / "odd.yaml"
    cluster_path.write_text(yaml.safe_dump(doc))
    script = script_for(tmp_path, cluster_path, "--remove-broker", "1", "--statefulset", "my-kafka")
    done = bash(script, env, "--apply")
    assert done.returncode == 0, done.stderr
    made = calls(log)
    reassign = [c for c in made if c[0] == "kafka-reassign-partitions.sh" and "--execute" in c]
    assert reassign, made
    moved = json.loads((state / "reassignment.json").read_text())
    assert any(p["topic"] == "-orders.v1_x" for p in moved["partitions"])  # a leading '-' only ever inside JSON


def test_odd_volume_name_reaches_pxctl_intact(tmp_path, standins):
    env, log, state = standins
    doc = _odd_but_valid_names()
    cluster_path = tmp_path / "odd.yaml"
    cluster_path.write_text(yaml.safe_dump(doc))
    (state / "pod-kafka-1").write_text("node-4 True")
    done = bash(script_for(tmp_path, cluster_path, "--fail", "node-2"), env, "--apply")
    assert done.returncode == 0, done.stderr
    assert ["pxctl", "volume", "ha-update", "--repl", "3", "--node", "node-5", "--", "Pvc.Kafka_0"] in calls(log)


HOSTILE = [";reboot", "$(id)", "`id`", "a\nb", "a b", "-rf"]


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("where", ["node", "zone", "volume", "topic"])
def test_hostile_names_are_refused_at_load(name, where):
    doc = yaml.safe_load(SEED.read_text())
    if where == "node":
        doc["nodes"][0]["name"] = name
    elif where == "zone":
        doc["nodes"][0]["zone"] = name
    elif where == "volume":
        doc["volumes"][0]["name"] = name
    else:
        if name == "-rf":
            pytest.skip("'-rf' is a valid Kafka topic name; topics reach the tools only inside JSON files")
        doc["topics"][0]["name"] = name
    with pytest.raises(InputError):
        parse_cluster(doc, "hostile.yaml")


@pytest.mark.parametrize("option,value", [("--namespace", "kafka;id"), ("--statefulset", "-x"),
                                          ("--bootstrap-server", "$(id):9092")])
def test_hostile_script_options_are_bad_input(option, value):
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "--format", "script", option, value])
    assert result.exit_code == 2 and option in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("seed", range(30))
def test_scripts_of_random_plans_are_valid_bash_and_dry_run_cleanly(tmp_path, standins, seed):
    from placement.solve.planner import plan_recovery
    from placement.execute.script import render_script
    from tests.smallworld import random_scenario

    env, log, _ = standins
    scenario = random_scenario(seed, kafka_heavy=seed % 2 == 0, removal=seed % 3 == 0)
    plan = plan_recovery(scenario.cluster, scenario.failures)
    path = tmp_path / "s.sh"
    path.write_text(render_script(scenario.cluster, plan))
    assert subprocess.run([BASH, "-n", str(path)], capture_output=True).returncode == 0
    done = bash(path, env)
    assert done.returncode == 0, done.stderr
    assert calls(log) == []
    assert done.stdout.count("\n+ ") + done.stdout.startswith("+ ") >= len(
        [s for s in plan.steps if s.action != "elect-leaders"])


# -- drains, returning nodes, and names that try to break out of a line ----------------------------

def _operation_plan(cluster, failures, volumes: dict, brokers: dict | None = None):
    """A plan to a hand-given target (the steps built, checked and timed as the planner does)."""
    from placement.execute.checker import check_execution
    from placement.execute.steps import build_steps
    from placement.execute.timeline import simulate
    from placement.models.plan import Placement, Plan, Status
    from placement.scenario import Scenario

    scenario = Scenario(cluster, failures)
    current = Placement.current(cluster)
    target = Placement({**current.brokers, **(brokers or {})}, {**current.volumes, **volumes}, current.partitions)
    steps = build_steps(scenario, target)
    verdict = check_execution(scenario, steps, target)
    assert verdict.safe, [c.message for c in verdict.counterexamples]
    return Plan(cluster=cluster.name, failed=failures.failed, status=Status.OPTIMAL, placement=target, steps=steps,
                metrics={}, violations=(), timeline=simulate(scenario, target, steps))


def _drain_and_return_cluster(name_of=lambda n: n):
    from placement.models.loading import parse_cluster

    nodes = [name_of(f"node-{i}") for i in range(1, 6)]
    return parse_cluster({
        "name": "ops", "policy": {"zoneSpread": False},
        "nodes": [{"name": n, "storageGiB": 500} for n in nodes],
        "volumes": [{"name": "pvc-kafka-0", "sizeGiB": 100, "replicas": nodes[:3]},
                    {"name": "pvc-back", "sizeGiB": 100, "replicas": [nodes[1], nodes[2], nodes[3]],
                     "stale": {nodes[3]: 4}}],
        "brokers": [{"id": 0, "node": nodes[0], "volumes": ["pvc-kafka-0"]}],
    }, "ops.yaml")


def test_a_drain_script_cordons_then_moves_then_drops_and_a_return_waits_for_portworx(tmp_path, standins):
    from placement.execute.script import render_script
    from placement.models.failures import resolve_failures

    env, log, state = standins
    cluster = _drain_and_return_cluster()
    plan = _operation_plan(cluster, resolve_failures(cluster, drain=["node-1"]),
                           {"pvc-kafka-0": ("node-2", "node-3", "node-5")}, {0: "node-2"})
    actions = [s.action for s in plan.steps]
    assert actions[0] == "cordon-node" and "resync-volume-replica" in actions and "fence-node" not in actions
    path = tmp_path / "drain.sh"
    path.write_text(render_script(cluster, plan))
    assert subprocess.run([BASH, "-n", str(path)], capture_output=True).returncode == 0
    text = path.read_text()
    assert "Portworx resyncs it by itself" in text.replace("\n# ", " ")
    (state / "pod-kafka-0").write_text("node-2 True")
    done = bash(path, env, "--apply")
    assert done.returncode == 0, done.stderr
    made = calls(log)
    cordon = made.index(["kubectl", "cordon", "--", "node-1"])
    delete = made.index(["kubectl", "-n", "kafka", "delete", "pod", "--", "kafka-0"])
    drop = made.index(["pxctl", "volume", "ha-update", "--repl", "2", "--node", "node-1", "--", "pvc-kafka-0"])
    add = made.index(["pxctl", "volume", "ha-update", "--repl", "3", "--node", "node-5", "--", "pvc-kafka-0"])
    assert cordon < delete < drop < add  # drop before add at RF 3, and only once the broker has left
    assert ["pxctl", "volume", "inspect", "--", "pvc-back"] in made  # the returning replica is waited for
    assert not any(c[:2] == ["kubectl", "taint"] for c in made)


def _renamed(cluster, old: str, new: str):
    """The cluster with a node renamed everywhere, past the loader (which refuses such names)."""
    from dataclasses import replace

    def n(x):
        return new if x == old else x

    return replace(cluster, nodes=tuple(replace(x, name=n(x.name)) for x in cluster.nodes),
                   volumes=tuple(replace(v, replicas=tuple(map(n, v.replicas)),
                                         stale=tuple((n(a), g) for a, g in v.stale)) for v in cluster.volumes),
                   brokers=tuple(replace(b, node=n(b.node)) for b in cluster.brokers))


HOSTILE_WORDS = ["a\ntouch PWNED", "x\r\ntouch PWNED", "name'; touch PWNED; '", "$(touch PWNED)", "`touch PWNED`",
                 "tab\there", "trailing\n", "\u2028touch PWNED", "back\\slash\n"]


@pytest.mark.parametrize("word", HOSTILE_WORDS)
def test_names_that_end_lines_stay_inside_their_words_even_in_comments(tmp_path, standins, word):
    """The loader refuses such names; the script must not rely on it. Every user-derived word
    -- in commands and in comments -- stays on its line and arrives as one literal argument."""
    from dataclasses import replace

    from placement.execute.script import render_script
    from placement.models.failures import resolve_failures

    env, log, state = standins
    evil = f"node-1{word}"
    cluster = _renamed(_drain_and_return_cluster(), "node-1", evil)
    cluster = replace(cluster, name=f"ops{word}")
    failed = resolve_failures(cluster, [evil])
    plan = _operation_plan(cluster, failed, {"pvc-kafka-0": ("node-2", "node-3", "node-5")}, {0: "node-2"})
    assert {s.action for s in plan.steps} >= {"fence-node", "drop-volume-replica", "move-broker", "resync-volume-replica"}
    path = tmp_path / "evil.sh"
    path.write_text(render_script(cluster, plan))
    assert subprocess.run([BASH, "-n", str(path)], capture_output=True).returncode == 0
    for line in path.read_text().splitlines():
        assert not line.lstrip().startswith(("touch", "PWNED", "here")), line
    done = bash(path, env)  # dry run
    assert done.returncode == 0, done.stderr
    assert calls(log) == [] and not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
    (state / "pod-kafka-0").write_text("node-2 True")
    done = bash(path, {**env, "STANDIN_NODE_READY": "False"}, "--apply")
    assert done.returncode == 0, done.stderr
    made = calls(log)
    assert ["kubectl", "cordon", "--", evil] in made  # the fence: one literal argument, newline and all
    assert ["pxctl", "volume", "ha-update", "--repl", "2", "--node", evil, "--", "pvc-kafka-0"] in made
    assert not (tmp_path / "PWNED").exists()


def test_a_script_of_steps_not_proven_safe_says_so():
    from dataclasses import replace

    from placement.execute.script import render_script
    from placement.models.failures import resolve_failures

    cluster = _drain_and_return_cluster()
    plan = _operation_plan(cluster, resolve_failures(cluster, drain=["node-1"]),
                           {"pvc-kafka-0": ("node-2", "node-3", "node-5")}, {0: "node-2"})
    assert "model-checked safe" in render_script(cluster, replace(plan, metrics={"execution": {"safe": True}}))
    text = render_script(cluster, replace(plan, metrics={"execution": {"safe": False}}))
    assert "NOT proven" in text and "model-checked safe" not in text


def test_a_script_of_steps_not_proven_safe_refuses_apply_and_shows_the_dry_run(tmp_path, standins):
    """QA: --drain node-1 --min-replicas 3 on the seed exits 1 (no order is safe at RF 3 with 3 to
    keep), yet its script's --apply ran `kubectl cordon -- node-1`. The script now refuses --apply
    before anything runs, naming why, and its dry run still shows the steps."""
    env, log, _ = standins
    out = tmp_path / "unsafe.sh"
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--drain", "node-1", "--min-replicas", "3",
                                           "--format", "script", "-o", str(out)])
    assert result.exit_code == 1
    applied = bash(out, env, "--apply")
    assert applied.returncode == 1
    assert calls(log) == []  # not even the cordon
    assert "NOT proven safe" in applied.stderr and "pvc-kafka-0 would keep 2 in-sync replicas" in applied.stderr
    assert "nothing was changed" in applied.stderr
    assert not list(tmp_path.glob("placement.*"))  # its work directory is removed
    dry = bash(out, env)
    assert dry.returncode == 0, dry.stderr
    assert calls(log) == []
    assert "+ kubectl cordon -- node-1" in dry.stdout and "--apply is refused" in dry.stdout
    assert "NOT proven safe" in dry.stdout


def test_a_script_of_safe_steps_still_applies(tmp_path, standins):
    """The refusal is only for steps not proven safe: QA's --drain node-2,node-4 is now proven safe."""
    env, log, state = standins
    (state / "pod-kafka-1").write_text("node-5 True")
    script = script_for(tmp_path, SEED, "--drain", "node-2,node-4")
    assert "refuse_unsafe" not in script.read_text()
    done = bash(script, env, "--apply")
    assert done.returncode == 0, done.stderr
    assert ["kubectl", "cordon", "--", "node-2"] in calls(log)

"""The attack corpus (issue 9): hostile inputs through the real CLI, each with its exit status and message.

Every case must finish in bounded time with bounded output, no traceback and
never exit 3. The classes: hostile names (in files and options), huge numbers,
malformed and deeply nested documents, YAML aliases, special files, bad
options, output paths, and wrong types given to the library. Attacks on plan
steps (verify's replay) live in tests/test_attacks_steps.py.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
import yaml
from click.testing import CliRunner

import placement
from placement import cli

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"
SECONDS = 30  # every case, solving included, ends well within this
OUTPUT = 20_000  # characters of standard output and error together, for a refusal
BIG = "x" * 10_000_000  # a 10 MB name
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(  # 9^9 values from 300 bytes
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))


def seed_doc() -> dict:
    return yaml.safe_load(SEED.read_text())


def edited(change: Callable[[dict], object]) -> dict:
    doc = seed_doc()
    change(doc)
    return doc


def put(tmp: Path, name: str, content) -> str:
    path = tmp / name
    if isinstance(content, (dict, list)):
        content = json.dumps(content) if name.endswith(".json") else yaml.safe_dump(content, sort_keys=False)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def cluster(change: Callable[[dict], object], name: str = "c.json") -> Callable[[Path], str]:
    """A builder of the seed cluster with one change, as a file."""
    return lambda tmp: put(tmp, name, edited(change))


def seed_copy(tmp: Path) -> str:
    return put(tmp, "seed.yaml", SEED.read_text())


def node(i: int, **fields) -> Callable[[dict], object]:
    return lambda d: d["nodes"][i].update(fields)


def plan_of(tmp: Path) -> str:
    """The seed's plan for node-2 as a document file."""
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "--format", "json"])
    return put(tmp, "plan.json", result.stdout)


@dataclass(frozen=True)
class Attack:
    name: str
    argv: Callable[[Path], list[str]]  # the command line, given a scratch folder
    exit: int
    fragment: str  # the message (or output) contains this
    env: dict = field(default_factory=dict)


def plan(file_builder: Callable[[Path], str], *extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["plan", file_builder(tmp), "--fail", "node-2", "--format", "json", *extra]


def seed_plan(*extra: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["plan", str(SEED), *extra]


def deep_json(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


def _petabyte_at_a_megabit(doc: dict) -> None:
    """The largest copy at the lowest bandwidth: every figure of the timeline stays finite (no Infinity in JSON)."""
    doc["policy"]["nodeBandwidthGbps"] = 0.001
    for n in doc["nodes"]:
        n["storageGiB"] = 2**20
    doc["volumes"][0].update(sizeGiB=1_000_000, usedGiB=1_000_000)


ATTACKS = [
    # -- hostile names in the cluster file ---------------------------------------------------------
    Attack("node name ending in a newline", plan(cluster(node(0, name="node-1\n"))), 2, "nodes[0].name"),
    Attack("cluster name ending in a newline", plan(cluster(lambda d: d.update(name="seed\n"))), 2, "cluster name"),
    Attack("zone ending in a newline", plan(cluster(node(0, zone="zone-a\n"))), 2, "nodes[0].zone"),
    Attack("volume name ending in a newline", plan(cluster(lambda d: d["volumes"][0].update(name="pvc-kafka-0\n"))), 2,
           "volumes[0].name"),
    Attack("topic name ending in a newline", plan(cluster(lambda d: d["topics"][0].update(name="orders\n"))), 2,
           "Kafka topic name"),
    Attack("topic named .", plan(cluster(lambda d: d["topics"][0].update(name="."))), 2, "neither '.' nor '..'"),
    Attack("topic named ..", plan(cluster(lambda d: d["topics"][0].update(name=".."))), 2, "neither '.' nor '..'"),
    Attack("topics colliding by . and _", plan(cluster(lambda d: d["topics"].append(
        {"name": "ord_ers", "partitions": []}) or d["topics"][0].update(name="ord.ers"))), 2, "collides"),
    Attack("broker id above 2^31-1", plan(cluster(lambda d: d["brokers"][2].update(id=2**31))), 2, "2,147,483,647"),
    Attack("partition id above 2^31-1", plan(cluster(lambda d: d["topics"][0]["partitions"][0].update(id=2**31))), 2,
           "topics[0].partitions[0].id"),
    Attack("a 10 MB node name", plan(cluster(node(4, name=BIG))), 2, "10,000,000 characters"),
    Attack("a 10 MB unknown key", plan(cluster(node(0, **{BIG: 1}))), 2, "unknown key"),
    Attack("shell in a node name", plan(cluster(node(4, name="node-5;reboot"))), 2, "nodes[4].name"),
    Attack("command substitution in a zone", plan(cluster(node(4, zone="$(reboot)"))), 2, "nodes[4].zone"),
    Attack("volume named -rf", plan(cluster(lambda d: d["volumes"][0].update(name="-rf"))), 2, "volumes[0].name"),
    Attack("zone of 64 characters", plan(cluster(node(0, zone="z" * 64))), 2, "at most 63"),
    Attack("a name that is a number", plan(cluster(node(0, name=5))), 2, "expected a string"),
    # -- hostile names in options ------------------------------------------------------------------
    Attack("--fail ending in a newline", seed_plan("--fail", "node-2\n"), 2, "not a valid node name"),
    Attack("--fail-zone ending in a newline", seed_plan("--fail-zone", "zone-a\n"), 2, "not a valid zone"),
    Attack("--fail of 10 MB", seed_plan("--fail", BIG), 2, "10,000,000 characters"),
    Attack("--namespace ending in a newline", seed_plan("--fail", "node-2", "--format", "script", "--namespace", "kafka\n"),
           2, "--namespace"),
    Attack("--namespace in capitals", seed_plan("--fail", "node-2", "--format", "script", "--namespace", "Kafka"), 2,
           "--namespace"),
    Attack("--statefulset too long for a pod name", seed_plan("--fail", "node-2", "--format", "script",
                                                              "--statefulset", "k" * 62), 2, "--statefulset"),
    Attack("--bootstrap-server ending in a newline", seed_plan("--fail", "node-2", "--format", "script",
                                                               "--bootstrap-server", "kafka:9092\n"), 2, "--bootstrap-server"),
    Attack("--bootstrap-server port 99999", seed_plan("--fail", "node-2", "--format", "script",
                                                      "--bootstrap-server", "kafka:99999"), 2, "1..65535"),
    Attack("--bootstrap-server with a command", seed_plan("--fail", "node-2", "--format", "script",
                                                          "--bootstrap-server", "$(reboot):9092"), 2, "--bootstrap-server"),
    # -- huge and impossible numbers ---------------------------------------------------------------
    Attack("sizeGiB 1e308", plan(cluster(lambda d: d["volumes"][0].update(sizeGiB=1e308))), 2, "1 PiB"),
    Attack("usedGiB 1e308", plan(cluster(lambda d: d["volumes"][0].update(usedGiB=1e308))), 2, "volumes[0].usedGiB"),
    Attack("storageGiB 1e308", plan(cluster(node(0, storageGiB=1e308))), 2, "nodes[0].storageGiB"),
    Attack("storageGiB below a MiB", plan(cluster(node(0, storageGiB=1e-9))), 2, "less than 1 MiB"),
    Attack("brokersPerNode 1e20", plan(cluster(lambda d: d["policy"].update(brokersPerNode=10**20))), 2, "1..1,000"),
    Attack("brokersPerNode 0", plan(cluster(lambda d: d["policy"].update(brokersPerNode=0))), 2, "policy.brokersPerNode"),
    Attack("cpu 1e300", plan(cluster(node(0, cpu=1e300))), 2, "0..100,000"),
    Attack("memoryGiB 1e300", plan(cluster(node(0, memoryGiB=1e300))), 2, "nodes[0].memoryGiB"),
    Attack("broker cpu 1e300", plan(cluster(lambda d: d["brokers"][0].update(cpu=1e300))), 2, "brokers[0].cpu"),
    Attack("nodeBandwidthGbps near the float limit", plan(cluster(lambda d: d["policy"].update(nodeBandwidthGbps=1.7e308))),
           2, "policy.nodeBandwidthGbps"),
    Attack("nodeBandwidthGbps 1e-300", plan(cluster(lambda d: d["policy"].update(nodeBandwidthGbps=1e-300))), 2,
           "0.001..100,000"),
    Attack("nodeBandwidthGbps 0", plan(cluster(lambda d: d["policy"].update(nodeBandwidthGbps=0))), 2, "bandwidth"),
    Attack("nodeBandwidthGbps at its top plans", plan(cluster(lambda d: d["policy"].update(nodeBandwidthGbps=100_000))), 0,
           '"finishSeconds"'),
    Attack("a petabyte copied at 1 Mbit/s plans, in finite JSON", plan(cluster(_petabyte_at_a_megabit)), 0, '"finishSeconds"'),
    Attack("minInsyncReplicas 1e20", plan(cluster(lambda d: d["policy"].update(minInsyncReplicas=10**20))), 2,
           "policy.minInsyncReplicas"),
    Attack("replicationFactor 1e30", plan(cluster(lambda d: d["volumes"][0].update(replicationFactor=10**30))), 2, "1..3"),
    Attack("stale GiB 1e308", plan(cluster(lambda d: d["volumes"][0].update(stale={"node-1": 1e308}))), 2,
           "volumes[0].stale"),
    Attack("partition sizeGiB 1e308", plan(cluster(lambda d: d["topics"][0]["partitions"][0].update(sizeGiB=1e308))), 2,
           "topics[0].partitions[0].sizeGiB"),
    Attack("an integer of 5,000 digits", plan(lambda tmp: put(tmp, "c.json", json.dumps(seed_doc()).replace(
        '"sizeGiB": 100', '"sizeGiB": ' + "9" * 5000, 1))), 2, "4,300 digits"),
    Attack("NaN in JSON", plan(lambda tmp: put(tmp, "c.json", json.dumps(seed_doc()).replace('"sizeGiB": 100', '"sizeGiB": NaN', 1))),
           2, "NaN"),
    Attack("Infinity in JSON", plan(lambda tmp: put(tmp, "c.json", json.dumps(seed_doc()).replace(
        '"sizeGiB": 100', '"sizeGiB": -Infinity', 1))), 2, "Infinity"),
    Attack(".inf in YAML", plan(lambda tmp: put(tmp, "c.yaml", SEED.read_text().replace("sizeGiB: 100", "sizeGiB: .inf", 1))),
           2, "volumes[0].sizeGiB"),
    # -- malformed and deeply nested documents -----------------------------------------------------
    Attack("100,000-deep JSON array", plan(lambda tmp: put(tmp, "c.json", deep_json(100_000))), 2, "nested too deeply"),
    Attack("100,000-deep JSON object", plan(lambda tmp: put(tmp, "c.json", '{"a":' * 100_000 + "1" + "}" * 100_000)), 2,
           "nested too deeply"),
    Attack("100,000-deep YAML flow", plan(lambda tmp: put(tmp, "c.yaml", deep_json(100_000))), 2, "nested"),
    Attack("100-deep value in a cluster", plan(cluster(node(0, cpu=json.loads(deep_json(100))))), 2, "nests more than 64 levels"),
    Attack("bytes that are not UTF-8", plan(lambda tmp: put(tmp, "c.yaml", b"name: \xff\xfe\x00x\n")), 2, "UTF-8"),
    Attack("a list at the top", plan(lambda tmp: put(tmp, "c.json", "[1, 2, 3]")), 2, "expected a mapping"),
    Attack("a python tag", plan(lambda tmp: put(tmp, "c.yaml", "name: !!python/object/apply:os.system ['true']\n")), 2, "tag"),
    Attack("a plan document 100,000 deep", lambda tmp: ["verify", str(SEED), put(tmp, "p.json", deep_json(100_000))], 2,
           "nested too deeply"),
    Attack("a plan document that is a list", lambda tmp: ["verify", str(SEED), put(tmp, "p.json", "[]")], 2, "plan document"),
    Attack("an empty plan document", lambda tmp: ["verify", str(SEED), put(tmp, "p.json", "")], 2, "empty"),
    # -- YAML aliases ------------------------------------------------------------------------------
    Attack("a billion laughs as a cluster", plan(lambda tmp: put(tmp, "c.yaml", LAUGHS)), 2, "aliases may add at most"),
    Attack("a billion laughs as a plan document", lambda tmp: ["verify", str(SEED), put(tmp, "p.yaml", LAUGHS)], 2,
           "aliases may add at most"),
    Attack("a billion laughs in the steps", lambda tmp: ["verify", str(SEED), put(tmp, "p.yaml", LAUGHS.replace("i: &i", "steps: &i"))],
           2, "aliases may add at most"),
    Attack("an alias inside its own anchor", plan(lambda tmp: put(tmp, "c.yaml", "nodes: &a [*a]\n")), 2, "contains itself"),
    Attack("a billion laughs as an import source", lambda tmp: ["import", put(tmp, "s.yaml", "apiVersion: v1\nkind: List\n" + LAUGHS)],
           2, "aliases may add at most"),
    # -- special files -----------------------------------------------------------------------------
    Attack("/dev/zero as the cluster", lambda tmp: ["plan", "/dev/zero"], 2, "not a regular file or a pipe"),
    Attack("/dev/urandom as the cluster", lambda tmp: ["check", "/dev/urandom"], 2, "not a regular file or a pipe"),
    Attack("/dev/null as the plan document", lambda tmp: ["verify", str(SEED), "/dev/null"], 2, "not a regular file"),
    Attack("/dev/zero as an import source", lambda tmp: ["import", "/dev/zero"], 2, "not a regular file or a pipe"),
    Attack("a named pipe nobody writes to", lambda tmp: ["plan", _fifo(tmp)], 2, "empty"),
    Attack("a cluster file over the size cap", plan(seed_copy), 2, "larger than the 1,048 bytes",
           env={"PLACEMENT_MAX_INPUT_MIB": "0.001"}),
    Attack("an empty directory as the cluster", lambda tmp: ["plan", str(_folder(tmp, "empty"))], 2, "holds no files"),
    Attack("a missing cluster file", lambda tmp: ["plan", str(tmp / "missing.yaml")], 2, "no such file"),
    Attack("a cluster path too long for the system", lambda tmp: ["plan", str(tmp / ("a" * 5000))], 2, "File name too long"),
    Attack("an import source path too long", lambda tmp: ["import", "a" * 5000], 2, "File name too long"),
    Attack("a loop of links as the cluster", lambda tmp: ["plan", _loop(tmp)], 2, "symbolic links"),
    Attack("capture -o too long for the system", lambda tmp: ["capture", "-o", "a" * 5000], 2, "File name too long"),
    Attack("-o too long for the system", seed_plan("--fail", "node-2", "-o", "a" * 5000), 2, "File name too long"),
    # -- bad options -------------------------------------------------------------------------------
    Attack("--seed 2147483648", seed_plan("--fail", "node-2", "--seed", "2147483648"), 2, "0..2,147,483,647"),
    Attack("--seed -1", seed_plan("--fail", "node-2", "--seed", "-1"), 2, "--seed"),
    Attack("--seed of 10 MB digits", seed_plan("--fail", "node-2", "--seed", "9" * 10_000_000), 2, "--seed"),
    Attack("--time-limit nan", seed_plan("--fail", "node-2", "--time-limit", "nan"), 2, "--time-limit"),
    Attack("--time-limit inf", seed_plan("--fail", "node-2", "--time-limit", "inf"), 2, "--time-limit"),
    Attack("--time-limit 0", seed_plan("--fail", "node-2", "--time-limit", "0"), 2, "0.1..1,000,000"),
    Attack("--remove-broker 2147483648", seed_plan("--remove-broker", "2147483648"), 2, "--remove-broker"),
    Attack("--remove-broker abc", seed_plan("--remove-broker", "abc"), 2, "--remove-broker"),
    Attack("--remove-broker +-1", seed_plan("--remove-broker", "+-1"), 2, "--remove-broker"),
    Attack("--seed in superscript digits", seed_plan("--fail", "node-2", "--seed", "\u00b2"), 2, "--seed"),
    Attack("--format of 10 MB", seed_plan("--format", BIG), 2, "cut at 1000 characters"),
    Attack("an unknown option of 10 MB", seed_plan("--" + BIG), 2, "No such option"),
    Attack("check --time-limit inf", lambda tmp: ["check", str(SEED), "--time-limit", "inf"], 2, "--time-limit"),
    Attack("capture --timeout nan", lambda tmp: ["capture", "-o", str(tmp / "cap"), "--timeout", "nan"], 2, "--timeout"),
    Attack("capture --namespace with a space", lambda tmp: ["capture", "-o", str(tmp / "cap"), "--namespace", "a b"], 2,
           "--namespace"),
    # -- output paths ------------------------------------------------------------------------------
    Attack("-o the cluster file", lambda tmp: ["plan", seed_copy(tmp), "--fail", "node-2", "-o", str(tmp / "seed.yaml")], 2,
           "which this command reads"),
    Attack("-o a link to the cluster file", lambda tmp: ["plan", seed_copy(tmp), "--fail", "node-2", "-o", _link(tmp)], 2,
           "which this command reads"),
    Attack("-o the cluster file by another path", lambda tmp: ["plan", seed_copy(tmp), "--fail", "node-2", "-o",
                                                               str(_folder(tmp, "sub")) + "/../seed.yaml"], 2,
           "which this command reads"),
    Attack("-o inside the capture directory", lambda tmp: ["plan", str(_capture(tmp)), "--fail", "node-2", "-o",
                                                           str(tmp / "capture" / "plan.json")], 2, "a directory this command reads"),
    Attack("-o the Kafka rollback file over the cluster", lambda tmp: ["plan", put(tmp, "c.rollback.json", seed_doc()),
                                                                       "--fail", "node-2", "--format", "kafka",
                                                                       "-o", str(tmp / "c.json")], 2, "which this command reads"),
    Attack("-o into a missing folder", seed_plan("--fail", "node-2", "-o", "/nonexistent-folder/plan.json"), 2, "does not exist"),
    Attack("-o /dev/full", seed_plan("--fail", "node-2", "-o", "/dev/full"), 2, "not a regular file"),
    Attack("-o a read-only file", lambda tmp: ["plan", str(SEED), "--fail", "node-2", "-o", _read_only(tmp)], 2, "read-only"),
    Attack("-o a directory", lambda tmp: ["plan", str(SEED), "--fail", "node-2", "-o", str(tmp)], 2, "directory"),
    Attack("check -o the cluster file", lambda tmp: ["check", seed_copy(tmp), "--format", "json", "-o", str(tmp / "seed.yaml")],
           2, "which this command reads"),
    Attack("import -o a source", lambda tmp: ["import", str(_capture(tmp)), "-o", str(tmp / "capture" / "nodes.json")], 2,
           "a directory this command reads"),
    Attack("import -o and --report the same file", lambda tmp: ["import", str(_capture(tmp)), "-o", str(tmp / "x.json"),
                                                                "--report", str(tmp / "x.json")], 2, "also where"),
    Attack("import --report into a missing folder", lambda tmp: ["import", str(_capture(tmp)), "--report",
                                                                 str(tmp / "no" / "r.json")], 2, "does not exist"),
    Attack("verify a plan document that is the cluster", lambda tmp: ["verify", str(SEED), str(SEED)], 2,
           "plan documents of version 1"),
]


def _fifo(tmp: Path) -> str:
    path = tmp / "fifo"
    os.mkfifo(path)
    return str(path)


def _loop(tmp: Path) -> str:
    (tmp / "loop1").symlink_to(tmp / "loop2")
    (tmp / "loop2").symlink_to(tmp / "loop1")
    return str(tmp / "loop1")


def _folder(tmp: Path, name: str) -> Path:
    (tmp / name).mkdir(exist_ok=True)
    return tmp / name


def _link(tmp: Path) -> str:
    (tmp / "link.yaml").symlink_to(tmp / "seed.yaml")
    return str(tmp / "link.yaml")


def _read_only(tmp: Path) -> str:
    path = tmp / "ro.json"
    path.write_text("{}")
    path.chmod(0o444)
    return str(path)


def _capture(tmp: Path) -> Path:
    """A capture directory (any file will do: these attacks are refused before anything is read)."""
    folder = _folder(tmp, "capture")
    (folder / "nodes.json").write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    return folder


@pytest.fixture(autouse=True)
def _bounded_time():
    """A case that hangs fails here instead of hanging the suite."""
    def expired(signum, frame):
        raise TimeoutError(f"an attack ran over {SECONDS * 2} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(SECONDS * 2)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def invoke(argv: list[str], env: dict | None = None):
    started = time.perf_counter()
    result = CliRunner().invoke(cli.main, argv, env=env or {})
    return result, time.perf_counter() - started


def test_the_corpus_is_large_enough():
    assert len(ATTACKS) >= 60 and len({a.name for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(tmp_path, attack):
    argv = attack.argv(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not stat.S_ISFIFO(p.lstat().st_mode)}
    result, seconds = invoke(argv, attack.env)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and not isinstance(result.exception, (AssertionError, TypeError, ValueError)), output[-2000:]
    assert result.exit_code == attack.exit, (result.exit_code, output[-2000:])
    assert attack.fragment in output, output[-2000:]
    assert seconds < SECONDS, seconds
    if attack.exit == 2:
        assert len(output) < OUTPUT, len(output)
        # a refusal writes nothing: every file there is as it was, and no temporary file is left
        after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not stat.S_ISFIFO(p.lstat().st_mode)}
        assert after == before


# -- the library: wrong types are placement.InputError (exit 2 through the CLI), never a raw exception --

def _seed():
    return placement.load_cluster(SEED)


LIBRARY = [
    ("plan fail as a bare string", lambda c: placement.plan(c, fail="node-2"), "fail=['node-2']"),
    ("plan fail_zones as a bare string", lambda c: placement.plan(c, fail_zones="zone-a"), "fail_zones"),
    ("plan remove_brokers of strings", lambda c: placement.plan(c, remove_brokers=["1"]), "remove_brokers[0]"),
    ("plan remove_brokers of booleans", lambda c: placement.plan(c, remove_brokers=[True]), "remove_brokers[0]"),
    ("plan remove_brokers as a number", lambda c: placement.plan(c, remove_brokers=1), "remove_brokers"),
    ("plan a path instead of a cluster", lambda c: placement.plan(str(SEED)), "expected a Cluster"),
    ("plan seed above CP-SAT's range", lambda c: placement.plan(c, seed=2**31), "seed"),
    ("plan NaN time limit", lambda c: placement.plan(c, time_limit=float("nan")), "time_limit"),
    ("plan a node name ending in a newline", lambda c: placement.plan(c, fail=["node-2\n"]), "fail[0]"),
    ("plan allow_unclean as a string", lambda c: placement.plan(c, allow_unclean="no"), "allow_unclean"),
    ("check failures as a string", lambda c: placement.check(c, failures="2"), "failures"),
    ("check negative failures", lambda c: placement.check(c, failures=-1), "failures"),
    ("check zero jobs", lambda c: placement.check(c, jobs=0), "jobs"),
    ("check zones as a string", lambda c: placement.check(c, zones="yes"), "zones"),
    ("load_cluster of None", lambda c: placement.load_cluster(None), "path"),
    ("load_plan_document of a number", lambda c: placement.load_plan_document(42), "path"),
    ("verify a plan document of None", lambda c: placement.verify(c, None), "plan_document"),
    ("verify a path instead of a document", lambda c: placement.verify(c, "plan.json"), "plan_document"),
    ("verify fail as a bare string", lambda c: placement.verify(c, {}, fail="node-2"), "fail"),
    ("import_cluster of None", lambda c: placement.import_cluster(None), "paths[0]"),
    ("import_cluster objects as a string", lambda c: placement.import_cluster(objects="{}"), "objects"),
    ("ok_to_stop nodes as a bare string", lambda c: placement.ok_to_stop(c, "node-1"), "nodes=['node-1']"),
    ("ok_to_stop nodes of None", lambda c: placement.ok_to_stop(c, None), "nodes"),
    ("ok_to_stop a node name ending in a newline", lambda c: placement.ok_to_stop(c, ["node-2\n"]), "nodes[0]"),
    ("ok_to_stop min_replicas above 3", lambda c: placement.ok_to_stop(c, ["node-1"], 4), "min_replicas"),
    ("ok_to_stop a path instead of a cluster", lambda c: placement.ok_to_stop(str(SEED), ["node-1"]),
     "expected a Cluster"),
    ("waves max_wave of 0", lambda c: placement.waves(c, 0), "max_wave"),
    ("waves max_wave as a string", lambda c: placement.waves(c, "2"), "max_wave"),
    ("waves NaN time limit", lambda c: placement.waves(c, time_limit=float("nan")), "time_limit"),
    ("waves min_replicas as a boolean", lambda c: placement.waves(c, min_replicas=True), "min_replicas"),
]


@pytest.mark.parametrize("call, fragment", [(call, fragment) for _, call, fragment in LIBRARY],
                         ids=[name for name, _, _ in LIBRARY])
def test_library_refuses_wrong_arguments(call, fragment):
    with pytest.raises(placement.InputError) as caught:
        call(_seed())
    assert fragment in caught.value.paragraph()
    assert len(caught.value.paragraph()) < OUTPUT


# -- cases a CliRunner cannot play: real processes, pipes, devices ----------------------------------

def _placement(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "placement.cli", *args], capture_output=True, text=True,
                          timeout=SECONDS, cwd=ROOT, **kwargs)


def test_a_full_standard_output_is_exit_2():
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "placement.cli", "plan", str(SEED), "--fail", "node-2",
                               "--format", "json"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=SECONDS)
    assert done.returncode == 2 and "standard output cannot be written" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_endless_pipe_is_cut_at_the_cap(tmp_path):
    """A pipe is read, but only up to the cap: a writer that never stops does not make placement read forever."""
    fifo = _fifo(tmp_path)

    def write_forever():
        try:
            with open(fifo, "w") as pipe:
                while True:
                    pipe.write("a" * 65536)
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    done = _placement("plan", fifo, env={**os.environ, "PLACEMENT_MAX_INPUT_MIB": "1"})
    assert done.returncode == 2 and "holds more than that" in done.stderr, done.stderr


def test_a_cluster_from_a_pipe_plans(tmp_path):
    """Pipes are inputs like files (process substitution, /dev/stdin)."""
    done = subprocess.run([sys.executable, "-m", "placement.cli", "plan", "/dev/stdin", "--fail", "node-2",
                           "--format", "json"], input=SEED.read_text(), capture_output=True, text=True, timeout=SECONDS,
                          cwd=ROOT)
    assert done.returncode == 0 and json.loads(done.stdout)["status"] == "optimal"

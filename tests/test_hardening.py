"""The pieces of issue 9's hardening one by one: the name policy, bounded messages, bounded
reading, alias and depth limits, strict JSON, output files written whole, the summarised table."""
from __future__ import annotations

import errno
import io
import json
import os
import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import placement
from placement import cli
from placement.models import names
from placement.models.documents import ALIAS_BUDGET, MAX_DEPTH, dump_json, parse_text, read_text
from placement.models.errors import InputError, InternalError, Problem, excerpt
from placement.models.loading import BROKERS_PER_NODE_MAX, GIB_MAX, parse_cluster
from placement.render import outputs as outputs_module
from placement.render.outputs import Outputs

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


# -- the name policy ------------------------------------------------------------------------------

VALID = {
    "node": ["node-1", "worker-0.lab.example.com", "a" * 63],
    "zone": ["zone-a", "us-east-1a", "Zone_1.b", "z" * 63],
    "volume": ["pvc-kafka-0", "pvc-3f2a_b.c", "v" * 253],
    "cluster": ["seed", "prod.kafka-1"],
    "topic": ["orders", "__consumer_offsets", "a.b-c_d", "t" * 249, "..."],
    "namespace": ["kafka", "kafka-prod-1"],
    "statefulset": ["kafka", "s" * 61],
    "bootstrap": ["localhost:9092", "kafka-0.kafka:9092,kafka-1.kafka:9093", "[::1]:9092", "10.0.0.1:1"],
}
INVALID = {
    "node": ["node-1\n", "\nnode-1", "Node-1", "a" * 64, "a..b", "", "node 1", "node-1;reboot"],
    "zone": ["zone-a\n", "-zone", "z" * 64, "zone a", "$(reboot)"],
    "volume": ["pvc\n", "-rf", "v" * 254, "a/b", ""],
    "cluster": ["seed\n", "a b", ""],
    "topic": [".", "..", "orders\n", "t" * 250, "a b", "a/b", ""],
    "namespace": ["kafka\n", "Kafka", "k" * 64, "-kafka", "kafka.prod"],
    "statefulset": ["kafka\n", "s" * 62, "Kafka"],
    "bootstrap": ["localhost:9092\n", "localhost", "localhost:0", "localhost:65536", "$(reboot):9092", "a:1,", ":9092"],
}


@pytest.mark.parametrize("kind, value", [(k, v) for k, values in VALID.items() for v in values])
def test_valid_names(kind, value):
    assert names.name_problem(kind, value) is None


@pytest.mark.parametrize("kind, value", [(k, v) for k, values in INVALID.items() for v in values])
def test_invalid_names_are_refused_with_a_bounded_message(kind, value):
    message = names.name_problem(kind, value)
    assert message is not None and len(message) < 400


def test_every_rule_is_a_full_match():
    """Anchored at both ends: even .match (as the importer uses the patterns) refuses a trailing newline."""
    from placement.models.loading import LABEL_VALUE, NODE_NAME, TOPIC_NAME, VOLUME_NAME

    for kind, values in VALID.items():
        rule = names.NAMES[kind]
        assert rule.pattern.match(values[0]) and rule.pattern.match(values[0] + "\n") is None
        assert names.name_problem(kind, values[0] + "\n") is not None
    for pattern in (LABEL_VALUE, NODE_NAME, TOPIC_NAME, VOLUME_NAME):
        assert pattern.match("a1\n") is None and pattern.match("a1")


def test_pod_names_fit_in_63_characters():
    assert names.pod_name_problem("k" * 52, 2**31 - 1) is None  # 52 + '-' + 10 digits = 63
    assert "64 characters" in names.pod_name_problem("k" * 53, 2**31 - 1)
    assert names.pod_name_problem("k" * 61, 0) is None


# -- bounded messages -----------------------------------------------------------------------------

def test_an_excerpt_is_bounded():
    assert excerpt("x" * 10_000_000) == repr("x" * 48) + "... (10,000,000 characters)"
    assert excerpt(10**4000).startswith("an integer of about 4,001 digits")
    assert excerpt(True) == "true" and excerpt(None) == "nothing" and excerpt({}) == "a mapping"


def test_a_paragraph_is_bounded():
    error = InputError("f.yaml", [Problem("p" * 5000, "m" * 5000) for _ in range(1000)])
    text = error.paragraph()
    assert "1,000 problems found" in text and "and 975 more" in text and len(text) < 40_000


# -- reading: special files, the size cap, depth and aliases ---------------------------------------

def test_devices_are_not_read():
    with pytest.raises(InputError, match="not a regular file or a pipe"):
        read_text("/dev/zero")


def test_files_over_the_cap_are_refused_without_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text("x" * 5000)
    monkeypatch.setenv("PLACEMENT_MAX_INPUT_MIB", str(4000 / 2**20))
    with pytest.raises(InputError, match="is 5,000 bytes"):
        read_text(path)
    monkeypatch.setenv("PLACEMENT_MAX_INPUT_MIB", "junk")  # a bad setting falls back to the default
    assert read_text(path) == "x" * 5000


def test_depth_up_to_the_limit_loads():
    assert parse_text(json.dumps({"a": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))}), "d.json")
    with pytest.raises(InputError, match="nests more than"):
        parse_text(json.dumps({"a": json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)}), "d.json")


def test_aliases_a_person_writes_still_load():
    """Anchors, aliases and merge keys in a hand-written cluster file are fine."""
    text = ("defaults: &node {zone: zone-a, storageGiB: 100}\n"
            "replicas: &three [n1, n2, n3]\n"
            "nodes:\n  - {<<: *node, name: n1}\n  - {<<: *node, name: n2}\n  - {<<: *node, name: n3}\n"
            "volumes:\n  - {name: v1, sizeGiB: 1, replicas: *three}\n  - {name: v2, sizeGiB: 1, replicas: *three}\n")
    data = parse_text(text, "c.yaml")
    data.pop("defaults"), data.pop("replicas")
    cluster = parse_cluster(data, "c.yaml")
    assert [v.replicas for v in cluster.volumes] == [("n1", "n2", "n3")] * 2


def test_aliases_beyond_the_budget_are_refused_quickly():
    levels = ["a: &a [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]" for p, c in zip("abcdef", "bcdefg")]
    text = "\n".join(levels) + "\n"  # 10^7 values from a few hundred bytes
    with pytest.raises(InputError, match=f"at most {ALIAS_BUDGET:,}"):
        parse_text(text, "bomb.yaml")
    assert parse_text("\n".join(levels[:5]) + "\n", "ok.yaml")["e"][0][0][0][0] == ["x"] * 10  # 10^5: allowed


def test_a_document_containing_itself_is_refused():
    with pytest.raises(InputError, match="contains itself"):
        parse_text("a: &a [b, *a]\n", "c.yaml")


def test_strict_json():
    assert dump_json({"a": 1.5}) == '{\n  "a": 1.5\n}\n'
    for figure in (float("inf"), float("nan")):
        with pytest.raises(InternalError, match="not a finite number"):
            dump_json({"a": [figure]})


# -- ranges at load time --------------------------------------------------------------------------

def _one_node(**fields) -> dict:
    return {"nodes": [{"name": "n1", "storageGiB": 10, **fields}]}


@pytest.mark.parametrize("fields", [{"storageGiB": GIB_MAX}, {"cpu": 100_000}, {"memoryGiB": GIB_MAX}, {"storageGiB": 0.001}])
def test_figures_at_the_ends_of_their_ranges_load(fields):
    assert parse_cluster(_one_node(**fields)).nodes[0]


@pytest.mark.parametrize("fields, where", [({"storageGiB": GIB_MAX + 1}, "storageGiB"), ({"cpu": 100_001}, "cpu"),
                                           ({"memoryGiB": -1}, "memoryGiB"), ({"cpu": float("inf")}, "cpu")])
def test_figures_beyond_their_ranges_are_refused(fields, where):
    with pytest.raises(InputError, match=f"nodes\\[0\\].{where}"):
        parse_cluster(_one_node(**fields))


def test_policy_ranges():
    assert parse_cluster({"policy": {"brokersPerNode": BROKERS_PER_NODE_MAX, "nodeBandwidthGbps": 0.001},
                          "nodes": []}).policy.brokers_per_node == BROKERS_PER_NODE_MAX
    with pytest.raises(InputError, match="1..1,000"):
        parse_cluster({"policy": {"brokersPerNode": BROKERS_PER_NODE_MAX + 1}, "nodes": []})


# -- output files ---------------------------------------------------------------------------------

def test_an_output_is_written_whole_with_the_mode_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "plan.json"
    target.write_text("old")
    target.chmod(0o640)
    outputs = Outputs()
    out = outputs.file(str(target))
    outputs.write({out: "new"})
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # no probe or temporary file left


def test_writing_through_a_link_keeps_the_link(tmp_path):
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    outputs = Outputs()
    outputs.write({outputs.file(str(tmp_path / "link.json")): "new"})
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "real.json").read_text() == "new"


def test_a_failed_write_leaves_every_file_as_it_was(tmp_path, monkeypatch):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text("a")
    outputs = Outputs()
    files = [outputs.file(str(first)), outputs.file(str(second))]
    real_write = outputs_module._write_temporary

    def full_disk(out, text):
        if out is files[1]:
            raise out.refuse(f"cannot be written: {os.strerror(errno.ENOSPC)}; the file is as it was")
        return real_write(out, text)

    monkeypatch.setattr(outputs_module, "_write_temporary", full_disk)
    with pytest.raises(InputError, match="No space left"):
        outputs.write({files[0]: "A", files[1]: "B"})
    assert first.read_text() == "a" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_write_error_after_solving_is_exit_2_and_the_old_file_stays(tmp_path, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text("old plan")

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "-o", str(target)])
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert target.read_text() == "old plan" and sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_the_script_is_executable(tmp_path):
    target = tmp_path / "recover.sh"
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "--format", "script", "-o", str(target)])
    assert result.exit_code == 0 and os.access(target, os.X_OK) and target.read_text().startswith("#!")


def test_check_with_the_table_writes_the_document_to_o(tmp_path):
    target = tmp_path / "check.json"
    result = CliRunner().invoke(cli.main, ["check", str(SEED), "-o", str(target)])
    assert result.exit_code in (0, 1) and "survive" in result.stdout
    assert "tolerates" in json.loads(target.read_text())


# -- the table of a large plan ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def large_plan():
    from placement.models.generate import generate_cluster

    cluster = generate_cluster(nodes=60, zones=3, brokers=30, volumes=90, partitions=300, seed=3)
    return cluster, placement.plan(cluster, fail_zones=["zone-b"], time_limit=30)


def _table(cluster, plan, **options) -> str:
    from placement.render.tables import console, render_plan

    buffer = io.StringIO()
    render_plan(console(buffer), cluster, plan, **options)
    return buffer.getvalue()


def test_a_large_plan_table_is_summarised(large_plan):
    cluster, plan = large_plan
    text = _table(cluster, plan)
    changed = sum(1 for v in cluster.volumes if tuple(plan.placement.volumes.get(v.name) or ()) != v.replicas)
    assert changed > 20
    assert f"... and {changed - 20:,} more volumes whose replicas change (--all shows every row" in text
    assert f"... and {len(plan.steps) - 20:,} more steps (in all " in text
    assert text.count("pvc-") < 3 * 40  # only the rows shown name volumes (before, after, steps)


def test_all_shows_every_row(large_plan):
    cluster, plan = large_plan
    text = _table(cluster, plan, show_all=True)
    assert "... and" not in text
    assert all(f"│ {s.id} " in text for s in plan.steps)

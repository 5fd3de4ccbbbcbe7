"""Hostile and damaged tool outputs through import: each is refused with exit status 2 naming its
file and item, or imported with every change it had to make reported; never an internal error,
never a silent change (found by an outside tester, one case per finding)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from placement.imports import import_cluster
from placement.models.errors import InputError
from tests.importing import DESCRIBE, items, node, pod, px_volume, status_text


def test_a_pod_whose_node_name_is_not_a_string_is_bad_input():
    broken = pod("kafka-0", "a")
    broken["spec"]["nodeName"] = 7
    with pytest.raises(InputError, match=r"pod kafka/kafka-0.*spec\.nodeName"):
        import_cluster(objects=[items(node("a", zone="z")), items(broken)])


@pytest.mark.parametrize("size", ["1" + "0" * 400, "9" * 5000, str(2**64)])
def test_a_portworx_size_beyond_64_bits_is_bad_input(size):
    volume = px_volume("1", "pvc-a", ["a"], size=size)
    with pytest.raises(InputError, match=r"volume pvc-a.*spec\.size.*fits 64 bits"):
        import_cluster(objects=[items(node("a", zone="z")), [volume]])


def test_a_portworx_count_in_other_digits_is_bad_input():
    volume = px_volume("1", "pvc-a", ["a"], ha="\u0663")  # ARABIC-INDIC DIGIT THREE: int() would take it
    with pytest.raises(InputError, match=r"spec\.ha_level.*whole number"):
        import_cluster(objects=[items(node("a", zone="z")), [volume]])


@pytest.mark.parametrize("name", [5, None, ""])
def test_a_node_without_a_string_name_is_bad_input(name):
    broken = node("a", zone="z")
    broken["metadata"]["name"] = name
    with pytest.raises(InputError, match=r"a Node: metadata\.name is .*expected the object's name"):
        import_cluster(objects=[items(broken)])


@pytest.mark.parametrize("name", ["kafka-0\n", "kafka-\u0660"])  # a trailing newline; ARABIC-INDIC DIGIT ZERO
def test_a_broker_id_is_read_only_from_ascii_digits_that_end_the_pod_name(name):
    r = import_cluster(objects=[items(node("a", zone="z")), items(pod(name, "a"))])
    assert r.document["brokers"] == []
    assert any("does not end in a number" in i.message for i in r.report.items)


def _describe(*lines: str, count: int = 2) -> str:
    return (f"Topic: orders\tTopicId: abc\tPartitionCount: {count}\tReplicationFactor: 2\tConfigs: min.insync.replicas=1\n"
            + "".join(f"\tTopic: orders\t{line}\n" for line in lines))


def test_a_partition_line_with_a_negative_id_is_bad_input_not_left_out():
    text = _describe("Partition: -1\tLeader: 0\tReplicas: 0,1\tIsr: 0,1", "Partition: 1\tLeader: 1\tReplicas: 1,0\tIsr: 1,0")
    with pytest.raises(InputError, match=r"line 2.*partition '-1'"):
        import_cluster(texts={"topics.txt": text})


@pytest.mark.parametrize("cut", ["Partition: 1\tLeader: 1\tReplicas: 1,0", "Partition: 1\tLeader: 1\tRepl"])
def test_a_partition_line_cut_short_is_bad_input(cut):
    text = _describe("Partition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0,1", cut)
    with pytest.raises(InputError, match=r"line 3: topic orders partition 1: .*cut short"):
        import_cluster(texts={"topics.txt": text})


def test_fewer_partitions_than_the_header_counts_are_reported():
    text = _describe("Partition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0,1", count=8)
    r = import_cluster(texts={"topics.txt": text})
    assert [len(t["partitions"]) for t in r.document["topics"]] == [1]
    unresolved = [i for i in r.report.items if i.kind == "unresolved" and i.item == "topic orders"]
    assert unresolved and "PartitionCount 8" in unresolved[0].message and "1 partition" in unresolved[0].message


def test_a_portworx_volume_without_replica_sets_is_reported():
    volume = px_volume("1", "pvc-a", ["a"])
    volume["replica_sets"] = []
    r = import_cluster(objects=[items(node("a", zone="z")), [volume]])
    assert r.document["volumes"][0]["replicas"] == []
    assert any(i.kind == "unresolved" and i.item == "volume pvc-a" and "no replica" in i.message for i in r.report.items)


def test_a_node_listed_twice_in_one_replica_set_is_reported():
    volume = px_volume("1", "pvc-a", ["a", "a", "a"], ha=3)
    r = import_cluster(objects=[items(node("a", zone="z")), [volume]])
    assert r.document["volumes"][0]["replicas"] == ["a"]
    assert any(i.kind == "assumed" and i.item == "volume pvc-a" and "more than once" in i.message for i in r.report.items)


@pytest.mark.parametrize("where, value, message", [
    ("unschedulable", "false", r"spec\.unschedulable is 'false'; expected true or false"),
    ("taints", {"key": "node.kubernetes.io/out-of-service"}, r"spec\.taints is a mapping; expected a list"),
    ("conditions", "Ready", r"status\.conditions is 'Ready'; expected a list"),
])
def test_node_fields_of_the_wrong_type_are_bad_input_not_misread(where, value, message):
    broken = node("a", zone="z")
    (broken["status"] if where == "conditions" else broken["spec"])[where] = value
    with pytest.raises(InputError, match=r"node a: " + message):
        import_cluster(objects=[items(broken)])


def test_a_duplicate_key_in_an_import_source_is_bad_input(tmp_path):
    source = tmp_path / "nodes.json"
    source.write_text('{"apiVersion": "v1", "kind": "Node", "kind": "Pod", "metadata": {"name": "a"}}')
    with pytest.raises(InputError, match=r"nodes\.json.*duplicate key 'kind'"):
        import_cluster(str(source))


def test_standard_input_named_twice_is_bad_input():
    import io

    with pytest.raises(InputError, match="standard input is named twice"):
        import_cluster("-", "-", stdin=io.StringIO(DESCRIBE))


@pytest.mark.parametrize("name", ["2024-01-01", "2024-1-1", "1999-12-31", "123", "0x1F", "1e3", "yes",
                                  "Off", "null", "1_000"])
def test_the_cluster_file_import_writes_reads_back_every_topic_name(tmp_path, name):
    """A topic Kafka accepts (its rule: letters, digits, '.', '_', '-') must survive the YAML import writes:
    '2024-01-01' was written plain, read back as a date, and the imported file did not load."""
    from placement.imports import render_document
    import placement

    text = DESCRIBE.replace("orders", name)
    r = import_cluster(texts={"topics.txt": text})
    written = tmp_path / "cluster.yaml"
    written.write_text(render_document(r.document))
    assert [t.name for t in placement.load_cluster(written).topics] == [name]


@pytest.mark.parametrize("name, text", [
    ("cluster.yaml", (Path(__file__).resolve().parent.parent / "examples" / "seed.yaml").read_text()),
    ("cluster.json", json.dumps({"name": "x", "nodes": [{"name": "a", "storageGiB": 10}], "volumes": []})),
])
def test_a_cluster_file_given_to_import_says_what_it_is(tmp_path, name, text):
    """A cluster file in a folder given as CLUSTER (or to import) was refused as 'none of the sources import reads'."""
    folder = tmp_path / "cap"
    folder.mkdir()
    (folder / name).write_text(text)
    with pytest.raises(InputError, match=r"a placement cluster file.*give it .* itself"):
        import_cluster(str(folder))


@pytest.mark.parametrize("option, message", [
    ({"kafka_pods": " "}, r"--kafka-pods: is empty"), ({"zone_label": ""}, r"--zone-label: is empty")])
def test_an_empty_selector_or_zone_label_is_bad_input_not_ignored(option, message):
    """They were ignored unsaid: the default brokers and zones were used as if the option were absent."""
    with pytest.raises(InputError, match=message):
        import_cluster(objects=[items(node("a", zone="z")), items(pod("kafka-0", "a"))], **option)


@pytest.mark.parametrize("script, mode, message", [
    ('#!/bin/sh\nprintf "\\377\\376 not text"\n', 0o755, r"kubectl get nodes -o json: printed output that is not UTF-8"),
    ("#!/bin/sh\necho {}\n", 0o644, r"kubectl: cannot be run: Permission denied"),
])
def test_capture_with_a_kubectl_that_prints_bytes_or_cannot_run_is_bad_input(tmp_path, monkeypatch, script, mode, message):
    """Both were internal errors (exit 3): UnicodeDecodeError and PermissionError from subprocess."""
    from placement.imports.capture import capture

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(script)
    (bin_dir / "kubectl").chmod(mode)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(InputError, match=message):
        capture(tmp_path / "out", timeout=10)


def _within(seconds: int, call):
    """``call()`` must return within ``seconds`` (each case here took hours: regular expressions that backtrack
    quadratically on a long run of digits or hex); a hang fails the test instead of the suite."""
    import signal

    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: quadratic backtracking?")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        return call()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


LONG = 200_000  # characters: milliseconds when linear, about two hours when quadratic (16,000 took 41 s)


def test_a_long_quantity_is_refused_in_bounded_time():
    broken = node("a", zone="z", cpu="1" * LONG + "x")
    with pytest.raises(InputError, match=r"status\.allocatable\.cpu"):
        _within(20, lambda: import_cluster(objects=[items(broken)]))


def test_a_long_pod_name_is_read_in_bounded_time():
    r = _within(20, lambda: import_cluster(objects=[items(node("a", zone="z")), items(pod("kafka-" + "1" * LONG + "x", "a"))]))
    assert r.document["brokers"] == []


@pytest.mark.parametrize("row", ["\t" + "a:" * (LONG // 2) + "x y", "\t10.0.0.1\tid-1\t" + "1" * LONG + "x"])
def test_a_long_pxctl_status_row_is_read_in_bounded_time(row):
    text = status_text([("10.0.0.2", "id-2", "a", "1 GiB", "10 GiB", "Online")]).replace("Global Storage Pool", row + "\nGlobal Storage Pool")
    try:
        _within(20, lambda: import_cluster(objects=[items(node("a", zone="z"))], texts={"px-status.txt": text}))
    except InputError as exc:
        assert len(exc.paragraph()) < 2_000  # the message quotes the row bounded


def test_a_pod_name_ending_in_thousands_of_digits_is_reported_not_an_internal_error():
    r = import_cluster(objects=[items(node("a", zone="z")), items(pod("kafka-" + "1" * 5000, "a"))])
    assert r.document["brokers"] == []
    assert any("5,000 digits" in i.message for i in r.report.items)


def test_report_lines_show_control_characters_escaped():
    """A pod name ending in a newline split its report line in two on standard error."""
    r = import_cluster(objects=[items(node("a", zone="z")), items(pod("kafka-0\n", "a"))])
    rendered = r.report.render()
    assert "kafka-0\\n" in rendered
    assert all(line.startswith(("imported", "  ", "note:", "0 ", "1 ", "nothing")) for line in rendered.splitlines())
    assert any(i.item.endswith("\n") for i in r.report.items)  # the JSON report keeps the name as it was

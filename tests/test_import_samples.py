"""Every real tool output in tests/samples (copied from shared/samples) imports, or is refused with a reason naming what to give instead.

Each sample has its expectation below; a new sample without one fails the suite, so none is skipped.
"""
from __future__ import annotations

import pytest

from placement.models.documents import parse_text
from placement.models.errors import InputError
from placement.models.loading import parse_cluster
from placement.imports import import_cluster, render_document
from tests.importing import samples_dir

SAMPLES = samples_dir()


def node_doc(result, name):
    return next(n for n in result.document["nodes"] if n["name"] == name)


def check_gce_worker(r):
    n = node_doc(r, "ci-ln-d53y532-f76d1-2btqq-worker-b-7x8mw")
    assert n == {"name": "ci-ln-d53y532-f76d1-2btqq-worker-b-7x8mw", "zone": "us-east1-b", "state": "ready", "cpu": 3.5,
                 "memoryGiB": pytest.approx(14236104 * 1024 / 2**30, abs=1e-9)}
    assert r.report.clean


def check_gce_master(r):
    n = node_doc(r, "ci-ln-d53y532-f76d1-2btqq-master-0")
    assert n["state"] == "ready" and n["zone"] == "us-east1-b"  # a NoSchedule control-plane taint is no failure


def check_baremetal(r):
    n = node_doc(r, "worker-0.imeixner20210707.lab.upshift.rdu2.redhat.com")  # a FQDN node name, kept as it is
    assert "zone" not in n and n["state"] == "ready"
    assert [i.item for i in r.report.items] == ["nodes worker-0.imeixner20210707.lab.upshift.rdu2.redhat.com"]


def check_pending_pod(r):
    assert r.document["brokers"] == [] and r.document["nodes"] == []
    assert any("none of the 1 pods is a Kafka broker" in i.message for i in r.report.items)


def check_log_dirs_elided(r):
    assert any("'...'" in i.message for i in r.report.items)


def _topic(r, name="my-topic"):
    return next(t for t in r.document["topics"] if t["name"] == name)


def check_elr(r):
    t = _topic(r)
    assert t["minInsyncReplicas"] == 2
    assert t["partitions"][1] == {"id": 1, "replicas": [10, 13, 12], "leader": 10, "isr": [10, 12, 13], "sizeGiB": 0}
    assert sorted(b["id"] for b in r.document["brokers"]) == [10, 11, 12, 13]
    assert all(n["state"] == "failed" for n in r.document["nodes"])  # brokers with no pod: placeholders
    assert any("described 2 times" in i.message for i in r.report.items)


def check_nodepool_3x(r):
    t = _topic(r)
    assert t["minInsyncReplicas"] == 2  # Configs: min.insync.replicas=2,message.format.version=3.0-IV1
    assert [p["leader"] for p in t["partitions"]] == [13, 12, 11]  # the later run wins


def check_docs_ops(r):
    t = _topic(r, "foo")
    assert t["partitions"] == [{"id": 0, "replicas": [5, 6, 7], "leader": 5, "isr": [5, 6, 7], "sizeGiB": 0}]


def check_quickstart(r):
    assert _topic(r, "quickstart-events")["partitions"][0]["replicas"] == [0]


def check_legacy(r):
    t = _topic(r, "px-kafka-topic")
    assert t["partitions"][0]["isr"] == [0, 2, 1] and "minInsyncReplicas" not in t


def check_enumerate(r):
    states = {n["name"]: n["state"] for n in r.document["nodes"]}
    assert sorted(states.values()) == ["failed", "ready", "ready"]  # one node OFFLINE (Status 3)
    assert all(n["storageGiB"] == 64 for n in r.document["nodes"])


def check_osd_volume(r):
    v = r.document["volumes"][0]
    assert v["name"] == "px7vol" and v["sizeGiB"] == 14 and v["replicationFactor"] == 3 and len(v["replicas"]) == 3
    # no Portworx node source: each replica is on a placeholder node, kept and reported
    assert all(n["state"] == "failed" and n["storageGiB"] == 14 for n in r.document["nodes"])


def check_provision(r):
    assert r.document["nodes"] == [{"name": "598b4c37-459f-45f6-9fbe-14ea0fdd31df", "state": "ready", "storageGiB": 30}]


def check_status_caching(r):
    assert r.document["name"] == "doc-cluster-caching-2.2.0"
    assert [n["storageGiB"] for n in r.document["nodes"]] == [128, 128, 128]


def check_status_kafka(r):
    assert [n["name"] for n in r.document["nodes"]] == ["k8s-0", "k8s-1", "k8s-2", "k8s-3"]
    assert {n["storageGiB"] for n in r.document["nodes"]} == {10}


def check_status_pxstorev2(r):
    assert {n["name"]: n["storageGiB"] for n in r.document["nodes"]} == {"lsundararajan-47-1": 195, "lsundararajan-47-2": 235,
                                                                         "lsundararajan-47-3": 172}


def check_status_storagedown(r):
    assert r.document["nodes"] == [{"name": "greatdane-backup-worker-0-plume-tooth-0", "state": "ready", "storageGiB": 1536}]


def check_inspect(r):
    v = r.document["volumes"][0]
    assert v == {"name": "pvc-2910e5ab-1b5e-11e8-97a3-0269077ba1bd", "sizeGiB": 1, "usedGiB": pytest.approx(33964032 / 2**30, abs=1e-9),
                 "replicationFactor": 2, "replicas": ["k2n3", "k2n1"]}


def check_list_jq(r):
    v = r.document["volumes"][0]
    assert v["usedGiB"] == 0 and v["replicationFactor"] == 2 and len(v["replicas"]) == 2


def check_resync(r):
    v = r.document["volumes"][0]
    assert v["replicationFactor"] == 1
    assert v["replicas"] == ["598b4c37-459f-45f6-9fbe-14ea0fdd31df", "9a58c096-5085-4e9f-8094-8f341ebaab7a"]
    assert v["stale"] == {"9a58c096-5085-4e9f-8094-8f341ebaab7a": v["usedGiB"]}
    assert any("a stale replica" in i.message and "assumed" in i.message for i in r.report.items)


IMPORTS = {
    "k8s-node-json-gce-zone-worker-1.json": check_gce_worker,
    "k8s-node-json-gce-zone-master-taint-2.json": check_gce_master,
    "k8s-node-json-baremetal-nozone-3.json": check_baremetal,
    "k8s-pod-json-pvc-pending-1.json": check_pending_pod,
    "kafka-log-dirs-describe-cloudera-1.txt": check_log_dirs_elided,
    "kafka-topics-describe-38plus-elr-3.txt": check_elr,
    "kafka-topics-describe-3x-nodepool-2.txt": check_nodepool_3x,
    "kafka-topics-describe-docs-ops-5.txt": check_docs_ops,
    "kafka-topics-describe-docs-quickstart-4.txt": check_quickstart,
    "kafka-topics-describe-legacy-zk-1.txt": check_legacy,
    "portworx-cluster-enumerate-rest-1.json": check_enumerate,
    "portworx-osdvolumes-rest-3.json": check_osd_volume,
    "portworx-provision-status-jq-1.json": check_provision,
    "portworx-status-text-1.txt": check_status_caching,
    "portworx-status-text-kafka-2.txt": check_status_kafka,
    "portworx-status-text-pxstorev2-4.txt": check_status_pxstorev2,
    "portworx-status-text-storagedown-3.txt": check_status_storagedown,
    "portworx-volume-inspect-1.json": check_inspect,
    "portworx-volume-list-jq-2.json": check_list_jq,
    "portworx-volume-list-jq-resync-4.json": check_resync,
}

REFUSED = {
    "cruisecontrol-capacity-jbod-1.json": "Cruise Control capacity file",
    "k8s-pv-describe-portworx-intree-1.txt": "kubectl describe output; run kubectl get with -o json",
    "kafka-reassign-partitions-current-1.json": "kafka-topics.sh --describe",
    "kafka-reassign-partitions-execute-1.txt": "kafka-topics.sh --describe",
    "kafka-statefulset-init-brokerid-rack-1.yaml": "none of the sources import reads",
    "kafka-zk-broker-registration-1.txt": "ZooKeeper broker registration",
    "kafkakit-metricsfetcher-zk-metrics-1.txt": "kafka-kit metrics",
    "kubectl-nodes-text-cordon-1.txt": "-o json",
    "kubectl-pods-text-strimzi-nodepool-1.txt": "-o json",
    "kubectl-pods-wide-text-kafka-px-1.txt": "-o json",
    "kubectl-pv-pvc-text-strimzi-nodepool-1.txt": "-o json",
    "kubectl-pvc-text-kafka-px-1.txt": "-o json",
    "strimzi-pv-text-jbod-nodepool-1.txt": "-o json",
    "portworx-cluster-list-text-1.txt": "no storage capacity; give pxctl status",
    "portworx-provision-status-text-1.txt": "pxctl --json cluster provision-status",
    "portworx-volume-inspect-text-kafka-1.txt": "pxctl --json volume inspect",
    "portworx-volume-inspect-text-resync-4.txt": "pxctl --json volume inspect",
    "portworx-volume-list-text-kafka-1.txt": "pxctl --json volume list",
}

ALL = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".json", ".txt", ".yaml", ".yml"))


def test_every_sample_has_an_expectation():
    assert sorted(set(IMPORTS) | set(REFUSED)) == ALL


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_sample_imports_and_loads(name):
    result = import_cluster(SAMPLES / name)
    IMPORTS[name](result)
    for as_json in (False, True):  # the file written reads back, with the project's own reader and loader, as the same document
        data = parse_text(render_document(result.document, as_json=as_json), name, as_json=as_json)
        assert data == result.document
        parse_cluster(data, name)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_non_source_is_refused_with_a_reason(name):
    with pytest.raises(InputError) as caught:
        import_cluster(SAMPLES / name)
    paragraph = caught.value.paragraph()
    assert str(SAMPLES / name) in paragraph and REFUSED[name] in paragraph
    assert "\n" not in paragraph  # one paragraph


def test_samples_together_join_by_node_id():
    """pxctl status (no SchedulerNodeName: IDs are the node names) with the Kafka guide's describe output."""
    r = import_cluster(SAMPLES / "portworx-status-text-kafka-2.txt", SAMPLES / "kafka-topics-describe-legacy-zk-1.txt")
    assert r.document["name"] == "px-kafka-cluster"
    assert {b["id"] for b in r.document["brokers"]} == {0, 1, 2}


def test_provision_status_and_resync_volume_share_node_ids():
    r = import_cluster(SAMPLES / "portworx-provision-status-jq-1.json", SAMPLES / "portworx-volume-list-jq-resync-4.json")
    nodes = {n["name"]: n for n in r.document["nodes"]}
    assert nodes["598b4c37-459f-45f6-9fbe-14ea0fdd31df"] == {"name": "598b4c37-459f-45f6-9fbe-14ea0fdd31df", "state": "ready", "storageGiB": 30}
    # the node being added is unknown to that one-node provision-status: a failed placeholder, reported
    assert nodes["9a58c096-5085-4e9f-8094-8f341ebaab7a"]["state"] == "failed"


def test_portworx_nodes_no_kubernetes_node_matches_are_each_reported_never_dropped_in_silence():
    """The GCE worker's Node and the three online 128 GiB Portworx nodes of another cluster: no Portworx
    node matches the Kubernetes node, and none can enter the cluster file (it has no node to put their
    storage on), so each is an unresolved item naming its file and its ID."""
    status = SAMPLES / "portworx-status-text-1.txt"
    r = import_cluster(SAMPLES / "k8s-node-json-gce-zone-worker-1.json", status)
    assert [n["name"] for n in r.document["nodes"]] == ["ci-ln-d53y532-f76d1-2btqq-worker-b-7x8mw"]
    unresolved = {i.item: i for i in r.report.items if i.kind == "unresolved"}
    ids = ("0e466c6a-fef0-4752-b133-9bf257e9973a", "9ddf713b-0dbc-4e7b-bd6e-2ae648891072",
           "abb4723e-efa3-432d-ad27-f929bc658862")
    assert sorted(unresolved) == [f"Portworx node {i}" for i in ids]
    for item in unresolved.values():
        assert item.source == str(status)
        assert "matches no Kubernetes node" in item.message and "128 GiB of storage" in item.message
        assert "online" in item.message and "no pxctl --json volume list given" in item.message
    assert r.report.to_document()["summary"]["unresolved"] == 3


def test_an_unmatched_portworx_node_holding_replicas_keeps_them_on_a_failed_placeholder():
    """The same three Portworx nodes with a volume on two of them: its replicas stay, on failed placeholders
    that keep the nodes' Portworx capacity; the third holds nothing and is reported as left out."""
    from tests.importing import px_volume

    ids = ("0e466c6a-fef0-4752-b133-9bf257e9973a", "9ddf713b-0dbc-4e7b-bd6e-2ae648891072",
           "abb4723e-efa3-432d-ad27-f929bc658862")
    node_json = (SAMPLES / "k8s-node-json-gce-zone-worker-1.json").read_text()
    r = import_cluster(texts={"node.json": node_json, "status.txt": (SAMPLES / "portworx-status-text-1.txt").read_text()},
                       objects=[[px_volume("1", "v", list(ids[:2]), ha=2)]])
    nodes = {n["name"]: n for n in r.document["nodes"]}
    assert r.document["volumes"][0]["replicas"] == list(ids[:2])
    for i in ids[:2]:
        assert nodes[i]["state"] == "failed" and nodes[i]["storageGiB"] == 128
    unresolved = {i.item: i.message for i in r.report.items if i.kind == "unresolved"}
    assert "kept on placeholder node" in unresolved[f"volume v replica on {ids[0]}"]
    assert "holds no replica of the volumes given" in unresolved[f"Portworx node {ids[2]}"]
    assert f"Portworx node {ids[0]}" not in unresolved  # reported once, with its replica
    parse_cluster(r.document, "import")

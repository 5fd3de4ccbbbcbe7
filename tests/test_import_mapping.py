"""The mapping of CONTRACT section 6, rule by rule, on small hand-built sources."""
from __future__ import annotations

import json

import pytest

from placement.models.errors import InputError
from placement.imports import import_cluster
from tests.importing import DESCRIBE, claim, items, log_dirs, node, pod, px_volume, pv, status_text


def doc_nodes(r):
    return {n["name"]: n for n in r.document["nodes"]}


def kinds(r):
    return [(i.kind, i.item) for i in r.report.items]


# ------------------------------------------------------------------ nodes

def test_zone_labels_state_and_allocatable():
    nodes = items(node("a", zone="z1", beta="z1"), node("b", beta="z2"), node("c", labels={"rack": "r3"}),
                  node("d", zone="z1", ready="False"), node("e", zone="z1", ready="Unknown"),
                  node("f", zone="z1", taints=["node.kubernetes.io/out-of-service"]),
                  node("g", zone="z1", unschedulable=True), node("h", zone="z1", cpu="3500m", memory="15387080Ki"))
    r = import_cluster(objects=[nodes], zone_label="rack")
    n = doc_nodes(r)
    assert (n["a"]["zone"], n["b"]["zone"], n["c"]["zone"]) == ("z1", "z2", "r3")
    assert [n[x]["state"] for x in "abcdefgh"] == ["ready"] * 3 + ["failed"] * 3 + ["cordoned", "ready"]
    assert n["h"]["cpu"] == 3.5 and n["h"]["memoryGiB"] == pytest.approx(15756369920 / 2**30, abs=1e-9)
    assert r.report.clean


def test_disagreeing_zone_labels_and_missing_ready_are_reported():
    r = import_cluster(objects=[items(node("a", zone="z1", beta="old"), node("b", ready=None))])
    n = doc_nodes(r)
    assert n["a"]["zone"] == "z1" and n["b"]["state"] == "failed" and "zone" not in n["b"]
    messages = " ".join(i.message for i in r.report.items)
    assert "zone labels disagree" in messages and "no Ready condition" in messages and "zone 'default'" in messages


# ------------------------------------------------------------------ Portworx nodes to Kubernetes nodes

def test_portworx_node_ids_map_by_scheduler_name_name_hostname_then_ip():
    nodes = items(node("k-sched", zone="z"), node("px-2", zone="z"), node("k-host.example.com", zone="z", hostname="k-host.example.com"),
                  node("k-ip", zone="z", ip="10.0.0.4"), node("k-none", zone="z"))
    enumerate_json = {"Nodes": [
        {"Id": "id-1", "SchedulerNodeName": "k-sched", "Pools": [{"TotalSize": 100 * 2**30}], "Status": 2},
        {"Id": "px-2", "Pools": [{"TotalSize": 200 * 2**30}], "Status": 2},
        {"Id": "id-3", "Hostname": "k-host", "Pools": [{"TotalSize": 300 * 2**30}], "Status": 2},
        {"Id": "id-4", "MgmtIp": "10.0.0.4", "Pools": [{"TotalSize": 400 * 2**30}], "Status": 2},
        {"Id": "id-5", "SchedulerNodeName": "N/A", "Pools": [], "Status": 2}]}
    vols = [px_volume("1", "v1", ["id-1", "px-2", "id-3"]), px_volume("2", "v2", ["id-4", "id-5"])]
    r = import_cluster(objects=[nodes, enumerate_json, vols])
    n = doc_nodes(r)
    assert [n[x]["storageGiB"] for x in ("k-sched", "px-2", "k-host.example.com", "k-ip", "k-none")] == [100, 200, 300, 400, 0]
    vol = {v["name"]: v for v in r.document["volumes"]}
    assert vol["v1"]["replicas"] == ["k-sched", "px-2", "k-host.example.com"]
    # id-5 matches nothing: its replica stays, on a failed placeholder with storage, and is reported
    assert vol["v2"]["replicas"] == ["k-ip", "id-5"] and n["id-5"]["state"] == "failed" and n["id-5"]["storageGiB"] == 10
    messages = {i.item: i.message for i in r.report.items}
    assert "by hostname" in messages["Portworx node id-3"] and "by InternalIP" in messages["Portworx node id-4"]
    assert "matches no Kubernetes node" in messages["volume v2 replica on id-5"]
    assert "Portworx lists no such node" in messages["nodes k-none"]


def test_storageless_and_offline_portworx_nodes_from_status_text():
    nodes = items(node("n1", zone="z"), node("n2", zone="z"), node("n3", zone="z"))
    text = status_text([("10.0.0.1", "u1", "n1", "1.0 GiB", "100 GiB", "Online"),
                        ("10.0.0.2", "u2", "n2", "0 B", "0 B", "Online"),
                        ("10.0.0.3", "u3", "n3", "1.0 GiB", "1.5 TiB", "Online (StorageDown)")])
    r = import_cluster(objects=[nodes], texts={"px-status.txt": text})
    n = doc_nodes(r)
    assert (n["n1"]["storageGiB"], n["n2"]["storageGiB"], n["n3"]["storageGiB"]) == (100, 0, 1536)
    assert r.document["name"] == "test-cluster"
    assert any("Portworx says storage-down" in i.message for i in r.report.items)


def test_exact_capacity_wins_over_the_rounded_text_and_a_contradiction_is_refused():
    nodes = items(node("n1", zone="z"))
    text = status_text([("10.0.0.1", "u1", "n1", "1.0 GiB", "1.5 TiB", "Online")])
    provision = {"provisionInfo": {"u1": {"Status": "Up", "Provision": [{"Pool": {"Info": {"TotalSize": 1500 * 2**30}}}]}}}
    r = import_cluster(objects=[nodes, provision], texts={"px-status.txt": text})
    assert doc_nodes(r)["n1"]["storageGiB"] == 1500
    provision["provisionInfo"]["u1"]["Provision"][0]["Pool"]["Info"]["TotalSize"] = 500 * 2**30
    with pytest.raises(InputError, match="Portworx node u1: has about 1536 GiB of storage here but 500 GiB in provision.json"):
        import_cluster(objects=[nodes], texts={"px-status.txt": text, "provision.json": json.dumps(provision)})


def test_rejoined_node_keeps_its_old_replicas_apart():
    nodes = items(node("n1", zone="z", ip="10.0.0.1"))
    enumerate_json = {"Nodes": [{"Id": "old", "MgmtIp": "10.0.0.1", "Pools": [{"TotalSize": 2**36}], "Status": 3},
                                {"Id": "new", "MgmtIp": "10.0.0.1", "Pools": [{"TotalSize": 2**36}], "Status": 2}]}
    r = import_cluster(objects=[nodes, enumerate_json, [px_volume("1", "v", ["old"])]])
    assert r.document["volumes"][0]["replicas"] == ["old"] and doc_nodes(r)["old"]["state"] == "failed"
    assert doc_nodes(r)["n1"]["storageGiB"] == 64


# ------------------------------------------------------------------ volumes

def test_volume_fields_and_numbers_as_strings_or_numbers():
    nodes = items(node("a", zone="z"), node("b", zone="z"))
    st = status_text([("10.0.0.1", "a", "a", "1 GiB", "100 GiB", "Online"), ("10.0.0.2", "b", "b", "1 GiB", "100 GiB", "Online")])
    vols = [px_volume("11", "v-str", ["a", "b"], size=3 * 2**30, usage=2**29, ha=2),
            px_volume("12", "v-num", ["a"], size=2**30, usage=2**31, ha=1, strings=False)]
    r = import_cluster(objects=[nodes, vols], texts={"st": st})
    v = {x["name"]: x for x in r.document["volumes"]}
    assert v["v-str"] == {"name": "v-str", "sizeGiB": 3, "usedGiB": 0.5, "replicationFactor": 2, "replicas": ["a", "b"]}
    assert v["v-num"]["usedGiB"] == 1  # usage above the size: capped, and said
    assert any("usage 2 GiB is more than its size" in i.message for i in r.report.items)


def test_resyncing_replica_is_stale_at_its_used_size():
    nodes = items(node("a", zone="z"), node("b", zone="z"))
    st = status_text([("10.0.0.1", "a", "a", "1 GiB", "100 GiB", "Online"), ("10.0.0.2", "b", "b", "1 GiB", "100 GiB", "Online")])
    r = import_cluster(objects=[nodes, [px_volume("1", "v", ["a"], usage=3 * 2**30, resync="b")]], texts={"st": st})
    v = r.document["volumes"][0]
    assert v["replicas"] == ["a", "b"] and v["stale"] == {"b": 3} and v["replicationFactor"] == 1
    assert r.cluster.volumes[0].stale == (("b", 3),)


# ------------------------------------------------------------------ brokers

def _storage(*names):
    return status_text([(f"10.0.0.{i}", n, n, "1 GiB", "100 GiB", "Online") for i, n in enumerate(names, 1)])


def test_broker_from_pod_claim_pv_and_portworx_volume():
    nodes = items(node("a", zone="z"), node("b", zone="z"))
    pods = items(pod("kafka-0", "a", ["data-kafka-0"], cpu="2", memory="8Gi"), pod("kafka-1", "b", ["data-kafka-1", "logs"]))
    claims = items(claim("data-kafka-0", "pvc-0"), claim("data-kafka-1", "pvc-1"), claim("logs", "pvc-ebs"))
    pvs = items(pv("pvc-0", "1000"), pv("pvc-1", "pvc-1", in_tree=True), pv("pvc-ebs", "vol-1", driver="ebs.csi.aws.com"))
    vols = [px_volume("1000", "pvc-0", ["a"]), px_volume("1001", "pvc-1", ["b"])]
    r = import_cluster(objects=[nodes, pods, claims, pvs, vols], texts={"st": _storage("a", "b")})
    assert r.document["brokers"] == [{"id": 0, "node": "a", "volumes": ["pvc-0"], "cpu": 2, "memoryGiB": 8},
                                     {"id": 1, "node": "b", "volumes": ["pvc-1"]}]
    assert any("is not a Portworx volume" in i.message and "ebs.csi.aws.com" in i.message for i in r.report.items)


def test_strimzi_pods_controllers_and_operators():
    strimzi = {"strimzi.io/cluster": "c", "strimzi.io/kind": "Kafka"}
    pods = items(
        pod("c-broker-10", "a", labels={**strimzi, "strimzi.io/broker-role": "true", "strimzi.io/pool-name": "broker"}),
        pod("c-kafka-3", "a", labels={**strimzi, "strimzi.io/name": "c-kafka"}),
        pod("c-controller-20", "a", labels={**strimzi, "app.kubernetes.io/name": "kafka", "strimzi.io/broker-role": "false",
                                            "strimzi.io/controller-role": "true"}),
        pod("c-entity-operator-5d9-x", "a", labels={**strimzi, "app.kubernetes.io/name": "entity-operator", "strimzi.io/name": "c-entity-operator"}),
        pod("c-kafka-exporter-7f-y", "a", labels={**strimzi, "app.kubernetes.io/name": "kafka-exporter", "strimzi.io/name": "c-kafka-exporter"}),
        pod("bitnami-controller-0", "a", labels={"app.kubernetes.io/name": "kafka"}, env=[{"name": "KAFKA_CFG_PROCESS_ROLES", "value": "controller"}]),
        pod("web-1", "a", labels={"app": "web"}))
    r = import_cluster(objects=[items(node("a", zone="z")), pods])
    assert [b["id"] for b in r.document["brokers"]] == [3, 10]
    assert "controller-only" in " ".join(r.report.notes)
    r = import_cluster(objects=[items(node("a", zone="z")), pods], kafka_pods="app=web")
    assert [b["id"] for b in r.document["brokers"]] == [1]


def test_broker_id_conflict_and_bad_selector_are_input_errors():
    pods = items(pod("kafka-0", "a"), pod("other-0", "a", namespace="x"))
    with pytest.raises(InputError, match="both end in 0"):
        import_cluster(objects=[items(node("a", zone="z")), pods])
    with pytest.raises(InputError, match="not a label selector"):
        import_cluster(objects=[items(node("a", zone="z")), pods], kafka_pods="app in (a,b")


def test_pods_on_unknown_or_no_node_and_claims_that_break():
    pods = items(pod("kafka-0", "gone"), pod("kafka-1", None, ["pending"]), pod("kafka-2", "a", ["missing"]))
    r = import_cluster(objects=[items(node("a", zone="z")), pods, items(claim("pending", None))])
    brokers = {b["id"]: b for b in r.document["brokers"]}
    n = doc_nodes(r)
    assert n[brokers[0]["node"]]["state"] == "failed" and brokers[0]["node"] == "gone"
    assert n[brokers[1]["node"]]["state"] == "failed" and brokers[1]["node"].startswith("unscheduled-kafka-1")
    messages = " ".join(i.message for i in r.report.items)
    assert "is not bound" in messages and "no such PersistentVolumeClaim" in messages


def test_python_client_snake_case_and_client_objects():
    class ClientObject:  # what the Kubernetes Python client returns: an object with to_dict()
        def __init__(self, data):
            self.data = data

        def to_dict(self):
            return self.data

    node_list = {"api_version": "v1", "kind": "NodeList", "metadata": {"resource_version": "1"}, "items": [
        {"api_version": None, "kind": None, "metadata": {"name": "a", "labels": {"topology.kubernetes.io/zone": "z"}},
         "spec": {"unschedulable": None, "taints": None},
         "status": {"allocatable": {"cpu": "2", "memory": "4Gi"}, "conditions": [{"type": "Ready", "status": "True"}],
                    "node_info": {"kubelet_version": "v1.29"}, "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}]}
    pod_list = {"api_version": "v1", "kind": "PodList", "items": [
        {"metadata": {"name": "kafka-0", "namespace": "k", "labels": {"app.kubernetes.io/name": "kafka"}},
         "spec": {"node_name": "a", "containers": [{"name": "kafka", "resources": {"requests": None}, "env": None}],
                  "volumes": [{"name": "d", "persistent_volume_claim": {"claim_name": "data-kafka-0"}}]},
         "status": {"phase": "Running"}}]}
    claim_list = {"kind": "PersistentVolumeClaimList", "api_version": "v1", "items": [
        {"metadata": {"name": "data-kafka-0", "namespace": "k"}, "spec": {"volume_name": "pvc-0", "access_modes": ["ReadWriteOnce"]},
         "status": {"phase": "Bound"}}]}
    pv_list = {"kind": "PersistentVolumeList", "api_version": "v1", "items": [
        {"metadata": {"name": "pvc-0"}, "spec": {"csi": {"driver": "pxd.portworx.com", "volume_handle": "77"}, "capacity": {"storage": "1Gi"}}}]}
    r = import_cluster(objects=[ClientObject(node_list), ClientObject(pod_list), claim_list, pv_list, [px_volume("77", "pvc-0", ["a"])]],
                       texts={"st": _storage("a")})
    assert r.document["brokers"] == [{"id": 0, "node": "a", "volumes": ["pvc-0"]}]
    assert doc_nodes(r)["a"] == {"name": "a", "zone": "z", "state": "ready", "storageGiB": 100, "cpu": 2, "memoryGiB": 4}


# ------------------------------------------------------------------ topics and sizes

def test_partitions_sizes_and_min_isr():
    pods = items(pod("kafka-0", "a"), pod("kafka-1", "b"))
    sizes = log_dirs({("orders", 0, 0): 2**30, ("orders", 0, 1): 2**29, ("orders", 1, 0): 3 * 2**30})
    r = import_cluster(objects=[items(node("a", zone="z"), node("b", zone="z")), pods], texts={"t": DESCRIBE, "l": sizes})
    t = r.document["topics"][0]
    assert t["minInsyncReplicas"] == 2
    assert t["partitions"] == [{"id": 0, "replicas": [0, 1], "leader": 0, "isr": [1, 0], "sizeGiB": 1},
                               {"id": 1, "replicas": [1, 0], "leader": 1, "isr": [1, 0], "sizeGiB": 3}]


def test_future_replicas_and_missing_sizes():
    data = {"version": 1, "brokers": [{"broker": 0, "logDirs": [{"logDir": "/d", "error": None, "partitions": [
        {"partition": "orders-0", "size": 100 * 2**30, "offsetLag": 0, "isFuture": True},
        {"partition": "orders-0", "size": 2**30, "offsetLag": 0, "isFuture": False}]}]}]}
    r = import_cluster(objects=[data], texts={"t": DESCRIBE})
    parts = r.document["topics"][0]["partitions"]
    assert parts[0]["sizeGiB"] == 1 and parts[1]["sizeGiB"] == 0
    assert any(i.item == "topic orders partitions 1" for i in r.report.items)


def test_leaderless_and_reassigning_partitions():
    text = ("Topic: t\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: \n"
            "\tTopic: t\tPartition: 0\tLeader: none\tReplicas: 1,2\tIsr: 2\n"
            "\tTopic: t\tPartition: 1\tLeader: -1\tReplicas: 1,2\tIsr: \tElr: 2\tLastKnownElr: \n"
            "\tTopic: t\tPartition: 2\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\tAdding Replicas: 3\tRemoving Replicas: \n")
    r = import_cluster(texts={"t": text})
    parts = r.document["topics"][0]["partitions"]
    # "Leader: none" and -1 are no leader, written as -1 with the ISR as Kafka printed it: nothing invented
    assert (parts[0]["leader"], parts[0]["isr"]) == (-1, [2])
    assert (parts[1]["leader"], parts[1]["isr"]) == (-1, [])
    assert parts[2]["replicas"] == [1, 2] and parts[2]["isr"] == [1, 2]
    assert not any("leader" in i.message for i in r.report.items)
    cluster = r.cluster
    assert cluster.partition[("t", 0)].leader is None and cluster.partition[("t", 1)].isr == ()
    assert any("reassignment is in progress" in i.message for i in r.report.items)


def test_two_sources_that_contradict_each_other_are_refused():
    changed = DESCRIBE.replace("Leader: 1\tReplicas: 1,0", "Leader: 0\tReplicas: 1,0")
    with pytest.raises(InputError) as caught:
        import_cluster(texts={"first.txt": DESCRIBE, "second.txt": changed})
    assert "second.txt: topic orders: contradicts first.txt" in caught.value.paragraph()
    with pytest.raises(InputError, match="node a: contradicts"):
        import_cluster(objects=[items(node("a", zone="z")), items(node("a", zone="other"))])
    # the same thing said twice is no contradiction
    assert import_cluster(texts={"first.txt": DESCRIBE, "second.txt": DESCRIBE}).document["topics"][0]["name"] == "orders"


def test_unreadable_sources_name_the_file(tmp_path):
    bad = tmp_path / "pods.json"
    bad.write_text('{"kind": "List", "items": [', encoding="utf-8")
    with pytest.raises(InputError, match="pods.json: line 1"):
        import_cluster(bad)
    with pytest.raises(InputError, match="no such file"):
        import_cluster(tmp_path / "nope.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no files"):
        import_cluster(empty)


def test_yaml_and_stdin(tmp_path):
    import io

    import yaml

    text = yaml.safe_dump(items(node("a", zone="z"), node("b", zone="z")))
    r = import_cluster("-", stdin=io.StringIO(text))
    assert sorted(doc_nodes(r)) == ["a", "b"] and r.report.sources[0]["source"] == "<stdin>"

"""Write a capture of a cluster in the real formats, as ``placement capture`` would collect it.

    python bench/capture.py DIR                # the 1,000-node benchmark cluster
    python bench/capture.py DIR --nodes 12 --brokers 4 --volumes 20 --partitions 60 --strimzi --messy

Files: nodes.json, pods.json, pvc.json, pv.json (kubectl get -o json), px-status.txt
(pxctl status), px-provision-status.json, px-volumes.json (pxctl --json), topics.txt
(kafka-topics.sh --describe, Kafka 3.x with TopicId) and logdirs.txt
(kafka-log-dirs.sh --describe). Every object carries the fields the real tools
print (images, managed fields, conditions, container statuses...), so the
sizes and the parsing work are those of a real capture.

``--strimzi`` names brokers as Strimzi node pools do (my-cluster-broker-N, JBOD
claims data-0-...) and adds controller-only pods, the entity operator and the
exporter; ``--messy`` adds what real clusters carry: storageless nodes, N/A
SchedulerNodeNames (matched by IP), a replica on a Portworx node that no longer
exists, a replica resyncing, a cordoned and a NotReady node, a leaderless
partition, a claim on another storage driver and a pending claim.
"""
from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from placement.models.cluster import Cluster  # noqa: E402

GIB = 2 ** 30
CLUSTER = dict(nodes=1000, zones=3, brokers=300, volumes=3000, partitions=30_000, seed=1)
TIME = "2024-05-06T07:08:09Z"


def _ip(i: int) -> str:
    return f"10.{20 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"


def _size_text(nbytes: float) -> str:
    """As pxctl prints sizes: IEC units, one decimal below 10, none above."""
    for unit, power in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 2 ** power:
            value = nbytes / 2 ** power
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(nbytes)} B"


def _meta(name: str, rng: random.Random, namespace: str | None = None, labels: dict | None = None,
          annotations: dict | None = None) -> dict:
    meta = {"annotations": annotations or {}, "creationTimestamp": TIME, "labels": labels or {}, "name": name,
            "resourceVersion": str(rng.randrange(10 ** 6, 10 ** 8)), "uid": str(uuid.UUID(int=rng.getrandbits(128), version=4))}
    if namespace:
        meta["namespace"] = namespace
    meta["managedFields"] = [{"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "kube-controller-manager",
                              "operation": "Update", "time": TIME, "fieldsV1": {"f:metadata": {"f:labels": {".": {}}}}}]
    return meta


def _node(cluster_node, i: int, rng: random.Random, *, ready: bool = True, cordoned: bool = False) -> dict:
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "kubernetes.io/hostname": cluster_node.name, "kubernetes.io/os": "linux",
              "node.kubernetes.io/instance-type": "m5.8xlarge", "px/enabled": "true"}
    if cluster_node.zone != "default":
        labels["topology.kubernetes.io/zone"] = cluster_node.zone
        labels["failure-domain.beta.kubernetes.io/zone"] = cluster_node.zone
        labels["topology.kubernetes.io/region"] = "eu-west-1"
    cpu = "32" if cluster_node.cpu_millicores is None else f"{cluster_node.cpu_millicores}m"
    memory = "134217728Ki" if cluster_node.memory_mib is None else f"{cluster_node.memory_mib}Mi"
    spec = {"podCIDR": f"100.{64 + i // 256}.{i % 256}.0/24", "providerID": f"aws:///eu-west-1a/i-{i:017x}"}
    if cordoned:
        spec["unschedulable"] = True
        spec["taints"] = [{"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "timeAdded": TIME}]
    conditions = [{"lastHeartbeatTime": TIME, "lastTransitionTime": TIME, "message": "kubelet has sufficient memory available",
                   "reason": "KubeletHasSufficientMemory", "status": "False", "type": "MemoryPressure"},
                  {"lastHeartbeatTime": TIME, "lastTransitionTime": TIME, "message": "kubelet has no disk pressure",
                   "reason": "KubeletHasNoDiskPressure", "status": "False", "type": "DiskPressure"},
                  {"lastHeartbeatTime": TIME, "lastTransitionTime": TIME, "message": "kubelet has sufficient PID available",
                   "reason": "KubeletHasSufficientPID", "status": "False", "type": "PIDPressure"},
                  {"lastHeartbeatTime": TIME, "lastTransitionTime": TIME,
                   "message": "kubelet is posting ready status" if ready else "Kubelet stopped posting node status.",
                   "reason": "KubeletReady" if ready else "NodeStatusUnknown", "status": "True" if ready else "Unknown",
                   "type": "Ready"}]
    images = [{"names": [f"registry.example.com/team/image-{k}@sha256:{rng.getrandbits(256):064x}",
                         f"registry.example.com/team/image-{k}:v1.{k}"], "sizeBytes": rng.randrange(10 ** 7, 10 ** 9)}
              for k in range(12)]
    return {"apiVersion": "v1", "kind": "Node", "metadata": _meta(cluster_node.name, rng, labels=labels, annotations={
        "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}),
        "spec": spec,
        "status": {"addresses": [{"address": _ip(i), "type": "InternalIP"}, {"address": cluster_node.name, "type": "Hostname"},
                                 {"address": f"{cluster_node.name}.eu-west-1.compute.internal", "type": "InternalDNS"}],
                   "allocatable": {"cpu": cpu, "ephemeral-storage": "95491281146", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                                   "memory": memory, "pods": "110"},
                   "capacity": {"cpu": "32", "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                                "memory": "135290748Ki", "pods": "110"},
                   "conditions": conditions, "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}, "images": images,
                   "nodeInfo": {"architecture": "amd64", "bootID": str(uuid.UUID(int=rng.getrandbits(128))),
                                "containerRuntimeVersion": "containerd://1.7.11", "kernelVersion": "5.10.205-195.807.amzn2.x86_64",
                                "kubeProxyVersion": "v1.28.5", "kubeletVersion": "v1.28.5", "machineID": f"{rng.getrandbits(128):032x}",
                                "operatingSystem": "linux", "osImage": "Amazon Linux 2", "systemUUID": str(uuid.UUID(int=rng.getrandbits(128)))}}}


def _pod(name: str, namespace: str, node: str | None, claims: list[tuple[str, str]], labels: dict, rng: random.Random, *,
         cpu: str = "500m", memory: str = "1Gi", image: str = "registry.example.com/team/app:v1", container: str = "app",
         env: list | None = None, phase: str = "Running") -> dict:
    volumes = [{"name": vol, "persistentVolumeClaim": {"claimName": claim}} for vol, claim in claims]
    volumes += [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}}]}}]
    spec = {"containers": [{"name": container, "image": image, "imagePullPolicy": "IfNotPresent", "env": env or [],
                            "ports": [{"containerPort": 9092, "name": "tcp", "protocol": "TCP"}],
                            "resources": {"limits": {"memory": memory}, "requests": {"cpu": cpu, "memory": memory}},
                            "volumeMounts": [{"mountPath": f"/var/lib/{vol}", "name": vol} for vol, _ in claims]
                            + [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access", "readOnly": True}],
                            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "restartPolicy": "Always", "schedulerName": "stork",
            "securityContext": {"fsGroup": 1001}, "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}],
            "volumes": volumes}
    if node:
        spec["nodeName"] = node
    status = {"phase": phase, "qosClass": "Burstable", "startTime": TIME,
              "conditions": [{"lastProbeTime": None, "lastTransitionTime": TIME, "status": "True" if phase == "Running" else "False", "type": t}
                             for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]}
    if phase == "Running":
        status.update({"hostIP": "10.0.0.1", "podIP": f"100.64.{rng.randrange(256)}.{rng.randrange(256)}",
                       "containerStatuses": [{"containerID": f"containerd://{rng.getrandbits(256):064x}", "image": image,
                                              "imageID": f"{image}@sha256:{rng.getrandbits(256):064x}", "lastState": {},
                                              "name": container, "ready": True, "restartCount": 0, "started": True,
                                              "state": {"running": {"startedAt": TIME}}}]})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(name, rng, namespace, labels), "spec": spec, "status": status}


def _claim(name: str, namespace: str, volume: str | None, size_gib: float, rng: random.Random, sc: str = "px-kafka") -> dict:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{int(round(size_gib))}Gi"}},
            "storageClassName": sc, "volumeMode": "Filesystem"}
    if volume:
        spec["volumeName"] = volume
    status = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": f"{int(round(size_gib))}Gi"}} if volume else {"phase": "Pending"}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(name, rng, namespace, annotations={
        "pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/storage-provisioner": "pxd.portworx.com"}),
        "spec": spec, "status": status}


def _pv(name: str, claim: tuple[str, str], handle: str, size_gib: float, rng: random.Random, driver: str = "pxd.portworx.com") -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": _meta(name, rng, annotations={"pv.kubernetes.io/provisioned-by": driver}),
            "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": f"{int(round(size_gib))}Gi"},
                     "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": claim[1], "namespace": claim[0]},
                     "csi": {"driver": driver, "fsType": "ext4", "volumeHandle": handle,
                             "volumeAttributes": {"repl": "3", "io_profile": "auto"}},
                     "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "px-kafka", "volumeMode": "Filesystem"},
            "status": {"phase": "Bound"}}


def _px_volume(vid: str, name: str, claim: tuple[str, str], size_bytes: int, used_bytes: int, ha: int,
               replicas: list[str], attached: str, resync: str | None = None) -> dict:
    state = {"ID": "0", "PXReplReAddNodeMid": "", "PXReplReAddPools": "", "ReadQuorum": "1",
             "ReadSet": "[" + " ".join(str(k) for k in range(len(replicas))) + "]", "ReplNodePools": ",".join("0" for _ in replicas),
             "ReplRemoveMids": "", "ReplicaSetCreateMid": ",".join(replicas),
             "ReplicaSetCurr": "[" + " ".join(str(k) for k in range(len(replicas))) + "]",
             "ReplicaSetCurrMid": ",".join(replicas), "RuntimeState": "clean", "WriteQuorum": str(len(replicas) // 2 + 1)}
    if resync:
        state.update({"ReplNewNodeMid": resync, "ReplNewNodePools": "0", "RuntimeState": "resync"})
    labels = {"namespace": claim[0], "pvc": claim[1], "repl": str(ha)}
    return {"id": vid, "source": {"parent": "", "seed": ""}, "readonly": False,
            "locator": {"name": name, "volume_labels": labels}, "ctime": TIME,
            "spec": {"ephemeral": False, "size": str(size_bytes), "format": "ext4", "block_size": "4096", "ha_level": str(ha),
                     "cos": "high", "io_profile": "auto", "dedupe": False, "snapshot_interval": 0, "volume_labels": labels,
                     "shared": False, "aggregation_level": 1, "encrypted": False, "passphrase": "", "snapshot_schedule": "",
                     "scale": 0, "sticky": False, "group_enforced": False, "compressed": False, "cascaded": False,
                     "journal": False, "sharedv4": False, "queue_depth": 128, "force_unsupported_fs_type": False,
                     "nodiscard": False, "storage_policy": ""},
            "usage": str(used_bytes), "last_scan": TIME, "format": "ext4", "status": "up",
            "state": "attached" if attached else "detached", "attached_on": attached,
            "attached_state": "ATTACH_STATE_EXTERNAL" if attached else "ATTACH_STATE_INTERNAL_SWITCH",
            "device_path": f"/dev/pxd/pxd{vid}" if attached else "", "secure_device_path": "",
            "replica_sets": [{"nodes": replicas}], "runtime_state": [{"runtime_state": state}], "error": "",
            "fs_resize_required": False}


def write_capture(cluster: Cluster, out: str | Path, *, strimzi: bool = False, messy: bool = False, seed: int = 0) -> dict:
    """Write the capture of ``cluster`` into ``out``; return what the messy variant changed (for tests)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    changes: dict = {}
    nodes = list(cluster.nodes)
    node_index = {n.name: i for i, n in enumerate(nodes)}
    px_id = {n.name: str(uuid.UUID(int=rng.getrandbits(128), version=4)) for n in nodes}
    vol_id = {v.name: str(rng.randrange(10 ** 17, 10 ** 18)) for v in cluster.volumes}
    broker_of_volume = {v: b for b in cluster.brokers for v in b.volumes}
    kafka_ns, app_ns = ("kafka", "apps")

    # ---- what the messy variant changes (chosen so the import can be checked against it)
    storageless: list[str] = []
    na_names: set[str] = set()
    ghost: tuple[str, str] | None = None  # (volume, the vanished node id)
    resync: tuple[str, str] | None = None  # (volume, node)
    cordoned = not_ready = None
    if messy:
        storageless = ["storageless-0", "storageless-1"]
        na_names = {nodes[0].name, nodes[1].name}
        app_volumes = [v for v in cluster.volumes if v.name not in broker_of_volume]
        ghost = (app_volumes[0].name, str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        # an HA increase in progress: ha_level one lower, the last replica still being built (Portworx keeps at most 3)
        resync = (app_volumes[1].name, app_volumes[1].replicas[-1])
        brokers_nodes = {b.node for b in cluster.brokers}
        others = [n.name for n in nodes if n.name not in brokers_nodes]
        cordoned, not_ready = others[0], others[1]
        changes = {"storageless": storageless, "na": sorted(na_names), "ghost": ghost, "resync": resync,
                   "cordoned": cordoned, "notReady": not_ready}

    # ---- Kubernetes nodes
    node_items = [_node(n, i, rng, ready=n.name != not_ready, cordoned=n.name == cordoned) for i, n in enumerate(nodes)]
    from placement.models.cluster import Node, NodeState
    for k, name in enumerate(storageless):
        extra = Node(name=name, zone=nodes[k].zone, state=NodeState.READY, storage_mib=0, storage_gib=0,
                     cpu_millicores=8000, memory_mib=32768)
        node_items.append(_node(extra, len(nodes) + k, rng))
    _dump(out / "nodes.json", {"apiVersion": "v1", "items": node_items, "kind": "List", "metadata": {"resourceVersion": ""}})

    # ---- pods, claims, persistent volumes
    pods, claims, pvs = [], [], []
    for v in cluster.volumes:
        broker = broker_of_volume.get(v.name)
        if broker is not None:
            claim = (kafka_ns, f"data-0-my-cluster-broker-{broker.id}" if strimzi else f"data-kafka-{broker.id}")
        else:
            claim = (app_ns, f"data-{v.name}")
        claims.append(_claim(claim[1], claim[0], v.name, v.size_gib, rng))
        pvs.append(_pv(v.name, claim, vol_id[v.name], v.size_gib, rng))
    for b in cluster.brokers:
        claim_name = f"data-0-my-cluster-broker-{b.id}" if strimzi else f"data-kafka-{b.id}"
        cpu = f"{b.cpu_millicores}m"
        memory = f"{b.memory_mib}Mi"
        if strimzi:
            labels = {"app.kubernetes.io/instance": "my-cluster", "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
                      "app.kubernetes.io/name": "kafka", "app.kubernetes.io/part-of": "strimzi-my-cluster",
                      "strimzi.io/broker-role": "true", "strimzi.io/cluster": "my-cluster", "strimzi.io/component-type": "kafka",
                      "strimzi.io/controller-role": "false", "strimzi.io/kind": "Kafka", "strimzi.io/name": "my-cluster-kafka",
                      "strimzi.io/pod-name": f"my-cluster-broker-{b.id}", "strimzi.io/pool-name": "broker"}
            pods.append(_pod(f"my-cluster-broker-{b.id}", kafka_ns, b.node, [("data-0", claim_name)], labels, rng, cpu=cpu,
                             memory=memory, image="quay.io/strimzi/kafka:0.45.0-kafka-3.9.0", container="kafka"))
        else:
            labels = {"app.kubernetes.io/name": "kafka", "app.kubernetes.io/instance": "kafka", "controller-revision-hash": "kafka-5d8f",
                      "statefulset.kubernetes.io/pod-name": f"kafka-{b.id}"}
            pods.append(_pod(f"kafka-{b.id}", kafka_ns, b.node, [("data", claim_name)], labels, rng, cpu=cpu, memory=memory,
                             image="apache/kafka:3.9.0", container="kafka",
                             env=[{"name": "KAFKA_PROCESS_ROLES", "value": "broker"}]))
    for i, v in enumerate(v for v in cluster.volumes if v.name not in broker_of_volume):
        labels = {"app": f"app-{i % 50}", "pod-template-hash": f"{rng.getrandbits(40):010x}"}
        pods.append(_pod(f"app-{i % 50}-{v.name}", app_ns, v.replicas[0] if v.replicas else None, [("data", f"data-{v.name}")], labels, rng))
    px_volumes = []
    for v in cluster.volumes:
        broker = broker_of_volume.get(v.name)
        claim = (kafka_ns, f"data-0-my-cluster-broker-{broker.id}" if strimzi else f"data-kafka-{broker.id}") if broker else (app_ns, f"data-{v.name}")
        replicas = [px_id[n] for n in v.replicas]
        if ghost and v.name == ghost[0]:
            replicas[-1] = ghost[1]
        attached = px_id[broker.node] if broker else (px_id[v.replicas[0]] if v.replicas else "")
        ha, adding = v.replication_factor, None
        if resync and v.name == resync[0]:
            replicas, ha, adding = replicas[:-1], ha - 1, replicas[-1]
        px_volumes.append(_px_volume(vol_id[v.name], v.name, claim, round(v.size_gib * GIB), round(v.used_gib * GIB),
                                     ha, replicas, attached, resync=adding))
    if strimzi:
        for k in range(3):  # KRaft controllers: a pool of their own, with claims, holding no partitions
            cid = 1000 + k
            node = nodes[k % len(nodes)].name
            name = f"data-0-my-cluster-controller-{cid}"
            labels = {"app.kubernetes.io/name": "kafka", "strimzi.io/cluster": "my-cluster", "strimzi.io/kind": "Kafka",
                      "strimzi.io/name": "my-cluster-kafka", "strimzi.io/broker-role": "false", "strimzi.io/controller-role": "true",
                      "strimzi.io/pool-name": "controller", "strimzi.io/component-type": "kafka"}
            pods.append(_pod(f"my-cluster-controller-{cid}", kafka_ns, node, [("data-0", name)], labels, rng, container="kafka",
                             image="quay.io/strimzi/kafka:0.45.0-kafka-3.9.0"))
            vname = f"pvc-controller-{cid}"
            claims.append(_claim(name, kafka_ns, vname, 10, rng))
            pvs.append(_pv(vname, (kafka_ns, name), vname, 10, rng))
            holders = [nodes[(k + j) % len(nodes)].name for j in range(min(3, len(nodes)))]  # the storage class's repl 3
            px_volumes.append(_px_volume(str(rng.randrange(10 ** 17, 10 ** 18)), vname, (kafka_ns, name), 10 * GIB, GIB,
                                         len(holders), [px_id[n] for n in holders], px_id[node]))
        for comp, pname in (("entity-operator", "my-cluster-entity-operator-6d7f8c9b4-x2x7k"),
                            ("kafka-exporter", "my-cluster-kafka-exporter-5b9c7d6f8-qq9zt")):
            labels = {"app.kubernetes.io/name": comp, "strimzi.io/cluster": "my-cluster", "strimzi.io/kind": "Kafka",
                      "strimzi.io/name": f"my-cluster-{comp}", "strimzi.io/component-type": comp}
            pods.append(_pod(pname, kafka_ns, nodes[0].name, [], labels, rng, container=comp))
    if messy:
        # an application claim on another storage driver, and one still pending
        pods.append(_pod("cache-0", app_ns, nodes[2].name, [("data", "data-cache-0")], {"app": "cache"}, rng))
        claims.append(_claim("data-cache-0", app_ns, "pvc-ebs-cache-0", 20, rng, sc="gp3"))
        pvs.append(_pv("pvc-ebs-cache-0", (app_ns, "data-cache-0"), "vol-0abc", 20, rng, driver="ebs.csi.aws.com"))
        claims.append(_claim("data-cache-1", app_ns, None, 20, rng, sc="gp3"))
    _dump(out / "pods.json", {"apiVersion": "v1", "items": pods, "kind": "List", "metadata": {"resourceVersion": ""}})
    _dump(out / "pvc.json", {"apiVersion": "v1", "items": claims, "kind": "List", "metadata": {"resourceVersion": ""}})
    _dump(out / "pv.json", {"apiVersion": "v1", "items": pvs, "kind": "List", "metadata": {"resourceVersion": ""}})
    (out / "px-volumes.json").write_text(json.dumps(px_volumes, indent=1), encoding="utf-8")

    # ---- Portworx nodes: pxctl status (text) and provision-status (JSON)
    used: dict[str, int] = {n.name: 0 for n in nodes}
    for v in cluster.volumes:
        for n in v.replicas:
            used[n] += round(v.used_gib * GIB)
    rows = []
    header = ("\tIP\t\tID\t\t\t\t\tSchedulerNodeName\tAuth\t\tStorageNode\tUsed\tCapacity\tStatus\tStorageStatus\tVersion\t\t"
              "Kernel\t\t\t\tOS")
    provision = {}
    for i, n in enumerate(nodes):
        capacity = round(n.storage_gib * GIB)
        sched = "N/A" if n.name in na_names else n.name
        storage = "Yes" if capacity else "No"
        status = "Online" if n.name != not_ready else "Offline"
        rows.append(f"\t{_ip(i)}\t{px_id[n.name]}\t{sched}\tDisabled\t{storage}\t\t{_size_text(used[n.name])}\t"
                    f"{_size_text(capacity)}\t\t{status}\t{'Up' if capacity else 'No Storage'}\t3.1.2.0-8e9c0f2\t"
                    "5.10.205-195.807.amzn2.x86_64\tAmazon Linux 2")
        if capacity:
            provision[px_id[n.name]] = {"Status": "Up" if status == "Online" else "Down",
                                        "Geo": {"Provider": "aws", "Region": "eu-west-1", "Zone": n.zone, "Rack": "default"},
                                        "Provision": [{"Pool": {"Cos": 3, "RaidLevel": "raid0", "labels": {"medium": "STORAGE_MEDIUM_SSD"},
                                                                "Info": {"Status": "Up", "TotalSize": capacity, "Used": used[n.name]},
                                                                "Status": "Up", "ReserveFactor": 0},
                                                       "ProvisionedSpace": used[n.name]}]}
    for k, name in enumerate(storageless):
        rows.append(f"\t{_ip(len(nodes) + k)}\t{uuid.UUID(int=rng.getrandbits(128), version=4)}\t{name}\tDisabled\tNo\t\t0 B\t0 B\t\t"
                    "Online\tNo Storage\t3.1.2.0-8e9c0f2\t5.10.205-195.807.amzn2.x86_64\tAmazon Linux 2")
    with_storage = sum(1 for n in nodes if n.storage_gib)
    status_text = (f"Status: PX is operational\nTelemetry: Healthy\nLicense: PX-Enterprise (lease renewal in 23h, 59m)\n"
                   f"Node ID: {px_id[nodes[0].name]}\n\tIP: {_ip(0)} \n \tLocal Storage Pool: 1 pool\n"
                   "\tPOOL\tIO_PRIORITY\tRAID_LEVEL\tUSABLE\tUSED\tSTATUS\tZONE\tREGION\n"
                   f"\t0\tHIGH\t\traid0\t\t{_size_text(nodes[0].storage_gib * GIB)}\t{_size_text(used[nodes[0].name])}\tOnline\t{nodes[0].zone}\teu-west-1\n"
                   "Cluster Summary\n\tCluster ID: px-cluster-bench\n\tCluster UUID: 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f\n"
                   "\tScheduler: kubernetes\n\tTotal Nodes: "
                   f"{with_storage} node(s) with storage ({with_storage} online), {len(storageless)} node(s) without storage "
                   f"({len(storageless)} online)\n{header}\n" + "\n".join(rows) + "\nGlobal Storage Pool\n"
                   f"\tTotal Used    \t:  {_size_text(sum(used.values()))}\n"
                   f"\tTotal Capacity\t:  {_size_text(sum(n.storage_gib for n in nodes) * GIB)}\n")
    (out / "px-status.txt").write_text(status_text, encoding="utf-8")
    _dump(out / "px-provision-status.json", {"provisionInfo": provision})

    # ---- Kafka: describe and log dirs
    lines = []
    leaderless = None
    if messy and cluster.topics and cluster.topics[0].partitions:
        leaderless = (cluster.topics[0].name, cluster.topics[0].partitions[0].id)
        changes["leaderless"] = leaderless
    for t in cluster.topics:
        rf = len(t.partitions[0].replicas) if t.partitions else 0
        topic_id = base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")
        lines.append(f"Topic: {t.name}\tTopicId: {topic_id}\tPartitionCount: {len(t.partitions)}\tReplicationFactor: {rf}\t"
                     f"Configs: min.insync.replicas={t.min_insync_replicas},cleanup.policy=delete,segment.bytes=1073741824,"
                     "leader.replication.throttled.replicas=0:1,1:2")
        for p in t.partitions:
            leader = "none" if (t.name, p.id) == leaderless else str(p.leader)
            isr = list(p.isr)
            rng.shuffle(isr)  # Kafka prints the ISR in its own order
            lines.append(f"\tTopic: {t.name}\tPartition: {p.id}\tLeader: {leader}\tReplicas: {','.join(map(str, p.replicas))}\t"
                         f"Isr: {','.join(map(str, isr))}\tElr: \tLastKnownElr: ")
    (out / "topics.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    per_broker: dict[int, list] = {b.id: [] for b in cluster.brokers}
    for t in cluster.topics:
        for p in t.partitions:
            full = round(p.size_gib * GIB)
            for k, b in enumerate(p.replicas):
                size = full if k == 0 else max(0, full - rng.randrange(0, 1 + full // 1000))  # followers a little behind
                per_broker[b].append({"partition": f"{t.name}-{p.id}", "size": size, "offsetLag": 0, "isFuture": False})
    brokers = [{"broker": b, "logDirs": [{"logDir": "/var/lib/kafka/data-0/kafka-log" + str(b), "error": None,
                                          "partitions": parts}]} for b, parts in sorted(per_broker.items())]
    ids = ",".join(str(b) for b in sorted(per_broker))
    (out / "logdirs.txt").write_text("Querying brokers for log directories information\n"
                                     f"Received log directory information from brokers {ids}\n"
                                     + json.dumps({"version": 1, "brokers": brokers}, separators=(",", ":")) + "\n", encoding="utf-8")
    return changes


def _dump(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=4) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory")
    for key, value in CLUSTER.items():
        ap.add_argument(f"--{key}", type=int, default=value)
    ap.add_argument("--strimzi", action="store_true")
    ap.add_argument("--messy", action="store_true")
    args = ap.parse_args()
    from placement.models.generate import generate_cluster

    cluster = generate_cluster(**{k: getattr(args, k) for k in CLUSTER})
    write_capture(cluster, args.directory, strimzi=args.strimzi, messy=args.messy, seed=args.seed)


if __name__ == "__main__":
    main()

"""Shared helpers for the import tests: where the real samples are, and small object builders."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def samples_dir() -> Path:
    """``tests/samples``: the real tool outputs (copied from shared/samples with their SOURCES.md and
    NOTES.md) kept in the repository, so a fresh clone on a clean machine has them."""
    return ROOT / "tests" / "samples"


def node(name, *, zone=None, beta=None, ready="True", unschedulable=False, taints=(), cpu="4", memory="16Gi",
         ip=None, hostname=None, labels=None):
    lab = {"kubernetes.io/hostname": hostname or name, **(labels or {})}
    if zone:
        lab["topology.kubernetes.io/zone"] = zone
    if beta:
        lab["failure-domain.beta.kubernetes.io/zone"] = beta
    spec = {"taints": [{"key": t, "effect": "NoExecute"} for t in taints]}
    if unschedulable:
        spec["unschedulable"] = True
    conditions = [] if ready is None else [{"type": "Ready", "status": ready}]
    addresses = [{"type": "Hostname", "address": hostname or name}] + ([{"type": "InternalIP", "address": ip}] if ip else [])
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": lab}, "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": memory}, "conditions": conditions, "addresses": addresses}}


def pod(name, node_name, claims=(), *, namespace="kafka", labels=None, cpu=None, memory=None, env=()):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": "kafka"} if labels is None else labels},
            "spec": {"nodeName": node_name, "containers": [{"name": "kafka", "resources": {"requests": requests}, "env": list(env)}],
                     "volumes": [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claims)]},
            "status": {"phase": "Running"}}


def claim(name, volume, *, namespace="kafka"):
    spec = {"accessModes": ["ReadWriteOnce"]}
    if volume:
        spec["volumeName"] = volume
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
            "spec": spec, "status": {"phase": "Bound" if volume else "Pending"}}


def pv(name, handle, *, driver="pxd.portworx.com", in_tree=False, claim_ref=None):
    spec = {"capacity": {"storage": "10Gi"}, "persistentVolumeReclaimPolicy": "Delete"}
    if in_tree:
        spec["portworxVolume"] = {"volumeID": handle}
    else:
        spec["csi"] = {"driver": driver, "volumeHandle": handle}
    if claim_ref:
        spec["claimRef"] = {"namespace": claim_ref[0], "name": claim_ref[1]}
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec}


def px_volume(vid, name, replicas, *, size=10 * 2**30, usage=2**30, ha=None, strings=True, resync=None, labels=None):
    conv = str if strings else (lambda x: x)
    state = {"RuntimeState": "resync" if resync else "clean"}
    if resync:
        state["ReplNewNodeMid"] = resync
    locator = {"name": name}
    if labels:
        locator["volume_labels"] = labels
    return {"id": vid, "locator": locator, "spec": {"size": conv(size), "ha_level": conv(ha or len(replicas))},
            "usage": conv(usage), "replica_sets": [{"nodes": list(replicas)}], "runtime_state": [{"runtime_state": state}]}


def items(*objs, kind="List"):
    return {"apiVersion": "v1", "kind": kind, "items": list(objs)}


def status_text(rows, *, scheduler=True):
    """A pxctl status whose cluster summary has the given (ip, id, scheduler name, used, capacity, status) rows."""
    head = "\tIP\t\tID\t\t\t\t\tSchedulerNodeName\tStorageNode\tUsed\tCapacity\tStatus\tStorageStatus\tVersion\t\tKernel\t\tOS"
    if not scheduler:
        head = "\tIP\t\tID\t\tUsed\tCapacity\tStatus"
    lines = ["Status: PX is operational", "Node ID: x", "Cluster Summary", "\tCluster ID: test-cluster", head]
    for ip, nid, sched, used, cap, status in rows:
        if scheduler:
            storage = "Yes" if not cap.startswith("0 ") else "No"
            lines.append(f"\t{ip}\t{nid}\t{sched}\t{storage}\t\t{used}\t{cap}\t\t{status}\tUp\t3.1.0\t5.10\tUbuntu 22.04.2 LTS")
        else:
            lines.append(f"\t{ip}\t{nid}\t{used}\t{cap}\t\t{status}")
    lines += ["Global Storage Pool", "\tTotal Used    \t:  1 GiB"]
    return "\n".join(lines) + "\n"


DESCRIBE = """Topic: orders\tTopicId: abc\tPartitionCount: 2\tReplicationFactor: 2\tConfigs: min.insync.replicas=2,leader.replication.throttled.replicas=0:1,1:2
\tTopic: orders\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 1,0\tElr: \tLastKnownElr: 
\tTopic: orders\tPartition: 1\tLeader: 1\tReplicas: 1,0\tIsr: 1,0\tElr: \tLastKnownElr: 
"""


def log_dirs(sizes: dict[tuple[str, int, int], int]) -> str:
    """kafka-log-dirs output: (topic, partition, broker) -> bytes."""
    import json

    brokers: dict[int, list] = {}
    for (topic, p, b), size in sorted(sizes.items()):
        brokers.setdefault(b, []).append({"partition": f"{topic}-{p}", "size": size, "offsetLag": 0, "isFuture": False})
    data = {"version": 1, "brokers": [{"broker": b, "logDirs": [{"logDir": "/data", "error": None, "partitions": ps}]}
                                      for b, ps in sorted(brokers.items())]}
    return ("Querying brokers for log directories information\nReceived log directory information from brokers "
            + ",".join(map(str, sorted(brokers))) + "\n" + json.dumps(data) + "\n")

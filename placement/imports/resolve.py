"""Joining the sources into one cluster document (CONTRACT sections 1, 5 and 6).

The mapping, in the order it is applied:

- nodes: the Kubernetes Nodes (zone from the zone labels, else ``--zone-label``;
  ``failed`` when Ready is not "True" or out-of-service is tainted, ``cordoned``
  when unschedulable; cpu and memory from allocatable);
- Portworx node ID -> Kubernetes node: SchedulerNodeName, else the same name,
  else the hostname, else an InternalIP (each rule only to a node no stronger
  rule took); ``storageGiB`` from the Portworx capacity (0 when storageless);
- volumes by ``locator.name``; replicas through that map; replicas being built
  or re-added (runtime state) become ``stale``;
- brokers: the Kafka pods, id from the number ending the name, node from
  ``spec.nodeName``, volumes through claim -> PersistentVolume -> Portworx volume;
- partitions from the describe output, sizes from the log dirs.

Nothing is dropped: a replica on a Portworx node no Kubernetes node matches, a
pod on a node Kubernetes no longer lists, a partition replica on a broker with
no pod, each stays, on a placeholder node of state ``failed``, and the report
says so.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from placement.models.errors import InputError, Problem, excerpt
from placement.models.loading import NODE_NAME, VOLUME_NAME
from placement.imports import kubernetes as k8s
from placement.imports.kafka import PartitionRecord
from placement.imports.portworx import PxNode, node_status
from placement.imports.quantities import GIB, cores, gib
from placement.imports.report import ImportReport
from placement.imports.sources import Collected

DEFAULT_BROKERS = "app.kubernetes.io/name=kafka, Strimzi broker pods (strimzi.io/kind=Kafka with strimzi.io/broker-role=true, or strimzi.io/name=<cluster>-kafka)"
_NOT_BROKERS = {"entity-operator", "kafka-exporter", "cruise-control", "zookeeper", "kafka-connect", "kafka-bridge",
                "kafka-mirror-maker", "kafka-mirror-maker-2"}


def _trailing_digits(name: str) -> str:
    """The ASCII digits that end ``name`` ("" when none): the broker id of a pod. Not a regular expression: "$" also
    matches before a final newline, and a search retries every digit of a long run (quadratic)."""
    return name[len(name.rstrip("0123456789")):]


@dataclass(frozen=True)
class Options:
    zone_label: str | None = None
    kafka_pods: str | None = None


def _short(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def is_broker_pod(pod: k8s.K8sPod, selector=None) -> tuple[bool, str | None]:
    """(selected, why left out): the default Kafka broker pods, or those ``selector`` picks; never
    controller-only pods, Strimzi's entity operator, exporters or other components."""
    labels = pod.label_map
    if selector is not None:
        chosen = k8s.selector_matches(selector, labels)
    else:
        cluster = labels.get("strimzi.io/cluster")
        chosen = (labels.get("app.kubernetes.io/name") == "kafka"
                  or (labels.get("strimzi.io/kind") == "Kafka" and labels.get("strimzi.io/broker-role") == "true")
                  or (labels.get("strimzi.io/kind") == "Kafka" and cluster is not None
                      and labels.get("strimzi.io/name") == f"{cluster}-kafka"))
    if not chosen:
        return False, None
    if labels.get("strimzi.io/broker-role") == "false":
        return False, "a controller-only pod (strimzi.io/broker-role=false)"
    if labels.get("strimzi.io/controller-role") == "true" and labels.get("strimzi.io/broker-role") != "true":
        return False, "a controller-only pod (strimzi.io/controller-role=true)"
    if pod.process_roles and not any("broker" in r for r in pod.process_roles):
        return False, f"a controller-only pod (process roles {', '.join(pod.process_roles)})"
    component = labels.get("strimzi.io/component-type") or labels.get("app.kubernetes.io/name")
    if component in _NOT_BROKERS:
        return False, f"not a broker ({component})"
    return True, None


class _Resolver:
    def __init__(self, c: Collected, options: Options):
        self.c = c
        self.options = options
        self.report = ImportReport(sources=list(c.sources))
        self.nodes: dict[str, dict] = {}  # name -> node document
        self.placeholders: dict[str, str] = {}  # name -> why
        self.placeholder_source: dict[str, str] = {}
        self.placeholder_source: dict[str, str] = {}
        self.replica_gib: dict[str, float] = defaultdict(float)  # node -> GiB of replicas on it
        self.px_capacity: dict[str, Decimal | None] = {}  # node name -> Portworx capacity, when known
        self.px_map: dict[str, str] = {}  # Portworx node ID -> node name
        self.px_by_id: dict[str, PxNode] = {}
        self.volumes: list[dict] = []
        self.volume_by_handle: dict[str, str] = {}  # Portworx id or name -> volume name
        self.brokers: dict[int, dict] = {}
        self.topics: list[dict] = []

    # ------------------------------------------------------------ nodes
    def kubernetes_nodes(self) -> None:
        no_zone = []
        for name in sorted(self.c.nodes):
            n = self.c.nodes[name]
            labels = n.label_map
            doc: dict[str, Any] = {"name": name}
            ga, beta = labels.get(k8s.ZONE_LABELS[0]), labels.get(k8s.ZONE_LABELS[1])
            zone = ga or beta or (labels.get(self.options.zone_label) if self.options.zone_label else None)
            if ga and beta and ga != beta:
                self.report.assume(n.source, f"node {name}", f"zone labels disagree ({k8s.ZONE_LABELS[0]}={ga}, "
                                                             f"{k8s.ZONE_LABELS[1]}={beta}); {ga} taken")
            if zone:
                doc["zone"] = zone
            else:
                no_zone.append(name)
            if k8s.OUT_OF_SERVICE in n.taints:
                doc["state"] = "failed"
            elif n.ready != "True":
                doc["state"] = "failed"
                if n.ready is None:
                    self.report.assume(n.source, f"node {name}", "has no Ready condition (just registered?); counted as failed")
            elif n.unschedulable:
                doc["state"] = "cordoned"
            else:
                doc["state"] = "ready"
            if n.cpu is not None:
                doc["cpu"] = cores(n.cpu)
            if n.memory is not None:
                doc["memoryGiB"] = gib(n.memory)
            self.nodes[name] = doc
        if no_zone:
            label = f" nor {self.options.zone_label}" if self.options.zone_label else " (name one with --zone-label)"
            self.report.assume(self.c.nodes[no_zone[0]].source, f"nodes {_short(no_zone)}",
                               f"carry neither {k8s.ZONE_LABELS[0]} nor {k8s.ZONE_LABELS[1]}{label}; zone 'default'")

    def portworx_nodes(self) -> None:
        """Merge what every source says about each Portworx node ID."""
        parts: dict[str, list[PxNode]] = defaultdict(list)
        for p in self.c.px_nodes:
            parts[p.id].append(p)
        for sn in self.c.storage_nodes.values():
            if not sn.node_uid:
                self.report.unresolved(sn.source, f"storagenode {sn.name}", "has no status.nodeUid; it cannot be joined to Portworx's node IDs")
                continue
            parts[sn.node_uid].append(PxNode(id=sn.node_uid, source=sn.source, kind="storagenode", scheduler_name=sn.name,
                                             ips=sn.ips, capacity=sn.total_size, exact=True,
                                             has_storage=sn.has_storage if sn.has_storage is not None else
                                             (None if sn.total_size is None else sn.total_size > 0),
                                             status=node_status(sn.phase) if sn.phase else None))
        for node_id in sorted(parts):
            self.px_by_id[node_id] = _merge(node_id, parts[node_id])

    def map_portworx_nodes(self) -> None:
        if not self.c.nodes:
            return
        claimed: dict[str, str] = {}  # k8s node -> px id
        k8s_nodes = self.c.nodes

        def by_scheduler(p: PxNode) -> list[str]:
            return [p.scheduler_name] if p.scheduler_name in k8s_nodes else []

        def by_name(p: PxNode) -> list[str]:
            return [p.id] if p.id in k8s_nodes else []

        def by_hostname(p: PxNode) -> list[str]:
            if not p.hostname:
                return []
            h = p.hostname
            return [n for n, rec in sorted(k8s_nodes.items())
                    if h in rec.hostnames or n == h or n.startswith(h + ".") or h.startswith(n + ".")]

        def by_ip(p: PxNode) -> list[str]:
            return [n for n, rec in sorted(k8s_nodes.items()) if set(p.ips) & set(rec.internal_ips)]

        rules = (("SchedulerNodeName", by_scheduler), ("the same name", by_name), ("hostname", by_hostname),
                 ("InternalIP", by_ip))
        for rule, match in rules:
            wanted: dict[str, list[PxNode]] = defaultdict(list)
            for node_id in sorted(self.px_by_id):
                if node_id in self.px_map:
                    continue
                p = self.px_by_id[node_id]
                free = [n for n in match(p) if n not in claimed]
                if len(free) == 1:
                    wanted[free[0]].append(p)
            for node, contenders in sorted(wanted.items()):
                if len(contenders) > 1:
                    online = [p for p in contenders if p.status in ("online", "storage-down", "degraded")]
                    if len(online) != 1:
                        raise InputError(contenders[1].source, Problem(
                            f"Portworx node {contenders[1].id}",
                            f"and Portworx node {contenders[0].id} both match Kubernetes node {node} by {rule}; "
                            "remove the stale one from the capture (pxctl cluster delete for a node that is gone)"))
                    for p in contenders:
                        if p is not online[0]:
                            self.report.assume(p.source, f"Portworx node {p.id}",
                                               f"matches Kubernetes node {node} by {rule}, as does the online Portworx node {online[0].id}: "
                                               "taken as the old identity of a node that rejoined; its replicas are on a node that no longer exists")
                    contenders = online
                p = contenders[0]
                self.px_map[p.id] = node
                claimed[node] = p.id
                if rule in ("hostname", "InternalIP"):
                    self.report.assume(p.source, f"Portworx node {p.id}", f"matched to Kubernetes node {node} by {rule}"
                                       + (f" (its SchedulerNodeName {p.scheduler_name} names no Kubernetes node)" if p.scheduler_name else ""))
        for node_id, p in sorted(self.px_by_id.items()):
            node = self.px_map.get(node_id)
            if node and p.status not in (None, "online") and self.nodes[node].get("state") == "ready":
                self.report.assume(p.source, f"node {node}", f"Kubernetes says Ready but Portworx says {p.status}; "
                                                             "state taken from Kubernetes (ready)")

    def inferred_nodes(self) -> None:
        """No Kubernetes Node objects: the nodes are the Portworx nodes (named by SchedulerNodeName, else ID)."""
        if self.c.nodes or not self.px_by_id:
            return
        names = []
        for node_id, p in sorted(self.px_by_id.items()):
            name = self._free_name(p.scheduler_name or node_id)
            state = "ready" if p.status in ("online", "storage-down", "degraded") else "failed"
            self.nodes[name] = {"name": name, "state": state}
            self.px_map[node_id] = name
            names.append(name)
        self.report.assume(self.px_by_id[sorted(self.px_by_id)[0]].source, f"nodes {_short(names)}",
                           "no Kubernetes Node objects were given: the nodes are taken from Portworx "
                           "(state from its status, zone 'default', no cpu or memory)")

    def storage(self) -> None:
        for node_id, node in self.px_map.items():
            p = self.px_by_id[node_id]
            self.px_capacity[node] = p.capacity
            if p.has_storage is False or not p.capacity:
                self.nodes[node]["storageGiB"] = 0
            else:
                self.nodes[node]["storageGiB"] = gib(p.capacity)
        if self.px_by_id:
            unknown = [n for n in sorted(self.nodes) if n not in self.px_capacity]
            for n in unknown:
                self.nodes[n]["storageGiB"] = 0
            if unknown:
                self.report.assume(self.c.nodes[unknown[0]].source if unknown[0] in self.c.nodes else "import",
                                   f"nodes {_short(unknown)}", "Portworx lists no such node: storageGiB 0 (no Portworx storage there)")

    def unmatched_portworx_nodes(self) -> None:
        """A Portworx node no Kubernetes node matches and no replica names: it cannot enter the cluster
        file (no Kubernetes node to put its storage on), so it is reported, never dropped in silence.
        One that holds replicas became a placeholder failed node in ``px_node`` already."""
        if not self.c.nodes:
            return  # the nodes were taken from Portworx itself (``inferred_nodes``): every one is mapped
        for node_id, p in sorted(self.px_by_id.items()):
            if node_id in self.px_map:
                continue
            seen = [f"SchedulerNodeName {p.scheduler_name}" if p.scheduler_name else "no SchedulerNodeName"]
            if p.hostname:
                seen.append(f"hostname {p.hostname}")
            if p.ips:
                seen.append(f"IP {', '.join(p.ips[:3])}")
            if p.status:
                seen.append(p.status)
            storage = (f"{gib(p.capacity)} GiB of storage" if p.capacity and p.has_storage is not False
                       else "no storage")
            holds = ("holds no replica of the volumes given" if "px-volumes" in self.c.given else
                     "whether it holds replicas is unknown (no pxctl --json volume list given)")
            self.report.unresolved(p.source, f"Portworx node {node_id}",
                                   f"matches no Kubernetes node by SchedulerNodeName, name, hostname or InternalIP "
                                   f"({'; '.join(seen)}) and {holds}: left out of the cluster file with its {storage}; "
                                   "give the Kubernetes Node it runs on (kubectl get nodes -o json)")

    # ------------------------------------------------------------ placeholders
    def _free_name(self, wanted: str) -> str:
        name = wanted.lower()
        if not NODE_NAME.match(name):
            name = re.sub(r"[^a-z0-9.-]+", "-", name).strip("-.")[:63].strip("-.") or "unknown"
            name = re.sub(r"\.+", ".", name)
        base, n = name, 2
        while name in self.nodes:
            name = f"{base[:58]}-{n}"
            n += 1
        return name

    def placeholder(self, wanted: str, why: str, source: str, item: str) -> str:
        name = self._free_name(wanted)
        self.nodes[name] = {"name": name, "state": "failed"}
        self.placeholders[name] = why
        self.placeholder_source[name] = source
        self.placeholder_source[name] = source
        self.report.unresolved(source, item, f"{why}: kept on placeholder node {name} (state failed)")
        return name

    def px_node(self, node_id: str, source: str, item: str) -> str:
        """The node a Portworx node ID names, or a placeholder for it."""
        if node_id in self.px_map:
            return self.px_map[node_id]
        if not self.px_by_id and node_id in self.nodes:
            return node_id  # no Portworx node source: an ID that is a node's name (k8s-0 installs)
        p = self.px_by_id.get(node_id)
        why = (f"Portworx node {node_id} matches no Kubernetes node" if p else
               f"Portworx node {node_id} is unknown to {'the Portworx node sources' if self.px_by_id else 'the sources (no pxctl status, provision-status or StorageNode given)'}")
        wanted = (p.scheduler_name if p and p.scheduler_name else node_id)
        name = self.placeholder(wanted, why, source, item)
        self.px_map[node_id] = name
        if p is not None and p.capacity:
            self.px_capacity[name] = p.capacity
        return name

    # ------------------------------------------------------------ volumes
    def portworx_volumes(self) -> None:
        for name in sorted(self.c.px_volumes):
            v = self.c.px_volumes[name]
            item = f"volume {name}"
            if not VOLUME_NAME.match(name):
                raise InputError(v.source, Problem(item, "is not a name the cluster file can hold (letters, digits, '-', '_', '.')"))
            if not 1 <= v.ha_level <= 3:
                raise InputError(v.source, Problem(item, f"spec.ha_level is {v.ha_level}; Portworx allows 1..3"))
            size, used = gib(v.size), gib(v.usage)
            if v.usage > v.size:
                self.report.assume(v.source, item, f"usage {used} GiB is more than its size {size} GiB; usedGiB taken as the size")
                used = size
            doc: dict[str, Any] = {"name": name, "sizeGiB": size, "usedGiB": used, "replicationFactor": v.ha_level}
            replicas = [self.px_node(node_id, v.source, f"{item} replica on {node_id}") for node_id in v.replica_nodes]
            stale: dict[str, Any] = {}
            for node_id, why in v.resyncing:
                node = self.px_node(node_id, v.source, f"{item} replica on {node_id}")
                if node not in replicas:
                    replicas.append(node)
                stale[node] = used
                self.report.assume(v.source, f"{item} replica on {node}",
                                   f"{why}: a stale replica; how far behind is unknown, its usedGiB ({used}) assumed")
            if len(v.replica_sets) > 1:
                self.report.assume(v.source, item, f"is striped over {len(v.replica_sets)} replica sets; each node is "
                                                   "counted as holding the whole volume")
            for replica_set in v.replica_sets:
                twice = sorted({n for n in replica_set if replica_set.count(n) > 1})
                if twice:
                    self.report.assume(v.source, item, f"lists {', '.join(twice)} more than once in one replica set; "
                                                       "each node is counted once")
            if not replicas:  # the plan would call its data lost: say where that came from
                self.report.unresolved(v.source, item, "has no replica set in the Portworx output (replica_sets empty or "
                                                       "absent): no replica is known, so the cluster file says its data is "
                                                       "lost; capture pxctl --json volume list again")
            for node in replicas:
                self.replica_gib[node] += float(size)
            doc["replicas"] = replicas
            if stale:
                doc["stale"] = stale
            self.volumes.append(doc)
            self.volume_by_handle[name] = name
            if v.id:
                self.volume_by_handle.setdefault(v.id, name)

    def storage_for_replicas(self) -> None:
        """A node holding replicas needs storage in the file; where Portworx gave none, say what was assumed."""
        no_source = []
        for name in sorted(self.replica_gib):
            doc = self.nodes[name]
            if doc.get("storageGiB"):
                continue
            held = _number(self.replica_gib[name])
            known = self.px_capacity.get(name)
            if name in self.placeholders:
                doc["storageGiB"] = gib(known) if known else held
                how = "its Portworx capacity" if known else "what its replicas take"
                self.report.assume(self.placeholder_source.get(name, "import"), f"node {name}", f"placeholder holding replicas: storageGiB {doc['storageGiB']} ({how})")
            elif not self.px_by_id:
                doc["storageGiB"] = held
                no_source.append(name)
            else:
                doc["storageGiB"] = held
                self.report.assume("import", f"node {name}", "Portworx lists it without storage, yet volumes have replicas "
                                                              f"on it: storageGiB {held} (what its replicas take)")
        if no_source:
            self.report.assume("import", f"nodes {_short(no_source)}", "no Portworx node source (pxctl status, provision-status "
                                                                        "or StorageNode) was given: each node's storageGiB is what its replicas take")

    # ------------------------------------------------------------ brokers
    def _is_broker_pod(self, pod: k8s.K8sPod, selector) -> tuple[bool, str | None]:
        return is_broker_pod(pod, selector)

    def brokers_from_pods(self) -> None:
        selector = k8s.parse_selector(self.options.kafka_pods) if self.options.kafka_pods else None
        by_id: dict[int, k8s.K8sPod] = {}
        left_out: list[str] = []
        for key in sorted(self.c.pods):
            pod = self.c.pods[key]
            chosen, why = self._is_broker_pod(pod, selector)
            if why:
                left_out.append(f"{pod.key} ({why})")
            if not chosen:
                continue
            digits = _trailing_digits(pod.name)
            if not digits:
                self.report.unresolved(pod.source, f"pod {pod.key}", "is selected as a Kafka broker but its name does not end in "
                                                                     "a number, the broker id; left out")
                continue
            if len(digits) > 10:  # past any broker id (int() refuses 4,300 digits: an internal error, not an answer)
                self.report.unresolved(pod.source, f"pod {excerpt(pod.key)}", f"ends in a number of {len(digits):,} digits, "
                                                                              "more than a broker id (at most 2,147,483,647); left out")
                continue
            bid = int(digits)
            if bid in by_id:
                other = by_id[bid]
                raise InputError(pod.source, Problem(f"pod {pod.key}", f"and pod {other.key} ({other.source}) both end in {bid}, "
                                                                       "so both would be broker "
                                                                       f"{bid}; select one Kafka cluster's brokers with --kafka-pods"))
            by_id[bid] = pod
        if left_out:
            self.report.note(f"pods left out of the brokers: {_short(left_out)}")
        if self.c.pods and not by_id:
            rule = f"--kafka-pods {self.options.kafka_pods}" if selector else DEFAULT_BROKERS
            self.report.unresolved(next(iter(self.c.pods.values())).source, "pods",
                                   f"none of the {len(self.c.pods)} pods is a Kafka broker by {rule}; give --kafka-pods")
        claimed: dict[str, int] = {}
        for bid, pod in sorted(by_id.items()):
            item = f"broker {bid} (pod {pod.key})"
            if pod.node_name is None:
                node = self.placeholder(f"unscheduled-{pod.name}", "the pod is not scheduled (no spec.nodeName)", pod.source, item)
            elif pod.node_name in self.nodes:
                node = pod.node_name
            elif self.c.nodes:
                node = self.placeholder(pod.node_name, f"its node {pod.node_name} is not among the Kubernetes nodes", pod.source, item)
            else:
                node = self.placeholder(pod.node_name, f"its node {pod.node_name} is known only from the pod (no Kubernetes Node objects "
                                                       "or Portworx node of that name)", pod.source, item)
            volumes = []
            for claim in pod.claims:
                name = self.claim_volume(pod, claim, item)
                if name is None:
                    continue
                if name in claimed and claimed[name] != bid:
                    raise InputError(pod.source, Problem(item, f"claims volume {name}, which broker {claimed[name]} claims too"))
                claimed[name] = bid
                if name not in volumes:
                    volumes.append(name)
            doc: dict[str, Any] = {"id": bid, "node": node, "volumes": volumes}
            if pod.cpu:
                doc["cpu"] = cores(pod.cpu)
            if pod.memory:
                doc["memoryGiB"] = gib(pod.memory)
            self.brokers[bid] = doc
            self._pod_of[bid] = pod

    _pod_of: dict[int, k8s.K8sPod]

    def claim_volume(self, pod: k8s.K8sPod, claim_name: str, item: str) -> str | None:
        """Claim -> PersistentVolume -> Portworx volume (by its ID or name); None, reported, where the chain breaks."""
        what = f"{item} claim {claim_name}"
        claim = self.c.claims.get((pod.namespace, claim_name))
        if claim is None and not pod.namespace:
            claim = next((c for (ns, n), c in sorted(self.c.claims.items()) if n == claim_name), None)
        if claim is None:
            by_label = self._volume_by_labels(pod.namespace, claim_name)
            if "claims" in self.c.given:
                self.report.unresolved(pod.source, what, "no such PersistentVolumeClaim among the claims given"
                                       + (f"; volume {by_label} carries its labels but is not taken on that alone" if by_label else ""))
                return None
            if by_label:
                self.report.assume(pod.source, what, f"no claims given: taken as Portworx volume {by_label}, whose labels name this claim")
                return by_label
            self.report.unresolved(pod.source, what, "no claims given and no Portworx volume is labelled with this claim")
            return None
        if not claim.volume_name:
            self.report.unresolved(claim.source, what, f"is not bound to a volume (phase {claim.phase or 'unknown'})")
            return None
        pv = self.c.pvs.get(claim.volume_name)
        if pv is None:
            if "pvs" in self.c.given:
                self.report.unresolved(claim.source, what, f"its PersistentVolume {claim.volume_name} is not among the volumes given")
                return None
            name = self.volume_by_handle.get(claim.volume_name)
            if name:
                self.report.assume(claim.source, what, f"no PersistentVolumes given: taken as Portworx volume {name}, "
                                                       "named like the claim's volume")
                return name
            self.report.unresolved(claim.source, what, f"no PersistentVolumes given and no Portworx volume is named {claim.volume_name}")
            return None
        if not pv.is_portworx:
            self.report.unresolved(pv.source, what, f"is not a Portworx volume (PersistentVolume {pv.name}, "
                                                    f"{'driver ' + pv.driver if pv.driver else 'no Portworx source'}); the broker keeps no volume for it")
            return None
        name = self.volume_by_handle.get(pv.handle or "")
        if name is None:
            where = "the Portworx volumes given" if "px-volumes" in self.c.given else "any source (no pxctl --json volume list given)"
            self.report.unresolved(pv.source, what, f"Portworx volume {pv.handle} (PersistentVolume {pv.name}) is not among {where}")
            return None
        return name

    def _volume_by_labels(self, namespace: str, claim: str) -> str | None:
        for name in sorted(self.c.px_volumes):
            labels = dict(self.c.px_volumes[name].labels)
            if labels.get("pvc") == claim and labels.get("namespace", namespace) == namespace:
                return name
        return None

    # ------------------------------------------------------------ topics
    def topics_and_partitions(self) -> None:
        sizes: dict[tuple[str, int], int] = {}
        answered: set[int] = set()
        for dirs in self.c.log_dirs:
            answered |= dirs.brokers
            for key, size in dirs.sizes.items():
                sizes[key] = max(sizes.get(key, 0), size)
            if dirs.elided:
                self.report.assume(dirs.source, "log dirs", "the JSON has '...' where brokers were left out; sizes read from what is there")
            for broker, logdir, error in dirs.offline_dirs:
                self.report.unresolved(dirs.source, f"broker {broker} log dir {logdir}", f"is offline ({error}); its partitions have no size from it")
        self.kafka_brokers = answered | {b for t in self.c.topics.values() for p in t.partitions.values() for b in p.replicas}
        no_min_isr, no_size = [], defaultdict(list)
        for name in sorted(self.c.topics):
            t = self.c.topics[name]
            item = f"topic {name}"
            if t.described > 1:
                self.report.assume(t.source, item, f"is described {t.described} times (successive runs pasted together?); the last is used")
            if t.header and t.partition_count is not None and t.partition_count != len(t.partitions):
                self.report.unresolved(t.source, item, f"its header says PartitionCount {t.partition_count} but "
                                                       f"{len(t.partitions)} partition{'s are' if len(t.partitions) != 1 else ' is'} "
                                                       "described (an output cut short?); only those described are in the cluster file")
            parts = []
            counts: dict[int, list[int]] = defaultdict(list)
            for pid in sorted(t.partitions):
                doc = self.partition(t.source, t.partitions[pid])
                size = sizes.get((name, pid))
                if size is None:
                    no_size[name].append(pid)
                    size = 0
                doc["sizeGiB"] = gib(size)
                counts[len(doc["replicas"])].append(pid)
                parts.append(doc)
            if len(counts) > 1:
                shown = "; ".join(f"{n} replicas: partitions {_short([str(p) for p in ps], 5)}" for n, ps in sorted(counts.items()))
                raise InputError(t.source, Problem(item, f"its partitions have different replica counts ({shown}); the cluster file "
                                                         "gives a topic one replication factor: finish or undo that reassignment first"))
            topic: dict[str, Any] = {"name": name}
            min_isr = t.min_insync_replicas
            rf = next(iter(counts)) if counts else None
            if min_isr is None:
                no_min_isr.append(name)
            elif rf is not None and min_isr > rf:
                self.report.assume(t.source, item, f"min.insync.replicas {min_isr} is more than its {rf} replicas (no write can "
                                                   f"succeed); {rf} written to the cluster file")
                topic["minInsyncReplicas"] = rf
            else:
                topic["minInsyncReplicas"] = min_isr
            topic["partitions"] = parts
            self.topics.append(topic)
        if no_min_isr:
            src = self.c.topics[no_min_isr[0]].source
            self.report.assume(src, f"topics {_short(no_min_isr)}", "set no min.insync.replicas in their Configs; the broker "
                                                                   "default is not in the describe output: policy.minInsyncReplicas (1) assumed")
        if self.c.topics:
            if not self.c.log_dirs:
                total = sum(len(t.partitions) for t in self.c.topics.values())
                self.report.assume(next(iter(self.c.topics.values())).source, f"{total} partitions",
                                   "no kafka-log-dirs.sh --describe output was given: every partition's sizeGiB is 0")
            else:
                for name, pids in sorted(no_size.items()):
                    self.report.assume(self.c.topics[name].source, f"topic {name} partitions {_short([str(p) for p in pids], 12)}",
                                       "no size in the log dirs output (no live broker reported a replica): sizeGiB 0")
        described = {(t, p) for t, rec in self.c.topics.items() for p in rec.partitions}
        orphans = defaultdict(list)
        for dirs in self.c.log_dirs:
            for topic, pid in dirs.sizes:
                if (topic, pid) not in described:
                    orphans[(dirs.source, topic)].append(pid)
        if self.c.topics:
            for (src, topic), pids in sorted(orphans.items()):
                self.report.unresolved(src, f"topic {topic} partitions {_short([str(p) for p in sorted(set(pids))], 12)}",
                                       "are in the log dirs output but in no topic description; left out")

    def partition(self, source: str, p: PartitionRecord) -> dict:
        item = f"topic {p.topic} partition {p.id}"
        replicas = list(p.replicas)
        if p.adding:
            replicas = [b for b in p.replicas if b not in p.adding]
            self.report.assume(source, item, f"a reassignment is in progress (adding {list(p.adding)}"
                                             + (f", removing {list(p.removing)}" if p.removing else "")
                                             + f"); modelled at its current replicas {replicas}")
        if not replicas or len(set(replicas)) != len(replicas):
            raise InputError(source, Problem(f"line {p.line}", f"{item}: replicas {list(p.replicas)} are not distinct broker ids"))
        isr = [b for b in p.isr if b in replicas]
        leader = p.leader
        if leader is not None and leader not in replicas:
            self.report.assume(source, item, f"its leader {leader} is not among its replicas {replicas}; "
                                             "written as no leader (-1)")
            leader = None
        if leader is None:
            leader = -1  # Kafka's "Leader: none": the cluster file says -1, and the plan elects one where it can
        return {"id": p.id, "replicas": replicas, "leader": leader, "isr": isr}

    def ghost_brokers(self) -> None:
        """Partition replicas on brokers that have no pod: kept, on placeholder failed nodes."""
        named = sorted({b for t in self.topics for p in t["partitions"] for b in p["replicas"]} - set(self.brokers))
        for bid in named:
            src = next(t.source for t in self.c.topics.values() if any(bid in p.replicas for p in t.partitions.values()))
            why = "partitions name this broker but no Kafka pod was found for it"
            if not self.c.pods:
                why += " (no pods were given)"
            node = self.placeholder(f"broker-{bid}-unknown-node", why, src, f"broker {bid}")
            self.brokers[bid] = {"id": bid, "node": node, "volumes": []}
        if self.c.topics or self.c.log_dirs:
            unconfirmed = [bid for bid in sorted(self._pod_of) if bid not in self.kafka_brokers]
            for bid in unconfirmed:
                pod = self._pod_of[bid]
                self.report.assume(pod.source, f"broker {bid} (pod {pod.key})",
                                   "id taken from the pod's name; neither the topics nor the log dirs name this broker")
        elif self._pod_of:
            first = self._pod_of[min(self._pod_of)]
            self.report.assume(first.source, f"brokers {_short([str(b) for b in sorted(self._pod_of)])}",
                               "ids taken from the pods' names; no Kafka source (describe or log dirs) was given to confirm them")

    # ------------------------------------------------------------ the document
    def run(self) -> tuple[dict, ImportReport]:
        self._pod_of = {}
        self.kafka_brokers: set[int] = set()
        self.kubernetes_nodes()
        self.portworx_nodes()
        self.map_portworx_nodes()
        self.inferred_nodes()
        self.storage()
        self.portworx_volumes()
        self.unmatched_portworx_nodes()
        self.brokers_from_pods()
        self.topics_and_partitions()
        self.ghost_brokers()
        self.storage_for_replicas()
        for source, what in self.c.skipped:
            self.report.note(f"{source}: {what} is of a kind import does not read; left out")
        document: dict[str, Any] = {"name": self._cluster_name()}
        document["nodes"] = [self.nodes[n] for n in sorted(self.nodes)]
        document["volumes"] = sorted(self.volumes, key=lambda v: v["name"])
        document["brokers"] = [self.brokers[b] for b in sorted(self.brokers)]
        document["topics"] = self.topics
        self.report.summary = {
            "nodes": len(self.nodes), "placeholderNodes": len(self.placeholders), "volumes": len(self.volumes),
            "brokers": len(self.brokers), "topics": len(self.topics),
            "partitions": sum(len(t["partitions"]) for t in self.topics),
        }
        self.report.items.sort(key=lambda i: (i.source, i.item, i.kind, i.message))
        return document, self.report

    def _cluster_name(self) -> str:
        for name in self.c.cluster_ids:
            if VOLUME_NAME.match(name):
                return name
        return "imported"


def _merge(node_id: str, parts: list[PxNode]) -> PxNode:
    """One Portworx node from what several sources say; where they disagree beyond rounding, exit 2."""
    def pick(attr: str) -> Any:
        values = [(getattr(p, attr), p) for p in parts if getattr(p, attr) not in (None, (), "")]
        return values

    scheduler = pick("scheduler_name")
    names = {v for v, _ in scheduler}
    if len(names) > 1:
        (a, pa), (b, pb) = scheduler[0], next(x for x in scheduler if x[0] != scheduler[0][0])
        raise InputError(pb.source, Problem(f"Portworx node {node_id}", f"is on Kubernetes node {b} here but on {a} in {pa.source}"))
    exact = [(p.capacity, p) for p in parts if p.capacity is not None and p.exact]
    rounded = [(p.capacity, p) for p in parts if p.capacity is not None and not p.exact]
    for cap, p in exact[1:]:
        if cap != exact[0][0]:
            raise InputError(p.source, Problem(f"Portworx node {node_id}", f"has {gib(cap)} GiB of storage here but "
                                                                            f"{gib(exact[0][0])} GiB in {exact[0][1].source}"))
    capacity = exact[0][0] if exact else (rounded[0][0] if rounded else None)
    for cap, p in rounded:
        if capacity is not None and abs(cap - capacity) > Decimal("0.05") * max(cap, capacity) + 2 ** 20:
            raise InputError(p.source, Problem(f"Portworx node {node_id}", f"has about {gib(cap)} GiB of storage here but "
                                                                            f"{gib(capacity)} GiB in {(exact or rounded)[0][1].source}"))
    storage_flags = [p.has_storage for p in parts if p.has_storage is not None]
    statuses = [p.status for p in sorted(parts, key=lambda p: p.kind == "provision-status") if p.status]
    return PxNode(
        id=node_id, source=next((p.source for p in parts if p.kind != "provision-status"), parts[0].source), kind="+".join(sorted({p.kind for p in parts})),
        scheduler_name=scheduler[0][0] if scheduler else None,
        hostname=next((p.hostname for p in parts if p.hostname), None),
        ips=tuple(dict.fromkeys(ip for p in parts for ip in p.ips)),
        capacity=capacity, exact=bool(exact),
        has_storage=(False if False in storage_flags and not capacity else (True if storage_flags or capacity else None)),
        status=statuses[0] if statuses else None,
    )


def _number(value: float) -> float | int:
    value = round(value, 9)
    return int(value) if value == int(value) else value


def _number(value: float) -> float | int:
    value = round(value, 9)
    return int(value) if value == int(value) else value


def resolve(collected: Collected, options: Options) -> tuple[dict, ImportReport]:
    return _Resolver(collected, options).run()


__all__ = ["DEFAULT_BROKERS", "GIB", "Options", "resolve"]

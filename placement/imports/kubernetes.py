"""Kubernetes objects as ``kubectl get -o json|yaml`` prints them (camelCase) or as
the official Python client's ``to_dict()`` gives them (snake_case), or the client
objects themselves: Node, Pod, PersistentVolumeClaim, PersistentVolume and
Portworx's StorageNode, single or in a ``List``.

Each object becomes a small frozen record holding only what the mapping of
CONTRACT section 6 reads, so two sources can be compared field by field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from placement.models.errors import InputError, Problem, excerpt
from placement.imports.quantities import QuantityError, parse_quantity

KINDS = ("Node", "Pod", "PersistentVolumeClaim", "PersistentVolume", "StorageNode")
PORTWORX_CSI_DRIVERS = ("pxd.portworx.com", "com.openstorage.pxd")  # the second is the deprecated name
ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"


@lru_cache(maxsize=None)
def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` in kubectl's camelCase, else in the Python client's snake_case."""
    if not isinstance(obj, dict):
        return default
    value = obj.get(name)
    if value is None:
        value = obj.get(_snake(name))
    return default if value is None else value


def plain(obj: Any) -> Any:
    """A Kubernetes client object (anything with ``to_dict``) as plain data; plain data as it is."""
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and not isinstance(obj, dict):
        return to_dict()
    return obj


def kind_of(obj: dict) -> str | None:
    """The object's kind: its ``kind`` field, or, where a tool left it out, what its fields show."""
    kind = obj.get("kind")
    if isinstance(kind, str) and kind:
        return kind
    spec, status = field(obj, "spec", {}), field(obj, "status", {})
    if not isinstance(field(obj, "metadata"), dict) or not isinstance(spec, dict) or not isinstance(status, dict):
        return None
    if field(spec, "containers") is not None:
        return "Pod"
    if field(status, "nodeInfo") is not None or field(status, "allocatable") is not None:
        return "Node"
    if field(status, "nodeUid") is not None:
        return "StorageNode"
    if field(spec, "capacity") is not None or field(spec, "persistentVolumeReclaimPolicy") is not None:
        return "PersistentVolume"
    if field(spec, "accessModes") is not None or field(spec, "volumeName") is not None:
        return "PersistentVolumeClaim"
    return None


def is_kubernetes(data: Any) -> bool:
    """A Kubernetes object or list of them (not every dict with a ``kind``: it needs metadata or items)."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("items"), list) and (str(data.get("kind", "")).endswith("List") or "apiVersion" in data
                                                 or "api_version" in data):
        return True
    return isinstance(field(data, "metadata"), dict) and (isinstance(data.get("kind"), str) or kind_of(data) is not None)


def objects(data: Any) -> list[dict]:
    """The objects of a List (nested Lists flattened), or the single object."""
    data = plain(data)
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        found: list[dict] = []
        for item in data["items"]:
            found.extend(objects(item))
        return found
    return [data] if isinstance(data, dict) else []


def _name(obj: dict, source: str) -> tuple[str, str]:
    """The object's name and namespace; strings, as Kubernetes writes them (a name of 5 or none at all is no object
    kubectl printed, and would otherwise become a node "5" or "" further on)."""
    meta = field(obj, "metadata", {})
    name, namespace = field(meta, "name"), field(meta, "namespace", "")
    kind = obj.get("kind") if isinstance(obj.get("kind"), str) else "object"
    if not isinstance(name, str) or not name:
        raise InputError(source, Problem(f"a {kind}", f"metadata.name is {excerpt(name)}; expected the object's name (a string)"))
    if not isinstance(namespace, str):
        raise InputError(source, Problem(f"{kind} {name}", f"metadata.namespace is {excerpt(namespace)}; expected a string"))
    return name, namespace


def _list(value: Any, source: str, item: str, what: str) -> list:
    """An optional list field (conditions, taints): absent is empty; anything else would be iterated as something else."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(source, Problem(item, f"{what} is {excerpt(value)}; expected a list"))
    return value


def _text(value: Any, source: str, item: str, what: str) -> str | None:
    """An optional string field (a node name, a phase): absent is None, anything but a string is bad input."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(source, Problem(item, f"{what} is {excerpt(value)}; expected a string"))
    return value


def _labels(obj: dict) -> dict[str, str]:
    labels = field(field(obj, "metadata", {}), "labels", {}) or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _quantity(value: Any, source: str, item: str, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except QuantityError as exc:
        raise InputError(source, Problem(item, f"{what}: {exc}")) from None


@dataclass(frozen=True)
class K8sNode:
    name: str
    source: str
    labels: tuple[tuple[str, str], ...]
    ready: str | None  # the Ready condition's status: "True", "False", "Unknown"; None when absent
    unschedulable: bool
    taints: tuple[str, ...]  # taint keys
    cpu: Decimal | None  # allocatable cores
    memory: Decimal | None  # allocatable bytes
    internal_ips: tuple[str, ...]
    hostnames: tuple[str, ...]

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def facts(self) -> tuple:
        """What the mapping reads, to compare two sources naming the same node."""
        return (self.labels, self.ready, self.unschedulable, self.taints, self.cpu, self.memory)


@dataclass(frozen=True)
class K8sPod:
    name: str
    namespace: str
    source: str
    labels: tuple[tuple[str, str], ...]
    node_name: str | None
    phase: str | None
    claims: tuple[str, ...]  # persistentVolumeClaim.claimName of its volumes, in order
    cpu: Decimal  # sum of the containers' requests, cores
    memory: Decimal  # bytes
    process_roles: tuple[str, ...]  # literal *PROCESS_ROLES env values (KRaft), for controller-only pods

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def facts(self) -> tuple:
        return (self.labels, self.node_name, self.claims, self.cpu, self.memory)


@dataclass(frozen=True)
class K8sClaim:
    name: str
    namespace: str
    source: str
    volume_name: str | None  # the bound PersistentVolume
    phase: str | None

    def facts(self) -> tuple:
        return (self.volume_name,)


@dataclass(frozen=True)
class K8sVolume:
    name: str
    source: str
    driver: str | None  # CSI driver, or "kubernetes.io/portworx-volume" for the in-tree plugin, or another plugin
    handle: str | None  # the Portworx volume id or name, when a Portworx volume
    claim: tuple[str, str] | None  # (namespace, name) of its claimRef

    @property
    def is_portworx(self) -> bool:
        return self.handle is not None

    def facts(self) -> tuple:
        return (self.driver, self.handle, self.claim)


@dataclass(frozen=True)
class StorageNodeObject:
    name: str  # the Kubernetes node name (Portworx's SchedulerNodeName)
    source: str
    node_uid: str | None  # the Portworx node ID
    phase: str | None
    ips: tuple[str, ...]
    total_size: Decimal | None
    has_storage: bool | None


_IN_TREE = "kubernetes.io/portworx-volume"
_PV_SOURCES = ("awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker",
               "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs", "photonPersistentDisk", "quobyte",
               "rbd", "scaleIO", "storageos", "vsphereVolume")


def read_node(obj: dict, source: str) -> K8sNode:
    name, _ = _name(obj, source)
    item = f"node {name}"
    spec, status = field(obj, "spec", {}) or {}, field(obj, "status", {}) or {}
    ready = None
    for cond in _list(field(status, "conditions"), source, item, "status.conditions"):
        if field(cond, "type") == "Ready":
            ready = str(field(cond, "status"))
    taints = tuple(sorted(str(field(t, "key", "")) for t in _list(field(spec, "taints"), source, item, "spec.taints")))
    unschedulable = field(spec, "unschedulable", False)
    if not isinstance(unschedulable, bool):  # "false" is a true value to bool(): the node would be cordoned unsaid
        raise InputError(source, Problem(item, f"spec.unschedulable is {excerpt(unschedulable)}; expected true or false"))
    allocatable = field(status, "allocatable", {}) or {}
    addresses = field(status, "addresses", []) or []
    return K8sNode(
        name=name, source=source, labels=tuple(sorted(_labels(obj).items())), ready=ready,
        unschedulable=unschedulable, taints=taints,
        cpu=_quantity(allocatable.get("cpu"), source, item, "status.allocatable.cpu"),
        memory=_quantity(allocatable.get("memory"), source, item, "status.allocatable.memory"),
        internal_ips=tuple(str(field(a, "address")) for a in addresses if field(a, "type") == "InternalIP" and field(a, "address")),
        hostnames=tuple(str(field(a, "address")).lower() for a in addresses if field(a, "type") == "Hostname" and field(a, "address")),
    )


def read_pod(obj: dict, source: str) -> K8sPod:
    name, namespace = _name(obj, source)
    item = f"pod {namespace + '/' if namespace else ''}{name}"
    spec, status = field(obj, "spec", {}) or {}, field(obj, "status", {}) or {}
    claims = []
    for vol in field(spec, "volumes", []) or []:
        claim = field(field(vol, "persistentVolumeClaim"), "claimName")
        if claim:
            claims.append(str(claim))
    cpu = memory = Decimal(0)
    roles = []
    for container in field(spec, "containers", []) or []:
        requests = field(field(container, "resources", {}), "requests", {}) or {}
        cpu += _quantity(requests.get("cpu"), source, item, "resources.requests.cpu") or 0
        memory += _quantity(requests.get("memory"), source, item, "resources.requests.memory") or 0
        for env in field(container, "env", []) or []:
            if str(field(env, "name", "")).upper().endswith("PROCESS_ROLES") and field(env, "value") is not None:
                roles.append(str(field(env, "value")))
    return K8sPod(name=name, namespace=namespace, source=source, labels=tuple(sorted(_labels(obj).items())),
                  node_name=_text(field(spec, "nodeName"), source, item, "spec.nodeName"), phase=field(status, "phase"),
                  claims=tuple(claims),
                  cpu=cpu, memory=memory, process_roles=tuple(roles))


def read_claim(obj: dict, source: str) -> K8sClaim:
    name, namespace = _name(obj, source)
    return K8sClaim(name=name, namespace=namespace, source=source,
                    volume_name=field(field(obj, "spec", {}), "volumeName") or None,
                    phase=field(field(obj, "status", {}), "phase"))


def read_volume(obj: dict, source: str) -> K8sVolume:
    name, _ = _name(obj, source)
    spec = field(obj, "spec", {}) or {}
    ref = field(spec, "claimRef")
    claim = (str(field(ref, "namespace", "")), str(field(ref, "name", ""))) if isinstance(ref, dict) else None
    csi = field(spec, "csi")
    if isinstance(csi, dict):
        driver = str(field(csi, "driver", ""))
        handle = field(csi, "volumeHandle") if driver in PORTWORX_CSI_DRIVERS else None
        return K8sVolume(name, source, driver, str(handle) if handle else None, claim)
    in_tree = field(spec, "portworxVolume")
    if isinstance(in_tree, dict):
        handle = field(in_tree, "volumeID")
        return K8sVolume(name, source, _IN_TREE, str(handle) if handle else None, claim)
    other = next((k for k in _PV_SOURCES if field(spec, k) is not None), None)
    return K8sVolume(name, source, other, None, claim)


def read_storage_node(obj: dict, source: str) -> StorageNodeObject:
    name, _ = _name(obj, source)
    status = field(obj, "status", {}) or {}
    network = field(status, "network", {}) or {}
    storage = field(status, "storage", {}) or {}
    attributes = field(status, "nodeAttributes", {}) or {}
    total = _quantity(field(storage, "totalSize"), source, f"storagenode {name}", "status.storage.totalSize")
    has_storage = field(attributes, "storage")
    return StorageNodeObject(
        name=name, source=source, node_uid=field(status, "nodeUid") or None, phase=field(status, "phase"),
        ips=tuple(dict.fromkeys(str(ip) for ip in (field(network, "mgmtIP"), field(network, "dataIP")) if ip)),
        total_size=total, has_storage=None if has_storage is None else bool(has_storage),
    )


# Label selectors (--kafka-pods): equality- and set-based, as kubectl -l takes them.
_REQUIREMENT = re.compile(
    r"^\s*(?:(?P<not>!)\s*(?P<absent>[\w./-]+)"
    r"|(?P<key>[\w./-]+)\s*(?:(?P<op>==|!=|=)\s*(?P<value>[\w.-]*)|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?)\s*$")


def parse_selector(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """``app=kafka,tier!=cache,env in (a,b),!legacy`` as (key, operator, values) requirements."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    requirements = []
    for part in parts:
        m = _REQUIREMENT.match(part)
        if not part.strip() or not m:
            raise InputError("--kafka-pods", Problem("", f"{part.strip()!r} in {text!r} is not a label selector requirement; "
                                                        "write key=value, key!=value, 'key in (a,b)', key or !key, joined by commas"))
        if m.group("absent"):
            requirements.append((m.group("absent"), "!", ()))
        elif m.group("op"):
            requirements.append((m.group("key"), "!=" if m.group("op") == "!=" else "=", (m.group("value"),)))
        elif m.group("setop"):
            values = tuple(v.strip() for v in m.group("values").split(",") if v.strip())
            requirements.append((m.group("key"), m.group("setop"), values))
        else:
            requirements.append((m.group("key"), "exists", ()))
    return requirements


def selector_matches(requirements: list[tuple[str, str, tuple[str, ...]]], labels: dict[str, str]) -> bool:
    for key, op, values in requirements:
        value = labels.get(key)
        if op == "=" and value != values[0]:
            return False
        if op == "!=" and value == values[0]:
            return False
        if op == "in" and value not in values:
            return False
        if op == "notin" and value in values:
            return False
        if op == "exists" and value is None:
            return False
        if op == "!" and value is not None:
            return False
    return True

"""Portworx as pxctl prints it.

- volumes: ``pxctl --json volume list`` / ``volume inspect`` (one object or a list;
  jsonpb prints 64-bit numbers as strings, the old REST API as numbers);
- nodes: the cluster summary table of ``pxctl status`` (text), ``pxctl --json
  cluster provision-status``, and the node list of ``pxctl status --json`` /
  ``cluster list --json`` / REST ``cluster/enumerate`` (``Nodes[]``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from placement.models.errors import InputError, Problem, excerpt
from placement.imports.quantities import SIZE_PATTERN, QuantityError, parse_count, parse_size_text


@dataclass(frozen=True)
class PxVolume:
    id: str
    name: str
    source: str
    size: int  # bytes
    usage: int  # bytes
    ha_level: int
    replica_sets: tuple[tuple[str, ...], ...]  # Portworx node IDs per replica set
    resyncing: tuple[tuple[str, str], ...]  # (node ID, why) for replicas being built or brought back in sync
    labels: tuple[tuple[str, str], ...]  # locator.volume_labels (namespace, pvc, ...)

    @property
    def replica_nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for s in self.replica_sets for n in s))

    def facts(self) -> tuple:
        return (self.name, self.size, self.usage, self.ha_level, self.replica_sets, self.resyncing)


@dataclass(frozen=True)
class PxNode:
    """What one source says about one Portworx node; sources are merged by ID later."""

    id: str
    source: str
    kind: str  # which form said it: "pxctl status", "provision-status", "cluster nodes", "storagenode"
    scheduler_name: str | None = None
    hostname: str | None = None
    ips: tuple[str, ...] = ()
    capacity: Decimal | None = None  # bytes over all pools
    exact: bool = True  # False when read from text that rounds (pxctl status)
    has_storage: bool | None = None
    status: str | None = None  # online | storage-down | degraded | offline | maintenance | decommissioned | unknown


# The openstorage Status enum (api/api.proto) by number and by name, as Stork maps it.
_STATUS_NUMBERS = {0: "online", 1: "offline", 2: "online", 3: "offline", 4: "offline", 5: "offline",
                   6: "decommissioned", 7: "maintenance", 8: "storage-down", 9: "degraded", 10: "offline",
                   11: "degraded", 12: "degraded", 13: "offline", 14: "storage-down"}
_STATUS_NAMES = {"NONE": 0, "INIT": 1, "OK": 2, "OFFLINE": 3, "ERROR": 4, "NOT_IN_QUORUM": 5, "DECOMMISSION": 6,
                 "MAINTENANCE": 7, "STORAGE_DOWN": 8, "STORAGE_DEGRADED": 9, "NEEDS_REBOOT": 10,
                 "STORAGE_REBALANCE": 11, "STORAGE_DRIVE_REPLACE": 12, "NOT_IN_QUORUM_NO_STORAGE": 13,
                 "POOLMAINTENANCE": 14}


def node_status(value: Any) -> str:
    """A Portworx node status in any of its dialects (2, "STATUS_OK", "Online (StorageDown)", "Up")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _STATUS_NUMBERS.get(value, "unknown")
    text = str(value or "").strip()
    upper = text.upper().removeprefix("STATUS_")
    if upper in _STATUS_NAMES:
        return _STATUS_NUMBERS[_STATUS_NAMES[upper]]
    low = text.lower()
    if "storagedown" in low.replace(" ", "") or "storage down" in low:
        return "storage-down"
    for word, status in (("online", "online"), ("up", "online"), ("offline", "offline"), ("down", "offline"),
                         ("not in quorum", "offline"), ("maintenance", "maintenance"), ("decommission", "decommissioned"),
                         ("degraded", "degraded"), ("initializing", "offline")):
        if low.startswith(word):
            return status
    return "unknown"


# ---------------------------------------------------------------- volumes

def is_volume(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("locator"), dict) and isinstance(obj.get("spec"), dict) \
        and ("replica_sets" in obj or "id" in obj)


def volume_objects(data: Any) -> list[dict] | None:
    """The volume objects of a ``pxctl --json volume list/inspect`` output, or None if it is not one."""
    if isinstance(data, dict) and isinstance(data.get("volumes"), list):  # the SDK gateway's enumerate
        data = data["volumes"]
    elif isinstance(data, dict) and isinstance(data.get("volume"), dict):  # the SDK gateway's inspect
        data = [data["volume"]]
    if isinstance(data, dict):
        data = [data]
    if isinstance(data, list) and data and all(is_volume(v) for v in data):
        return data
    return None


def _number(value: Any, source: str, item: str, what: str, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise InputError(source, Problem(item, f"{what} is missing"))
        return default
    try:
        return parse_count(value, what)
    except QuantityError as exc:
        raise InputError(source, Problem(item, str(exc))) from None


def _id_list(value: Any) -> list[str]:
    return [v.strip() for v in str(value or "").split(",") if v.strip()]


def read_volume(obj: dict, source: str) -> PxVolume:
    locator = obj.get("locator") or {}
    vid = str(obj.get("id", "") or "")
    name = str(locator.get("name", "") or vid)
    item = f"volume {name or '?'}"
    if not name:
        raise InputError(source, Problem("volume", "has neither locator.name nor id"))
    spec = obj.get("spec") or {}
    sets = []
    for rs in obj.get("replica_sets") or []:
        nodes = tuple(str(n) for n in (rs.get("nodes") or []) if str(n))
        if nodes:
            sets.append(nodes)
    resyncing: dict[str, str] = {}
    for entry in obj.get("runtime_state") or []:
        state = (entry or {}).get("runtime_state") or {}
        for node in _id_list(state.get("ReplNewNodeMid")):
            resyncing.setdefault(node, "a replica being added (HA increase), still resyncing")
        for node in _id_list(state.get("PXReplReAddNodeMid")):
            resyncing.setdefault(node, "a replica being re-added after its node was away, still resyncing")
    labels = locator.get("volume_labels") or {}
    return PxVolume(
        id=vid, name=name, source=source,
        size=_number(spec.get("size"), source, item, "spec.size"),
        usage=_number(obj.get("usage"), source, item, "usage", default=0),  # the SDK leaves zero values out
        ha_level=_number(spec.get("ha_level"), source, item, "spec.ha_level"),
        replica_sets=tuple(sets), resyncing=tuple(sorted(resyncing.items())),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())) if isinstance(labels, dict) else (),
    )


# ---------------------------------------------------------------- nodes: pxctl status (text)

# IPv4, or IPv6 (hex digits, dots and colons, with a colon somewhere: a lookahead, not a split point the engine
# would try at every character of a long row)
_IP = r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|(?=[0-9a-fA-F.]*:)[0-9a-fA-F:.]+)"
_SUMMARY_ROW = re.compile(rf"^\s*(?P<ip>{_IP})\s+(?P<id>\S+)\s+(?P<rest>.*)$")
_SIZE_PAIR = re.compile(rf"(?P<used>{SIZE_PATTERN})\s+(?P<capacity>{SIZE_PATTERN})")
_BEFORE_USED = ("SchedulerNodeName", "Auth", "StorageNode")


def looks_like_status_text(text: str) -> bool:
    return "Cluster Summary" in text and any(_is_summary_header(line) for line in text.splitlines())


def _is_summary_header(line: str) -> bool:
    words = line.split()
    return len(words) >= 4 and words[0] == "IP" and words[1] == "ID" and "Capacity" in words and "Used" in words


def read_status_text(text: str, source: str) -> list[PxNode]:
    """The node rows of the cluster summary of ``pxctl status``."""
    nodes: list[PxNode] = []
    header: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if _is_summary_header(line):
            header = line.split()
            continue
        if header is None:
            continue
        row = _SUMMARY_ROW.match(line)
        if not row:
            if line.strip() and not line.startswith((" ", "\t")) or line.strip().startswith(("Global Storage Pool", "Warnings")):
                header = None  # the table ended
            continue
        sizes = _SIZE_PAIR.search(row.group("rest"))
        if not sizes:
            raise InputError(source, Problem(f"line {number}", f"node {excerpt(row.group('id'))}: no Used and Capacity sizes "
                                                               f"in {excerpt(line.strip(), 200)}"))
        before = row.group("rest")[:sizes.start()].split()
        columns = [c for c in header[2:header.index("Used")] if c in _BEFORE_USED]
        # Columns are read from the right: an empty SchedulerNodeName leaves no word behind.
        values = dict(zip(reversed(columns), reversed(before)))
        scheduler = values.get("SchedulerNodeName")
        storage_word = values.get("StorageNode")
        capacity = parse_size_text(sizes.group("capacity"))
        has_storage = None if storage_word is None else storage_word.lower().startswith("yes")
        nodes.append(PxNode(
            id=row.group("id"), source=source, kind="pxctl status",
            scheduler_name=None if scheduler in (None, "", "N/A") else scheduler,
            ips=(row.group("ip"),), capacity=capacity, exact=False,
            has_storage=has_storage if has_storage is not None else (capacity > 0),
            status=node_status(row.group("rest")[sizes.end():]),
        ))
    return nodes


def status_text_cluster(text: str) -> str | None:
    """The cluster ID line of the summary, to name the imported cluster."""
    m = re.search(r"^\s*Cluster ID:\s*(\S+)\s*$", text, re.M)
    return m.group(1) if m else None


# ---------------------------------------------------------------- nodes: JSON forms

def provision_entries(data: Any) -> dict[str, dict] | None:
    """``pxctl --json cluster provision-status`` as node ID -> entry, in each shape it is seen in:
    ``{"provisionInfo": {ID: entry}}``, ``{ID: entry}``, jq's ``{"key": ID, "value": entry}`` or a list of those."""
    def is_entry(v: Any) -> bool:
        return isinstance(v, dict) and isinstance(v.get("Provision"), list)

    if isinstance(data, dict) and isinstance(data.get("provisionInfo"), dict):
        data = data["provisionInfo"]
    if isinstance(data, dict) and "key" in data and is_entry(data.get("value")):
        data = [data]
    if isinstance(data, list) and data and all(isinstance(e, dict) and "key" in e and is_entry(e.get("value")) for e in data):
        return {str(e["key"]): e["value"] for e in data}
    if isinstance(data, dict) and data and all(is_entry(v) for v in data.values()):
        return {str(k): v for k, v in data.items()}
    return None


def read_provision_status(entries: dict[str, dict], source: str) -> list[PxNode]:
    nodes = []
    for node_id in sorted(entries):
        entry = entries[node_id]
        total = Decimal(0)
        for i, prov in enumerate(entry.get("Provision") or []):
            info = ((prov or {}).get("Pool") or {}).get("Info") or {}
            total += _number(info.get("TotalSize"), source, f"node {node_id}", f"Provision[{i}].Pool.Info.TotalSize", default=0)
        nodes.append(PxNode(id=node_id, source=source, kind="provision-status", capacity=total, exact=True,
                            has_storage=total > 0, status=node_status(entry.get("Status"))))
    return nodes


def cluster_node_objects(data: Any) -> list[dict] | None:
    """``Nodes[]`` of ``pxctl status --json`` / ``cluster list --json`` / REST ``cluster/enumerate``,
    or ``nodes[]`` of the SDK gateway."""
    if isinstance(data, dict) and isinstance(data.get("cluster"), dict):
        data = data["cluster"]
    if not isinstance(data, dict):
        return None
    nodes = data.get("Nodes", data.get("nodes"))
    if isinstance(nodes, list) and nodes and all(isinstance(n, dict) and ("Id" in n or "id" in n) for n in nodes):
        return nodes
    return None


def _first(obj: dict, *keys: str) -> Any:
    for key in keys:
        if obj.get(key) not in (None, ""):
            return obj[key]
    return None


def read_cluster_nodes(nodes: list[dict], source: str) -> list[PxNode]:
    found = []
    for raw in nodes:
        node_id = str(_first(raw, "Id", "id"))
        pools = _first(raw, "Pools", "pools")
        capacity: Decimal | None = None
        if isinstance(pools, list):
            capacity = Decimal(sum(_number(_first(p, "TotalSize", "total_size"), source, f"node {node_id}", "Pools[].TotalSize", default=0)
                                   for p in pools))
        else:
            info = ((raw.get("NodeData") or {}).get("STORAGE-INFO") or {})
            if info.get("TotalSize") is not None:
                capacity = Decimal(_number(info["TotalSize"], source, f"node {node_id}", "NodeData.STORAGE-INFO.TotalSize"))
        scheduler = _first(raw, "SchedulerNodeName", "scheduler_node_name")
        found.append(PxNode(
            id=node_id, source=source, kind="cluster nodes",
            scheduler_name=None if scheduler in (None, "N/A") else str(scheduler),
            hostname=(str(_first(raw, "Hostname", "hostname") or "").lower() or None),
            ips=tuple(dict.fromkeys(str(ip) for ip in (_first(raw, "MgmtIp", "mgmt_ip"), _first(raw, "DataIp", "data_ip")) if ip)),
            capacity=capacity, exact=True, has_storage=None if capacity is None else capacity > 0,
            status=node_status(_first(raw, "Status", "status")),
        ))
    return found

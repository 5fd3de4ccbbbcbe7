"""Turning a cluster document (CONTRACT section 1) into a validated Cluster.

Validation is complete before anything is solved, and it reports every problem
it finds, each with the item's path (such as ``volumes[3].replicas[1]``), the
bad value and what is expected.
"""
from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path
from typing import Any

from placement.models import names, units
from placement.models.cluster import (
    Broker, BrokerPlacement, Cluster, Node, NodeState, Partition, Policy, RackAware, Topic, Volume,
)
from placement.models.documents import read_document
from placement.models.errors import InputError, Problem, excerpt

# Names end up in kubectl, pxctl and kafka-*.sh command lines: anything that could never be a
# valid Kubernetes, Portworx or Kafka name is refused here, by the one policy of models/names.py
# (full matches: a trailing newline is no part of a name). The patterns stay importable by
# these names; use them with .fullmatch (or .match: each is anchored at both ends).
NODE_NAME = names.NODE.pattern
LABEL_VALUE = names.ZONE.pattern
VOLUME_NAME = names.VOLUME.pattern
TOPIC_NAME = names.TOPIC.pattern

# The ranges every figure of a cluster file must fall in (generous: far beyond any real
# cluster, small enough that sums over 100,000 items stay exact in every solver's integers).
GIB_MAX = 2**20  # 1 PiB: a node's storage or memory, a volume's or a partition's size
CORES_MAX = 100_000  # a node's or a broker's cpu
BROKERS_PER_NODE_MAX = 1_000  # Kubernetes runs at most a few hundred pods on a node
MIN_INSYNC_MAX = 32_767  # Kafka's replication factor is a 16-bit integer
BANDWIDTH_GBPS = (0.001, 100_000.0)  # 1 Mbit/s to 100 Tbit/s per node
ID_MAX = names.INT32_MAX  # Kafka's broker and partition ids are 32-bit integers
SIZE = f"a size in GiB in 0..{GIB_MAX:,} (1 PiB)"
CORES = f"a number of cores in 0..{CORES_MAX:,}"

POLICY_KEYS = {
    "volumeReplicationFactor", "zoneSpread", "brokerPlacement", "brokersPerNode",
    "minInsyncReplicas", "rackAware", "nodeBandwidthGbps",
}
TOP_KEYS = {"name", "policy", "nodes", "volumes", "brokers", "topics"}
NODE_KEYS = {"name", "zone", "state", "storageGiB", "cpu", "memoryGiB"}
VOLUME_KEYS = {"name", "sizeGiB", "usedGiB", "replicationFactor", "replicas", "stale"}
BROKER_KEYS = {"id", "node", "volumes", "cpu", "memoryGiB"}
TOPIC_KEYS = {"name", "minInsyncReplicas", "partitions"}
PARTITION_KEYS = {"id", "replicas", "leader", "isr", "sizeGiB"}

_MISSING = object()
NO_LEADER = -1  # kafka-topics.sh --describe prints "Leader: none" (-1 in its JSON tools)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value not in (float("inf"), float("-inf"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    """Collects problems while reading fields, so that all of them are reported."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def mapping(self, value: Any, path: str, allowed: set[str], what: str) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping describing {what}, got {_show(value)}")
            return None
        for key in sorted(value, key=str):
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), sorted(allowed), n=1) if len(str(key)) <= 64 else []
                fix = f"did you mean {hint[0]!r}?" if hint else f"known keys: {', '.join(sorted(allowed))}"
                self.problem(_join(path, _key(key)), f"unknown key {excerpt(key)}; {fix}")
        return value

    def sequence(self, data: dict, key: str, path: str, *, required: bool) -> list:
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problem(_join(path, key), "is missing; expected a list")
            return []
        if not isinstance(value, list):
            self.problem(_join(path, key), f"expected a list, got {_show(value)}")
            return []
        return value

    def string(self, data: dict, key: str, path: str, *, rule: names.NameRule | None = None,
               default: Any = _MISSING) -> str | None:
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING or value is None:
            if default is _MISSING:
                self.problem(where, "is missing; expected a name")
                return None
            return default
        if not isinstance(value, str):
            self.problem(where, f"expected a string, got {_show(value)}")
            return None
        wrong = rule.problem(value) if rule is not None else None
        if wrong is not None:
            self.problem(where, wrong)
            return None
        return value

    def _given(self, data: dict, key: str, path: str, default: Any, what: str) -> tuple[bool, Any]:
        """(True, value) when the key holds a value; otherwise (False, the default),
        noting a problem when there is no default."""
        value = data.get(key, _MISSING)
        if value is not _MISSING and value is not None:
            return True, value
        if default is _MISSING:
            self.problem(_join(path, key), f"is missing; expected {what}")
            return False, None
        return False, default

    def number(self, data: dict, key: str, path: str, *, default: Any = _MISSING,
               low: float = 0, high: float = GIB_MAX, what: str = SIZE) -> float | None:
        """A finite number in low..high; ``what`` names it with its range, for the message."""
        given, value = self._given(data, key, path, default, what)
        if not given:
            return value
        where = _join(path, key)
        if not _is_number(value):
            self.problem(where, f"expected {what}, got {_show(value)}")
            return None
        if not low <= value <= high:
            self.problem(where, f"is {_show(value)}; expected {what}")
            return None
        return value

    def integer(self, data: dict, key: str, path: str, *, default: Any = _MISSING,
                low: int = 0, high: int | None = None, what: str = "a whole number") -> int | None:
        given, value = self._given(data, key, path, default, what)
        if not given:
            return value
        where = _join(path, key)
        if not _is_int(value):
            self.problem(where, f"expected {what}, got {_show(value)}")
            return None
        if value < low or (high is not None and value > high):
            span = f"{low:,}..{high:,}" if high is not None else f">= {low:,}"
            self.problem(where, f"is {_show(value)}; expected {what} in {span}")
            return None
        return value

    def boolean(self, data: dict, key: str, path: str, default: bool) -> bool:
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            self.problem(_join(path, key), f"expected true or false, got {_show(value)}")
            return default
        return value

    def choice(self, data: dict, key: str, path: str, enum: type, default: Any) -> Any:
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        allowed = [e.value for e in enum]
        if value not in allowed:
            self.problem(_join(path, key), f"{_show(value)} is not one of {' | '.join(allowed)}")
            return default
        return enum(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    """A value as a message quotes it: bounded (a 10 MB name is not echoed whole)."""
    return excerpt(value)


def _key(key: Any) -> str:
    """A mapping key as it appears in an item's path, bounded."""
    text = str(key)
    return text if len(text) <= 64 and text.isprintable() else excerpt(key)


def _hint(name: str, known: list[str]) -> str:
    """'did you mean ...?' for a name close to a known one; otherwise a few known names."""
    close = difflib.get_close_matches(name, known, n=1) if len(name) <= 253 else []
    return f"did you mean {close[0]!r}?" if close else f"declared: {_known(known)}"


def _known(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (", ..." if len(names) > limit else "")


def load_cluster(path: str | Path) -> Cluster:
    """Read, parse and validate a cluster file (YAML or JSON)."""
    return parse_cluster(read_document(path), str(path))


def parse_cluster(data: Any, source: str = "<cluster>") -> Cluster:
    """Validate plain data against CONTRACT section 1; raise InputError listing every problem."""
    r = _Reader(source)
    if data is None:
        raise InputError(source, Problem("", "the file holds no document; expected a cluster with nodes, volumes and brokers"))
    top = r.mapping(data, "", TOP_KEYS, "the cluster")
    if top is None:
        raise InputError(source, r.problems)
    name = r.string(top, "name", "", rule=names.CLUSTER, default="cluster")
    policy = _read_policy(r, top.get("policy"))
    nodes, node_names = _read_nodes(r, r.sequence(top, "nodes", "", required=True))
    volumes = _read_volumes(r, r.sequence(top, "volumes", "", required=False), policy,
                            {n.name: n for n in nodes}, node_names)
    # a volume with a bad field is still declared, so that brokers naming it add no further problem
    declared_volumes = {v.name for v in volumes} | _declared_names(top.get("volumes"))
    brokers = _read_brokers(r, r.sequence(top, "brokers", "", required=False), node_names, declared_volumes)
    raw_brokers = top.get("brokers") if isinstance(top.get("brokers"), list) else []
    declared_brokers = {b.id for b in brokers} | {item["id"] for item in raw_brokers
                                                   if isinstance(item, dict) and _is_int(item.get("id"))}
    topics = _read_topics(r, r.sequence(top, "topics", "", required=False), policy, declared_brokers)
    if r.problems:
        raise InputError(source, r.problems)
    return Cluster(name=name or "cluster", policy=policy, nodes=tuple(nodes), volumes=tuple(volumes),
                   brokers=tuple(brokers), topics=tuple(topics), source=source)


def _declared_names(raw: Any) -> set[str]:
    """Every valid name under the items of a list (whatever their other fields hold)."""
    if not isinstance(raw, list):
        return set()
    return {item["name"] for item in raw if isinstance(item, dict) and isinstance(item.get("name"), str)
            and names.VOLUME.is_valid(item["name"])}


def _read_policy(r: _Reader, raw: Any) -> Policy:
    if raw is None:
        return Policy()
    data = r.mapping(raw, "policy", POLICY_KEYS, "the policy")
    if data is None:
        return Policy()
    d = Policy()
    return Policy(
        volume_replication_factor=r.integer(data, "volumeReplicationFactor", "policy", default=d.volume_replication_factor,
                                            low=1, high=3, what="a replication factor (Portworx allows 1..3)") or d.volume_replication_factor,
        zone_spread=r.boolean(data, "zoneSpread", "policy", d.zone_spread),
        broker_placement=r.choice(data, "brokerPlacement", "policy", BrokerPlacement, d.broker_placement),
        brokers_per_node=r.integer(data, "brokersPerNode", "policy", default=d.brokers_per_node, low=1,
                                   high=BROKERS_PER_NODE_MAX, what="a number of brokers") or d.brokers_per_node,
        min_insync_replicas=r.integer(data, "minInsyncReplicas", "policy", default=d.min_insync_replicas, low=1,
                                      high=MIN_INSYNC_MAX, what="a replica count") or d.min_insync_replicas,
        rack_aware=r.choice(data, "rackAware", "policy", RackAware, d.rack_aware),
        node_bandwidth_gbps=_bandwidth(r, data, d.node_bandwidth_gbps),
    )


def _bandwidth(r: _Reader, data: dict, default: float) -> float:
    low, high = BANDWIDTH_GBPS
    value = r.number(data, "nodeBandwidthGbps", "policy", default=default, low=float("-inf"), high=high,
                     what=f"a bandwidth in Gbit/s in {low:g}..{high:,.0f}")  # the low end is judged below
    if value is None:
        return default
    if value <= 0:
        r.problem("policy.nodeBandwidthGbps", f"is {_show(value)}; a node that moves no data cannot recover anything: "
                                              f"give a bandwidth in {low:g}..{high:,.0f} Gbit/s")
        return default
    if value < low:
        r.problem("policy.nodeBandwidthGbps", f"is {_show(value)}; expected a bandwidth in Gbit/s in {low:g}..{high:,.0f} "
                                              "(below 1 Mbit/s a recovery's timeline is no longer meaningful)")
        return default
    return value


def _duplicates(r: _Reader, keys: list[tuple[Any, str]], what: str) -> None:
    seen: dict[Any, str] = {}
    for key, path in keys:
        if key is None:
            continue
        if key in seen:
            r.problem(path, f"{what} {key!r} is declared twice (first at {seen[key]}); each must be unique")
        else:
            seen[key] = path


def _read_nodes(r: _Reader, raw: list) -> tuple[list[Node], set[str]]:
    """The nodes read whole, and every declared name (a node with a bad field is still declared,
    so that references to it do not pile up as further problems)."""
    nodes: list[Node] = []
    keys: list[tuple[Any, str]] = []
    for i, item in enumerate(raw):
        path = f"nodes[{i}]"
        data = r.mapping(item, path, NODE_KEYS, "a node")
        if data is None:
            continue
        name = r.string(data, "name", path, rule=names.NODE)
        zone = r.string(data, "zone", path, rule=names.ZONE, default="default")
        state = r.choice(data, "state", path, NodeState, NodeState.READY)
        storage = r.number(data, "storageGiB", path, default=0)
        cpu = r.number(data, "cpu", path, default=None, high=CORES_MAX, what=CORES)
        memory = r.number(data, "memoryGiB", path, default=None)
        if storage and units.capacity_mib(storage) == 0:
            r.problem(f"{path}.storageGiB", f"is {_show(storage)}, less than 1 MiB: give 0 for a storageless node, "
                                            "or at least 0.001 GiB")
            storage = None
        keys.append((name, f"{path}.name"))
        if name is None or zone is None or storage is None or (cpu is None and data.get("cpu") is not None) \
                or (memory is None and data.get("memoryGiB") is not None):
            continue
        nodes.append(Node(
            name=name, zone=zone, state=state,
            storage_mib=units.capacity_mib(storage or 0), storage_gib=storage or 0,
            cpu_millicores=None if cpu is None else units.capacity_millicores(cpu),
            memory_mib=None if memory is None else units.capacity_mib(memory),
        ))
    _duplicates(r, keys, "node")
    return nodes, {name for name, _ in keys if name is not None}


def _read_volumes(r: _Reader, raw: list, policy: Policy, nodes: dict[str, Node], declared: set[str]) -> list[Volume]:
    volumes: list[Volume] = []
    keys: list[tuple[Any, str]] = []
    node_names = sorted(declared)
    for i, item in enumerate(raw):
        path = f"volumes[{i}]"
        data = r.mapping(item, path, VOLUME_KEYS, "a volume")
        if data is None:
            continue
        name = r.string(data, "name", path, rule=names.VOLUME)
        keys.append((name, f"{path}.name"))
        size = r.number(data, "sizeGiB", path)
        used = r.number(data, "usedGiB", path, default=size)
        rf = r.integer(data, "replicationFactor", path, default=policy.volume_replication_factor,
                       low=1, high=3, what="a replication factor (Portworx allows 1..3)")
        replicas: list[str] = []
        seen: set[str] = set()
        for j, node in enumerate(r.sequence(data, "replicas", path, required=True)):
            where = f"{path}.replicas[{j}]"
            if not isinstance(node, str):
                r.problem(where, f"expected a node name, got {_show(node)}")
            elif node not in declared:
                r.problem(where, f"{_show(node)} is not a declared node ({_hint(node, node_names)}); "
                                 "declare it under nodes or correct the name")
            elif node in seen:
                r.problem(where, f"node {node!r} is listed twice in one replica set; a node holds at most one replica of a volume")
            elif node in nodes and not nodes[node].is_storage:
                r.problem(where, f"node {node!r} is storageless (storageGiB 0) and cannot hold a replica; give it storageGiB or remove the replica")
            else:
                replicas.append(node)
            if isinstance(node, str):
                seen.add(node)
        if size is not None and used is not None and used > size:
            r.problem(f"{path}.usedGiB", f"is {used}, more than sizeGiB {size}; a volume cannot hold more data than its size")
        stale = _read_stale(r, data.get("stale"), path, replicas, size)
        if name is None or size is None or used is None or rf is None or stale is None:
            continue
        volumes.append(Volume(name=name, size_mib=units.size_mib(size), used_mib=units.size_mib(used),
                              replication_factor=rf, replicas=tuple(replicas), size_gib=size, used_gib=used,
                              stale=stale))
    _duplicates(r, keys, "volume")
    return volumes


def _read_stale(r: _Reader, raw: Any, path: str, replicas: list[str], size: float | None) -> tuple | None:
    """``stale``: replica node -> GiB a resync must copy; each node one of the volume's replicas."""
    if raw is None:
        return ()
    where = f"{path}.stale"
    if not isinstance(raw, dict):
        r.problem(where, f"expected a mapping of replica node to the GiB it is behind, got {_show(raw)}")
        return None
    stale = []
    ok = True
    for node in sorted(raw, key=str):
        gib = raw[node]
        item = f"{where}.{node}"
        if not isinstance(node, str) or node not in replicas:
            r.problem(item, f"{_show(node)} is not one of this volume's replicas {replicas}; "
                            "a stale replica must also be listed under replicas")
            ok = False
        elif not _is_number(gib) or gib < 0:
            r.problem(item, f"expected the GiB this replica is behind (a number >= 0), got {_show(gib)}")
            ok = False
        elif size is not None and gib > size:
            r.problem(item, f"is {gib} GiB behind, more than the volume's size {size} GiB")
            ok = False
        else:
            stale.append((node, gib))
    return tuple(stale) if ok else None


def _read_brokers(r: _Reader, raw: list, node_names: set[str], volume_names: set[str]) -> list[Broker]:
    brokers: list[Broker] = []
    keys: list[tuple[Any, str]] = []
    claimed: dict[str, str] = {}
    for i, item in enumerate(raw):
        path = f"brokers[{i}]"
        data = r.mapping(item, path, BROKER_KEYS, "a broker")
        if data is None:
            continue
        bid = r.integer(data, "id", path, low=0, high=ID_MAX, what="a broker id (Kafka's broker.id, a 32-bit integer)")
        keys.append((bid, f"{path}.id"))
        node = r.string(data, "node", path)
        if node is not None and node not in node_names:
            r.problem(f"{path}.node", f"{_show(node)} is not a declared node ({_hint(node, sorted(node_names))}); "
                                      "declare it under nodes or correct the name")
            node = None
        vols: list[str] = []
        for j, vol in enumerate(r.sequence(data, "volumes", path, required=False)):
            where = f"{path}.volumes[{j}]"
            if not isinstance(vol, str):
                r.problem(where, f"expected a volume name, got {_show(vol)}")
            elif vol not in volume_names:
                r.problem(where, f"{_show(vol)} is not a declared volume; declare it under volumes or correct the name")
            elif vol in vols:
                r.problem(where, f"volume {vol!r} is listed twice for this broker")
            elif vol in claimed:
                r.problem(where, f"volume {vol!r} is already used by {claimed[vol]}; a Portworx volume for Kafka is attached to one broker")
            else:
                vols.append(vol)
                claimed[vol] = f"{path} (broker {bid})"
        cpu = r.number(data, "cpu", path, default=0, high=CORES_MAX, what=CORES)
        memory = r.number(data, "memoryGiB", path, default=0)
        if bid is None or node is None or cpu is None or memory is None:
            continue
        brokers.append(Broker(id=bid, node=node, volumes=tuple(vols),
                              cpu_millicores=units.demand_millicores(cpu), memory_mib=units.size_mib(memory)))
    _duplicates(r, keys, "broker id")
    return brokers


def _read_topics(r: _Reader, raw: list, policy: Policy, broker_ids: set[int]) -> list[Topic]:
    topics: list[Topic] = []
    keys: list[tuple[Any, str]] = []
    for i, item in enumerate(raw):
        path = f"topics[{i}]"
        data = r.mapping(item, path, TOPIC_KEYS, "a topic")
        if data is None:
            continue
        name = r.string(data, "name", path, rule=names.TOPIC)
        keys.append((name, f"{path}.name"))
        min_isr_given = data.get("minInsyncReplicas") is not None
        min_isr = r.integer(data, "minInsyncReplicas", path, default=policy.min_insync_replicas, low=1,
                            high=MIN_INSYNC_MAX, what="a replica count")
        partitions: list[Partition] = []
        pkeys: list[tuple[Any, str]] = []
        for j, praw in enumerate(r.sequence(data, "partitions", path, required=True)):
            part = _plain_partition(praw, name or "?", broker_ids)
            if part is None:
                part = _read_partition(r, praw, f"{path}.partitions[{j}]", name or "?", broker_ids)
            pkeys.append((part.id if part else None, f"{path}.partitions[{j}].id"))
            if part is not None:
                partitions.append(part)
        _duplicates(r, pkeys, "partition")
        counts = Counter(len(p.replicas) for p in partitions)
        if len(counts) > 1:
            usual = counts.most_common(1)[0][0]
            odd = [f"{p.id} ({len(p.replicas)})" for p in partitions if len(p.replicas) != usual]
            r.problem(f"{path}.partitions", f"partitions of topic {name!r} have different replica counts: most have {usual}, but partition {', '.join(odd)}; a topic has one replication factor")
        elif counts and min_isr is not None:
            rf = next(iter(counts))
            if min_isr > rf:
                origin = "" if min_isr_given else " (inherited from policy.minInsyncReplicas)"
                r.problem(f"{path}.minInsyncReplicas", f"is {min_isr}{origin}, larger than the topic's replication factor {rf}; min.insync.replicas must be at most the replica count")
        if name is None or min_isr is None:
            continue
        topics.append(Topic(name=name, min_insync_replicas=min_isr, partitions=tuple(partitions)))
    _duplicates(r, keys, "topic")
    _colliding_topics(r, keys)
    return topics


def _colliding_topics(r: _Reader, keys: list[tuple[Any, str]]) -> None:
    """Kafka refuses a topic whose name differs from another's only by '.' against '_'."""
    seen: dict[str, tuple[str, str]] = {}
    for name, path in keys:
        if name is None:
            continue
        other = seen.setdefault(names.topic_collision_key(name), (name, path))
        if other[0] != name:
            r.problem(path, f"topic {name!r} collides with {other[0]!r} (first at {other[1]}): Kafka refuses topics whose "
                            "names differ only by '.' against '_'; correct the name")


def _broker_list(r: _Reader, data: dict, key: str, path: str, broker_ids: set[int], *, required: bool) -> list[int] | None:
    raw = data.get(key, _MISSING)
    if raw is _MISSING or raw is None:
        if required:
            r.problem(_join(path, key), "is missing; expected a list of broker ids")
        return None
    if not isinstance(raw, list):
        r.problem(_join(path, key), f"expected a list of broker ids, got {_show(raw)}")
        return None
    result: list[int] = []
    ok = True
    for j, b in enumerate(raw):
        where = f"{path}.{key}[{j}]"
        if not _is_int(b):
            r.problem(where, f"expected a broker id, got {_show(b)}")
            ok = False
        elif b not in broker_ids:
            r.problem(where, f"broker {_show(b)} is not declared under brokers; declare it or correct the id")
            ok = False
        elif b in result:
            r.problem(where, f"broker {b} is listed twice; a partition's replicas are distinct brokers")
            ok = False
        else:
            result.append(b)
    return result if ok else None


_PLAIN_INT = frozenset({int})
_PLAIN_SIZE = frozenset({int, float})


def _plain_partition(raw: Any, topic: str, broker_ids: set[int]) -> Partition | None:
    """The partition ``_read_partition`` would read, when ``raw`` is plainly valid: known keys, an id
    in range, distinct declared replicas, an ISR among them, a leader among them (or absent, or -1),
    a finite size in range; otherwise None, and ``_read_partition`` reads it and words every problem.
    A 150,000-partition file reads in a third of the time (no path strings, no per-field calls)."""
    if type(raw) is not dict or not raw.keys() <= PARTITION_KEYS:
        return None
    pid = raw.get("id")
    replicas = raw.get("replicas")
    if type(pid) is not int or not 0 <= pid <= ID_MAX or type(replicas) is not list or not replicas:
        return None
    if set(map(type, replicas)) != _PLAIN_INT:  # before any set: a list or a mapping is unhashable
        return None
    members = set(replicas)
    if len(members) != len(replicas) or not members <= broker_ids:
        return None
    isr = raw.get("isr")
    if isr is None:
        isr = replicas
    elif type(isr) is not list or (isr and set(map(type, isr)) != _PLAIN_INT) \
            or len(set(isr)) != len(isr) or not members.issuperset(isr):
        return None
    leader = raw.get("leader")
    if leader is None:
        leader = replicas[0]
    elif type(leader) is not int or (leader != NO_LEADER and leader not in members):
        return None
    elif leader == NO_LEADER:
        leader = None
    size = raw.get("sizeGiB")
    if size is None:
        size = 0
    elif type(size) not in _PLAIN_SIZE or not 0 <= size <= GIB_MAX:  # NaN fails the range
        return None
    return _new_partition(topic, pid, tuple(replicas), leader, tuple(isr), units.size_mib(size), size)


def _read_partition(r: _Reader, raw: Any, path: str, topic: str, broker_ids: set[int]) -> Partition | None:
    data = r.mapping(raw, path, PARTITION_KEYS, "a partition")
    if data is None:
        return None
    pid = r.integer(data, "id", path, low=0, high=ID_MAX, what="a partition id (Kafka's, a 32-bit integer)")
    replicas = _broker_list(r, data, "replicas", path, broker_ids, required=True)
    if replicas is not None and not replicas:
        r.problem(f"{path}.replicas", "is empty; a partition needs at least one replica")
        replicas = None
    isr = _broker_list(r, data, "isr", path, broker_ids, required=False)
    leader = data.get("leader")
    size = r.number(data, "sizeGiB", path, default=0)
    if leader is not None and not _is_int(leader):
        r.problem(f"{path}.leader", f"expected a broker id, or -1 for no leader (as Kafka prints it), got {_show(leader)}")
        return None
    if replicas is None or pid is None or size is None:
        return None
    if leader is None:
        leader = replicas[0]
    elif leader == NO_LEADER:
        leader = None  # Kafka's "Leader: none" (-1): the partition is offline; plans report and elect
    elif leader not in replicas:
        r.problem(f"{path}.leader", f"broker {_show(leader)} is not one of the partition's replicas {replicas}; the leader "
                                    "must be a replica (or -1 for no leader)")
        return None
    if isr is None:
        isr = list(replicas) if data.get("isr") is None else None
    if isr is None:
        return None
    outside = [b for b in isr if b not in replicas]
    if outside:
        r.problem(f"{path}.isr", f"brokers {outside} are in the ISR but not replicas {replicas}; the ISR is a subset of the replicas")
        return None
    # An empty ISR, or a leader outside it, is a state Kafka reports (a partition offline, or a
    # describe taken mid-election): it loads, and plans list it under preexisting.
    return _new_partition(topic, pid, tuple(replicas), leader, tuple(isr), units.size_mib(size), size)


def _new_partition(topic: str, pid: int, replicas: tuple, leader: int | None, isr: tuple, size_mib: int,
                   size_gib: float) -> Partition:
    """``Partition(...)`` for values already checked, a third of the cost: a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__`` (0.3 s for 150,000 partitions);
    here one update of the instance's dictionary sets them all (the same object, equal and hashed alike;
    tests/test_fast_paths.py fails if Partition gains a field or a ``__post_init__``). ``key`` is
    filled too, as its cached_property would on first use: that first use takes the property's
    lock (about 0.1 s of wall time over 150,000 partitions), where making the pair here costs a
    few milliseconds."""
    part = object.__new__(Partition)
    part.__dict__.update(topic=topic, id=pid, replicas=replicas, leader=leader, isr=isr, size_mib=size_mib,
                         size_gib=size_gib, key=(topic, pid))
    return part



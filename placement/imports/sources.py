"""Reading sources and recognising each by its content, never its name.

A source is a file, ``-`` (standard input), a directory (every file in it), a
text, or an object already parsed (a dict, a list, or a Kubernetes client
object). Every record read is kept in ``Collected``, which also notices when
two sources contradict each other about the same thing.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from placement.models.documents import check_shape, is_directory, max_input_bytes, read_text
from placement.models.errors import InputError, Problem, excerpt
from placement.imports import kafka, kubernetes as k8s, portworx as px

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Collected:
    """Everything read from every source, keyed the way the mapping joins it."""

    nodes: dict[str, k8s.K8sNode] = field(default_factory=dict)
    pods: dict[str, k8s.K8sPod] = field(default_factory=dict)  # "namespace/name"
    claims: dict[tuple[str, str], k8s.K8sClaim] = field(default_factory=dict)
    pvs: dict[str, k8s.K8sVolume] = field(default_factory=dict)
    storage_nodes: dict[str, k8s.StorageNodeObject] = field(default_factory=dict)
    px_nodes: list[px.PxNode] = field(default_factory=list)
    px_volumes: dict[str, px.PxVolume] = field(default_factory=dict)  # by name
    topics: dict[str, kafka.TopicRecord] = field(default_factory=dict)
    log_dirs: list[kafka.LogDirs] = field(default_factory=list)
    cluster_ids: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)  # {"source", "kind", "count"} for the report
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, what) objects of kinds not used
    given: set[str] = field(default_factory=set)  # which kinds of source were given at all

    def _same(self, what: str, key: Any, old: Any, new: Any) -> None:
        if old.facts() != new.facts():
            raise InputError(new.source, Problem(f"{what} {key}", f"contradicts {old.source}, which describes it differently "
                                                                 "(two captures of different moments?); give one capture"))

    def add_kubernetes(self, data: Any, source: str) -> int:
        count = 0
        for obj in k8s.objects(data):
            kind = k8s.kind_of(obj)
            if kind == "Node":
                rec = k8s.read_node(obj, source)
                if rec.name in self.nodes:
                    self._same("node", rec.name, self.nodes[rec.name], rec)
                self.nodes[rec.name] = rec
                self.given.add("nodes")
            elif kind == "Pod":
                rec = k8s.read_pod(obj, source)
                if rec.key in self.pods:
                    self._same("pod", rec.key, self.pods[rec.key], rec)
                self.pods[rec.key] = rec
                self.given.add("pods")
            elif kind == "PersistentVolumeClaim":
                rec = k8s.read_claim(obj, source)
                key = (rec.namespace, rec.name)
                if key in self.claims:
                    self._same("claim", "/".join(key), self.claims[key], rec)
                self.claims[key] = rec
                self.given.add("claims")
            elif kind == "PersistentVolume":
                rec = k8s.read_volume(obj, source)
                if rec.name in self.pvs:
                    self._same("persistent volume", rec.name, self.pvs[rec.name], rec)
                self.pvs[rec.name] = rec
                self.given.add("pvs")
            elif kind == "StorageNode":
                rec = k8s.read_storage_node(obj, source)
                self.storage_nodes[rec.name] = rec
                self.given.add("px-nodes")
            else:
                name = k8s.field(k8s.field(obj, "metadata", {}), "name", "?")
                self.skipped.append((source, f"{kind or 'an object of unknown kind'} {name}"))
                continue
            count += 1
        return count

    def add_px_volumes(self, objs: list[dict], source: str) -> int:
        for obj in objs:
            rec = px.read_volume(obj, source)
            old = self.px_volumes.get(rec.name)
            if old is not None:
                if old.id != rec.id:
                    raise InputError(source, Problem(f"volume {rec.name}", f"has id {rec.id} here and id {old.id} in {old.source}; "
                                                                            "Portworx volume names are unique"))
                self._same("volume", rec.name, old, rec)
            self.px_volumes[rec.name] = rec
        self.given.add("px-volumes")
        return len(objs)

    def add_px_nodes(self, nodes: list[px.PxNode]) -> int:
        self.px_nodes.extend(nodes)
        self.given.add("px-nodes")
        return len(nodes)

    def add_topics(self, topics: list[kafka.TopicRecord], source: str) -> int:
        for t in topics:
            old = self.topics.get(t.name)
            if old is not None:
                if old.facts() != t.facts():
                    raise InputError(source, Problem(f"topic {t.name}", f"contradicts {old.source}, which describes it differently; "
                                                                        "give one description of each topic"))
                continue
            self.topics[t.name] = t
        self.given.add("topics")
        return sum(len(t.partitions) for t in topics)

    def add_log_dirs(self, dirs: kafka.LogDirs) -> int:
        self.log_dirs.append(dirs)
        self.given.add("log-dirs")
        return len(dirs.sizes)

    def record(self, source: str, kind: str, count: int) -> None:
        self.sources.append({"source": source, "kind": kind, "count": count})


# ---------------------------------------------------------------- recognising

_SOURCES_KNOWN = ("Kubernetes objects (kubectl get ... -o json or -o yaml), pxctl --json volume list/inspect, "
                  "pxctl status, pxctl --json cluster provision-status, kafka-topics.sh --describe or kafka-log-dirs.sh --describe")


_CLUSTER_FILE = ("a placement cluster file, which import does not read (it writes one): give it to plan, check or "
                 "verify as CLUSTER itself, not inside a capture directory")


def _refusal(text: str, data: Any = None) -> str:
    """Why a content is not a source, and what to give instead."""
    if isinstance(data, dict) and isinstance(data.get("nodes"), list) and "kind" not in data and "apiVersion" not in data:
        return _CLUSTER_FILE
    if data is None and re.search(r"^nodes:", text, re.M) and re.search(r"^(volumes|brokers|topics|policy):", text, re.M):
        return _CLUSTER_FILE
    if isinstance(data, dict):
        if "brokerCapacities" in data:
            return "a Cruise Control capacity file, which import does not read (broker capacity comes from the nodes)"
        if isinstance(data.get("partitions"), list) and any(isinstance(p, dict) and "log_dirs" in p for p in data["partitions"]):
            return ("a kafka-reassign-partitions file: it has no leaders, ISR or sizes; "
                    "give the output of kafka-topics.sh --describe instead")
        kind = data.get("kind")
        if isinstance(kind, str) and kind:
            return (f"a Kubernetes {kind}, which import does not read; it reads Node, Pod, PersistentVolumeClaim, "
                    "PersistentVolume and StorageNode objects")
    if isinstance(data, list) or isinstance(data, dict):
        return f"JSON that is none of the sources import reads ({_SOURCES_KNOWN})"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    body = [line for line in lines if not line.startswith(("$", "#", "[", "```", "----"))] or lines
    first = body[0] if body else ""
    if "Current partition replica assignment" in text or "reassignment-json-file" in text:
        return ("kafka-reassign-partitions output: it has no leaders, ISR or sizes; "
                "give the output of kafka-topics.sh --describe instead")
    if "/brokers/ids" in text or '"endpoints"' in text:
        return "a ZooKeeper broker registration, which import does not read; give kafka-topics.sh --describe output"
    if "topicmappr" in text:
        return "kafka-kit metrics, which import does not read; give kafka-log-dirs.sh --describe output for sizes"
    if "Replica sets on nodes" in text:
        return "the text of pxctl volume inspect, which names replicas by IP and rounds sizes; run pxctl --json volume inspect (or --json volume list)"
    if re.search(r"^\s*ID\s+NAME\s+SIZE\s+HA\b", text, re.M):
        return "the text of pxctl volume list, which rounds sizes and shows no replicas; run pxctl --json volume list"
    if "Nodes in the cluster:" in text:
        return "the text of pxctl cluster list, which shows no storage capacity; give pxctl status or pxctl --json cluster provision-status"
    if re.search(r"^\s*NODE\s+NODE STATUS\s+POOL\b", text, re.M):
        return "the text of pxctl cluster provision-status, which rounds sizes; run pxctl --json cluster provision-status"
    if re.match(r"^NAME\s+\S", first) or re.search(r"^\$?\s*kubectl get ", text, re.M) or re.search(r"^NAME\s+(READY|STATUS|CAPACITY|RECLAIMPOLICY)\b", text, re.M):
        return "a kubectl table, which leaves out what import needs; run the same kubectl get with -o json"
    if re.search(r"^\s*Name:\s", text, re.M) and re.search(r"^\s*(Labels|Status):", text, re.M):
        return "kubectl describe output; run kubectl get with -o json instead"
    return f"none of the sources import reads ({_SOURCES_KNOWN})"


def _looks_like_yaml_objects(text: str) -> bool:
    return re.search(r"^(apiVersion|kind|items):", text, re.M) is not None


def add_data(collected: Collected, data: Any, source: str, text: str = "") -> None:
    """Recognise parsed data (JSON, YAML, or objects a program holds) and read it."""
    data = k8s.plain(data)
    if isinstance(data, list) and data and all(k8s.is_kubernetes(k8s.plain(d)) for d in data):
        count = sum(collected.add_kubernetes(d, source) for d in data)
        if not count:
            raise InputError(source, Problem("", _refusal(text, k8s.plain(data[0]))))
        collected.record(source, "Kubernetes objects", count)
        return
    if k8s.is_kubernetes(data):
        count = collected.add_kubernetes(data, source)
        if not count and not (isinstance(data, dict) and isinstance(data.get("items"), list) and not data["items"]):
            raise InputError(source, Problem("", _refusal(text, data)))
        kinds = sorted({k8s.kind_of(o) or "?" for o in k8s.objects(data)} & set(k8s.KINDS))
        collected.record(source, f"Kubernetes {', '.join(kinds) or 'List (empty)'}", count)
        return
    volumes = px.volume_objects(data)
    if volumes is not None:
        collected.record(source, "Portworx volumes (pxctl --json volume)", collected.add_px_volumes(volumes, source))
        return
    entries = px.provision_entries(data)
    if entries is not None:
        collected.record(source, "Portworx nodes (pxctl --json cluster provision-status)",
                         collected.add_px_nodes(px.read_provision_status(entries, source)))
        return
    nodes = px.cluster_node_objects(data)
    if nodes is not None:
        collected.record(source, "Portworx nodes (pxctl status --json)", collected.add_px_nodes(px.read_cluster_nodes(nodes, source)))
        return
    if isinstance(data, dict) and isinstance(data.get("brokers"), list) and all(isinstance(b, dict) and "logDirs" in b for b in data["brokers"]):
        dirs = kafka.read_log_dirs(json.dumps(data), source)
        collected.record(source, "Kafka log dirs (kafka-log-dirs.sh --describe)", collected.add_log_dirs(dirs))
        return
    raise InputError(source, Problem("", _refusal(text, data)))


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object whose keys are distinct: json.loads would keep the last of two silently."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return data


def add_text(collected: Collected, text: str, source: str) -> None:
    """Recognise a text by its content and read it."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputError(source, Problem("", "is empty; expected " + _SOURCES_KNOWN))
    start = text.lstrip()[:1]
    if start in ("{", "["):
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            raise InputError(source, Problem("", f"malformed JSON: duplicate key {excerpt(str(exc))}; each key may appear "
                                                 "once per object (kubectl and pxctl never repeat one)")) from None
        except json.JSONDecodeError:
            data = None
        except (RecursionError, ValueError) as exc:  # nested too deeply, an integer of over 4,300 digits
            raise InputError(source, Problem("", f"malformed JSON: {'nested too deeply' if isinstance(exc, RecursionError) else str(exc)[:200]}")) from None
        if data is not None:
            check_shape(data, source, shared=False)
            add_data(collected, data, source, text)
            return
    if kafka.looks_like_log_dirs(text):
        dirs = kafka.read_log_dirs(text, source)
        collected.record(source, "Kafka log dirs (kafka-log-dirs.sh --describe)", collected.add_log_dirs(dirs))
        return
    if kafka.looks_like_describe(text):
        topics = kafka.read_describe(text, source)
        collected.record(source, "Kafka topics (kafka-topics.sh --describe)", collected.add_topics(topics, source))
        return
    if px.looks_like_status_text(text):
        nodes = px.read_status_text(text, source)
        cluster = px.status_text_cluster(text)
        if cluster:
            collected.cluster_ids.append(cluster)
        collected.record(source, "Portworx nodes (pxctl status)", collected.add_px_nodes(nodes))
        return
    if _looks_like_yaml_objects(text):
        try:
            documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]  # noqa: S506 - a safe loader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else ""
            raise InputError(source, Problem(where, f"malformed YAML: {getattr(exc, 'problem', None) or exc}")) from None
        except (RecursionError, ValueError, OverflowError) as exc:
            raise InputError(source, Problem("", f"malformed YAML: {'nested too deeply' if isinstance(exc, RecursionError) else str(exc)[:200]}")) from None
        for document in documents:  # aliases bounded before anything walks the data
            check_shape(document, source, shared="&" in text)
        if len(documents) == 1:
            add_data(collected, documents[0], source, text)
            return
        if documents and all(k8s.is_kubernetes(d) for d in documents):
            add_data(collected, {"apiVersion": "v1", "kind": "List", "items": documents}, source, text)
            return
    why = _refusal(text)
    if start in ("{", "[") and why.startswith("none of"):
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(source, Problem(f"line {exc.lineno}, column {exc.colno}", f"malformed JSON: {exc.msg}")) from None
    raise InputError(source, Problem("", why))


def import_limit() -> int:
    """Bytes read from one source at most: a large cluster's pod list is bigger than any cluster file."""
    return 4 * max_input_bytes()


def _read_file(path: Path) -> str:
    """A regular file or a pipe, bounded (devices and sockets are not read at all)."""
    return read_text(path, limit=import_limit(), what=_SOURCES_KNOWN)


def source_files(path: Path) -> list[Path]:
    """Every file in a directory, in name order (dotfiles left out)."""
    try:
        entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise InputError(str(path), Problem("", f"cannot be read: {exc.strerror}")) from None
    files = [p for p in entries if p.is_file()]
    if not files:
        raise InputError(str(path), Problem("", "the directory holds no files; expected a capture (placement capture -o DIR)"))
    return files


def add_path(collected: Collected, path: str | Path, stdin: Any = None) -> None:
    if str(path) == "-":
        stream = stdin if stdin is not None else sys.stdin
        text = stream.read(import_limit() + 1)
        if len(text) > import_limit():
            raise InputError("<stdin>", Problem("", f"holds more than the {import_limit() / 2**20:g} MiB placement reads from "
                                                    "one source; raise PLACEMENT_MAX_INPUT_MIB if it really is that large"))
        add_text(collected, text, "<stdin>")
        return
    p = Path(path)
    if is_directory(p):
        for f in source_files(p):
            add_text(collected, _read_file(f), str(f))
        return
    add_text(collected, _read_file(p), str(p))


def collect(paths: Iterable[str | Path] = (), texts: dict[str, str] | None = None, objects: Iterable[Any] = (),
            stdin: Any = None) -> Collected:
    collected = Collected()
    paths = list(paths)
    if sum(str(path) == "-" for path in paths) > 1:  # the second would read nothing: "is empty" hides why
        raise InputError("<stdin>", Problem("", "standard input is named twice; it can be read once: name it once"))
    for path in paths:
        add_path(collected, path, stdin)
    for name, text in (texts or {}).items():
        add_text(collected, text, name)
    for i, obj in enumerate(objects, 1):
        if isinstance(obj, str):
            add_text(collected, obj, f"<text {i}>")
        else:
            add_data(collected, obj, f"<object {i}>")
    if not collected.sources:
        raise InputError("import", Problem("", "no source given; name capture files, a capture directory or - for standard input"))
    return collected

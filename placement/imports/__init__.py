"""Importers: real tool outputs in (kubectl, pxctl, the Kafka tools), out as a
cluster file (CONTRACT section 6).

    import placement
    result = placement.import_cluster("capture/")                    # a capture directory, files, or "-"
    result = placement.import_cluster(objects=[v1.list_node(), v1.list_namespaced_pod("kafka"), ...],
                                      texts={"topics.txt": describe_output})
    result.cluster      # the validated Cluster, ready for placement.plan
    result.document     # the cluster file as plain data (sorted, deterministic)
    result.report       # every item assumed or unresolved, naming its source and item

May import ``placement.models`` only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from placement.models.cluster import Cluster
from placement.models.errors import InputError, Problem
from placement.imports.report import ImportReport, Item
from placement.imports.resolve import Options, resolve
from placement.imports.sources import collect

__all__ = ["ImportReport", "ImportResult", "Item", "import_cluster", "render_document"]


@dataclass(frozen=True)
class ImportResult:
    document: dict  # the cluster file of CONTRACT section 1, as plain data
    cluster: Cluster  # the same, validated by the project's loader
    report: ImportReport


def import_cluster(*paths: str | Path, texts: dict[str, str] | None = None, objects: Iterable[Any] = (),
                   zone_label: str | None = None, kafka_pods: str | None = None, stdin: Any = None) -> ImportResult:
    """Build a cluster from what the tools print.

    ``paths``: files, directories (every file in them) or ``"-"`` (standard input, or ``stdin``);
    ``texts``: name -> text, as a tool printed it; ``objects``: data already parsed (dicts, lists,
    or the Kubernetes Python client's objects, such as ``CoreV1Api().list_node()``).
    Raises InputError (exit 2) when a source cannot be read or recognised or two contradict each other.
    """
    from placement.models.arguments import Arguments

    args = Arguments("import_cluster")
    paths = args.paths("paths", paths)
    texts = args.mapping("texts", texts, "file names to texts") if texts is not None else None
    for name, text in (texts or {}).items():
        if not isinstance(name, str) or not isinstance(text, str):
            args.problem("texts", f"expected names (strings) to texts (strings), got {type(name).__name__} -> {type(text).__name__}")
            break
    objects = args.items("objects", objects, "objects (dicts, lists or Kubernetes client objects) or texts")
    zone_label = args.text("zone_label", zone_label, optional=True, max_length=317)  # a label key: prefix/name
    kafka_pods = args.text("kafka_pods", kafka_pods, optional=True)
    args.done()
    for option, value, instead in (("--zone-label", zone_label, "a node label key such as topology.kubernetes.io/rack"),
                                   ("--kafka-pods", kafka_pods, "a label selector such as app.kubernetes.io/name=kafka")):
        if value is not None and not value.strip():  # it was ignored as if absent, unsaid
            raise InputError(option, Problem("", f"is empty; give {instead}, or leave the option out"))
    collected = collect(paths, texts, objects, stdin=stdin)
    document, report = resolve(collected, Options(zone_label=zone_label, kafka_pods=kafka_pods))
    label = ", ".join(str(p) for p in paths) or "the imported sources"
    from placement.models.loading import parse_cluster

    try:
        cluster = parse_cluster(document, label)
    except InputError as exc:  # the mapping let through what the file cannot hold: say what, not a traceback
        raise InputError(label, [Problem(p.path, f"the imported cluster does not load: {p.message}") for p in exc.problems]) from None
    return ImportResult(document=document, cluster=cluster, report=report)


def render_document(document: dict, *, as_json: bool = False) -> str:
    """The cluster file text: JSON, or YAML with short lists kept on one line."""
    if as_json:
        from placement.models.documents import dump_json

        return dump_json(document)
    return _yaml(document)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value) if _needs_quotes(value) else value


def _needs_quotes(text: str) -> bool:
    import re

    plain = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", text)
    # strings YAML would read as something else (numbers, booleans, null, dates such as a topic 2024-01-01) are
    # quoted: the loader's own resolver says which, so no form it knows is missed
    return not plain or _resolved_tag(text) != "tag:yaml.org,2002:str"


def _resolved_tag(text: str) -> str:
    """The tag the safe loader gives ``text`` written plain (its resolver is the one SafeLoader uses): only the
    implicit resolvers for its first character can apply, as in the loader."""
    import yaml

    for tag, pattern in yaml.resolver.Resolver.yaml_implicit_resolvers.get(text[:1], ()):
        if pattern.match(text):
            return tag
    return "tag:yaml.org,2002:str"


def _yaml(document: dict) -> str:
    """A small emitter for the cluster file's fixed shape: fast on 30,000 partitions and easy to read.
    (It is checked against the YAML loader in the tests.)"""
    out: list[str] = []

    def emit(value: Any, indent: int, first_prefix: str | None = None) -> None:
        pad = " " * indent
        if isinstance(value, dict):
            first = True
            for key, val in value.items():
                lead = first_prefix if first and first_prefix is not None else pad
                first = False
                if isinstance(val, dict) and val:
                    out.append(f"{lead}{key}:")
                    emit(val, indent + 2)
                elif isinstance(val, list) and val and any(isinstance(v, (dict, list)) for v in val):
                    out.append(f"{lead}{key}:")
                    for item in val:
                        emit(item, indent + 2, " " * (indent + 2) + "- ")
                elif isinstance(val, list):
                    out.append(f"{lead}{key}: [{', '.join(_scalar(v) for v in val)}]")
                elif isinstance(val, dict):
                    out.append(f"{lead}{key}: {{}}")
                else:
                    out.append(f"{lead}{key}: {_scalar(val)}")
        else:
            out.append(f"{first_prefix or pad}{_scalar(value)}")

    # dict items inside a list continue at the indentation after "- "
    def emit_top(doc: dict) -> None:
        for key, val in doc.items():
            if isinstance(val, list) and val and isinstance(val[0], dict):
                out.append(f"{key}:")
                for item in val:
                    _emit_item(item, 2)
            elif isinstance(val, list):
                out.append(f"{key}: [{', '.join(_scalar(v) for v in val)}]")
            elif isinstance(val, dict):
                out.append(f"{key}:")
                emit(val, 2)
            else:
                out.append(f"{key}: {_scalar(val)}")

    def _emit_item(item: dict, indent: int) -> None:
        pad = " " * indent
        first = True
        for key, val in item.items():
            lead = f"{pad}- " if first else f"{pad}  "
            first = False
            if isinstance(val, list) and val and isinstance(val[0], dict):
                out.append(f"{lead}{key}:")
                for sub in val:
                    _emit_item(sub, indent + 4)
            elif isinstance(val, list):
                out.append(f"{lead}{key}: [{', '.join(_scalar(v) for v in val)}]")
            elif isinstance(val, dict):
                out.append(f"{lead}{key}: {{{', '.join(f'{_scalar(k)}: {_scalar(v)}' for k, v in val.items())}}}")
            else:
                out.append(f"{lead}{key}: {_scalar(val)}")

    emit_top(document)
    return "\n".join(out) + "\n"

"""Kafka as its tools print it.

- ``kafka-topics.sh --describe``, Kafka 2.x to 4.x: with or without TopicId, Elr
  and LastKnownElr; tabs or runs of spaces; the old ``Topic:foo`` header without
  a space; ``Leader: none`` or ``-1``; ISR in any order; Configs whose values
  hold commas; headers missing under the filter flags.
- ``kafka-log-dirs.sh --describe``: its preamble lines, then the JSON (one line,
  or pretty-printed by whoever pasted it); the size of a partition is the
  largest of its non-future replicas.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from placement.models.errors import InputError, Problem, excerpt

_KEYS = ("Adding Replicas", "Removing Replicas", "LastKnownElr", "MarkedForDeletion", "ReplicationFactor",
         "PartitionCount", "TopicId", "Topic", "Partition", "Leader", "Replicas", "Isr", "Elr", "Configs")
_FIELD = re.compile(r"(?:^|(?<=\s))(" + "|".join(re.escape(k) for k in _KEYS) + r"):")
_TAG = re.compile(r"<[^>]*>")
_PARTITION_LINE = re.compile(r"(?:^|\s)Partition:\s*\d+")


@dataclass(frozen=True)
class PartitionRecord:
    topic: str
    id: int
    leader: int | None  # None: "none" or -1
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    elr: tuple[int, ...] | None  # None when absent or N/A
    last_known_elr: tuple[int, ...] | None
    adding: tuple[int, ...]
    removing: tuple[int, ...]
    line: int


@dataclass
class TopicRecord:
    name: str
    source: str
    configs: dict[str, str] = field(default_factory=dict)
    partitions: dict[int, PartitionRecord] = field(default_factory=dict)
    described: int = 0  # how many headers named it in this source (several runs pasted into one file)
    header: bool = False
    partition_count: int | None = None  # its header's PartitionCount (the last header's), to notice a cut output

    def facts(self) -> tuple:
        return (tuple(sorted(self.configs.items())),
                tuple((p.id, p.leader, p.replicas, tuple(sorted(p.isr)), p.adding, p.removing)
                      for _, p in sorted(self.partitions.items())))

    @property
    def min_insync_replicas(self) -> int | None:
        value = self.configs.get("min.insync.replicas")
        return int(value) if value is not None and value.strip().isdigit() else None


def _clean(line: str) -> str:
    return html.unescape(_TAG.sub("", line)) if "<" in line or "&" in line else line


def _fields(line: str) -> dict[str, str]:
    marks = list(_FIELD.finditer(line))
    return {m.group(1): line[m.end():(marks[i + 1].start() if i + 1 < len(marks) else len(line))].strip()
            for i, m in enumerate(marks)}


def looks_like_describe(text: str) -> bool:
    return any(_PARTITION_LINE.search(line) and "Leader:" in line and "Replicas:" in line for line in text.splitlines())


def _brokers(value: str | None, source: str, number: int, what: str) -> tuple[int, ...]:
    if value is None or value.strip() in ("", "N/A"):
        return ()
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise InputError(source, Problem(f"line {number}", f"{what} {value!r} is not a list of broker ids")) from None


def _configs(value: str) -> dict[str, str]:
    configs = {}
    # commas inside a value (leader.replication.throttled.replicas=0:1,1:2) do not start a new key
    for part in re.split(r",(?=[A-Za-z0-9._-]+=)", value.strip()):
        if "=" in part:
            key, _, val = part.partition("=")
            configs[key.strip()] = val.strip()
    return configs


def read_describe(text: str, source: str) -> list[TopicRecord]:
    topics: dict[str, TopicRecord] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = _clean(raw)
        if "PartitionCount:" in line:
            f = _fields(line)
            name = f.get("Topic", "")
            if not name:
                raise InputError(source, Problem(f"line {number}", "a topic header without a Topic: name"))
            topic = topics.get(name)
            if topic is None:
                topic = topics[name] = TopicRecord(name=name, source=source)
            else:  # the same topic described again further down: a later run, which replaces the earlier
                topic.partitions = {}
            topic.described += 1
            topic.header = True
            topic.configs = _configs(f.get("Configs", ""))
            count = f.get("PartitionCount", "").strip()
            topic.partition_count = int(count) if re.fullmatch(r"[0-9]{1,9}", count) else None
            continue
        if "Leader:" not in line or "Partition:" not in line:
            continue
        f = _fields(line)
        if "Partition" not in f or "Leader" not in f:  # "Partition:" inside another field's value
            continue
        name = f.get("Topic", "")
        partition = f["Partition"]
        if not re.fullmatch(r"[0-9]{1,9}", partition):  # a line left out here would drop the partition unsaid
            raise InputError(source, Problem(f"line {number}", f"partition {excerpt(partition)} is not a partition number "
                                                               "(0 or more)"))
        pid = int(partition)
        if not name:
            raise InputError(source, Problem(f"line {number}", "a partition line without a Topic: name"))
        missing = [key for key in ("Replicas", "Isr") if key not in f]
        if missing:  # every Kafka version prints both: the output was cut (a paste, a full disk, a timeout)
            raise InputError(source, Problem(f"line {number}", f"topic {name} partition {pid}: the line has no "
                                                               f"{' and no '.join(k + ':' for k in missing)} (cut short?); "
                                                               "give the whole kafka-topics.sh --describe output"))
        leader_text = f.get("Leader", "").strip()
        if leader_text.lower() in ("none", "-1", ""):
            leader = None
        elif re.fullmatch(r"\d+", leader_text):
            leader = int(leader_text)
        else:
            raise InputError(source, Problem(f"line {number}", f"topic {name} partition {pid}: leader {leader_text!r} is not a broker id"))
        elr = f.get("Elr")
        last = f.get("LastKnownElr")
        topic = topics.setdefault(name, TopicRecord(name=name, source=source))
        topic.partitions[pid] = PartitionRecord(
            topic=name, id=pid, leader=leader,
            replicas=_brokers(f.get("Replicas"), source, number, "Replicas"),
            isr=_brokers(f.get("Isr"), source, number, "Isr"),
            elr=None if elr is None or elr.strip() == "N/A" else _brokers(elr, source, number, "Elr"),
            last_known_elr=None if last is None or last.strip() == "N/A" else _brokers(last, source, number, "LastKnownElr"),
            adding=_brokers(f.get("Adding Replicas"), source, number, "Adding Replicas"),
            removing=_brokers(f.get("Removing Replicas"), source, number, "Removing Replicas"),
            line=number,
        )
    return [topics[n] for n in sorted(topics)]


# ---------------------------------------------------------------- log dirs

@dataclass
class LogDirs:
    source: str
    brokers: set[int] = field(default_factory=set)  # brokers that answered
    sizes: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> largest non-future replica, bytes
    replicas: dict[tuple[str, int], set[int]] = field(default_factory=dict)  # brokers holding a (non-future) replica
    offline_dirs: list[tuple[int, str, str]] = field(default_factory=list)  # (broker, dir, error)
    elided: bool = False  # the pasted JSON had "..." in place of brokers


def looks_like_log_dirs(text: str) -> bool:
    return '"logDirs"' in text or "Querying brokers for log directories" in text


def _log_dirs_json(text: str, source: str) -> tuple[dict, bool]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("{")), None)
    if start is None:
        raise InputError(source, Problem("", "kafka-log-dirs output without its JSON (no line starts with '{')"))
    body = "\n".join(lines[start:])
    try:
        return json.loads(body), False
    except json.JSONDecodeError:
        pass
    # A pasted, pretty-printed output with "..." where the publisher elided brokers: parse what is there.
    kept = [line for line in lines[start:] if line.strip() not in ("...", "…")]
    repaired = re.sub(r",(\s*[\]}])", r"\1", "\n".join(kept))
    try:
        return json.loads(repaired), len(kept) != len(lines) - start
    except json.JSONDecodeError as exc:
        raise InputError(source, Problem(f"line {start + exc.lineno}", f"the kafka-log-dirs JSON is malformed: {exc.msg}")) from None


def read_log_dirs(text: str, source: str) -> LogDirs:
    data, elided = _log_dirs_json(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("brokers"), list):
        raise InputError(source, Problem("", "the kafka-log-dirs JSON has no \"brokers\" list"))
    result = LogDirs(source=source, elided=elided)
    for b in data["brokers"]:
        if not isinstance(b, dict) or not isinstance(b.get("broker"), int):
            raise InputError(source, Problem("brokers[]", f"{str(b)[:60]!r} is not a broker entry with an integer \"broker\""))
        broker = b["broker"]
        result.brokers.add(broker)
        for d in b.get("logDirs") or []:
            if d.get("error"):
                result.offline_dirs.append((broker, str(d.get("logDir")), str(d["error"])))
            for p in d.get("partitions") or []:
                name = str(p.get("partition", ""))
                topic, dash, number = name.rpartition("-")  # topic names hold '-' too: split on the last one
                if not dash or not number.isdigit():
                    raise InputError(source, Problem(f"broker {broker}", f"partition {name!r} is not <topic>-<number>"))
                if p.get("isFuture"):
                    continue  # a copy moving between this broker's dirs: space now, not the partition's size
                key = (topic, int(number))
                size = p.get("size")
                if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                    raise InputError(source, Problem(f"broker {broker}", f"partition {name}: size {size!r} is not a byte count"))
                result.sizes[key] = max(result.sizes.get(key, 0), size)
                result.replicas.setdefault(key, set()).add(broker)
    return result

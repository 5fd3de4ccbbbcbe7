"""The name policy: which names placement accepts, for files and options alike.

Names end up in kubectl, pxctl and kafka-*.sh command lines and in the scripts
placement writes, so anything Kubernetes, Portworx or Kafka would refuse is
refused at load time, with exit status 2. Every pattern is a full match
(``re.fullmatch``): a ``$`` anchor would let a name that ends in a newline
through, and that newline could break out of a script's comment line.

    rule = NAMES["node"]
    message = rule.problem(value)      # None when the name is valid
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from placement.models.errors import excerpt

INT32_MAX = 2**31 - 1  # Kafka's broker and partition ids are 32-bit signed integers
POD_NAME_MAX = 63  # a StatefulSet's pod name is also a label value (statefulset.kubernetes.io/pod-name)

_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"


def _whole(pattern: str) -> re.Pattern:
    """Anchored at both ends with \\A and \\Z, so that even ``.match`` is a full match."""
    return re.compile(rf"\A(?:{pattern})\Z")


@dataclass(frozen=True)
class NameRule:
    """One kind of name: what it is called, the full-match pattern, the rule in words, its length."""

    kind: str  # "node name"
    pattern: re.Pattern
    rule: str  # what is allowed, for the message
    max_length: int
    reserved: frozenset[str] = field(default=frozenset())  # matching names that are still refused

    def problem(self, value: Any) -> str | None:
        """None when ``value`` is a valid name; otherwise what is wrong, quoting a bounded excerpt of it."""
        if not isinstance(value, str):
            return f"expected a {self.kind}, got {excerpt(value)}"
        if len(value) > self.max_length:
            shown = excerpt(value) if len(value) > 48 else f"{excerpt(value)} ({len(value)} characters)"
            return f"{shown} is too long: a {self.kind} has at most {self.max_length} characters ({self.rule})"
        if value in self.reserved:
            return f"{excerpt(value)} is not a valid {self.kind}: {self.rule}"
        if self.pattern.fullmatch(value) is None:
            return f"{excerpt(value)} is not a valid {self.kind}: {self.rule}"
        return None

    def is_valid(self, value: Any) -> bool:
        return self.problem(value) is None


NODE = NameRule(
    "node name",
    _whole(rf"(?=.{{1,253}}\Z){_DNS_LABEL}(?:\.{_DNS_LABEL})*"),
    "a Kubernetes node name: DNS-1123 labels (lower-case letters, digits and '-', at most 63, "
    "starting and ending alphanumeric) joined by '.', at most 253 in all",
    253,
)
ZONE = NameRule(
    "zone", _whole(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"),
    "a Kubernetes label value (letters, digits, '-', '_', '.', starting and ending alphanumeric, at most 63)", 63,
)
VOLUME = NameRule(
    "volume name", _whole(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,251}[A-Za-z0-9])?"),
    "letters, digits, '-', '_' and '.', starting and ending alphanumeric, at most 253", 253,
)
CLUSTER = NameRule(
    "cluster name", VOLUME.pattern, "letters, digits, '-', '_' and '.', starting and ending alphanumeric, at most 253", 253,
)
TOPIC = NameRule(
    "Kafka topic name", _whole(r"[A-Za-z0-9._-]{1,249}"),
    "letters, digits, '.', '_' and '-', at most 249, and neither '.' nor '..' (Kafka's rule)", 249,
    reserved=frozenset({".", ".."}),
)
NAMESPACE = NameRule(
    "Kubernetes namespace", _whole(_DNS_LABEL),
    "a DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63", 63,
)
# A StatefulSet's pods are NAME-ID and a pod name is at most 63 (see pod_name_problem); the
# name itself leaves room for at least "-0".
STATEFULSET = NameRule(
    "StatefulSet name", _whole(_DNS_LABEL),
    "a DNS-1123 label (lower-case letters, digits and '-', starting and ending alphanumeric) "
    f"short enough that its pods NAME-ID are at most {POD_NAME_MAX} characters", POD_NAME_MAX - 2,
)
_HOST = rf"(?:{_DNS_LABEL.replace('a-z', 'A-Za-z')}(?:\.{_DNS_LABEL.replace('a-z', 'A-Za-z')})*|\[[0-9A-Fa-f:.]+\])"
_ITEM = rf"({_HOST}):([0-9]{{1,5}})"
_BOOTSTRAP_ITEM = _whole(_ITEM)
BOOTSTRAP = NameRule(
    "bootstrap server list", _whole(rf"{_ITEM}(?:,{_ITEM})*"),
    "HOST:PORT[,HOST:PORT...]: host names (letters, digits, '-', '.') or [IPv6] addresses, ports 1..65535", 4096,
)

NAMES: dict[str, NameRule] = {
    "cluster": CLUSTER, "node": NODE, "zone": ZONE, "volume": VOLUME, "topic": TOPIC,
    "namespace": NAMESPACE, "statefulset": STATEFULSET, "bootstrap": BOOTSTRAP,
}


def name_problem(kind: str, value: Any) -> str | None:
    """None when ``value`` is a valid name of ``kind`` (a key of NAMES); otherwise what is wrong."""
    if kind == "bootstrap":
        return bootstrap_problem(value)
    return NAMES[kind].problem(value)


def bootstrap_problem(value: Any) -> str | None:
    """``--bootstrap-server``: the pattern, then every port in 1..65535."""
    found = BOOTSTRAP.problem(value)
    if found is not None:
        return found
    for item in value.split(","):
        port = int(_BOOTSTRAP_ITEM.fullmatch(item).group(2))
        if not 1 <= port <= 65535:
            return f"{excerpt(item)} has port {port}; a port is in 1..65535"
    return None


def pod_name_problem(statefulset: str, broker_id: int) -> str | None:
    """A broker's pod is STATEFULSET-ID: Kubernetes refuses it over 63 characters."""
    pod = f"{statefulset}-{broker_id}"
    if len(pod) > POD_NAME_MAX:
        return (f"broker {broker_id}'s pod {excerpt(pod)} would be {len(pod)} characters long; a StatefulSet's pod name "
                f"is at most {POD_NAME_MAX}: give a shorter --statefulset")
    return None


def broker_id_problem(value: Any) -> str | None:
    """A Kafka broker id: an integer in 0..2^31-1 (Kafka's broker.id is a 32-bit int)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return f"expected a broker id (an integer in 0..{INT32_MAX:,}), got {excerpt(value)}"
    if not 0 <= value <= INT32_MAX:
        return f"is {excerpt(value)}; expected a broker id in 0..{INT32_MAX:,} (Kafka's broker.id is a 32-bit integer)"
    return None


def topic_collision_key(name: str) -> str:
    """Kafka refuses a topic whose name differs from an existing one only by '.' against '_'
    (they collide in metric names)."""
    return name.replace(".", "_")

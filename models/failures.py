"""What happens to the cluster: the nodes counted as failed, the brokers retired on purpose,
and the planned operations (nodes drained, a storage limit to rebalance to, and the fewest
in-sync replicas a volume may keep while the steps run)."""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Iterable

from placement.models.cluster import Cluster, NodeState
from placement.models.errors import InputError, Problem

MIN_REPLICAS_RANGE = (1, 3)  # Portworx keeps 1..3 replicas of a volume


@dataclass(frozen=True)
class Failures:
    nodes: frozenset[str]  # every node counted as failed: from the file and the options
    removed_brokers: frozenset[int] = field(default=frozenset())
    drained: frozenset[str] = field(default=frozenset())  # --drain: emptied; up while the steps run, receives nothing new
    max_used_percent: float | None = None  # --rebalance --max-used PERCENT (0 < p <= 100)
    min_replicas: int | None = None  # --min-replicas: the fewest in-sync replicas a volume keeps during the steps

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(sorted(self.nodes))

    @property
    def planned(self) -> bool:
        """A planned operation (drain or rebalance) rather than a recovery from failures."""
        return bool(self.drained) or self.max_used_percent is not None


def _unknown_node(cluster: Cluster, name: object) -> str:
    names = sorted(cluster.node)
    hint = difflib.get_close_matches(name, names, n=1) if isinstance(name, str) else []
    listed = ', '.join(names[:8]) + (', ...' if len(names) > 8 else '')
    return (f"{name!r} is not a node of cluster {cluster.name!r} "
            f"({'did you mean ' + repr(hint[0]) + '?' if hint else 'nodes: ' + listed})")


def resolve_failures(cluster: Cluster, fail: Iterable[str] = (), fail_zones: Iterable[str] = (),
                     remove_brokers: Iterable[int] = (), *, drain: Iterable[str] = (),
                     max_used_percent: float | None = None, min_replicas: int | None = None,
                     source: str | None = None) -> Failures:
    """Combine the file's failed nodes with --fail, --fail-zone, --remove-broker, --drain,
    --max-used and --min-replicas; check every name and number."""
    problems: list[Problem] = []
    failed = {n.name for n in cluster.nodes if n.state is NodeState.FAILED}
    for name in fail:
        if name in cluster.node:
            failed.add(name)
        else:
            problems.append(Problem("--fail", _unknown_node(cluster, name)))
    for zone in fail_zones:
        members = [n.name for n in cluster.nodes_in_zone(zone)]
        if members:
            failed.update(members)
        else:
            problems.append(Problem("--fail-zone", f"{zone!r} is not a zone of cluster {cluster.name!r} (zones: {', '.join(cluster.zones)})"))
    removed = set()
    for bid in remove_brokers:
        if bid in cluster.broker:
            removed.add(bid)
        else:
            problems.append(Problem("--remove-broker", f"{bid} is not a broker id of cluster {cluster.name!r} (brokers: {', '.join(str(b) for b in sorted(cluster.broker))})"))
    drained = set()
    for name in drain:
        if name not in cluster.node:
            problems.append(Problem("--drain", _unknown_node(cluster, name)))
        elif name in failed:
            why = "is failed in the cluster file" if cluster.node[name].state is NodeState.FAILED else "is also named as failed"
            problems.append(Problem("--drain", f"node {name!r} {why}; a drain empties a node that is up "
                                               "(plan the recovery with --fail instead)"))
        else:
            drained.add(name)
    if max_used_percent is not None:
        ok = isinstance(max_used_percent, (int, float)) and not isinstance(max_used_percent, bool) \
            and math.isfinite(max_used_percent) and 0 < max_used_percent <= 100
        if not ok:
            problems.append(Problem("--max-used", f"is {max_used_percent!r}; expected a percentage of each node's "
                                                  "storage, more than 0 and at most 100"))
    if min_replicas is not None:
        low, high = MIN_REPLICAS_RANGE
        ok = isinstance(min_replicas, int) and not isinstance(min_replicas, bool) and low <= min_replicas <= high
        if not ok:
            problems.append(Problem("--min-replicas", f"is {min_replicas!r}; expected a whole number of in-sync "
                                                      f"replicas in {low}..{high} (Portworx keeps at most 3)"))
    if problems:
        raise InputError(source or cluster.source or "options", problems)
    return Failures(nodes=frozenset(failed), removed_brokers=frozenset(removed), drained=frozenset(drained),
                    max_used_percent=None if max_used_percent is None else float(max_used_percent),
                    min_replicas=min_replicas)

"""What went wrong: the nodes counted as failed and the brokers retired on purpose."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from placement.models.cluster import Cluster, NodeState
from placement.models.errors import InputError, Problem


@dataclass(frozen=True)
class Failures:
    nodes: frozenset[str]  # every node counted as failed: from the file and the options
    removed_brokers: frozenset[int] = field(default=frozenset())

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(sorted(self.nodes))


def resolve_failures(cluster: Cluster, fail: Iterable[str] = (), fail_zones: Iterable[str] = (),
                     remove_brokers: Iterable[int] = (), *, source: str | None = None) -> Failures:
    """Combine the file's failed nodes with --fail, --fail-zone and --remove-broker; check every name."""
    problems: list[Problem] = []
    failed = {n.name for n in cluster.nodes if n.state is NodeState.FAILED}
    names = sorted(cluster.node)
    for name in fail:
        if name in cluster.node:
            failed.add(name)
        else:
            hint = difflib.get_close_matches(name, names, n=1)
            problems.append(Problem("--fail", f"{name!r} is not a node of cluster {cluster.name!r} "
                                    f"({'did you mean ' + repr(hint[0]) + '?' if hint else 'nodes: ' + ', '.join(names[:8]) + (', ...' if len(names) > 8 else '')})"))
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
    if problems:
        raise InputError(source or cluster.source or "options", problems)
    return Failures(nodes=frozenset(failed), removed_brokers=frozenset(removed))

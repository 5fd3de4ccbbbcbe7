"""The heaviest closed set: the worst state of a quantity that each event changes by a fixed amount.

A node's storage, its brokers, a volume's replica count: each is its value at the start plus
a fixed amount per event (a resync's start takes space, a drop's finish frees it). The
reachable states are the event sets closed under "an event needs these events first"
(a finish needs its start, a start needs the finish of every step it waits for). The worst
reachable value is therefore a maximum-weight closure, which a minimum cut finds exactly
(Picard, 1976): source -> event with a gain, event -> sink with a loss, event -> what it
needs with infinite capacity; the events on the source side of the cut are the closure.

Dinic's algorithm: O(V^2 * E) in the worst case, far less on these shallow graphs.
"""
from __future__ import annotations

from collections import deque


def max_closure(weights: list[int], needs: list[list[int]]) -> tuple[int, set[int]]:
    """The largest total weight of a set of items closed under ``needs`` (an item in the set
    brings every item it needs), and one such set (the empty set weighs 0)."""
    n = len(weights)
    source, sink = n, n + 1
    heads: list[list[int]] = [[] for _ in range(n + 2)]
    to: list[int] = []
    cap: list[int] = []

    def edge(u: int, v: int, c: int) -> None:
        heads[u].append(len(to))
        to.append(v)
        cap.append(c)
        heads[v].append(len(to))
        to.append(u)
        cap.append(0)

    gains = sum(w for w in weights if w > 0)
    infinite = gains + 1
    for i, w in enumerate(weights):
        if w > 0:
            edge(source, i, w)
        elif w < 0:
            edge(i, sink, -w)
        for j in needs[i]:
            edge(i, j, infinite)

    def levels() -> list[int] | None:
        level = [-1] * (n + 2)
        level[source] = 0
        queue = deque([source])
        while queue:
            u = queue.popleft()
            for e in heads[u]:
                if cap[e] > 0 and level[to[e]] < 0:
                    level[to[e]] = level[u] + 1
                    queue.append(to[e])
        return level if level[sink] >= 0 else None

    def push(level: list[int], cursor: list[int]) -> int:
        """One augmenting path along the level graph (iterative), its bottleneck pushed."""
        path: list[int] = []
        u = source
        while True:
            if u == sink:
                amount = min(cap[e] for e in path)
                for e in path:
                    cap[e] -= amount
                    cap[e ^ 1] += amount
                return amount
            advanced = False
            while cursor[u] < len(heads[u]):
                e = heads[u][cursor[u]]
                v = to[e]
                if cap[e] > 0 and level[v] == level[u] + 1:
                    path.append(e)
                    u = v
                    advanced = True
                    break
                cursor[u] += 1
            if not advanced:
                if not path:
                    return 0
                level[u] = -1  # a dead end: never enter it again in this phase
                e = path.pop()
                u = to[e ^ 1]
                cursor[u] += 1

    flow = 0
    while (level := levels()) is not None:
        cursor = [0] * (n + 2)
        while (pushed := push(level, cursor)) > 0:
            flow += pushed
    # the closure: what the source still reaches in the residual graph
    reached = {source}
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for e in heads[u]:
            if cap[e] > 0 and to[e] not in reached:
                reached.add(to[e])
                queue.append(to[e])
    return gains - flow, {i for i in reached if i < n}

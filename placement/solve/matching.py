"""Assignments of items to nodes with capacities: as many items as possible, then the least cost.

Brokers to the nodes that can take them (a broker slot each), for the greedy start and for
the lower bounds of the "waiting" and "racks" levels (``placement.solve.bounds``). The
problem is a min-cost flow (source -> item, capacity 1; item -> node, capacity 1, the
option's cost; node -> sink, the node's capacity), solved exactly: by successive shortest
paths in plain Python when small (no import), by OR-Tools' min-cost flow otherwise.
Both are exact, so they agree on the cost (tested); ties may be broken differently.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Hashable

SMALL = 64  # items solved in plain Python; beyond, OR-Tools' network simplex (C++)


@dataclass(frozen=True)
class Assignment:
    chosen: dict  # item -> node, for the items assigned
    cost: int  # total cost of the chosen options

    @property
    def size(self) -> int:
        return len(self.chosen)


def assign(options: dict[Hashable, list[tuple[Hashable, int]]], capacity: dict[Hashable, int]) -> Assignment:
    """The most items each on one of its (node, cost) options, no node above its capacity, and
    among those assignments one of least total cost. Costs are non-negative integers.

    O(F * E log E) in plain Python (F items assigned, E options), used up to ``SMALL`` items;
    OR-Tools' min-cost flow beyond."""
    items = [i for i in options if any(capacity.get(n, 0) > 0 for n, _ in options[i])]
    if not items:
        return Assignment({}, 0)
    if len(items) <= SMALL:
        return _successive_shortest_paths(items, options, capacity)
    return _network_simplex(items, options, capacity)


def _network_simplex(items, options, capacity) -> Assignment:
    from ortools.graph.python import min_cost_flow

    nodes = sorted({n for i in items for n, _ in options[i] if capacity.get(n, 0) > 0}, key=repr)
    index = {n: k for k, n in enumerate(nodes)}
    source, first_item = 0, 1
    first_node = first_item + len(items)
    sink = first_node + len(nodes)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = []
    for k, i in enumerate(items):
        flow.add_arc_with_capacity_and_unit_cost(source, first_item + k, 1, 0)
        for n, cost in options[i]:
            if n in index:
                arcs.append((i, n, flow.add_arc_with_capacity_and_unit_cost(first_item + k, first_node + index[n], 1, cost)))
    for n, k in index.items():
        flow.add_arc_with_capacity_and_unit_cost(first_node + k, sink, capacity[n], 0)
    flow.set_node_supply(source, len(items))  # as much as can flow: the maximum flow of least cost
    flow.set_node_supply(sink, -len(items))
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended {status}")
    chosen = {i: n for i, n, arc in arcs if flow.flow(arc) > 0}
    return Assignment(chosen, int(flow.optimal_cost()))


def _successive_shortest_paths(items, options, capacity) -> Assignment:
    """Augment one item at a time along a cheapest path in the residual graph (Dijkstra with
    potentials: every reduced cost stays non-negative), which keeps each intermediate
    assignment of least cost for its size; stop when no path remains."""
    # vertices: ("s",), ("t",), ("i", item), ("n", node); arcs as [head, capacity, cost, reverse index]
    graph: dict = {}

    def add(u, v, cap, cost):
        graph.setdefault(u, []).append([v, cap, cost, len(graph.setdefault(v, []))])
        graph[v].append([u, 0, -cost, len(graph[u]) - 1])

    source, sink = ("s",), ("t",)
    used_nodes = []
    for i in items:
        add(source, ("i", i), 1, 0)
        for n, cost in options[i]:
            if capacity.get(n, 0) > 0:
                add(("i", i), ("n", n), 1, cost)
                used_nodes.append(n)
    for n in dict.fromkeys(used_nodes):
        add(("n", n), sink, capacity[n], 0)
    potential = {v: 0 for v in graph}
    order = {v: k for k, v in enumerate(graph)}  # a fixed tie-break, so the answer is deterministic
    while True:
        dist = {source: 0}
        parent: dict = {}
        heap = [(0, order[source], source)]
        done = set()
        while heap:
            d, _, u = heapq.heappop(heap)
            if u in done:
                continue
            done.add(u)
            for k, (v, cap, cost, _) in enumerate(graph[u]):
                if cap <= 0:
                    continue
                nd = d + cost + potential[u] - potential[v]
                if nd < dist.get(v, nd + 1):
                    dist[v] = nd
                    parent[v] = (u, k)
                    heapq.heappush(heap, (nd, order[v], v))
        if sink not in dist:
            break
        for v, d in dist.items():
            potential[v] += d
        v = sink
        while v != source:
            u, k = parent[v]
            arc = graph[u][k]
            arc[1] -= 1
            graph[v][arc[3]][1] += 1
            v = u
    chosen, cost = {}, 0
    for i in items:
        for v, cap, c, _ in graph[("i", i)]:
            if v[0] == "n" and cap == 0 and c >= 0:
                chosen[i] = v[1]
                cost += c
    return Assignment(chosen, cost)

"""I3 broker placement: every broker that is not retired runs, on an alive node
(never moved onto a cordoned one); with ``brokerPlacement: required`` that node
holds a replica of each of its volumes in the target (hyperconvergence).
A retired broker runs nowhere."""
from __future__ import annotations

from placement.models.cluster import NodeLoad
from placement.models.plan import Placement, Violation
from placement.models.units import gib
from placement.rules.capacity import broker_load
from placement.rules import items as judged
from placement.rules.items import Items
from placement.scenario import Scenario

ID = "I3"
TITLE = "broker placement (hyperconvergence)"


def _no_room(scenario: Scenario, broker, node: str, load: NodeLoad) -> str:
    """What on ``node`` leaves no room for ``broker`` in the target: a broker slot, its CPU, its memory."""
    cluster = scenario.cluster
    limits = cluster.limits(node)
    after = load.plus(NodeLoad.of_broker(broker))
    if limits.brokers is not None and after.brokers > limits.brokers:
        return f"{node} runs {load.brokers} broker{'s' if load.brokers != 1 else ''} (brokersPerNode {limits.brokers})"
    if limits.cpu_millicores is not None and after.cpu_millicores > limits.cpu_millicores:
        free = max(0, limits.cpu_millicores - load.cpu_millicores) / 1000
        return f"{node} has {free:g} core{'s' if free != 1 else ''} free, it needs {broker.cpu_millicores / 1000:g}"
    free = gib(max(0, limits.memory_mib - load.memory_mib))
    return f"{node} has {free:g} GiB of memory free, it needs {gib(broker.memory_mib):g}"


def _listed(names: list[str], limit: int = 4) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _why_not_running(scenario: Scenario, broker, target: Placement, load: dict[str, NodeLoad]) -> tuple[bool, str]:
    """Why the target runs the broker nowhere, from the facts: its data is lost, no node holds its
    volumes, the nodes that could take it are full (and with what), or there is room and the target
    simply places it nowhere (a hand-made or cut-short plan)."""
    lost = [v for v in broker.volumes if not scenario.has_data(v)]
    if lost and scenario.hyperconverged:
        return False, f"its volume {lost[0]} lost every replica"
    if scenario.hyperconverged and broker.volumes:
        common = set.intersection(*(set(target.volumes.get(v, ())) for v in broker.volumes))
        hosts = sorted(n for n in common if scenario.may_host_broker(broker, n))
        if not hosts:
            return False, "no alive node holds a replica of each of its volumes"
        where = "the nodes holding its volumes"
    else:
        hosts = [n.name for n in scenario.cluster.nodes if scenario.may_host_broker(broker, n.name)]
        if not hosts:
            return False, "no node is alive and ready to run it"
        where = "the alive nodes"
    full = {n: load[n] for n in hosts if not scenario.cluster.broker_fits(broker, n, load[n])}
    roomy = [n for n in hosts if n not in full]
    if roomy:
        one = len(roomy) == 1
        holding = "" if where == "the alive nodes" else f" {'holds' if one else 'hold'} its volumes and"
        return True, f"the target places it nowhere, though {_listed(roomy)}{holding} {'has' if one else 'have'} room for it"
    return False, f"{where} have no room for it: {'; '.join(_no_room(scenario, broker, n, full[n]) for n in hosts[:4])}" \
        + (f" and {len(hosts) - 4} more" if len(hosts) > 4 else "")


def check(scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
    out: list[Violation] = []
    load = None  # what the target's brokers take on each node, computed once a reason needs it
    for b in judged.brokers(scenario.cluster, items):
        node = target.brokers.get(b.id)
        subject = f"broker {b.id}"
        if scenario.is_removed(b.id):
            if node is not None:
                out.append(Violation(ID, f"broker {b.id} is retired but still runs on {node}", subject))
            continue
        if node is None:
            if load is None:
                load = broker_load(scenario.cluster, target)
            could_run, why = _why_not_running(scenario, b, target, load)
            out.append(Violation.measured(ID, f"broker {b.id} {'does not run' if could_run else 'cannot run'}: {why}",
                                          subject, "not running", "running"))
            continue
        if not scenario.may_host_broker(b, node):
            why = "is failed" if scenario.is_failed(node) else "is cordoned and receives nothing new"
            out.append(Violation(ID, f"broker {b.id} is placed on node {node}, which {why}", subject))
        if scenario.hyperconverged:
            for v in b.volumes:
                if node not in target.volumes.get(v, ()):
                    out.append(Violation(ID, f"broker {b.id} runs on node {node}, which holds no replica of its volume {v}", subject))
    return out


def _fixed_hosts(enc):
    """Brokers the space does not move, whose volumes it decides: the replica under them must stay."""
    space = enc.space
    if not space.scenario.hyperconverged:
        return
    for b in space.scenario.cluster.brokers:
        node = space.base.brokers.get(b.id)
        if b.id in space.broker_domain or node is None:
            continue
        for v in b.volumes:
            if v in space.volume_domain:
                yield v, node


def encode_cpsat(enc) -> None:
    scenario = enc.space.scenario
    for v, node in _fixed_hosts(enc):
        # where the replica under a broker that stays cannot stay (a node already over its storage),
        # the broker falls short: a degraded plan says so rather than no plan at all
        enc.add(ID, enc.vol(v, node) + enc.shortfall(ID, 1, f"host:{v}@{node}") >= 1)
    for bid, nodes in enc.space.broker_domain.items():
        b = scenario.cluster.broker[bid]
        if scenario.is_removed(bid):
            enc.add(ID, enc.runs(bid) == 0)
            continue
        short = enc.shortfall(ID, 1, str(bid))
        enc.add(ID, enc.runs(bid) + short == 1)
        for n in nodes:
            if not scenario.may_host_broker(b, n):
                enc.add(ID, enc.brk(bid, n) == 0)
            if scenario.hyperconverged:
                for v in b.volumes:
                    enc.add(ID, enc.brk(bid, n) <= enc.vol(v, n))


def encode_z3(enc) -> None:
    scenario = enc.space.scenario
    for v, node in _fixed_hosts(enc):
        enc.add(ID, f"(> {enc.vol(v, node)} 0)")
    for bid, nodes in enc.space.broker_domain.items():
        b = scenario.cluster.broker[bid]
        if scenario.is_removed(bid):
            enc.add(ID, f"(= {enc.runs(bid)} 0)")
            continue
        enc.add(ID, f"(= {enc.runs(bid)} 1)")
        for n in nodes:
            if not scenario.may_host_broker(b, n):
                enc.add(ID, f"(= {enc.brk(bid, n)} 0)")
            if scenario.hyperconverged:
                for v in b.volumes:
                    enc.add(ID, f"(or (= {enc.brk(bid, n)} 0) (> {enc.vol(v, n)} 0))")

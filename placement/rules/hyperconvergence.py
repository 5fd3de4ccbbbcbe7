"""I3 broker placement: every broker that is not retired runs, on an alive node
(never moved onto a cordoned one); with ``brokerPlacement: required`` that node
holds a replica of each of its volumes in the target (hyperconvergence).
A retired broker runs nowhere."""
from __future__ import annotations

from placement.models.plan import Placement, Violation
from placement.scenario import Scenario

ID = "I3"
TITLE = "broker placement (hyperconvergence)"


def _why_not_running(scenario: Scenario, broker, target: Placement) -> str:
    lost = [v for v in broker.volumes if not scenario.has_data(v)]
    if lost and scenario.hyperconverged:
        return f"its volume {lost[0]} lost every replica"
    if scenario.hyperconverged and broker.volumes:
        common = set.intersection(*(set(target.volumes.get(v, ())) for v in broker.volumes))
        hosts = sorted(n for n in common if scenario.may_host_broker(broker, n))
        if not hosts:
            return "no alive node holds a replica of each of its volumes"
        return f"the nodes holding its volumes ({', '.join(hosts)}) have no room for it"
    return "no alive node has room for it"


def check(scenario: Scenario, target: Placement) -> list[Violation]:
    out: list[Violation] = []
    for b in scenario.cluster.brokers:
        node = target.brokers.get(b.id)
        subject = f"broker {b.id}"
        if scenario.is_removed(b.id):
            if node is not None:
                out.append(Violation(ID, f"broker {b.id} is retired but still runs on {node}", subject))
            continue
        if node is None:
            out.append(Violation.measured(ID, f"broker {b.id} cannot run: {_why_not_running(scenario, b, target)}",
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

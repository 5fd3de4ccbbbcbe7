"""Each rule: satisfiable and unsatisfiable fixtures in pairs; the CP-SAT and Z3
encodings agree with the plain check on every fixture."""
from __future__ import annotations

import random
from dataclasses import replace
from functools import cache

import pytest

from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import PartitionTarget, Placement
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve.planner import plan_recovery
from tests.faces import verdicts
from tests.smallworld import random_scenario

SEED_FILE = "examples/seed.yaml"


def seed_doc() -> dict:
    import yaml

    with open(SEED_FILE) as f:
        return yaml.safe_load(f)


def scenario_of(doc: dict, fail=("node-2",)) -> Scenario:
    cluster = parse_cluster(doc, "fixture")
    return Scenario(cluster, resolve_failures(cluster, fail))


def good_target(scenario: Scenario) -> Placement:
    return plan_recovery(scenario.cluster, scenario.failures).placement


def with_volume(t: Placement, name: str, nodes) -> Placement:
    return replace(t, volumes={**t.volumes, name: tuple(nodes)})


def with_broker(t: Placement, bid: int, node) -> Placement:
    return replace(t, brokers={**t.brokers, bid: node})


def with_partition(t: Placement, pid: int, replicas, leader) -> Placement:
    key = ("orders", pid)
    return replace(t, partitions={**t.partitions, key: PartitionTarget("orders", pid, tuple(replicas), leader)})


def _seed_fixtures():
    doc = seed_doc()
    sc = scenario_of(doc)
    good = cache(lambda: good_target(sc))  # solved when a test first needs it, never at collection
    yield "good", lambda: (sc, good(), {})
    # I1
    yield "I1 two of three", lambda: (sc, with_volume(good(), "pvc-kafka-0", ["node-1", "node-3"]), {"I1": False, "I2": False})
    yield "I1 replica on failed node", lambda: (sc, with_volume(good(), "pvc-kafka-0", ["node-1", "node-2", "node-3"]), {"I1": False})
    yield "I1 four replicas", lambda: (sc, with_volume(good(), "pvc-kafka-0", ["node-1", "node-3", "node-4", "node-5"]), {"I1": False, "I2": True})
    yield "I1 volume missing", lambda: (sc, replace(good(), volumes={k: v for k, v in good().volumes.items() if k != "pvc-kafka-2"}), {"I1": False})
    cordoned = seed_doc()
    cordoned["nodes"][4]["state"] = "cordoned"  # node-5, zone-b
    sc_c = scenario_of(cordoned)
    yield "I1 new replica on cordoned node", lambda: (sc_c, good(), {"I1": False})
    # I2
    yield "I2 two replicas on one node", lambda: (sc, with_volume(good(), "pvc-kafka-0", ["node-1", "node-1", "node-5"]), {"I2": False, "I1": True})
    yield "I2 zones not covered", lambda: (sc, with_volume(good(), "pvc-kafka-0", ["node-1", "node-4", "node-3"]), {"I2": False, "I1": True})
    no_spread = seed_doc()
    no_spread["policy"]["zoneSpread"] = False
    sc_ns = scenario_of(no_spread)
    yield "I2 zones not needed", lambda: (sc_ns, with_volume(good(), "pvc-kafka-0", ["node-1", "node-4", "node-3"]), {"I2": True})
    # I3
    yield "I3 broker cannot run", lambda: (sc, with_broker(good(), 1, None), {"I3": False, "I6": False})
    yield "I3 broker away from its volume", lambda: (sc, with_broker(good(), 1, "node-2"), {"I3": False})
    moved = cache(lambda: with_volume(with_volume(good(), "pvc-kafka-1", ["node-1", "node-3", "node-5"]), "pvc-kafka-0", ["node-1", "node-3", "node-5"]))
    yield "I3 broker without replica", lambda: (sc, with_broker(moved(), 1, "node-4"), {"I3": False})
    preferred = seed_doc()
    preferred["policy"]["brokerPlacement"] = "preferred"
    yield "I3 preferred allows it", lambda: (scenario_of(preferred), with_broker(moved(), 1, "node-4"), {"I3": True})
    sc_c4 = scenario_of({**cordoned, "nodes": [dict(n, state="cordoned") if n["name"] == "node-4" else dict(n, state="ready") for n in cordoned["nodes"]]})
    yield "I3 broker onto cordoned node", lambda: (sc_c4, good(), {"I3": False})
    # I4
    yield "I4 two brokers on a node", lambda: (sc, with_broker(good(), 1, "node-3"), {"I4": False, "I3": True})
    two = seed_doc()
    two["policy"]["brokersPerNode"] = 2
    yield "I4 two allowed", lambda: (scenario_of(two), with_broker(good(), 1, "node-3"), {"I4": True})
    # I5
    tight = seed_doc()
    tight["nodes"][4]["storageGiB"] = 250  # node-5 would hold three 100 GiB replicas
    yield "I5 storage overfull", lambda: (scenario_of(tight), good(), {"I5": False})
    exact = seed_doc()
    exact["nodes"][4]["storageGiB"] = 300  # exactly three 100 GiB replicas
    yield "I5 exactly full", lambda: (scenario_of(exact), good(), {"I5": True})
    cpu = seed_doc()
    cpu["nodes"][3]["cpu"] = 1  # node-4 cannot run broker 1 (2 cores)
    yield "I5 cpu overfull", lambda: (scenario_of(cpu), good(), {"I5": False})
    mem = seed_doc()
    mem["nodes"][3]["memoryGiB"] = 4
    yield "I5 memory overfull", lambda: (scenario_of(mem), good(), {"I5": False})
    # I6
    yield "I6 duplicate broker", lambda: (sc, with_partition(good(), 0, [0, 0], 0), {"I6": False})
    yield "I6 replica lost", lambda: (sc, with_partition(good(), 0, [0], 0), {"I6": False})
    yield "I6 leader outside", lambda: (sc, with_partition(good(), 0, [0, 1], 2), {"I6": False})
    yield "I6 leader missing", lambda: (sc, with_partition(good(), 0, [0, 1], None), {"I6": False})
    yield "I6 replica moved() fine", lambda: (sc, with_partition(good(), 0, [0, 2], 0), {"I6": True})
    yield "I6 partition missing", lambda: (sc, replace(good(), partitions={k: v for k, v in good().partitions.items() if k != ("orders", 1)}), {"I6": False})
    rack = seed_doc()
    rack["policy"]["rackAware"] = "required"
    sc_r = scenario_of(rack)
    # brokers 0 (node-1) and 1 (node-4) are both in zone-a after the move
    yield "I6 rack required broken", lambda: (sc_r, good(), {"I6": False})
    yield "I6 rack required kept", lambda: (sc_r, with_partition(with_partition(good(), 0, [0, 2], 0), 1, [1, 2], 1), {"I6": True})
    # rack awareness required with RF 3 on 2 racks: "where zones allow" means 2 distinct racks
    two_racks = seed_doc()
    two_racks["policy"].update(rackAware="required", brokersPerNode=2)
    for node in two_racks["nodes"]:
        node["zone"] = "rack-1" if node["name"] in ("node-1", "node-2", "node-3") else "rack-2"
    two_racks["volumes"].append({"name": "pvc-kafka-3", "sizeGiB": 10, "replicas": ["node-4", "node-5", "node-1"]})
    two_racks["brokers"].append({"id": 3, "node": "node-4", "volumes": ["pvc-kafka-3"]})
    two_racks["topics"][0]["partitions"] = [{"id": 0, "replicas": [0, 1, 2]}]
    sc_2r = scenario_of(two_racks, fail=())
    current = Placement.current(sc_2r.cluster)  # brokers 0, 1, 2 all in rack-1, broker 3 in rack-2
    yield "I6 RF 3 on 2 racks, one used", lambda: (sc_2r, current, {"I6": False})
    spread = with_partition(current, 0, [0, 1, 3], 0)
    yield "I6 RF 3 on 2 racks, both used", lambda: (sc_2r, spread, {"I6": True})
    # I7
    yield "I7 nothing lost", lambda: (sc, good(), {"I7": True})
    sc_lost = scenario_of(seed_doc(), fail=("node-1", "node-2", "node-3"))
    lost_target = cache(lambda: plan_recovery(sc_lost.cluster, sc_lost.failures).placement)
    yield "I7 volume lost", lambda: (sc_lost, lost_target(), {"I7": False})
    yield "I7 lost volume restored", lambda: (sc_lost, with_volume(lost_target(), "pvc-kafka-0", ["node-4", "node-5"]), {"I7": False})


FIXTURES = dict(_seed_fixtures())  # name -> what builds (scenario, target, expected); nothing solved yet


@pytest.mark.parametrize("name", list(FIXTURES))
def test_fixture_faces_agree(name):
    scenario, target, expected = FIXTURES[name]()
    result = verdicts(scenario, target)
    for rule, (by_check, by_cp, by_z3) in result.items():
        assert by_check == by_cp == by_z3, f"{rule}: check {by_check}, CP-SAT {by_cp}, Z3 {by_z3}"
    for rule, ok in expected.items():
        assert result[rule][0] is ok, f"{name}: {rule} expected {'to hold' if ok else 'broken'}"
    if not expected:
        assert all(v[0] for v in result.values())


def test_every_rule_has_a_broken_and_a_holding_fixture():
    seen = {}
    for build in FIXTURES.values():
        expected = build()[2]
        for rule, ok in expected.items():
            seen.setdefault(rule, set()).add(ok)
    assert set(seen) == {f"I{i}" for i in range(1, 8)}
    assert all(v == {True, False} for v in seen.values()), seen


def _mutate(rng: random.Random, scenario: Scenario, t: Placement) -> Placement:
    cluster = scenario.cluster
    nodes = [n.name for n in cluster.nodes]
    kind = rng.randrange(6)
    if kind == 0 and t.volumes:
        v = rng.choice(sorted(t.volumes))
        return with_volume(t, v, list(t.volumes[v]) + [rng.choice(nodes)])
    if kind == 1 and t.volumes:
        v = rng.choice(sorted(t.volumes))
        return with_volume(t, v, list(t.volumes[v])[1:])
    if kind == 2 and t.brokers:
        b = rng.choice(sorted(t.brokers))
        return with_broker(t, b, rng.choice(nodes + [None]))
    if kind == 3 and t.partitions:
        key = rng.choice(sorted(t.partitions))
        brokers = sorted(cluster.broker)
        replicas = [rng.choice(brokers) for _ in range(rng.randint(1, 3))]
        return replace(t, partitions={**t.partitions, key: PartitionTarget(key[0], key[1], tuple(replicas), rng.choice(replicas + [None]))})
    if kind == 4 and t.volumes:
        v = rng.choice(sorted(t.volumes))
        return with_volume(t, v, rng.sample(nodes, min(len(nodes), cluster.volume[v].replication_factor)))
    return t


@pytest.mark.parametrize("seed", range(60))
def test_faces_agree_on_random_mutations(seed):
    scenario = random_scenario(seed)
    target = plan_recovery(scenario.cluster, scenario.failures).placement
    rng = random.Random(seed)
    for _ in range(3):
        target = _mutate(rng, scenario, target)
        for rule, (by_check, by_cp, by_z3) in verdicts(scenario, target).items():
            assert by_check == by_cp == by_z3, f"{rule}: check {by_check}, CP-SAT {by_cp}, Z3 {by_z3}"


def test_the_registry_lists_one_rule_module_per_invariant_in_a_file_named_after_it():
    from placement.rules import RULES, RuleModule

    assert [r.ID for r in RULES] == [f"I{i}" for i in range(1, 8)]
    assert all(isinstance(r, RuleModule) for r in RULES)
    names = [r.__name__.rsplit(".", 1)[1] for r in RULES]
    assert names == ["replication", "anti_affinity", "hyperconvergence", "broker_anti_affinity", "capacity", "kafka",
                     "no_invented_data"]


def test_both_encoders_satisfy_the_encoder_protocol_over_a_decision_space():
    from placement.rules import DecisionSpace, Encoder
    from placement.solve.cpsat import CpEncoding
    from placement.solve.smt import SmtEncoding
    from placement.solve.space import Space

    scenario = scenario_of(seed_doc())
    space = Space.for_planning(scenario)
    assert isinstance(space, DecisionSpace)
    for enc in (CpEncoding(space, relaxed=True), SmtEncoding(space)):
        assert isinstance(enc, Encoder), type(enc).__name__


# fixture -> (invariant, subject, current, needed) of a violation it must report: the figures are
# fields of the Violation (and of the plan document), compared as values, not read from the message
FIGURES = [
    ("I1 two of three", ("I1", "volume pvc-kafka-0", 2, 3)),
    ("I1 four replicas", ("I1", "volume pvc-kafka-0", 4, 3)),
    ("I2 two replicas on one node", ("I2", "volume pvc-kafka-0", 2, "<= 1")),
    ("I2 zones not covered", ("I2", "volume pvc-kafka-0", 2, 3)),
    ("I3 broker cannot run", ("I3", "broker 1", "not running", "running")),
    ("I4 two brokers on a node", ("I4", "node node-3", 2, "<= 1")),
    ("I5 storage overfull", ("I5", "node node-5", 300, "<= 250")),
    ("I5 cpu overfull", ("I5", "node node-4", 2, "<= 1")),
    ("I5 memory overfull", ("I5", "node node-4", 8, "<= 4")),
    ("I6 replica lost", ("I6", "partition orders-0", 1, 2)),
    ("I6 rack required broken", ("I6", "partition orders-0", 1, 2)),
    ("I7 volume lost", ("I7", "volume pvc-kafka-0", 0, 1)),
]


@pytest.mark.parametrize("name,figures", FIGURES, ids=[f[0] for f in FIGURES])
def test_violations_carry_current_and_needed_figures(name, figures):
    scenario, target, _ = FIXTURES[name]()
    found = {(v.invariant, v.subject, v.current, v.needed) for v in check_all(scenario, target)}
    assert figures in found, found
    invariant, subject, current, needed = figures
    v = next(v for v in check_all(scenario, target) if (v.invariant, v.subject) == (invariant, subject)
             and v.current == current)
    assert v.to_document() == {"invariant": invariant, "message": v.message, "subject": subject,
                               "current": current, "needed": needed}

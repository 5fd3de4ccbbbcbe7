"""Fast paths for large inputs and outputs (issue 14) keep the answers of the careful paths they
short-cut: the same partitions read, the same problems worded, the same JSON text written."""
from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from placement.models.documents import dump_json
from placement.models.loading import PARTITION_KEYS, _plain_partition, _read_partition, _Reader

BROKERS = {1, 2, 3, 4}

_broker = st.one_of(st.sampled_from([1, 2, 3, 4, 5, -1, 0]), st.just(True), st.just(2.0), st.just("1"),
                    st.just([1]), st.just(None))
_value = st.one_of(
    st.lists(_broker, max_size=5), st.integers(-3, 6), st.just(2**31), st.floats(allow_nan=True),
    st.just(True), st.just(None), st.just("x"), st.just({"a": 1}))
_partition = st.dictionaries(st.sampled_from(sorted(PARTITION_KEYS) + ["extra"]), _value, max_size=6)


@settings(max_examples=3000, deadline=None)
@given(_partition)
def test_plainly_valid_partitions_read_as_the_careful_reader_reads_them(raw):
    """Wherever the fast reader answers, the careful one reads the same partition with no problem;
    where it declines, the careful one decides (it is the only one that words problems)."""
    reader = _Reader("cluster.yaml")
    careful = _read_partition(reader, raw, "topics[0].partitions[0]", "t", BROKERS)
    fast = _plain_partition(raw, "t", BROKERS)
    if fast is not None:
        assert careful == fast and not reader.problems
        assert type(careful.size_gib) is type(fast.size_gib)
        assert vars(careful) == vars(fast) and hash(careful) == hash(fast)


def test_the_fast_partition_constructor_sets_exactly_the_dataclass_fields():
    """``_new_partition`` fills the instance's dictionary: it is right only while Partition has
    exactly these fields and nothing runs after ``__init__``."""
    from dataclasses import fields

    from placement.models.cluster import Partition
    from placement.models.loading import _new_partition

    assert tuple(f.name for f in fields(Partition)) == ("topic", "id", "replicas", "leader", "isr", "size_mib",
                                                         "size_gib")
    assert not hasattr(Partition, "__post_init__")
    made = _new_partition("t", 3, (1, 2), 2, (2,), 1536, 1.5)
    built = Partition("t", 3, (1, 2), 2, (2,), 1536, 1.5)
    assert made == built and hash(made) == hash(built) and made.label == "t-3"
    assert made.key == built.key == ("t", 3)
    assert vars(made) == vars(built)  # key filled in advance is what the cached_property stores on first use


def test_the_fast_reader_takes_the_usual_partitions():
    usual = [{"id": 0, "replicas": [1, 2, 3], "leader": 2, "isr": [2, 1]},
             {"id": 7, "replicas": [4], "sizeGiB": 1.5},
             {"id": 1, "replicas": [1, 2], "leader": -1, "isr": []}]
    for raw in usual:
        fast = _plain_partition(raw, "t", BROKERS)
        assert fast is not None
        assert fast == _read_partition(_Reader("f"), raw, "p", "t", BROKERS)
    assert _plain_partition({"id": 0, "replicas": [1, 9]}, "t", BROKERS) is None  # broker 9 undeclared
    assert _plain_partition({"id": 0, "replicas": [1, 1]}, "t", BROKERS) is None
    assert _plain_partition({"id": 0, "replicas": [1], "leader": 2}, "t", BROKERS) is None


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none(),
                                                      st.floats(allow_nan=False, allow_infinity=False)),
                                            inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=1500, deadline=None)
@given(_json)
def test_dump_json_writes_exactly_what_json_dumps_writes(data):
    assert dump_json(data) == json.dumps(data, indent=2, allow_nan=False) + "\n"


_record_value = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4),
                         st.floats(allow_nan=False, allow_infinity=False), st.lists(st.integers(), max_size=4),
                         st.lists(st.one_of(st.integers(), st.booleans(), st.none()), max_size=3),
                         st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
_records = st.lists(st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), _record_value, max_size=5),
                    min_size=1, max_size=6)


@settings(max_examples=1500, deadline=None)
@given(_records, st.integers(0, 3))
def test_dump_json_writes_lists_of_records_as_json_dumps_does(records, depth):
    """The record path (a list of non-empty mappings, inline replica lists and nulls): as json.dumps."""
    data: object = records
    for _ in range(depth):
        data = {"placement": data}
    assert dump_json(data) == json.dumps(data, indent=2, allow_nan=False) + "\n"


def test_dump_json_leaves_the_unusual_to_json_dumps():
    import pytest
    from placement.models.errors import InternalError

    for bad in ({"a": math.nan}, [math.inf], {"k": [1, {"x": -math.inf}]}):
        with pytest.raises(InternalError, match="not a finite number"):
            dump_json(bad)
    loop: list = []
    loop.append(loop)
    with pytest.raises(InternalError):
        dump_json(loop)

    class Count(int):
        pass

    assert dump_json({"n": Count(3), "m": [Count(4)]}) == json.dumps({"n": 3, "m": [4]}, indent=2) + "\n"


# -- Z3's ground verification writes each partition pattern once ----------------------------------

from dataclasses import replace  # noqa: E402
from functools import cache  # noqa: E402

import pytest  # noqa: E402

from placement.models.cluster import RackAware  # noqa: E402
from placement.models.failures import resolve_failures  # noqa: E402
from placement.models.generate import generate_cluster  # noqa: E402
from placement.models.plan import PartitionTarget, Placement  # noqa: E402
from placement.rules import check_all  # noqa: E402
from placement.scenario import Scenario  # noqa: E402
from placement.solve.planner import plan_recovery  # noqa: E402
from placement.solve.verify import z3_broken_rules  # noqa: E402


@cache
def _many_alike():
    """600 partitions over 9 brokers in 3 racks (rackAware required): most share a pattern, so
    a broken one hides among hundreds alike. Broker 0's node fails; the plan is valid."""
    cluster = generate_cluster(nodes=30, zones=3, brokers=9, volumes=90, partitions=600, seed=2,
                               partitions_per_topic=100)
    cluster = replace(cluster, policy=replace(cluster.policy, rack_aware=RackAware.REQUIRED))
    scenario = Scenario(cluster, resolve_failures(cluster, [cluster.broker[0].node]))
    return scenario, plan_recovery(cluster, scenario.failures).placement


def _with(target: Placement, key, replicas, leader) -> Placement:
    return replace(target, partitions={**target.partitions, key: PartitionTarget(key[0], key[1], tuple(replicas), leader)})


def _broken(name: str):
    scenario, good = _many_alike()
    cluster = scenario.cluster
    keys = sorted(good.partitions)
    key = keys[len(keys) // 2]
    t = good.partitions[key]
    zone = {b: cluster.node[n].zone for b, n in good.brokers.items() if n is not None}
    if name == "replica on a broker that does not run":  # broker 8 stopped, its partitions left on it
        return replace(good, brokers={**good.brokers, 8: None})
    if name == "duplicate replicas":
        return _with(good, key, (t.replicas[0], t.replicas[0], t.replicas[1]), t.replicas[0])
    if name == "leader not a replica":
        other = next(b for b in sorted(zone) if b not in t.replicas)
        return _with(good, key, t.replicas, other)
    if name == "no leader":
        return _with(good, key, t.replicas, None)
    if name == "too few replicas":
        return _with(good, key, t.replicas[:2], t.replicas[0])
    if name == "two replicas in one rack":
        same = next(b for b in sorted(zone) if b != t.replicas[0] and zone[b] == zone[t.replicas[0]])
        return _with(good, key, (t.replicas[0], same, t.replicas[2]), t.replicas[0])
    if name == "partition missing":
        return replace(good, partitions={k: v for k, v in good.partitions.items() if k != key})
    raise AssertionError(name)


BROKEN = ["replica on a broker that does not run", "duplicate replicas", "leader not a replica", "no leader",
          "too few replicas", "two replicas in one rack", "partition missing"]


def test_the_valid_plan_among_many_alike_partitions_verifies():
    scenario, good = _many_alike()
    assert not check_all(scenario, good)
    assert z3_broken_rules(scenario, good) == set()


@pytest.mark.parametrize("name", BROKEN)
def test_z3_finds_one_broken_partition_among_hundreds_alike(name):
    scenario, _ = _many_alike()
    target = _broken(name)
    by_check = {v.invariant for v in check_all(scenario, target)}
    assert "I6" in by_check, name
    assert z3_broken_rules(scenario, target) == by_check


@pytest.mark.parametrize("seed", range(40))
def test_ground_verification_agrees_with_the_symbolic_encoding_on_random_mutations(seed):
    """Differential: the ground verifier (patterns written once) against Z3 on the full symbolic
    encoding pinned to the same target (every partition written out), on broken targets."""
    import random

    from tests.faces import verdicts
    from tests.smallworld import random_scenario
    from tests.test_rules import _mutate

    scenario = random_scenario(seed, kafka_heavy=True)
    target = plan_recovery(scenario.cluster, scenario.failures).placement
    rng = random.Random(seed)
    for _ in range(3):
        target = _mutate(rng, scenario, target)
        by_symbolic = {rule for rule, (_, _, z3_holds) in verdicts(scenario, target).items() if not z3_holds}
        assert z3_broken_rules(scenario, target) == by_symbolic


# -- the Kafka check's and the metrics' passes over every partition -------------------------------

def _plainly_valid_before(replicas, leader, rf, running: dict, sources) -> bool:
    """The Kafka check's shortcut as it was, a generator per partition (kept verbatim to compare)."""
    return (len(replicas) == rf and leader in sources and leader in replicas
            and all(b in running for b in replicas) and len(set(replicas)) == rf)


_ids = st.integers(0, 5)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_ids, max_size=5), st.one_of(st.none(), _ids), st.integers(0, 5),
       st.dictionaries(_ids, st.just("node")), st.lists(_ids, max_size=4).map(tuple))
def test_the_kafka_shortcut_answers_as_before(replicas, leader, rf, running, sources):
    from placement.rules.kafka import _plainly_valid

    replicas = tuple(replicas)
    assert _plainly_valid(replicas, leader, rf, set(running), sources) == \
        _plainly_valid_before(replicas, leader, rf, running, sources)


def test_plan_metrics_count_under_min_isr_as_before():
    """plan_metrics' ISR counts (map and set) against the generator sums they replaced, on a
    failure that leaves partitions short before and after, with a target that drops replicas."""
    from placement.solve.metrics import plan_metrics

    cluster = _many_alike()[0].cluster
    scenario = Scenario(cluster, resolve_failures(cluster, sorted({cluster.broker[0].node, cluster.broker[1].node})))
    placement = Placement.current(cluster)
    lost = sorted(placement.partitions)[::7]
    target = replace(placement, partitions={
        **placement.partitions,
        **{k: PartitionTarget(k[0], k[1], placement.partitions[k].replicas[:1], placement.partitions[k].leader)
           for k in lost}})
    del target.partitions[lost[-1]]  # a partition missing from the target is under min ISR after
    alive = {b.id for b in cluster.brokers if scenario.is_alive(b.node) and not scenario.is_removed(b.id)}
    running = {b for b, n in target.brokers.items() if n is not None}
    before, after = [], []
    for p in cluster.partitions:
        need = cluster.min_insync(p)
        if sum(1 for b in p.isr if b in alive) < need:
            before.append(p.label)
        t = target.partitions.get(p.key)
        if t is None or sum(1 for b in set(t.replicas) if b in running) < need:
            after.append(p.label)
    metrics = plan_metrics(scenario, target)
    assert before and after and len(after) >= len(lost)
    assert metrics["underMinIsrBefore"] == before and metrics["underMinIsrAfter"] == after


def test_json_objects_are_read_in_order_and_a_duplicate_key_is_named():
    """``_json_object`` builds each object in one call and names the first key seen twice, as the
    former loop did."""
    from placement.models.documents import parse_text
    from placement.models.errors import InputError

    data = parse_text('{"b": 1, "a": {"y": [1, {"q": null}], "x": 2}}', "c.json")
    assert data == {"b": 1, "a": {"y": [1, {"q": None}], "x": 2}}
    assert list(data) == ["b", "a"] and list(data["a"]) == ["y", "x"]
    for text, named in (('{"a": 1, "b": {"c": 1, "d": 2, "d": 3, "c": 4}}', "'d'"),
                        ('[{"k": 1, "k": 1}]', "'k'"), ('{"z": 1, "y": 2, "z": 3, "y": 4}', "'z'")):
        with pytest.raises(InputError, match=f"duplicate key {named}"):
            parse_text(text, "c.json")


def test_the_checker_names_a_partition_the_steps_do_not_bring_to_its_target():
    """_reaches_target's partition pass (tuples compared first, lists made only to word a miss): a
    target the steps reach is reached whether its replicas are tuples or lists; one partition
    rewritten behind the steps' back is named with where it ends and what the target says."""
    from placement.execute.checker import check_execution

    scenario, placement = _many_alike()
    plan = plan_recovery(scenario.cluster, scenario.failures)
    assert check_execution(scenario, plan.steps, plan.placement).safe
    as_lists = replace(plan.placement, partitions={k: PartitionTarget(k[0], k[1], list(t.replicas), t.leader)
                                                   for k, t in plan.placement.partitions.items()})
    assert check_execution(scenario, plan.steps, as_lists).safe
    moved = {(e["topic"], e["partition"]) for s in plan.steps if s.action == "reassign-partitions"
             for e in s.args["partitions"]}
    key = next(k for k in sorted(plan.placement.partitions) if k not in moved)
    t = plan.placement.partitions[key]
    other = (t.replicas[1], t.replicas[0]) + tuple(t.replicas[2:])
    verdict = check_execution(scenario, plan.steps, _with(plan.placement, key, other, t.leader))
    label = f"{key[0]}-{key[1]}"
    assert not verdict.safe
    assert any(c.message == f"partition {label} ends on brokers {list(t.replicas)}, the target says {list(other)}"
               for c in verdict.counterexamples)


def test_the_fast_target_constructor_sets_exactly_the_dataclass_fields():
    """``_new_target`` (Placement.current's 150,000 partition targets) fills the instance's
    dictionary: right only while PartitionTarget has exactly these fields and no ``__post_init__``."""
    from dataclasses import fields

    from placement.models.plan import _new_target

    assert tuple(f.name for f in fields(PartitionTarget)) == ("topic", "partition", "replicas", "leader")
    assert not hasattr(PartitionTarget, "__post_init__")
    for args in (("t", 3, (1, 2), 2), ("t", 0, (4,), None)):
        made, built = _new_target(*args), PartitionTarget(*args)
        assert made == built and hash(made) == hash(built) and vars(made) == vars(built) and made.key == built.key
    cluster = _many_alike()[0].cluster
    assert Placement.current(cluster).partitions == {
        p.key: PartitionTarget(p.topic, p.id, p.replicas, p.leader) for p in cluster.partitions}


def test_the_step_builder_lists_the_partitions_the_former_comprehensions_listed():
    """_Builder.partitions reads each target once: the reassignment and the election list the
    partitions, replicas and leaders the two former comprehensions (kept here) listed."""
    from placement.execute.steps import build_steps

    scenario, placement = _many_alike()
    keys = sorted(placement.partitions)
    target = placement
    for i, key in enumerate(keys[::9]):
        t = target.partitions[key]
        if i % 3 == 0:
            target = _with(target, key, (t.replicas[1], t.replicas[0]) + tuple(t.replicas[2:]), t.leader)
        elif i % 3 == 1:
            target = _with(target, key, t.replicas, t.replicas[-1])
        else:
            target = _with(target, key, t.replicas, None)
    cluster = scenario.cluster
    reassigned = [{"topic": p.topic, "partition": p.id, "replicas": list(target.partitions[p.key].replicas)}
                  for p in cluster.partitions
                  if p.key in target.partitions and target.partitions[p.key].replicas
                  and tuple(target.partitions[p.key].replicas) != p.replicas]
    elected = [{"topic": p.topic, "partition": p.id, "leader": target.partitions[p.key].leader}
               for p in cluster.partitions
               if p.key in target.partitions and target.partitions[p.key].leader not in (None, p.leader)]
    steps = build_steps(scenario, target)
    by_action = {s.action: s.args["partitions"] for s in steps if s.action in ("reassign-partitions", "elect-leaders")}
    assert reassigned and elected
    assert by_action == {"reassign-partitions": reassigned, "elect-leaders": elected}


@pytest.mark.parametrize("name", [None] + BROKEN)
def test_the_kafka_check_with_racks_required_says_what_the_full_walk_says(name, monkeypatch):
    """With rackAware required the Kafka check skips a partition whose replicas run in enough
    zones (its shortcut, as without racks): the same violations, in the same order, as the
    walk that words every partition, on the valid plan and on each broken one."""
    from placement.rules import kafka

    scenario, good = _many_alike()
    target = good if name is None else _broken(name)
    fast = kafka.check(scenario, target)
    monkeypatch.setattr(kafka, "_plainly_valid", lambda *args: False)
    assert fast == kafka.check(scenario, target)
    assert bool(fast) == (name is not None)


@pytest.mark.parametrize("seed", range(30))
def test_the_kafka_check_with_racks_required_agrees_on_random_mutations(seed, monkeypatch):
    import random

    from placement.rules import kafka
    from tests.smallworld import random_scenario
    from tests.test_rules import _mutate

    base = random_scenario(seed, kafka_heavy=True)
    cluster = replace(base.cluster, policy=replace(base.cluster.policy, rack_aware=RackAware.REQUIRED))
    scenario = Scenario(cluster, base.failures)
    target = Placement.current(cluster)
    rng = random.Random(seed)
    for _ in range(4):
        target = _mutate(rng, scenario, target)
        fast = kafka.check(scenario, target)
        with monkeypatch.context() as patched:
            patched.setattr(kafka, "_plainly_valid", lambda *args: False)
            assert fast == kafka.check(scenario, target)


def _around_before(scenario, target):
    """Space.around's partition domains and multiplicity as they were (every domain sorted)."""
    from placement.solve.space import _most

    cluster = scenario.cluster
    domains = {}
    for p in cluster.partitions:
        chosen = target.partitions.get(p.key)
        if chosen is None or chosen.replicas == p.replicas:
            domains[p.key] = tuple(sorted(set(p.replicas)))
        else:
            domains[p.key] = tuple(sorted(set(p.replicas).union(chosen.replicas)))
    multiplicity = max([1] + [_most(t) for t in target.volumes.values()]
                       + [_most(t.replicas) for t in target.partitions.values()])
    return domains, multiplicity


@pytest.mark.parametrize("seed", range(30))
def test_space_around_has_the_domains_and_multiplicity_it_had(seed):
    """The same candidate brokers per partition (a kept partition's as the cluster lists them) and
    the same multiplicity, on random targets -- also for a cluster built in code whose partitions
    list a broker twice, where every domain is sorted and made distinct as before."""
    import random

    from placement.models.cluster import Partition
    from placement.solve.space import Space
    from tests.smallworld import random_scenario
    from tests.test_rules import _mutate

    scenario = random_scenario(seed, kafka_heavy=True)
    if seed % 3 == 0 and scenario.cluster.partitions:  # a partition listing a broker twice
        cluster = scenario.cluster
        topic = cluster.topics[0]
        p = topic.partitions[0]
        doubled = Partition(p.topic, p.id, p.replicas + p.replicas[:1], p.leader, p.isr, p.size_mib, p.size_gib)
        cluster = replace(cluster, topics=(replace(topic, partitions=(doubled,) + topic.partitions[1:]),)
                          + cluster.topics[1:])
        scenario = Scenario(cluster, scenario.failures)
    target = Placement.current(scenario.cluster)
    rng = random.Random(seed)
    for _ in range(5):
        target = _mutate(rng, scenario, target)
        space = Space.around(scenario, target)
        domains, multiplicity = _around_before(scenario, target)
        assert space.max_multiplicity == multiplicity
        assert {k: tuple(sorted(v)) for k, v in space.partition_domain.items()} == domains
        assert all(len(set(v)) == len(v) for v in space.partition_domain.values())


# -- the Kafka rule's ground Z3 encoding: one partition written per pattern -------------------------

def _ground_facts_before(enc, broker_zones):
    """The pattern key as it was, each broker's ``runs`` and zone terms in every key (kept verbatim to compare)."""
    values = enc.values
    scenario = enc.space.scenario
    placed = values.brokers
    zone_terms = {b: tuple((zone, tuple(terms)) for zone, terms in by_zone.items()) for b, by_zone in broker_zones.items()}
    chosen_of, placed_at, zone_terms_of, sources_of = values.partitions.get, placed.get, zone_terms.get, scenario.sources

    def facts(p, brokers):
        chosen = chosen_of(p.key)
        replicas, leader = (chosen.replicas, chosen.leader) if chosen is not None else ((), None)
        sources = sources_of(p)
        return (len(p.replicas), scenario.racks_needed(p) if zone_terms else 0,
                tuple([(replicas.count(b), placed_at(b) is None, leader == b, b in sources, zone_terms_of(b))
                       for b in brokers]))
    return facts


def _ground_kafka(scenario, target, facts=None):
    """(I6's distinct ground constraints in the order written, the partitions written), with the
    pattern key ``facts(enc, broker_zones)`` in place of the rule's own where given."""
    from unittest import mock

    from placement.rules import kafka
    from placement.solve.smt import SmtEncoding
    from placement.solve.space import Space

    enc = SmtEncoding(Space.around(scenario, target), values=target)
    written = []
    real_part = enc.part

    def part(key, broker):
        if not written or written[-1] != key:
            written.append(key)
        return real_part(key, broker)

    enc.part = part
    with mock.patch.object(kafka, "_ground_facts", facts or kafka._ground_facts):
        kafka.encode_z3(enc)
    return list(enc.by_rule.get("I6", {})), written


def _every_partition(enc, broker_zones):
    return lambda p, brokers: p.key  # a pattern of its own: every partition written out


def _same_patterns(scenario, target):
    constraints, written = _ground_kafka(scenario, target)
    before = _ground_kafka(scenario, target, _ground_facts_before)
    every, all_keys = _ground_kafka(scenario, target, _every_partition)
    assert (constraints, written) == before  # the same partitions written, in the same order
    assert constraints == every  # what every partition written out says, in the same order
    return written, all_keys


@pytest.mark.parametrize("name", [None] + BROKEN)
def test_the_kafka_ground_encoding_writes_one_partition_per_pattern_as_before(name):
    """Differential: the pattern key (a number per broker for its ``runs`` and zone terms) groups
    the partitions exactly as the key with those facts written out did, and the constraints are
    exactly those of every partition written out, on the valid plan among many alike partitions
    (rackAware required, then off) and on each broken one."""
    scenario, good = _many_alike()
    target = good if name is None else _broken(name)
    written, all_keys = _same_patterns(scenario, target)
    assert len(written) < len(all_keys) // 10  # a few patterns stand for hundreds of partitions
    cluster = scenario.cluster  # without racks: no zone terms, a broker's number is whether it runs
    unracked = Scenario(replace(cluster, policy=replace(cluster.policy, rack_aware=RackAware.OFF)), scenario.failures)
    written, all_keys = _same_patterns(unracked, target)
    assert len(written) < len(all_keys) // 10


@pytest.mark.parametrize("seed", range(30))
def test_the_kafka_ground_encoding_agrees_on_random_mutations(seed):
    """The same on random clusters and broken targets, with racks required on odd seeds."""
    import random

    from tests.smallworld import random_scenario
    from tests.test_rules import _mutate

    base = random_scenario(seed, kafka_heavy=True)
    scenario = base
    if seed % 2:
        cluster = replace(base.cluster, policy=replace(base.cluster.policy, rack_aware=RackAware.REQUIRED))
        scenario = Scenario(cluster, base.failures)
    target = plan_recovery(scenario.cluster, scenario.failures).placement
    rng = random.Random(seed)
    _same_patterns(scenario, target)
    for _ in range(4):
        target = _mutate(rng, scenario, target)
        _same_patterns(scenario, target)

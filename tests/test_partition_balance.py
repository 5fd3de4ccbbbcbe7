"""The partitions stage's evened start (``placement.solve.partition_balance``) against exhaustive
brute force on small worlds.

Each world: brokers in two to four zones, some of them not running after the storage stage and
some moved to another zone (so partitions both refill vacated replicas and make rack moves),
partitions of RF 2-3 with random in-sync replicas and sizes (zero too), racks required,
preferred or off. The brute force walks every target of the stage's space (each decided
partition: any set of its candidate brokers holding its fixed replicas) and scores each with
its own arithmetic: the plain checks (``check_all``, leaders elected) for the invariants, then
the data copied, the zones covered (racks preferred), and the sum over balance groups of most -
fewest replicas per broker. It shares nothing with the flow but the space.

- ``even_out`` keeps every level above balance as the start has it, never raises balance, and
  reaches the least balance of every target that differs from the start class by class (the
  exchanges, enumerated);
- wherever ``choices_forced`` says so, the evened start is the lexicographic optimum of every
  target of the space (so the planner's "proven" holds);
- the classes read from ``Space.for_partitions``' shape equal those read by walking the domain;
- the planner's partitions stage, when it calls a level proven, has its optimum.
"""
from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from itertools import combinations, product
from types import SimpleNamespace

import pytest

from placement.models.failures import resolve_failures
from placement.models.loading import parse_cluster
from placement.models.plan import PartitionTarget, Placement
from placement.rules import check_all
from placement.scenario import Scenario
from placement.solve import planner
from placement.solve.greedy import fill_partitions
from placement.solve.leaders import elect_leaders
from placement.solve.partition_balance import choices_forced, even_out, partition_classes, unforced
from placement.solve.planner import PlanOptions
from placement.solve.space import Space

LIMIT = 20_000  # targets the brute force walks per world


def world(seed: int) -> tuple[Scenario, Placement]:
    """(scenario, the storage stage's answer) of a small random world (module docstring)."""
    rng = random.Random(seed)
    zones = [f"zone-{z}" for z in "abcd"[: rng.randint(2, 4)]]
    n_nodes = rng.randint(4, 7)
    nodes = [{"name": f"n{i}", "zone": zones[i % len(zones)], "storageGiB": 100} for i in range(n_nodes)]
    brokers = [{"id": i, "node": f"n{i}", "volumes": []} for i in range(n_nodes)]
    partitions = []
    for k in range(rng.randint(2, 4)):
        rf = rng.choice([2, 3]) if n_nodes >= 3 else 2
        replicas = rng.sample(range(n_nodes), rf)
        isr = replicas if rng.random() < 0.7 else sorted(rng.sample(replicas, rng.randint(1, rf)))
        partitions.append({"name": f"t{k}", "partitions": [{"id": 0, "replicas": replicas, "isr": isr,
                                                            "sizeGiB": rng.choice([0, 1, 1, 2, 5])}]})
    doc = {"name": f"balance-{seed}", "nodes": nodes, "brokers": brokers,
           "policy": {"brokerPlacement": "preferred", "brokersPerNode": 8,
                      "rackAware": rng.choice(["required", "required", "preferred", "off"])},
           "volumes": [], "topics": partitions}
    cluster = parse_cluster(doc, f"balance-{seed}")
    failed = rng.sample([n["name"] for n in nodes], rng.randint(1, 2))
    scenario = Scenario(cluster, resolve_failures(cluster, failed))
    placed = {}
    alive = [n["name"] for n in nodes if n["name"] not in failed]
    for b in cluster.brokers:
        if b.node in failed:
            # the storage stage left it not running, or ran it elsewhere (often another zone)
            placed[b.id] = None if rng.random() < 0.4 else rng.choice(alive)
        else:
            placed[b.id] = b.node
    current = Placement.current(cluster)
    return scenario, Placement(brokers=placed, volumes=current.volumes, partitions=current.partitions)


def _zone_of(space: Space) -> dict[int, str]:
    cluster = space.scenario.cluster
    return {b: cluster.node[n].zone for b, n in space.base.brokers.items() if n is not None}


def _targets(space: Space):
    """Every target of the space: each decided partition any candidate set holding its fixed ones."""
    cluster = space.scenario.cluster
    keys = sorted(space.partition_domain)
    options = []
    for key in keys:
        p = cluster.partition[key]
        fixed = space.fixed_members.get(key, ())
        free = [b for b in space.partition_domain[key] if b not in fixed]
        options.append([tuple(fixed) + c for k in range(len(p.replicas) - len(fixed) + 1)
                        for c in combinations(free, k)])
    for sets in product(*options):
        partitions = dict(space.base.partitions)
        for key, chosen in zip(keys, sets):
            p = cluster.partition[key]
            partitions[key] = PartitionTarget(p.topic, p.id, chosen or p.replicas, None)
        yield Placement(brokers=space.base.brokers, volumes=space.base.volumes, partitions=partitions)


def _size(space: Space) -> int:
    cluster = space.scenario.cluster
    size = 1
    for key, domain in space.partition_domain.items():
        fixed = space.fixed_members.get(key, ())
        free = len(domain) - len(fixed)
        size *= sum(len(list(combinations(range(free), k)))
                    for k in range(len(cluster.partition[key].replicas) - len(fixed) + 1))
    return size


def _levels(space: Space, target: Placement) -> tuple:
    """(violations, copied MiB, -zones covered by decided partitions if racks preferred, balance),
    by the brute force's own arithmetic (the plain checks for the first)."""
    scenario = space.scenario
    cluster = scenario.cluster
    zone_of = _zone_of(space)
    broken = len(check_all(scenario, elect_leaders(scenario, target, even_out=False)))
    copied = covered = 0
    for key in space.partition_domain:
        p = cluster.partition[key]
        chosen = target.partitions[key].replicas
        copied += p.size_mib * sum(1 for b in chosen if b not in p.replicas)
        covered += len({zone_of[b] for b in chosen if b in zone_of})
    return broken, copied, -covered if scenario.rack_preferred else 0, _balance(space, target)


def _balance(space: Space, target: Placement) -> int:
    """Sum over groups (racks where racks matter, else one) that some decided partition may add a
    replica to, of most - fewest replicas per running broker."""
    scenario = space.scenario
    cluster = scenario.cluster
    zone_of = _zone_of(space)
    by_rack = scenario.rack_required or scenario.rack_preferred
    load = Counter({b: 0 for b in zone_of})
    for t in target.partitions.values():
        for b in t.replicas:
            if b in zone_of:
                load[b] += 1
    receivers = {b for key, domain in space.partition_domain.items() for b in domain
                 if b not in space.fixed_members.get(key, ())}
    groups = defaultdict(list)
    for b in zone_of:
        groups[zone_of[b] if by_rack else ""].append(b)
    return sum(max(load[b] for b in members) - min(load[b] for b in members)
               for members in groups.values() if any(b in receivers for b in members))


def _exchanges(space: Space, start: Placement):
    """Every target of the space whose decided partitions pick, class by class, as many brokers as
    the start (same zone where racks matter, same old/new, same in-sync or not)."""
    scenario = space.scenario
    cluster = scenario.cluster
    zone_of = _zone_of(space)
    by_rack = scenario.rack_required or scenario.rack_preferred

    def cls(p, b):
        return (zone_of[b] if by_rack else "", b in p.replicas, b in scenario.sources(p))

    keys = sorted(space.partition_domain)
    options = []
    for key in keys:
        p = cluster.partition[key]
        fixed = space.fixed_members.get(key, ())
        free = [b for b in space.partition_domain[key] if b not in fixed]
        want = Counter(cls(p, b) for b in start.partitions[key].replicas if b in free)
        if not want:  # nothing chosen among the candidates (an offline partition keeps its list)
            options.append([start.partitions[key].replicas])
            continue
        picks = [c for c in combinations(free, sum(want.values())) if Counter(cls(p, b) for b in c) == want]
        options.append([tuple(fixed) + c for c in picks])
    for sets in product(*options):
        partitions = dict(space.base.partitions)
        for key, chosen in zip(keys, sets):
            p = cluster.partition[key]
            partitions[key] = PartitionTarget(p.topic, p.id, chosen, None)
        yield Placement(brokers=space.base.brokers, volumes=space.base.volumes, partitions=partitions)


def _cases() -> list[int]:
    out = []
    for seed in range(400):
        scenario, stage = world(seed)
        space = Space.for_partitions(scenario, stage)
        if space.partition_domain and _size(space) <= LIMIT:
            out.append(seed)
    return out


CASES = _cases()


def test_the_worlds_cover_what_the_flow_must_handle():
    """Enough worlds, with rack moves, refills, zone choices, sizes 0, each racks policy, and
    both answers of ``choices_forced``."""
    assert len(CASES) >= 150, len(CASES)
    kinds = Counter()
    for seed in CASES:
        scenario, stage = world(seed)
        space = Space.for_partitions(scenario, stage)
        start = fill_partitions(space)
        kinds[scenario.cluster.policy.rack_aware.value] += 1
        kinds["forced" if choices_forced(space, even_out(space, start)) else "free"] += 1
        shuffled = _shuffled(space, start, seed)
        kinds["lowered"] += _balance(space, even_out(space, shuffled)) < _balance(space, shuffled)
        for key in space.partition_domain:
            running = [b for b in scenario.cluster.partition[key].replicas if stage.brokers.get(b)]
            kinds["rack move" if len(space.fixed_members[key]) < len(running) else "refill"] += 1
    assert min(kinds["required"], kinds["preferred"], kinds["off"]) >= 20, kinds
    assert min(kinds["forced"], kinds["free"], kinds["rack move"], kinds["lowered"]) >= 10, kinds


def _shuffled(space: Space, start: Placement, seed: int) -> Placement:
    """A random one of the start's exchanges (a start the flow has more to do on)."""
    rng = random.Random(seed)
    exchanges = list(_exchanges(space, start))
    return exchanges[rng.randrange(len(exchanges))]


@pytest.mark.parametrize("seed", CASES)
def test_even_out_reaches_the_least_balance_of_the_exchanges_and_keeps_the_levels_above(seed):
    scenario, stage = world(seed)
    space = Space.for_partitions(scenario, stage)
    for start in (fill_partitions(space), _shuffled(space, fill_partitions(space), seed)):
        evened = even_out(space, start)
        before, after = _levels(space, start), _levels(space, evened)
        assert after[:3] == before[:3]
        assert after[3] <= before[3]
        assert after[3] == min(_balance(space, t) for t in _exchanges(space, start))
        # only the decided partitions change, each a set of distinct brokers
        for key, t in evened.partitions.items():
            if key not in space.partition_domain:
                assert t is start.partitions[key]
            else:
                assert len(set(t.replicas)) == len(t.replicas)


@pytest.mark.parametrize("seed", CASES)
def test_forced_choices_mean_the_evened_start_is_the_optimum_of_the_space(seed):
    scenario, stage = world(seed)
    space = Space.for_partitions(scenario, stage)
    evened = even_out(space, fill_partitions(space))
    best = min(_levels(space, t) for t in _targets(space))
    if choices_forced(space, evened):  # (the worlds include enough of both answers: the first test)
        assert best == _levels(space, evened)


@pytest.mark.parametrize("seed", CASES)
def test_the_classes_read_from_the_space_s_shape_are_those_of_its_domain(seed):
    scenario, stage = world(seed)
    space = Space.for_partitions(scenario, stage)
    start = fill_partitions(space)

    def read(walk: bool):
        return {key: {cls: (c.count, sorted(c.picked), sorted(c.candidates(_by_zone(space))))
                      for cls, c in classes.items()}
                for key, classes in partition_classes(space, start, walk=walk)}
    assert read(False) == read(True)


def _by_zone(space: Space) -> dict[str, list[int]]:
    by_zone = defaultdict(list)
    for b, z in sorted(_zone_of(space).items()):
        by_zone[z].append(b)
    return by_zone


@pytest.mark.parametrize("seed", CASES[::4])
def test_the_partitions_stage_proves_only_the_optimum(seed):
    """The planner's partitions stage on the same space: every level it calls proven has the brute
    force's optimum (given the levels above)."""
    scenario, stage = world(seed)
    space = Space.for_partitions(scenario, stage)
    best = min(_levels(space, t) for t in _targets(space))
    outcome = planner._solve_partitions(scenario, stage, PlanOptions(time_limit=5, verify_with_z3=False),
                                        time.monotonic())
    mine = _levels(space, outcome.placement)
    named = {"invariants": 0, "copied": 1, "racks": 2, "balance": 3}
    for level in outcome.levels:
        if level.proven and best[0] == 0:
            assert mine[named[level.name]] == best[named[level.name]], (level.name, mine, best)
        else:
            break
    if best[0] == 0:
        assert mine[0] == 0


def test_forced_is_refused_where_a_partition_has_a_zone_to_choose():
    """Four zones, racks required, a rack move that may go to either of two zones it lacks: not
    forced (the evened start may not be the optimum), however the start chose."""
    doc = {"name": "choice", "policy": {"brokerPlacement": "preferred", "rackAware": "required", "brokersPerNode": 4},
           "nodes": [{"name": f"n{i}", "zone": f"zone-{'abcdad'[i]}", "storageGiB": 10} for i in range(6)],
           "volumes": [], "brokers": [{"id": i, "node": f"n{i}", "volumes": []} for i in range(6)],
           "topics": [{"name": "t", "partitions": [{"id": 0, "replicas": [0, 1, 3], "sizeGiB": 1}]}]}
    cluster = parse_cluster(doc, "choice")
    scenario = Scenario(cluster, resolve_failures(cluster, ["n3"]))
    # broker 3 runs on n4 (zone-a): the partition holds zone-a twice and lacks zone-c and zone-d
    current = Placement.current(cluster)
    stage = Placement(brokers={0: "n0", 1: "n1", 2: "n2", 3: "n4", 4: "n4", 5: "n5"}, volumes=current.volumes,
                      partitions=current.partitions)
    space = Space.for_partitions(scenario, stage)
    evened = even_out(space, fill_partitions(space))
    assert space.partition_zones[("t", 0)] == {"zone-c", "zone-d"}
    assert not choices_forced(space, evened)
    assert _levels(space, evened)[0] == 0
    # with zone-d gone too, the one zone lacking decides: forced, and the optimum
    stage = Placement(brokers={0: "n0", 1: "n1", 2: "n2", 3: "n4", 4: "n4", 5: None}, volumes=current.volumes,
                      partitions=current.partitions)
    space = Space.for_partitions(scenario, stage)
    evened = even_out(space, fill_partitions(space))
    assert choices_forced(space, evened)
    assert _levels(space, evened) == min(_levels(space, t) for t in _targets(space))


def _unsettled_world() -> tuple[Scenario, Placement]:
    """The first world whose evened start is neither forced nor at its bounds: CP-SAT runs."""
    for seed in CASES:
        scenario, stage = world(seed)
        space = Space.for_partitions(scenario, stage)
        evened = even_out(space, fill_partitions(space))
        if _levels(space, evened)[0] or choices_forced(space, evened):
            continue
        from placement.solve import objectives
        bound_of = objectives.partitions_bounds(space)
        values = objectives.partitions_level_values(space, evened)
        if any(values[name] > bound_of(name, [SimpleNamespace(name="invariants", value=0, proven=True)])
               for name in objectives.partitions_level_names(scenario)):
            return scenario, stage
    raise AssertionError("no world leaves the partitions stage to CP-SAT")


@pytest.mark.parametrize("pairs_paced", [0, 10 ** 9])
def test_the_partitions_model_is_paced_at_scale_only(monkeypatch, pairs_paced):
    """Beyond ``PARTITIONS_PACED_PAIRS`` candidate pairs the levels after the first get the first
    stage's pacing at scale (5% of the limit together, a stall rule); below, the time left."""
    scenario, stage = _unsettled_world()
    seen = {}
    solve = planner.solve_lexicographic

    def spy(enc, levels, **kwargs):
        seen["pacing"] = kwargs.get("pacing")
        return solve(enc, levels, **kwargs)

    monkeypatch.setattr(planner, "solve_lexicographic", spy)
    monkeypatch.setattr(planner, "PARTITIONS_PACED_PAIRS", pairs_paced)
    outcome = planner._solve_partitions(scenario, stage, PlanOptions(time_limit=60, verify_with_z3=False),
                                        time.monotonic())
    assert outcome.solved and "pacing" in seen
    met = SimpleNamespace(name="invariants", value=0, proven=True, seconds=0.0)
    later = seen["pacing"]("balance", [met], 0, 50.0)
    if pairs_paced:
        assert later is None
    else:
        assert later.seconds == 0.05 * 60 and later.stall == max(1.0, 0.02 * 60)


def test_the_model_decides_only_the_unforced_partitions_and_proves_only_the_optimum(monkeypatch):
    """Worlds where some partitions' choices are forced and others are not: CP-SAT's model
    decides only the others, and the stage's answer, judged over every partition, is proven
    only where the brute force agrees."""
    checked = 0
    encode = planner._encode
    for seed in CASES:
        scenario, stage = world(seed)
        space = Space.for_partitions(scenario, stage)
        evened = even_out(space, fill_partitions(space))
        left = unforced(space, evened)
        if _levels(space, evened)[0] or not left or len(left) == len(space.partition_domain):
            continue
        decided = []

        def spy(model_space, relaxed):
            decided.append(set(model_space.partition_domain))
            return encode(model_space, relaxed)

        monkeypatch.setattr(planner, "_encode", spy)
        outcome = planner._solve_partitions(scenario, stage, PlanOptions(time_limit=5, verify_with_z3=False),
                                            time.monotonic())
        best = min(_levels(space, t) for t in _targets(space))
        mine = _levels(space, outcome.placement)
        assert mine[0] == 0 and mine[1:3] == best[1:3]  # the forced ones are at their own optimum
        if decided:  # (no model where the evened start met every bound)
            assert decided == [set(left)]
            checked += 1
        named = {"invariants": 0, "copied": 1, "racks": 2, "balance": 3}
        for level in outcome.levels:
            assert level.value == mine[named[level.name]] or level.name == "invariants"
            if level.proven:
                assert mine[named[level.name]] == best[named[level.name]], (seed, level.name, mine, best)
    assert checked >= 3, checked


def test_a_proof_over_the_unforced_partitions_alone_does_not_prove_balance_for_the_stage():
    """``_judge_in_full``: a balance level the model over the unforced partitions proved (its
    forced partitions' brokers fixed) stays proven for the whole stage only where it meets the
    whole stage's bound; the levels above keep the model's proofs, with values over every partition."""
    from placement.solve import objectives
    from placement.solve.cpsat import LevelResult, SolveOutcome

    judged = 0
    for seed in CASES:
        scenario, stage = world(seed)
        space = Space.for_partitions(scenario, stage)
        evened = even_out(space, fill_partitions(space))
        left = unforced(space, evened)
        if _levels(space, evened)[0] or not left or len(left) == len(space.partition_domain):
            continue
        values = objectives.partitions_level_values(space, evened)
        names = objectives.partitions_level_names(scenario)
        outcome = SolveOutcome(solved=True, placement=evened,
                               levels=[LevelResult(name, 0 if name == "invariants" else -1, -1, True, 0.0)
                                       for name in names])
        planner._judge_in_full(space, outcome, names)
        full = objectives.partitions_bounds(space)("balance", outcome.levels[:-1])
        balance = outcome.levels[-1]
        assert balance.name == "balance" and balance.value == values["balance"]
        assert balance.proven == (values["balance"] <= full)
        assert balance.bound == (values["balance"] if balance.proven else full)
        assert [lv.value for lv in outcome.levels[1:-1]] == [values[n] for n in names[1:-1]]
        assert all(lv.proven for lv in outcome.levels[:-1])
        judged += not balance.proven
    assert judged >= 3, judged

"""I6 Kafka: every partition's replicas are distinct brokers that run in the
target, as many as it had before; its leader is one of them; with
``rackAware: required`` its replicas sit in distinct zones where zones allow
(min(RF, zones where a broker can run: ``Scenario.rack_zones``)). A broker's rack
is its node's zone."""
from __future__ import annotations

from collections import Counter, defaultdict

from placement.models.plan import Placement, Violation
from placement.rules import items as judged
from placement.rules.items import Items
from placement.rules.terms import smt_sum
from placement.scenario import Scenario

ID = "I6"
TITLE = "Kafka partitions"


def _shortfall_reason(scenario: Scenario, p, t, running: dict[int, str]) -> str:
    """Why the target keeps fewer replicas than the partition had, from the facts: too few brokers
    run, no in-sync replica runs to copy from, or brokers could take one and the target adds none."""
    if len(running) < len(p.replicas):
        return f"only {len(running)} broker{'s' if len(running) != 1 else ''} run"
    sources = scenario.sources(p)
    if not any(b in running for b in sources):
        if scenario.allow_unclean:
            return f"none of its replicas {list(sources)} runs, so there is nothing to copy a new replica from"
        return (f"none of its in-sync replicas {list(sources)} runs, so there is nothing to copy a new replica from "
                "(--allow-unclean would copy from an out-of-sync one)")
    held = set(t.replicas)
    free = []  # the first few running brokers without a replica, and how many there are
    count = 0
    for b in running:
        if b not in held:
            count += 1
            if len(free) < 6:
                free.append(b)
    if not count:
        return f"only {len(running)} broker{'s' if len(running) != 1 else ''} run"
    free.sort()
    shown = ", ".join(map(str, free)) + (f" and {count - len(free)} more" if count > len(free) else "")
    return f"no replica is added, though broker{'s' if count != 1 else ''} {shown} run{'s' if count == 1 else ''} without one"


def check(scenario: Scenario, target: Placement, items: Items | None = None) -> list[Violation]:
    cluster = scenario.cluster
    running = {b: n for b, n in target.brokers.items() if n is not None}
    out: list[Violation] = []
    rack_required = scenario.rack_required
    running_ids = set(running)
    chosen_of = target.partitions.get
    sources_of = scenario.sources
    # with rackAware required: each running broker's zone, and the zones a partition of RF r needs, min(r, racks)
    zone_of = {b: cluster.node[n].zone for b, n in running.items()} if rack_required else {}
    racks = len(scenario.rack_zones) if rack_required else 0
    for p in judged.partitions(cluster, items):
        t = chosen_of(p.key)
        rf = len(p.replicas)
        if t is not None and _plainly_valid(t.replicas, t.leader, rf, running_ids, sources_of(p)) \
                and (not rack_required or len({zone_of[b] for b in t.replicas}) >= min(rf, racks)):
            continue  # nothing below would find anything: the words are written only for what is wrong
        subject = f"partition {p.label}"
        if t is None:
            out.append(Violation(ID, f"partition {p.label} is missing from the plan", subject))
            continue
        for b, c in (sorted(Counter(t.replicas).items()) if len(set(t.replicas)) != len(t.replicas) else ()):
            if c > 1:
                out.append(Violation(ID, f"partition {p.label} lists broker {b} {c} times; replicas are distinct brokers", subject))
        if len(t.replicas) > rf:
            out.append(Violation.measured(ID, f"partition {p.label} lists {len(t.replicas)} replicas, more than its {rf}",
                                          subject, len(t.replicas), rf))
        elif len(t.replicas) < rf:
            out.append(Violation.measured(ID, f"partition {p.label} keeps {len(t.replicas)} of {rf} replicas: "
                                              f"{_shortfall_reason(scenario, p, t, running)}", subject, len(t.replicas), rf))
        for b in dict.fromkeys(t.replicas):
            if b not in running:
                out.append(Violation(ID, f"partition {p.label} has a replica on broker {b}, which does not run in the target", subject))
        sources = scenario.sources(p)
        if t.leader is None and not any(b in running for b in sources):
            out.append(Violation(ID, f"partition {p.label} has no leader: none of its in-sync replicas {list(sources)} runs; "
                                     f"--allow-unclean would elect an out-of-sync one and lose what it lacks", subject))
        elif t.leader is None:
            able = [b for b in t.replicas if b in running and b in sources]
            out.append(Violation(ID, f"partition {p.label} has no leader, though its in-sync replica"
                                     f"{'s' if len(able) != 1 else ''} {able} could lead it", subject))
        elif t.leader not in t.replicas:
            out.append(Violation(ID, f"partition {p.label} has leader {t.leader}, which is not one of its replicas {list(t.replicas)}", subject))
        elif t.leader not in sources:
            out.append(Violation(ID, f"partition {p.label} has leader {t.leader}, which was not in sync ({list(p.isr)}); "
                                     f"an unclean election needs --allow-unclean", subject))
        if scenario.rack_required:
            needed = scenario.racks_needed(p)
            zones = {cluster.node[running[b]].zone for b in t.replicas if b in running}
            if len(zones) < needed:
                out.append(Violation.measured(ID, f"partition {p.label} spans {len(zones)} rack{'s' if len(zones) != 1 else ''} "
                                                  "with rackAware required", subject, len(zones), needed))
    return out


def _plainly_valid(replicas: tuple[int, ...], leader: int | None, rf: int, running: set[int], sources) -> bool:
    """``check``'s verdict on a partition without rack awareness, where it finds nothing: rf
    distinct running replicas (``running``: the brokers that run), led by one of them that is a source.
    Set operations, not a generator per partition: three checks each judge 150,000 partitions."""
    return (len(replicas) == rf and leader in sources and leader in replicas
            and running.issuperset(replicas) and len(set(replicas)) == rf)


# -- encodings -----------------------------------------------------------------

def _broker_zone_terms(enc) -> dict[int, dict[str, list]]:
    """broker -> zone -> placement terms putting it in that zone."""
    cluster = enc.space.scenario.cluster
    zones: dict[int, dict[str, list]] = {}
    for b in cluster.brokers:
        by_zone: dict[str, list] = defaultdict(list)
        for n in enc.space.broker_nodes(b.id):
            by_zone[cluster.node[n].zone].append(enc.brk(b.id, n))
        zones[b.id] = dict(sorted(by_zone.items()))
    return zones


def _rack_terms(enc, key, rf, broker_zones, rack_zones):
    """(coverage indicators of the partition's zones, zones needed)."""
    cover = []
    for zone in rack_zones:
        members = [enc.both(enc.part(key, b), enc.any_of(broker_zones[b].get(zone, []), f"bz[{b}@{zone}]"), f"pz[{key}@{b}@{zone}]")
                   for b in enc.space.partition_brokers(key) if zone in broker_zones[b]]
        cover.append(enc.any_of(members, f"cover[{key}@{zone}]"))
    return cover


def _rack_setup(enc):
    """(rack awareness required here?, broker -> zone -> placement terms, the zones a replica may cover).
    Every zone covers (a broker kept on a cordoned node still sits in its rack), as in ``check``;
    how many are needed counts only ``Scenario.rack_zones``."""
    rack = bool(enc.space.scenario.rack_required and enc.space.partition_domain)
    broker_zones = _broker_zone_terms(enc) if rack else {}
    return rack, broker_zones, enc.space.scenario.cluster.zones


def _decided_partitions(enc):
    cluster = enc.space.scenario.cluster
    for key, brokers in enc.space.partition_domain.items():
        yield cluster.partition[key], brokers


def encode_cpsat(enc) -> None:
    if enc.space.partitions_aggregated:
        _encode_aggregate(enc)
        return
    mult = enc.space.max_multiplicity
    rack, broker_zones, rack_zones = _rack_setup(enc)
    for p, brokers in _decided_partitions(enc):
        key, rf = p.key, len(p.replicas)
        held = [enc.part(key, b) for b in brokers]
        short = enc.shortfall(ID, rf, f"{p.label}")
        enc.add(ID, sum(held) + short == rf)
        for b in brokers:
            if mult > 1:
                enc.add(ID, enc.part(key, b) <= 1)
            enc.add(ID, enc.part(key, b) <= mult * enc.runs(b))
        if enc.decides_leaders:
            enc.add(ID, sum(enc.lead(key, b) for b in brokers) == 1)
            for b in brokers:
                enc.add(ID, enc.lead(key, b) <= enc.part(key, b))
                if b not in enc.space.scenario.sources(p):
                    enc.add(ID, enc.lead(key, b) == 0)
        else:
            _keep_a_source(enc, p, brokers)
        if rack:
            cover = _rack_terms(enc, key, rf, broker_zones, rack_zones)
            needed = enc.space.scenario.racks_needed(p)
            enc.add(ID, sum(cover) + enc.shortfall(ID, rf, f"rack:{p.label}") >= needed)


def _keep_a_source(enc, p, brokers) -> None:
    """The partitions stage (leaders elected afterwards): a partition whose kept replicas hold no
    in-sync one (a rack move may drop replicas of running brokers) keeps one of its sources, to
    lead it and to copy from."""
    fixed = enc.space.fixed_members.get(p.key, ())
    sources = set(enc.space.scenario.sources(p))
    if any(b in sources for b in fixed):
        return
    able = [enc.part(p.key, b) for b in brokers if b in sources]
    if able:
        enc.add(ID, sum(able) >= 1)


def encode_z3(enc) -> None:
    """Each partition's constraints. Ground (a plan verified), a partition whose facts -- replica
    count, whether it runs, leads and is a source, and its zone terms, broker by broker of its
    domain -- are those of one already encoded writes the very same constraints, so it is
    skipped (``SmtEncoding.add`` keeps one of each anyway): 150,000 partitions come to a few
    hundred patterns, and writing only those is what keeps verification at 5,000 nodes cheap."""
    rack, broker_zones, rack_zones = _rack_setup(enc)
    decides_leaders = enc.decides_leaders
    facts_of = _ground_facts(enc, broker_zones) if getattr(enc, "values", None) is not None else None
    seen: set = set()
    for p, brokers in _decided_partitions(enc):
        if facts_of is not None:
            facts = facts_of(p, brokers)
            if facts in seen:
                continue
            seen.add(facts)
        key, rf = p.key, len(p.replicas)
        held = [enc.part(key, b) for b in brokers]
        enc.add(ID, f"(= {smt_sum(held)} {rf})")
        for b, member in zip(brokers, held):
            enc.add(ID, f"(<= {member} {enc.runs(b)})")
        if decides_leaders:
            leads = [enc.lead(key, b) for b in brokers]
            enc.add(ID, f"(= {smt_sum(leads)} 1)")
            sources = enc.space.scenario.sources(p)
            for b, member, lead in zip(brokers, held, leads):
                enc.add(ID, f"(<= {lead} {member})")
                if b not in sources:
                    enc.add(ID, f"(= {lead} 0)")
        if rack:
            cover = _rack_terms(enc, key, rf, broker_zones, rack_zones)
            enc.add(ID, f"(>= {smt_sum(cover)} {enc.space.scenario.racks_needed(p)})")


def _ground_facts(enc, broker_zones: dict[int, dict[str, list]]):
    """Ground mode: a partition -> everything its encoding reads through the vocabulary, without
    broker names: rf, zones needed, and per domain broker (in order) ``part``, ``lead``, whether it
    is a source, and one number standing for what the broker alone decides, ``runs`` and its zone
    terms (``brk``, the same for every partition): equal numbers exactly where both are equal."""
    values = enc.values
    scenario = enc.space.scenario
    placed = values.brokers
    zone_terms = {b: tuple((zone, tuple(terms)) for zone, terms in by_zone.items()) for b, by_zone in broker_zones.items()}
    numbers: dict = {}  # (placed nowhere, zone terms) -> its number
    own = {b: numbers.setdefault((placed.get(b) is None, zone_terms.get(b)), len(numbers))
           for b in set(placed) | set(zone_terms)}  # broker -> its number
    unknown = numbers.setdefault((True, None), len(numbers))  # a broker neither placed nor zoned
    chosen_of, own_of, sources_of = values.partitions.get, own.get, scenario.sources

    def facts(p, brokers):  # 150,000 calls: bound methods and a list, not attribute look-ups and a generator
        chosen = chosen_of(p.key)
        replicas, leader = (chosen.replicas, chosen.leader) if chosen is not None else ((), None)
        sources = sources_of(p)
        return (len(p.replicas), scenario.racks_needed(p) if zone_terms else 0,
                tuple([(replicas.count(b), leader == b, b in sources, own_of(b, unknown))
                       for b in brokers]))
    return facts


def _encode_aggregate(enc) -> None:
    """The storage-and-brokers stage: brokers are decided, partitions are not yet. A partition loses a
    replica for every member broker that does not run; it can refill them from
    running brokers outside it, provided one of its sources (in-sync replicas)
    runs to lead it and copy from; with none, it is offline (one more shortfall).
    This is exactly what the partitions stage will be able to do, so this stage's shortfall and
    copied data are the plan's."""
    space = enc.space
    scenario = space.scenario
    cluster = scenario.cluster
    decided = set(space.broker_domain)
    fixed_running = {b for b, n in space.base.brokers.items() if n is not None and b not in decided}
    per_broker_bytes: dict[int, int] = defaultdict(int)
    for p in cluster.partitions:
        members = [b for b in p.replicas if b in decided]
        if not members:
            continue
        sources = scenario.sources(p)
        surely_online = any(s in fixed_running for s in sources)
        outside_fixed = len(fixed_running) - sum(1 for b in p.replicas if b in fixed_running)
        if surely_online and outside_fixed >= len(members):
            for b in members:  # enough running brokers outside: every lost replica is refilled
                per_broker_bytes[b] += p.size_mib
            continue
        vacated = sum(1 - enc.runs(b) for b in members)
        refill = enc.new_int(0, len(members), f"refill[{p.label}]")
        outside = outside_fixed + sum(enc.runs(b) for b in decided if b not in p.replicas)
        enc.add(ID, refill <= outside)
        offline = 0
        if not surely_online:
            online = enc.any_of([enc.runs(s) for s in sources if s in decided], f"online[{p.label}]")
            enc.add(ID, refill <= len(members) * online)
            offline = 1 - online
        enc.add(ID, refill + enc.shortfall(ID, len(members) + 1, p.label) == vacated + offline)
        enc.partition_copy.append((p.size_mib, refill))
    for b, size in sorted(per_broker_bytes.items()):
        if size:  # size * (1 - runs[b]), as (coefficient, term) pairs
            enc.partition_copy += [(size, 1), (-size, enc.runs(b))]
    if scenario.rack_required:
        _encode_racks_follow_nodes(enc, decided, fixed_running)


def _encode_racks_follow_nodes(enc, decided: set[int], fixed_running: set[int]) -> None:
    """The storage-and-brokers stage, ``rackAware: required``: a broker's rack is its node's zone, so where a
    moved broker lands decides its partitions' racks. A partition reaches the zones its running
    members cover, plus one per replica the partitions stage refills and one per replica it moves
    out of a zone the partition holds twice (a rack move: a copy of the partition, as a refill is;
    only while an in-sync replica runs to copy from), never more than the zones where some broker
    runs. What it still lacks is a shortfall; so a broker runs wherever running it costs only
    partition moves, and the moves are counted with the copied data."""
    space = enc.space
    scenario = space.scenario
    cluster = scenario.cluster
    zone_of = {n.name: n.zone for n in cluster.nodes}
    zone_open = {}
    for zone in cluster.zones:
        here = [1 for b in fixed_running if zone_of[space.base.brokers[b]] == zone]
        here += [enc.brk(b, n) for b in sorted(decided) for n in space.broker_domain[b] if zone_of[n] == zone]
        zone_open[zone] = enc.any_of(here, f"zone_runs[{zone}]")
    for p in cluster.partitions:
        members = [b for b in p.replicas if b in decided]
        if not members:
            continue
        needed = scenario.racks_needed(p)
        covered = []
        for zone in cluster.zones:  # every zone covers, as in check; only rack_zones count as needed
            here = [1 for b in p.replicas if b in fixed_running and zone_of[space.base.brokers[b]] == zone]
            here += [enc.brk(b, n) for b in members for n in space.broker_domain[b] if zone_of[n] == zone]
            covered.append(enc.any_of(here, f"rack[{p.label}@{zone}]"))
        vacated = sum(1 - enc.runs(b) for b in members)
        running = sum(1 for b in p.replicas if b in fixed_running) + sum(enc.runs(b) for b in members)
        sources = scenario.sources(p)
        online = 1 if any(s in fixed_running for s in sources) else \
            enc.any_of([enc.runs(s) for s in sources if s in decided], f"rack_online[{p.label}]")
        moves = enc.new_int(0, len(p.replicas), f"rack_moves[{p.label}]")
        enc.add(ID, moves <= running - sum(covered))  # only a replica sharing its zone moves
        enc.add(ID, moves <= len(p.replicas) * online)
        short = enc.shortfall(ID, needed, f"racks:{p.label}")
        enc.add(ID, sum(covered) + vacated + moves + short >= needed)
        enc.add(ID, sum(zone_open.values()) + short >= needed)
        enc.partition_copy.append((p.size_mib, moves))


def conflict_counts(space) -> dict[tuple[int, str], int]:
    """(decided broker, zone) -> partitions of the broker with another replica, not moving, in that zone."""
    cluster = space.scenario.cluster
    decided = set(space.broker_domain)
    conflicts: dict[tuple[int, str], int] = defaultdict(int)
    for p in cluster.partitions:
        members = [b for b in p.replicas if b in decided]
        for b in members:
            for other in p.replicas:
                node = space.base.brokers.get(other)
                if other != b and other not in decided and node is not None:
                    conflicts[b, cluster.node[node].zone] += 1
    return conflicts


def rack_conflicts(enc) -> list[tuple[int, object]]:
    """The storage-and-brokers stage, rackAware preferred: partitions a moved broker would share a zone with another replica in."""
    space = enc.space
    cluster = space.scenario.cluster
    conflicts = conflict_counts(space)
    terms = []
    for b in sorted(space.broker_domain):
        for n in space.broker_domain[b]:
            c = conflicts.get((b, cluster.node[n].zone), 0)
            if c:
                terms.append((c, enc.brk(b, n)))
    return terms


def rack_spread(enc) -> list[tuple[int, object]]:
    """The partitions stage, rackAware preferred: one term per zone a moved partition covers (to maximise)."""
    scenario = enc.space.scenario
    if not enc.space.partition_domain:
        return []
    broker_zones = _broker_zone_terms(enc)
    terms = []
    for key in enc.space.partition_domain:
        rf = len(scenario.cluster.partition[key].replicas)
        terms += [(-1, c) for c in _rack_terms(enc, key, rf, broker_zones, scenario.cluster.zones)]
    return terms

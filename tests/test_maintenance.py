"""``placement check --ok-to-stop`` and ``--waves`` against brute force on small random clusters:
every subset of nodes stopped (ok-to-stop), every set partition of the nodes to maintain (waves),
judged by an oracle written here from the cluster's plain facts; plus the CLI and the library."""
from __future__ import annotations

import json
import random
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner

import placement
from placement import cli
from placement.models.cluster import NodeState
from placement.models.loading import load_cluster, parse_cluster
from placement.resilience.maintenance import _Colouring, nodes_to_maintain, ok_to_stop, requirements, waves

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


# -- small random clusters with everything that matters here --------------------------------

def maintenance_cluster(seed: int, max_nodes: int = 7) -> tuple[dict, int | None, int | None]:
    """A cluster document (failed and cordoned nodes, storageless ones, RF 1-3, stale replicas,
    two brokers on a node, partial ISRs), a --min-replicas and a --max-wave."""
    rng = random.Random(seed)
    zones = [f"zone-{z}" for z in "abc"[: rng.randint(1, 3)]]
    names = [f"node-{i}" for i in range(1, rng.randint(3, max_nodes) + 1)]
    nodes = []
    for name in names:
        node = {"name": name, "zone": rng.choice(zones), "storageGiB": 0 if rng.random() < 0.12 else 500}
        roll = rng.random()
        if roll < 0.06:
            node["state"] = "failed"
        elif roll < 0.14:
            node["state"] = "cordoned"
        nodes.append(node)
    storage = [n["name"] for n in nodes if n["storageGiB"]]
    volumes = []
    for i in range(rng.randint(1, 4)):
        rf = 1 if rng.random() < 0.04 else rng.choice([2, 3, 3, 3])
        if len(storage) < rf:
            continue
        replicas = rng.sample(storage, rf)
        volume = {"name": f"pvc-{i}", "sizeGiB": 10, "replicationFactor": rf, "replicas": replicas}
        if rf > 1 and rng.random() < 0.08:
            volume["stale"] = {rng.choice(replicas): 5}
        volumes.append(volume)
    per_node = rng.choice([1, 1, 2])
    brokers = []
    for i in range(rng.randint(0, 4)):
        hosts = [n["name"] for n in nodes if sum(b["node"] == n["name"] for b in brokers) < per_node]
        free = [v for v in volumes if not any(v["name"] in b["volumes"] for b in brokers)]
        if not hosts:
            break
        if not free or rng.random() < 0.15:  # a broker without volumes keeps its log on its node
            brokers.append({"id": i, "node": rng.choice(hosts), "volumes": []})
            continue
        vol = rng.choice(free)
        on_replica = [n for n in vol["replicas"] if n in hosts]
        host = rng.choice(on_replica) if on_replica and rng.random() < 0.8 else rng.choice(hosts)
        brokers.append({"id": i, "node": host, "volumes": [vol["name"]]})
    topics = []
    if len(brokers) > 1 or brokers and rng.random() < 0.2:
        rf = min(len(brokers), rng.choice([2, 3, 3]))
        partitions = []
        for pid in range(rng.randint(1, 4)):
            replicas = rng.sample([b["id"] for b in brokers], rf)
            isr = replicas if rng.random() < 0.9 else replicas[: rng.randint(1, rf)]
            partitions.append({"id": pid, "replicas": replicas, "isr": isr})
        least = rf if rng.random() < 0.1 else max(1, rf - rng.choice([1, 1, 2]))
        topics.append({"name": "events", "minInsyncReplicas": least, "partitions": partitions})
    doc = {"name": f"maint-{seed}", "policy": {"brokersPerNode": per_node, "zoneSpread": rng.random() < 0.5},
           "nodes": nodes, "volumes": volumes, "brokers": brokers, "topics": topics}
    min_replicas = 3 if rng.random() < 0.03 else rng.choice([None, None, None, None, 1, 1, 2])
    return doc, min_replicas, rng.choice([None, None, 1, 2, 3])


def _cluster(seed: int, max_nodes: int = 7):
    doc, min_replicas, max_wave = maintenance_cluster(seed, max_nodes)
    return parse_cluster(doc, doc["name"]), min_replicas, max_wave


# -- the oracle: the question asked, answered from the cluster's plain facts --------------

def short_items(cluster, stopped, min_replicas) -> dict[str, tuple[int, int]]:
    """Each volume and partition below what it needs with ``stopped`` down: name -> (has, needs)."""
    down = {n.name for n in cluster.nodes if n.state is NodeState.FAILED} | set(stopped)
    out = {}
    for v in cluster.volumes:
        behind = {node for node, _ in v.stale}
        has = sum(1 for n in v.replicas if n not in behind and n not in down)
        needs = min_replicas if min_replicas is not None else max(1, v.replication_factor - 1)
        if has < needs:
            out[f"volume {v.name}"] = (has, needs)
    for t in cluster.topics:
        for p in t.partitions:
            has = sum(1 for b in p.isr if cluster.broker[b].node not in down)
            if has < t.min_insync_replicas:
                out[f"partition {p.label}"] = (has, t.min_insync_replicas)
    return out


def to_maintain(cluster) -> list[str]:
    holding = {n for v in cluster.volumes for n in v.replicas} | {b.node for b in cluster.brokers}
    return [n.name for n in cluster.nodes
            if n.state is not NodeState.FAILED and (n.storage_mib > 0 or n.name in holding)]


def set_partitions(items: list):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for smaller in set_partitions(rest):
        for i in range(len(smaller)):
            yield smaller[:i] + [[first] + smaller[i]] + smaller[i + 1:]
        yield [[first]] + smaller


def fewest_waves(cluster, min_replicas, max_wave) -> int | None:
    nodes = to_maintain(cluster)
    ok_blocks: dict[frozenset, bool] = {}

    def ok(block) -> bool:
        key = frozenset(block)
        if key not in ok_blocks:
            fits = max_wave is None or len(block) <= max_wave
            ok_blocks[key] = fits and not short_items(cluster, block, min_replicas)
        return ok_blocks[key]

    best = None
    for partition in set_partitions(nodes):
        if (best is None or len(partition) < best) and all(ok(b) for b in partition):
            best = len(partition)
    return best


# -- ok-to-stop ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(150))
def test_ok_to_stop_agrees_with_the_oracle_on_every_subset(seed):
    cluster, min_replicas, _ = _cluster(seed)
    names = [n.name for n in cluster.nodes]
    before = short_items(cluster, (), min_replicas)
    for size in range(len(names) + 1):
        for stopped in combinations(names, size):
            verdict = ok_to_stop(cluster, stopped, min_replicas)
            truth = short_items(cluster, stopped, min_replicas)
            assert verdict.ok == (not truth)
            got = {f"{s.kind} {s.name}": (s.current, s.needed) for s in verdict.shortfalls}
            assert got == truth
            for s in verdict.shortfalls:
                assert s.already_short == (f"{s.kind} {s.name}" in before)
                assert set(s.stopped) <= set(stopped)


def test_ok_to_stop_says_what_falls_short_and_what_already_was():
    doc = {"name": "c", "policy": {"zoneSpread": False},
           "nodes": [{"name": f"n{i}", "storageGiB": 100} for i in range(1, 5)] + [{"name": "n5", "state": "failed",
                                                                                     "storageGiB": 100}],
           "volumes": [{"name": "a", "sizeGiB": 1, "replicas": ["n1", "n2", "n3"]},
                       {"name": "b", "sizeGiB": 1, "replicas": ["n3", "n4", "n5"], "stale": {"n4": 1}}],
           "brokers": [{"id": 0, "node": "n1", "volumes": ["a"]}, {"id": 1, "node": "n2", "volumes": []}],
           "topics": [{"name": "t", "minInsyncReplicas": 2, "partitions": [{"id": 0, "replicas": [0, 1]}]}]}
    cluster = parse_cluster(doc, "c")
    verdict = ok_to_stop(cluster, ["n2"])
    by_name = {s.name: s for s in verdict.shortfalls}
    assert not verdict.ok and set(by_name) == {"b", "t-0"}
    assert (by_name["t-0"].current, by_name["t-0"].needed, by_name["t-0"].before) == (1, 2, 2)
    assert by_name["t-0"].brokers == (1,) and not by_name["t-0"].already_short
    assert by_name["b"].already_short and by_name["b"].stopped == ()  # n3 only: n4 is stale, n5 failed
    assert "already short" in by_name["b"].message
    assert ok_to_stop(cluster, ["n2"], min_replicas=1).shortfalls == (verdict.shortfalls[1],)


def test_ok_to_stop_of_an_unknown_node_is_bad_input():
    cluster = load_cluster(SEED)
    with pytest.raises(placement.InputError) as exc:
        ok_to_stop(cluster, ["node-9"])
    assert "node-9" in str(exc.value) and "--ok-to-stop" in str(exc.value)
    for bad in ("node-1", 5, None):
        with pytest.raises(placement.InputError):
            ok_to_stop(cluster, bad)
    for bad in (0, 4, "2", True):
        with pytest.raises(placement.InputError):
            ok_to_stop(cluster, ["node-1"], min_replicas=bad)
    for call in (lambda: placement.ok_to_stop("cluster.yaml", ["node-1"]), lambda: placement.waves(None),
                 lambda: placement.waves(cluster, 0), lambda: placement.waves(cluster, "2"),
                 lambda: placement.waves(cluster, min_replicas=5), lambda: placement.waves(cluster, time_limit=-1)):
        with pytest.raises(placement.InputError):
            call()


# -- waves --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(200))
def test_waves_are_the_fewest_of_every_set_partition(seed):
    cluster, min_replicas, max_wave = _cluster(seed)
    best = fewest_waves(cluster, min_replicas, max_wave)
    plan = waves(cluster, max_wave, min_replicas)
    assert sorted(nodes_to_maintain(cluster)) == sorted(to_maintain(cluster))
    if best is None:
        assert not plan.possible and plan.blocking and not plan.waves
        assert {f"{b.kind} {b.name}" for b in plan.blocking} <= \
            set(short_items(cluster, to_maintain(cluster), min_replicas))
        return
    assert plan.possible and plan.proven
    assert len(plan.waves) == best == plan.lower_bound
    assert sorted(n for w in plan.waves for n in w) == sorted(to_maintain(cluster))
    for wave in plan.waves:
        assert max_wave is None or len(wave) <= max_wave
        assert not short_items(cluster, wave, min_replicas)
    for c in plan.conflicts:  # each pair the certificate names really cannot share a wave
        assert short_items(cluster, c.nodes, min_replicas) or (max_wave is not None and max_wave < 2)


def graph_cluster(seed: int):
    """Volumes at RF 2 on random pairs of up to 8 nodes, one replica allowed down at a time: the
    waves are a colouring of a random graph, where odd cycles leave the bounds below the answer."""
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(rng.randint(5, 8))]
    pairs = [p for p in combinations(names, 2) if rng.random() < 0.45]
    doc = {"name": f"graph-{seed}", "policy": {"zoneSpread": False},
           "nodes": [{"name": n, "storageGiB": 100} for n in names],
           "volumes": [{"name": f"v{i}", "sizeGiB": 1, "replicationFactor": 2, "replicas": list(p)}
                       for i, p in enumerate(pairs)]}
    return parse_cluster(doc, doc["name"]), rng.choice([None, None, 2, 3])


@pytest.mark.parametrize("seed", range(80))
def test_waves_on_random_conflict_graphs_agree_with_brute_force(seed):
    cluster, max_wave = graph_cluster(seed)
    best = fewest_waves(cluster, 1, max_wave)
    plan = waves(cluster, max_wave, 1)
    assert plan.possible and plan.proven and len(plan.waves) == best
    assert all(not short_items(cluster, w, 1) and (max_wave is None or len(w) <= max_wave) for w in plan.waves)


def test_random_conflict_graphs_reach_the_solver():
    kinds = {waves(*graph_cluster(seed)[:1], graph_cluster(seed)[1], 1).certificate["kind"] for seed in range(80)}
    assert "infeasible" in kinds  # so the test above judges CP-SAT's proofs, not only the bounds


@pytest.mark.parametrize("seed", range(160))
def test_cpsat_model_agrees_with_brute_force_at_the_minimum_and_one_below(seed):
    """The exact search alone (no heuristic, no bound): k waves feasible exactly when brute force says so."""
    cluster, min_replicas, max_wave = _cluster(seed, max_nodes=6)
    best = fewest_waves(cluster, min_replicas, max_wave)
    if best is None or best < 2:
        return
    problem = _Colouring(nodes_to_maintain(cluster), requirements(cluster, min_replicas), max_wave)
    verdict, found = problem.solve(best, [], None, 20)
    assert verdict == "feasible" and len(found) <= best
    verdict, _ = problem.solve(best - 1, problem.clique(best, 1.0), None, 20)
    assert verdict == "infeasible"


def test_an_item_that_cannot_lose_a_replica_forbids_every_wave():
    doc = {"name": "rf1", "policy": {"zoneSpread": False},
           "nodes": [{"name": f"n{i}", "storageGiB": 100} for i in range(1, 4)],
           "volumes": [{"name": "solo", "sizeGiB": 1, "replicationFactor": 1, "replicas": ["n2"]},
                       {"name": "ok", "sizeGiB": 1, "replicas": ["n1", "n2", "n3"]}]}
    plan = waves(parse_cluster(doc, "rf1"))
    assert not plan.possible
    assert [(b.name, b.stopped, b.already_short) for b in plan.blocking] == [("solo", ("n2",), False)]
    assert "can never stop" in plan.notes[0] and "n2" in plan.notes[0]


def test_a_cluster_already_short_has_no_waves():
    doc = {"name": "short", "policy": {"zoneSpread": False},
           "nodes": [{"name": "n1", "storageGiB": 100}, {"name": "n2", "storageGiB": 100, "state": "failed"},
                     {"name": "n3", "storageGiB": 100, "state": "failed"}],
           "volumes": [{"name": "v", "sizeGiB": 1, "replicas": ["n1", "n2", "n3"]}]}
    plan = waves(parse_cluster(doc, "short"))
    assert not plan.possible and plan.blocking[0].already_short and "already short" in plan.notes[0]


def test_the_seed_waves_are_its_zones_with_a_certificate():
    plan = waves(load_cluster(SEED))
    assert plan.waves == (("node-1", "node-4"), ("node-2", "node-5"), ("node-3",))
    assert plan.proven and plan.lower_bound == 3 and plan.certificate["kind"] in ("item", "clique")
    assert any("the waves are the zones" in n for n in plan.notes)
    assert {c.nodes for c in plan.conflicts} == {("node-1", "node-2"), ("node-1", "node-3"), ("node-2", "node-3")}
    capped = waves(load_cluster(SEED), max_wave=1)
    assert len(capped.waves) == 5 and capped.certificate["kind"] == "size" and capped.proven


def test_waves_solver_closes_a_gap_the_bounds_leave():
    """A 5-cycle of conflicts: no clique of 3, no item needs 3, two waves too few: CP-SAT proves 3."""
    ring = [f"n{i}" for i in range(5)]
    doc = {"name": "ring", "policy": {"zoneSpread": False},
           "nodes": [{"name": n, "storageGiB": 100} for n in ring],
           "volumes": [{"name": f"v{i}", "sizeGiB": 1, "replicationFactor": 2, "replicas": [ring[i], ring[(i + 1) % 5]]}
                       for i in range(5)]}
    plan = waves(parse_cluster(doc, "ring"), min_replicas=1)
    assert len(plan.waves) == 3 and plan.proven
    assert plan.certificate["kind"] == "infeasible" and plan.certificate["groups"] == 2


def test_generated_cluster_waves_are_the_three_zones():
    from placement.models.generate import generate_cluster

    cluster = generate_cluster(nodes=60, zones=3, brokers=18, volumes=120, partitions=600, seed=3)
    plan = waves(cluster)
    zones = {n.name: n.zone for n in cluster.nodes}
    assert plan.proven and len(plan.waves) == 3
    assert all(len({zones[n] for n in w}) == 1 for w in plan.waves)


# -- the command line and the library --------------------------------------------------------

def run(*args):
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_ok_to_stop_yes_and_no():
    code, out, _ = run("check", str(SEED), "--ok-to-stop", "node-2")
    assert code == 0 and "yes" in out
    code, out, _ = run("check", str(SEED), "--ok-to-stop", "node-2", "node-4", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["okToStop"] is False and doc["nodes"] == ["node-2", "node-4"]
    assert doc["shortfalls"][0]["name"] == "pvc-kafka-1" and (doc["shortfalls"][0]["current"],
                                                               doc["shortfalls"][0]["needed"]) == (1, 2)
    for spelling in (["--ok-to-stop", "node-2,node-4"], ["--ok-to-stop", "node-2", "--ok-to-stop", "node-4"]):
        code, out, _ = run("check", str(SEED), *spelling, "--format", "json")
        assert code == 1 and json.loads(out)["nodes"] == ["node-2", "node-4"]
    code, out, _ = run("check", str(SEED), "--ok-to-stop", "node-2", "node-4", "--min-replicas", "1")
    assert code == 0


def test_cli_waves_json_table_and_html(tmp_path):
    code, out, _ = run("check", str(SEED), "--waves", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["waves"] == [["node-1", "node-4"], ["node-2", "node-5"], ["node-3"]]
    assert doc["proven"] is True and doc["lowerBound"] == 3 and doc["certificate"]["why"]
    code, out, _ = run("check", str(SEED), "--waves", "--max-wave", "2")
    assert code == 0 and "proven least" in out and "cannot share a wave" in out
    page = tmp_path / "w.html"
    code, _, _ = run("check", str(SEED), "--waves", "--format", "html", "-o", str(page))
    assert code == 0 and 'data-verdict="3 waves, proven least"' in page.read_text()
    page = tmp_path / "o.html"
    code, _, _ = run("check", str(SEED), "--ok-to-stop", "node-2", "node-4", "--format", "html", "-o", str(page))
    assert code == 1 and 'data-short="volume pvc-kafka-1"' in page.read_text()


def test_cli_waves_impossible_is_a_negative_verdict(tmp_path):
    doc = {"name": "rf1", "nodes": [{"name": "n1", "storageGiB": 100}, {"name": "n2", "storageGiB": 100}],
           "volumes": [{"name": "solo", "sizeGiB": 1, "replicationFactor": 1, "replicas": ["n2"]}]}
    path = tmp_path / "rf1.json"
    path.write_text(json.dumps(doc))
    code, out, _ = run("check", str(path), "--waves")
    assert code == 1 and "NONE CAN EXIST" in out and "solo" in out
    code, out, _ = run("check", str(path), "--waves", "--format", "json")
    assert code == 1 and json.loads(out)["possible"] is False and json.loads(out)["blocking"][0]["name"] == "solo"


@pytest.mark.parametrize("args, needle", [
    (["--ok-to-stop", "node-9"], "node-9"),
    (["--ok-to-stop", "node-1", "--min-replicas", "4"], "--min-replicas"),
    (["--waves", "--max-wave", "0"], "--max-wave"),
    (["--waves", "--ok-to-stop", "node-1"], "--waves"),
    (["--waves", "--failures", "2"], "--failures"),
    (["--ok-to-stop", "node-1", "--jobs", "2"], "--jobs"),
    (["--ok-to-stop", "node-1", "--max-wave", "2"], "--max-wave"),
    (["--ok-to-stop", "node-1", "--time-limit", "5"], "--time-limit"),
    (["--ok-to-stop", "node-1", "--zones"], "--zones"),
    (["--waves", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler"),
    (["--min-replicas", "2"], "--min-replicas"),
    (["node-1"], "--ok-to-stop"),
])
def test_cli_maintenance_bad_usage_is_exit_2(args, needle):
    code, _, err = run("check", str(SEED), *args)
    assert code == 2 and needle in err and "Traceback" not in err


def test_library_calls():
    cluster = placement.load_cluster(SEED)
    assert placement.ok_to_stop(cluster, ["node-3"]).ok
    verdict = placement.ok_to_stop(cluster, ["node-1", "node-3"], min_replicas=2)
    assert not verdict.ok and verdict.to_document()["shortfalls"]
    plan = placement.waves(cluster, max_wave=2)
    assert plan.proven and plan.to_document()["waves"] == [list(w) for w in plan.waves]
    assert placement.waves(cluster, 2, 1).waves == placement.waves(cluster, max_wave=2, min_replicas=1).waves
    assert placement.ok_to_stop(cluster, ["node-1", "node-4"], 1).ok
    assert not placement.ok_to_stop(cluster, ["node-1", "node-2"], 1).ok

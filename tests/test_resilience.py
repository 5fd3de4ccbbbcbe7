"""``placement check``: the sweep against brute force (the planner's own verdict on every
failure set), pruning and symmetry never changing a verdict, monotonicity, the exact minima,
parallel and distributed runs agreeing with the local one."""
from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner

from placement import cli
from placement.models.failures import Failures
from placement.models.loading import load_cluster, parse_cluster
from placement.resilience.minima import data_loss_minima, partition_items, prove_minimum, volume_items
from placement.resilience.sweep import check_resilience, judge_start
from placement.scenario import Scenario
from placement.solve.planner import PlanOptions, plan_recovery
from tests.smallworld import random_cluster

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


def _cluster(seed: int):
    doc = random_cluster(seed, max_nodes=6, kafka_heavy=seed % 4 == 3)
    return parse_cluster(doc, f"random-{seed}")


def survived_by_planner(cluster, failed) -> bool:
    """The reference: no volume loses every replica, and the planner's plan meets every invariant."""
    scenario = Scenario(cluster, Failures(frozenset(failed)))
    if any(any(n in failed for n in v.replicas) for v in scenario.lost_volumes):
        return False
    return plan_recovery(cluster, scenario.failures, PlanOptions(time_limit=20, verify_with_z3=False)).status.meets_invariants


def brute_force(cluster, k: int) -> dict[tuple[str, ...], bool]:
    names = [n.name for n in cluster.nodes]
    return {s: survived_by_planner(cluster, s) for size in range(1, k + 1) for s in combinations(names, size)}


@pytest.mark.slow  # a long sweep: run by make test, skipped by make test-fast
@pytest.mark.parametrize("seed", range(110))
def test_sweep_agrees_with_brute_force(seed):
    cluster = _cluster(seed)
    k = 3 if seed < 40 else 2
    result = check_resilience(cluster, k, audit=True)
    if judge_start(cluster) is not None:  # already broken: the empty set is the counterexample
        assert result.tolerates is False and result.counterexample.failed == () and result.scenarios == 1
        assert result.counterexample.violations or result.counterexample.data_lost
        return
    truth = brute_force(cluster, k)
    failing = [s for s, ok in truth.items() if not ok]
    assert result.tolerates == (not failing)
    if failing:
        assert len(result.counterexample.failed) == min(len(s) for s in failing)
        assert not truth[result.counterexample.failed]
    else:
        assert result.counterexample is None
    judged = {s: ok for s, ok in truth.items() if len(s) <= result.judged_up_to}
    assert result.scenarios == len(judged)
    assert result.failing == sum(1 for ok in judged.values() if not ok)
    if result.judged_up_to < k:  # capped: failing every node that keeps data loses data
        assert result.notes and failing


@pytest.mark.parametrize("seed", range(110))
def test_data_loss_stays_lost_when_more_fails(seed):
    """What pruning relies on: every superset of a data-losing set loses data (and fails)."""
    cluster = _cluster(seed)
    names = [n.name for n in cluster.nodes]
    sets = [s for size in range(1, 4) for s in combinations(names, size)]
    losing = [s for s in sets if Scenario(cluster, Failures(frozenset(s))).lost_volumes]
    for s in losing:
        for t in sets:
            if len(t) > len(s) and set(s) <= set(t):
                assert t in losing
                assert not survived_by_planner(cluster, t)


def test_making_room_survives_what_fixed_healthy_replicas_would_not():
    """node-1 failing alone leaves no node with room for pvc-2 while healthy pvc-1 stays on node-4;
    moving pvc-1 makes room (CONTRACT section 5), so the failure is survived, and the sweep agrees."""
    cluster = _cluster(100)
    assert survived_by_planner(cluster, ("node-1",))
    result = check_resilience(cluster, 2)
    truth = brute_force(cluster, 2)
    assert result.failing == sum(1 for ok in truth.values() if not ok)


def test_a_making_room_recovery_is_reused_for_its_supersets(monkeypatch):
    """node-1 survives only by moving healthy pvc-1: that recovery, repaired for one more failed
    node and passing the plain checks, certifies supersets the solver was asked before; fewer
    solver calls, and the verdicts of judging every set."""
    from placement.resilience import sweep

    cluster = _cluster(100)
    every = check_resilience(cluster, 2, compose_recoveries=False, making_room=False)
    # the making-room greedy off: it would certify some of the sets repair does (tests/test_making_room.py)
    reused = check_resilience(cluster, 2, audit=True, making_room=False)
    monkeypatch.setattr(sweep._Judge, "repaired", lambda self, combo, members, scenario=None: None)
    dropped = check_resilience(cluster, 2, audit=True, making_room=False)
    assert reused.repaired > 0 and dropped.repaired == 0
    assert reused.solved == dropped.solved - reused.repaired
    assert reused.solved < dropped.solved <= every.solved
    for result in (reused, dropped):
        assert (result.tolerates, result.failing, result.undecided) == (every.tolerates, every.failing, 0)
        assert result.counterexample.failed == every.counterexample.failed
    assert every.failing == sum(1 for ok in brute_force(cluster, 2).values() if not ok)


@pytest.mark.slow  # a long sweep: run by make test, skipped by make test-fast
@pytest.mark.parametrize("seed", range(60))
def test_pruning_and_symmetry_never_change_a_verdict(seed):
    cluster = _cluster(seed)
    plain = check_resilience(cluster, 3, prune=False, symmetry=False, compose_recoveries=False)
    fast = check_resilience(cluster, 3, audit=True)
    assert (fast.tolerates, fast.failing, fast.scenarios) == (plain.tolerates, plain.failing, plain.scenarios)
    assert (len(fast.counterexample.failed) if fast.counterexample else None) == \
        (len(plain.counterexample.failed) if plain.counterexample else None)
    assert plain.pruned == 0 and plain.symmetric == 0


@pytest.mark.parametrize("seed", range(6))
def test_composed_recoveries_pass_the_plain_checks_and_change_no_verdict(seed):
    from placement.models.generate import generate_cluster

    cluster = generate_cluster(nodes=18, zones=3, brokers=6, volumes=18, partitions=60, seed=seed)
    composed = check_resilience(cluster, 2, audit=True)  # audit: every composed target is checked
    searched = check_resilience(cluster, 2, compose_recoveries=False)
    assert composed.composed > 0
    assert (composed.tolerates, composed.failing) == (searched.tolerates, searched.failing)


def varied(seed: int):
    """A generated cluster under another policy: racks required, brokers preferred on their data,
    two brokers a node with tight CPU, cordoned nodes, and fuller storage (so that merged
    recoveries must place replicas again, and sometimes cannot)."""
    from dataclasses import replace

    from placement.models.cluster import BrokerPlacement, NodeState, RackAware
    from placement.models.generate import generate_cluster

    rng = __import__("random").Random(seed)
    size = dict(nodes=rng.randint(12, 18), zones=rng.choice([3, 4]), brokers=6, volumes=rng.randint(14, 22),
                partitions=40, seed=seed)
    try:
        cluster = generate_cluster(**size, storage_gib=rng.choice([1400, 2000]))
    except ValueError:  # too full to generate: roomier
        cluster = generate_cluster(**size, storage_gib=4000)
    policy = replace(cluster.policy, rack_aware=rng.choice([RackAware.REQUIRED, RackAware.PREFERRED]),
                     broker_placement=rng.choice([BrokerPlacement.REQUIRED, BrokerPlacement.PREFERRED]),
                     brokers_per_node=rng.choice([1, 2]))
    nodes = tuple(replace(n, state=NodeState.CORDONED) if rng.random() < 0.1 else
                  replace(n, cpu_millicores=rng.choice([4000, 8000, 32000])) for n in cluster.nodes)
    return replace(cluster, policy=policy, nodes=nodes)


@pytest.mark.slow  # some of these clusters need many solver calls
@pytest.mark.parametrize("seed", range(16))
def test_composition_under_other_policies_changes_no_verdict(seed):
    """Composed and repaired recoveries on clusters that are not the generator's default: every one
    passes the plain checks (audit), and the verdicts and counts equal judging every set."""
    from placement.resilience.sweep import judge_start

    cluster = varied(seed)
    if judge_start(cluster) is not None:
        pytest.skip("the varied start already breaks an invariant")
    k = 2 if len(cluster.nodes) > 14 else 3
    composed = check_resilience(cluster, k, audit=True, time_limit=10)
    searched = check_resilience(cluster, k, compose_recoveries=False, time_limit=10)
    assert composed.composed > 0
    if composed.undecided or searched.undecided:  # a solver timeout (either run) decides nothing
        assert abs(composed.failing - searched.failing) <= composed.undecided + searched.undecided
        return
    assert (composed.tolerates, composed.failing) == (searched.tolerates, searched.failing)
    assert (composed.counterexample.failed if composed.counterexample else None) == \
        (searched.counterexample.failed if searched.counterexample else None)


def test_symmetry_judges_one_of_interchangeable_empty_nodes():
    doc = {"policy": {"zoneSpread": False},
           "nodes": [{"name": f"n{i}", "storageGiB": 100} for i in range(8)],
           "volumes": [{"name": "v", "sizeGiB": 10, "replicas": ["n0", "n1", "n2"]}]}
    cluster = parse_cluster(doc, "sym")
    result = check_resilience(cluster, 2)
    assert result.scenarios == 8 + 28
    assert result.symmetric > 0 and result.tolerates
    assert result.solved + result.bounded + result.symmetric + result.pruned == result.scenarios


def test_pruned_supersets_are_counted_not_judged():
    doc = {"policy": {"zoneSpread": False, "volumeReplicationFactor": 1},
           "nodes": [{"name": f"n{i}", "storageGiB": 100} for i in range(5)],
           "volumes": [{"name": "v", "sizeGiB": 10, "replicas": ["n0"]},
                       {"name": "w", "sizeGiB": 10, "replicationFactor": 3, "replicas": ["n1", "n2", "n3"]}]}
    cluster = parse_cluster(doc, "rf1")
    result = check_resilience(cluster, 2)
    assert result.tolerates is False and result.counterexample.failed == ("n0",)
    assert result.counterexample.data_lost == ("v",)
    assert result.pruned == 4  # every pair with n0
    assert result.failing == 5


def _least_by_enumeration(items):
    nodes = sorted(set().union(*items.values()))
    for size in range(0, len(nodes) + 1):
        for s in combinations(nodes, size):
            if any(group <= set(s) for group in items.values()):
                return size
    return None


@pytest.mark.parametrize("seed", range(80))
def test_minima_agree_with_enumeration(seed):
    cluster = _cluster(seed)
    for m, items in zip(data_loss_minima(cluster), (volume_items(cluster), partition_items(cluster))):
        expected = _least_by_enumeration(items) if items else None
        assert m.failures == expected
        if expected is not None:
            assert m.proven and len(m.witness) == expected
            assert m.loses and all(items[name] <= set(m.witness) for name in m.loses)
            assert prove_minimum(items, m.failures)
            assert not prove_minimum(items, m.failures + 1)  # one more is not a valid lower bound


def test_seed_minima_are_stated_and_proven():
    cluster = load_cluster(SEED)
    volume, partition = data_loss_minima(cluster)
    assert (volume.failures, partition.failures) == (3, 4)
    assert volume.proven and partition.proven
    assert prove_minimum(volume_items(cluster), 3) and prove_minimum(partition_items(cluster), 4)


def test_parallel_jobs_agree_with_one_process():
    cluster = _cluster(7)
    one = check_resilience(cluster, 3)
    two = check_resilience(cluster, 3, jobs=2)
    assert (one.tolerates, one.failing, one.scenarios, one.pruned) == (two.tolerates, two.failing, two.scenarios, two.pruned)
    assert one.counterexample == two.counterexample


@pytest.mark.slow  # starts a Dask cluster: run by make test, skipped by make test-fast
def test_dask_local_cluster_agrees_with_local_run():
    distributed = pytest.importorskip("distributed")
    cluster = _cluster(11)
    local = check_resilience(cluster, 2, zones=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as lc:
        remote = check_resilience(cluster, 2, zones=True, scheduler=lc.scheduler_address)
    assert (remote.tolerates, remote.failing, remote.scenarios, remote.pruned) == \
        (local.tolerates, local.failing, local.scenarios, local.pruned)
    assert remote.counterexample == local.counterexample


def run(*args):
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_check_seed_survives_two_failures_and_zones():
    code, out, _ = run("check", str(SEED), "--failures", "2", "--zones", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["tolerates"] is True and doc["counterexample"] is None
    assert doc["scenarios"] == 5 + 10 + 3 and doc["checked"] == doc["scenarios"]


def test_cli_check_finds_the_smallest_counterexample_and_explains_it():
    code, out, _ = run("check", str(SEED), "--failures", "3", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["tolerates"] is False
    ce = doc["counterexample"]
    assert len(ce["failed"]) == 3 and ce["dataLost"] and ce["violations"]
    code, out, _ = run("check", str(SEED), "--failures", "3")
    assert code == 1 and "NO" in out and "fix (I7)" in out


def test_cli_check_bad_input_is_exit_2(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("nodes: [{name: Node_1}]\n")
    code, _, err = run("check", str(bad), "--failures", "1")
    assert code == 2 and "Node_1" in err and "Traceback" not in err
    code, _, err = run("check", str(SEED), "--jobs", "0")
    assert code == 2


def test_library_check_returns_a_result_object():
    import placement

    result = placement.check(load_cluster(SEED), failures=1, minimum=True)
    assert result.tolerates is True and [m.what for m in result.minima] == ["volume", "partition"]
    assert result.to_document()["minimum"]["volume"]["failures"] == 3


def test_progress_reports_every_scenario():
    seen = []
    result = check_resilience(_cluster(5), 2, zones=True, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (result.scenarios, result.scenarios)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))


def test_unreachable_scheduler_is_bad_input():
    pytest.importorskip("distributed")
    code, _, err = run("check", str(SEED), "--scheduler", "tcp://127.0.0.1:9", "--format", "json")
    assert code == 2 and "--scheduler" in err and "Traceback" not in err


def test_solver_started_from_a_subsets_recovery_reaches_the_same_verdict():
    from placement.resilience.sweep import baseline_valid, judge

    compared = 0
    for seed in range(120):
        cluster = _cluster(seed)
        ok = baseline_valid(cluster)
        names = [n.name for n in cluster.nodes]
        singles = {n: judge(cluster, (n,), baseline_ok=ok) for n in names}
        for a, b in combinations(names, 2):
            warm = singles[a].footprint
            if warm is None:
                continue
            cold = judge(cluster, (a, b), baseline_ok=ok)
            if cold.decided_by != "solver":
                continue
            hot = judge(cluster, (a, b), baseline_ok=ok, warm=warm)
            assert hot.survived == cold.survived
            compared += 1
    assert compared >= 10


# -- the cluster as it is, and the bounds on what the sweep is asked (issues 9 and 11) --------

def seed_doc() -> dict:
    import yaml

    return yaml.safe_load(SEED.read_text())


def write_doc(tmp_path, doc) -> str:
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_a_cluster_that_already_lost_a_volume_survives_no_failure(tmp_path):
    doc = seed_doc()
    doc["nodes"].append({"name": "node-6", "zone": "zone-c", "state": "failed", "storageGiB": 1000})
    doc["volumes"].append({"name": "pvc-gone", "sizeGiB": 10, "replicationFactor": 1, "replicas": ["node-6"]})
    code, out, _ = run("check", write_doc(tmp_path, doc), "--failures", "0", "--format", "json")
    result = json.loads(out)
    assert code == 1 and result["tolerates"] is False and result["start"]["valid"] is False
    assert result["counterexample"]["failed"] == [] and result["counterexample"]["dataLost"] == ["pvc-gone"]
    assert result["counterexample"]["decidedBy"] == "start" and result["scenarios"] == 1
    code, out, _ = run("check", write_doc(tmp_path, doc), "--failures", "2")
    assert code == 1 and "As it is, before anything fails" in out and "pvc-gone" in out


def test_a_broker_already_over_its_nodes_cpu_survives_no_failure(tmp_path):
    doc = seed_doc()
    doc["nodes"][0]["cpu"] = 1
    doc["brokers"][0]["cpu"] = 4
    code, out, err = run("check", write_doc(tmp_path, doc), "--failures", "2", "--format", "json")
    result = json.loads(out)
    assert code == 1 and result["counterexample"]["failed"] == []
    assert any(v["invariant"] == "I5" for v in result["counterexample"]["violations"])
    assert result["judgedUpTo"] == 0 and "no failure set was judged" in err


def test_a_node_over_its_storage_is_the_start_not_one_failures_counterexample(tmp_path):
    doc = seed_doc()
    doc["nodes"][2]["storageGiB"] = 250  # node-3 holds 300 GiB
    result = json.loads(run("check", write_doc(tmp_path, doc), "--failures", "1", "--format", "json")[1])
    assert result["counterexample"]["failed"] == [] and result["failing"] == 1
    assert [v["invariant"] for v in result["counterexample"]["violations"]] == ["I5"]


def test_failures_beyond_the_least_data_loss_are_capped_and_said():
    code, out, err = run("check", str(SEED), "--failures", "40", "--format", "json")
    result = json.loads(out)
    assert code == 1 and result["failures"] == 40 and result["judgedUpTo"] == 3  # 3 failures lose pvc-kafka-1
    assert "capped at 3" in err and result["notes"]
    truth = brute_force(load_cluster(SEED), 5)  # the planner on every set of up to 5 nodes (all of them)
    failing = sorted((len(s), s) for s, ok in truth.items() if not ok)
    assert tuple(result["counterexample"]["failed"]) == failing[0][1]  # the smallest, as without the cap


def test_failures_beyond_the_nodes_that_keep_data_are_capped_and_said():
    doc = {"policy": {"zoneSpread": False, "volumeReplicationFactor": 1},
           "nodes": [{"name": f"n{i}", "storageGiB": 100} for i in range(5)],
           "volumes": [{"name": "v", "sizeGiB": 10, "replicas": ["n0"]}]}
    result = check_resilience(parse_cluster(doc, "one-keeper"), 2)
    assert result.judged_up_to == 1 and "only 1 live nodes keep data" in result.notes[0]
    assert result.tolerates is False and result.counterexample.failed == ("n0",)


def test_jobs_beyond_the_cpus_are_capped_and_said(monkeypatch):
    from placement.resilience import sweep

    monkeypatch.setattr(sweep, "_cpus", lambda: 2)
    result = check_resilience(_cluster(7), 1, jobs=100)
    assert result.jobs == 2 and any("--jobs 100 capped at 2" in n for n in result.notes)


@pytest.mark.parametrize("address", ["not an address", "tcp://", "tcp://host:99999", "http://host:8786", "host",
                                     "tcp://host:port", "a b:1", "", "tcp://h\n:1"])
def test_a_malformed_scheduler_address_is_bad_input(address):
    code, _, err = run("check", str(SEED), "--scheduler", address)
    assert code == 2 and "--scheduler" in err and "Traceback" not in err


@pytest.mark.parametrize("kwargs", [dict(failures="2"), dict(failures=-1), dict(failures=True), dict(failures=1.5),
                                    dict(jobs=0), dict(jobs="2"), dict(time_limit=0), dict(time_limit="1"),
                                    dict(scheduler=5)])
def test_library_check_refuses_wrong_arguments(kwargs):
    import placement

    with pytest.raises(placement.InputError):
        placement.check(load_cluster(SEED), **kwargs)

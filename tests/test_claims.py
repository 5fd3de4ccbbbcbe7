"""verify recomputes what a plan document claims about itself (placement/claims.py): its cluster, its
status and violations, what the start already broke, and its metrics. A claim that does not hold is a
plan that does not verify (exit 1); a claim of the wrong shape is a malformed document (exit 2). The
planner's own documents make only claims that hold, degraded ones included."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import placement
from placement import cli
from placement.models.loading import parse_cluster

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


@pytest.fixture(scope="module")
def seed():
    return placement.load_cluster(SEED)


@pytest.fixture(scope="module")
def seed_document(seed):
    return placement.plan(seed, fail=["node-2"]).to_document()


def claims_of(verdict) -> dict[str, str]:
    return {c.field: c.message for c in verdict.false_claims}


def lie(document: dict, change) -> dict:
    document = copy.deepcopy(document)
    change(document)
    return document


def test_the_planners_own_document_verifies_with_no_false_claim(seed, seed_document):
    verdict = placement.verify(seed, seed_document)
    assert verdict.ok and verdict.false_claims == ()


@pytest.mark.parametrize("example, fail, remove", [
    ("impossible", ["node-3"], []),  # degraded: its violations are the truth, not a false claim
    ("seed", [], [2]),  # a retired broker
    ("tight-capacity", ["node-1", "node-4"], []),
    ("zone-loss", [], []),
])
def test_the_planners_documents_make_only_claims_that_hold(example, fail, remove):
    cluster = placement.load_cluster(ROOT / "examples" / f"{example}.yaml")
    document = json.loads(json.dumps(placement.plan(cluster, fail=fail, remove_brokers=remove).to_document()))
    verdict = placement.verify(cluster, document)
    assert verdict.false_claims == ()
    assert verdict.ok == (document["status"] in ("optimal", "feasible"))


def test_a_node_back_with_stale_replicas_resyncs_as_its_metrics_say():
    doc = yaml.safe_load(SEED.read_text())
    doc["volumes"][0]["stale"] = {"node-2": 6}
    cluster = parse_cluster(doc, "return.yaml")
    document = placement.plan(cluster).to_document()
    assert document["metrics"]["resyncedVolumeReplicas"] == 1
    assert placement.verify(cluster, document).false_claims == ()
    lied = lie(document, lambda d: d["metrics"].update(resyncedVolumeReplicas=0))
    assert claims_of(placement.verify(cluster, lied)) == {"metrics.resyncedVolumeReplicas": "is 0, but the target gives 1"}


def test_a_plan_for_another_cluster_does_not_verify(seed, seed_document):
    verdict = placement.verify(seed, lie(seed_document, lambda d: d.update(cluster="other")))
    assert not verdict.ok and not verdict.violations
    assert claims_of(verdict) == {"cluster": "names cluster 'other', but it is judged against cluster 'seed': "
                                             "a plan made for another cluster"}


def test_a_degraded_status_with_nothing_broken_does_not_verify(seed, seed_document):
    verdict = placement.verify(seed, lie(seed_document, lambda d: d.update(status="degraded")))
    assert not verdict.ok
    assert list(claims_of(verdict)) == ["status"] and "meets every one" in claims_of(verdict)["status"]


def test_an_optimal_status_over_a_broken_target_is_a_false_claim_too(seed, seed_document):
    def short(d):
        d["placement"]["volumes"]["pvc-kafka-1"] = d["placement"]["volumes"]["pvc-kafka-1"][:2]
        d["steps"] = []
    claims = claims_of(placement.verify(seed, lie(seed_document, short)))
    assert claims["status"] == "is optimal, which says every invariant holds, but the target breaks I1, I2"
    assert "violations" not in claims  # one claim for one lie: the status says it


def test_violations_that_name_other_invariants_than_those_broken_do_not_verify(seed, seed_document):
    listed = [{"invariant": "I5", "message": "node-1 is full"}]
    claims = claims_of(placement.verify(seed, lie(seed_document, lambda d: d.update(violations=listed))))
    assert claims == {"violations": "name I5 broken, but the target breaks none"}


def test_preexisting_problems_invented_or_hidden_do_not_verify(seed, seed_document):
    invented = [{"invariant": "I5", "message": "node-1 over its storage"}]
    claims = claims_of(placement.verify(seed, lie(seed_document, lambda d: d.update(preexisting=invented))))
    assert claims == {"preexisting": "names I5 already broken, but the cluster as it is breaks none"}


@pytest.mark.parametrize("key, value, fragment", [
    ("copiedGiB", 1, "is 1 GiB, but the target copies 75 GiB"),
    ("copiedGiB", 75.5, "is 75.5 GiB, but the target copies 75 GiB"),
    ("copiedGiB", "75", "is '75', but the target copies 75 GiB"),
    ("newVolumeReplicas", 0, "is 0, but the target gives 2"),
    ("droppedVolumeReplicas", 5, "is 5, but the target gives 2"),
    ("movedBrokers", 0, "is 0, but the target gives 1"),
    ("lostVolumes", ["pvc-kafka-0"], "is 'pvc-kafka-0', but the target gives none"),
])
def test_metrics_that_do_not_match_the_target_do_not_verify(seed, seed_document, key, value, fragment):
    claims = claims_of(placement.verify(seed, lie(seed_document, lambda d: d["metrics"].update({key: value}))))
    assert claims[f"metrics.{key}"].startswith(fragment)


def test_claims_a_document_does_not_make_are_not_judged(seed, seed_document):
    def bare(d):
        for key in ("cluster", "status", "violations", "preexisting", "metrics"):
            d.pop(key)
    assert placement.verify(seed, lie(seed_document, bare)).ok
    rounded = lie(seed_document, lambda d: d["metrics"].update(copiedGiB=75.0004))  # written to three decimals
    assert placement.verify(seed, rounded).ok


# -- the command line -----------------------------------------------------------------------------

def run(tmp_path, document) -> tuple[int, str, str]:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(cli.main, ["verify", str(SEED), str(path)])
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_says_which_claims_do_not_hold_and_exits_1(tmp_path, seed_document):
    code, out, err = run(tmp_path, lie(seed_document, lambda d: d["metrics"].update(copiedGiB=1)))
    assert code == 1 and err == ""
    assert "does not verify (its target meets every invariant, but what it says about itself does not hold)" in out
    assert "metrics.copiedGiB: is 1 GiB, but the target copies 75 GiB" in out
    assert "verified" not in out.replace("does not verify", "")


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d.update(status="great"), "status: is 'great'; expected one of optimal, feasible, degraded, infeasible"),
    (lambda d: d.update(violations="none"), "violations: expected a list of objects"),
    (lambda d: d.update(preexisting=[{"message": "x"}]), "preexisting: expected a list of objects"),
    (lambda d: d.update(metrics=[1]), "metrics: expected an object"),
    (lambda d: d.pop("version"), "version: is missing; this placement reads plan documents of version 1"),
])
def test_a_claim_of_the_wrong_shape_is_a_malformed_document_exit_2(tmp_path, seed_document, change, fragment):
    code, out, err = run(tmp_path, lie(seed_document, change))
    assert code == 2 and out == ""
    assert fragment in err and "Traceback" not in err

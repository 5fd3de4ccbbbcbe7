"""Every generated page, opened in headless Chromium: no console error, no network request, every
node, broker, copy, broker move and dropped replica in the rendered DOM, no two node boxes
overlapping (from the rendered geometry), and a screenshot that is not blank.

Pages: the plan page of every example, check pages (a counterexample and a survived
check), the demo's index.html and each act's SVG, a 1,000-node cluster's single-node
failure and (slow) its whole-zone failure.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from placement import cli
from placement.models.generate import generate_cluster
from placement.models.loading import load_cluster
from tests import browser
from tests.test_examples import EXAMPLES, RUNS

REASON = browser.unavailable()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

BENCH_CLUSTER = dict(nodes=1000, zones=3, brokers=300, volumes=3000, partitions=30_000, seed=1)
MAX_PAGE_BYTES = 5 * 1024 * 1024

DOM = """() => {
  const all = s => Array.from(document.querySelectorAll(s));
  const geometry = e => { const r = e.getBoundingClientRect();
    return {x: r.x + window.scrollX, y: r.y + window.scrollY, width: r.width, height: r.height}; };
  const figure = e => { const f = e.closest('svg.placement'); return f ? f.id : ''; };
  return {
    nodes: all('[data-node]').map(e => e.getAttribute('data-node')),
    brokers: all('[data-broker]').map(e => e.getAttribute('data-broker')),
    boxes: all('g.node > rect.node-box').map(e => ({name: figure(e) + ':' + e.parentNode.getAttribute('data-node'),
                                                    ...geometry(e)})),
    copies: all('[data-copy]').map(e => ({key: e.getAttribute('data-copy'), svg: !!e.closest('svg'),
                                          ...geometry(e)})),
    moves: all('[data-move]').map(e => ({key: e.getAttribute('data-move'), svg: !!e.closest('svg'),
                                         ...geometry(e)})),
    drops: all('[data-drop]').map(e => e.getAttribute('data-drop')),
    bundles: all('[data-bundle]').map(e => ({key: e.getAttribute('data-bundle'),
                                             count: +e.getAttribute('data-count')})),
    untitled: all('svg.placement g.node, svg.placement g.arrow, svg.placement .broker-chip, '
                  + 'svg.placement .replica-chip')
      .filter(e => !Array.from(e.children).some(c => c.tagName.toLowerCase() === 'title'))
      .map(e => e.outerHTML.slice(0, 120)),
  };
}"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    b = browser.Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def run(*args: str) -> int:
    result = CliRunner().invoke(cli.main, list(args))
    assert result.exit_code in (0, 1), result.output + result.stderr
    return result.exit_code


def expectations(cluster, plan: dict | None) -> dict:
    steps = (plan or {}).get("steps") or []
    return {
        "nodes": {n.name for n in cluster.nodes},
        "brokers": {str(b.id) for b in cluster.brokers},
        "copies": {f"{s['volume']}|{s['source']}|{s['node']}" for s in steps if s["action"] == "add-volume-replica"},
        "moves": {f"{s['broker']}|{s['from']}|{s['to']}" for s in steps if s["action"] == "move-broker"},
        "drops": {f"{s['volume']}|{s['node']}" for s in steps if s["action"] == "drop-volume-replica"},
    }


def judge(chromium: browser.Browser, path: Path, expected: dict) -> browser.Loaded:
    """Open the page and fail on anything missing, overlapping, erroring or blank."""
    loaded = chromium.load(path)
    assert not loaded.errors, f"{path.name}: {loaded.errors}"
    dom = chromium.evaluate(DOM)
    assert not (missing := expected["nodes"] - set(dom["nodes"])), f"{path.name}: nodes missing: {sorted(missing)}"
    missing = expected["brokers"] - set(dom["brokers"])
    assert not missing, f"{path.name}: brokers missing: {sorted(missing)}"
    assert not dom["untitled"], f"{path.name}: shapes without a title: {dom['untitled'][:3]}"
    copies = {c["key"] for c in dom["copies"]}
    moves = {m["key"] for m in dom["moves"]}
    assert not (missing := expected["copies"] - copies), f"{path.name}: copies missing: {sorted(missing)[:5]}"
    assert not (missing := expected["moves"] - moves), f"{path.name}: broker moves missing: {sorted(missing)[:5]}"
    assert not (missing := expected["drops"] - set(dom["drops"])), f"{path.name}: drops missing: {sorted(missing)[:5]}"
    bundles = [b for b in dom["bundles"] if b["key"].startswith("copy|")]
    if bundles:  # bundled per pair of zones: together they count every copy
        assert sum(b["count"] for b in bundles) == len(expected["copies"])
        assert sum(b["count"] for b in dom["bundles"] if b["key"].startswith("move|")) == len(expected["moves"])
    else:  # one arrow each, drawn (not only listed)
        drawn = {c["key"] for c in dom["copies"] if c["svg"] and c["width"] > 0 and c["height"] > 0}
        assert not (missing := expected["copies"] - drawn), f"{path.name}: copy arrows not drawn: {sorted(missing)[:5]}"
        drawn = {m["key"] for m in dom["moves"] if m["svg"] and m["width"] > 0 and m["height"] > 0}
        assert not (missing := expected["moves"] - drawn), f"{path.name}: move arrows not drawn: {sorted(missing)[:5]}"
    assert dom["boxes"], f"{path.name}: no node box was drawn"
    by_figure: dict[str, list] = {}
    for box in dom["boxes"]:
        assert box["width"] > 0 and box["height"] > 0, f"{path.name}: {box['name']} has no area"
        by_figure.setdefault(box["name"].split(":")[0], []).append(box)
    for figure, boxes in by_figure.items():
        assert not (pairs := browser.overlaps(boxes)), f"{path.name}: node boxes overlap in {figure}: {pairs[:5]}"
    assert (why := browser.blank(loaded.screenshot)) is None, f"{path.name}: {why}"
    return loaded


@pytest.mark.parametrize("name", sorted(RUNS))
def test_plan_page_of_every_example(chromium, tmp_path, name):
    (fail, zones), _ = RUNS[name]
    options = [a for n in fail for a in ("--fail", n)] + [a for z in zones for a in ("--fail-zone", z)]
    html, doc = tmp_path / "plan.html", tmp_path / "plan.json"
    run("plan", str(EXAMPLES / name), *options, "--format", "html", "-o", str(html))
    run("plan", str(EXAMPLES / name), *options, "--format", "json", "-o", str(doc))
    judge(chromium, html, expectations(load_cluster(EXAMPLES / name), json.loads(doc.read_text())))


def test_check_page_draws_the_counterexample_and_the_minima(chromium, tmp_path):
    html = tmp_path / "check.html"
    assert run("check", str(EXAMPLES / "fragile.yaml"), "--failures", "2", "--minimum", "--format", "html",
               "-o", str(html)) == 1
    judge(chromium, html, expectations(load_cluster(EXAMPLES / "fragile.yaml"), None))
    failed = chromium.evaluate("() => Array.from(document.querySelectorAll("
                               "'#check-counterexample g.node[data-state=failed]')).map(e => e.dataset.node)")
    assert sorted(failed) == ["node-1", "node-3"]
    lost = chromium.evaluate("() => document.querySelectorAll('#check-counterexample .replica-chip"
                             "[data-state=data-lost]').length")
    assert lost == 2  # pvc-kafka-0's two replicas, both on the failed nodes
    assert chromium.evaluate("() => document.querySelectorAll('[data-minimum]').length") == 2


def test_check_page_of_a_cluster_that_survives(chromium, tmp_path):
    html = tmp_path / "check.html"
    assert run("check", str(EXAMPLES / "seed.yaml"), "--failures", "1", "--zones", "--format", "html",
               "-o", str(html)) == 0
    judge(chromium, html, expectations(load_cluster(EXAMPLES / "seed.yaml"), None))
    assert chromium.evaluate("() => document.querySelector('[data-verdict]').dataset.verdict") == "yes"


def test_ok_to_stop_page_draws_the_stopped_nodes(chromium, tmp_path):
    html = tmp_path / "ok.html"
    assert run("check", str(EXAMPLES / "seed.yaml"), "--ok-to-stop", "node-2", "node-4", "--format", "html",
               "-o", str(html)) == 1
    judge(chromium, html, expectations(load_cluster(EXAMPLES / "seed.yaml"), None))
    stopped = chromium.evaluate("() => Array.from(document.querySelectorAll("
                                "'#ok-to-stop g.node[data-state=stopped]')).map(e => e.dataset.node)")
    assert sorted(stopped) == ["node-2", "node-4"]
    assert chromium.evaluate("() => document.querySelector('[data-short]').dataset.short") == "volume pvc-kafka-1"


def test_waves_page_draws_each_wave_stopped(chromium, tmp_path):
    html = tmp_path / "waves.html"
    assert run("check", str(EXAMPLES / "zone-loss.yaml"), "--waves", "--format", "html", "-o", str(html)) == 0
    judge(chromium, html, expectations(load_cluster(EXAMPLES / "zone-loss.yaml"), None))
    for i, zone in enumerate(("a", "b", "c"), 1):
        stopped = chromium.evaluate(f"() => Array.from(document.querySelectorAll("
                                    f"'#wave-{i} g.node[data-state=stopped]')).map(e => e.dataset.node)")
        assert sorted(stopped) == [f"{zone}-1", f"{zone}-2", f"{zone}-3"]
    assert chromium.evaluate("() => document.querySelectorAll('[data-wave]').length") == 3


def test_demo_pages(chromium, tmp_path):
    run("demo", "--html", str(tmp_path))
    cluster = load_cluster(EXAMPLES / "seed.yaml")
    everything = expectations(cluster, None)
    judge(chromium, tmp_path / "index.html", everything)
    acts = sorted(tmp_path.glob("act-*.svg"))
    assert len(acts) >= 4
    for act in acts:
        judge(chromium, act, everything)


def _large(chromium, tmp_path, fail_args: list[str]) -> tuple[browser.Loaded, int]:
    cluster = generate_cluster(**BENCH_CLUSTER)
    import placement
    from placement.render.plan_page import plan_page

    failures = {"fail": fail_args} if fail_args and fail_args[0].startswith("node") else {"fail_zones": fail_args}
    document = placement.plan(cluster, **failures, time_limit=120).to_document()
    html = tmp_path / "large.html"
    html.write_text(plan_page(cluster, document), encoding="utf-8")
    size = html.stat().st_size
    assert size < MAX_PAGE_BYTES, f"the page is {size / 2**20:.1f} MiB"
    return judge(chromium, html, expectations(cluster, document)), size


def test_one_node_of_the_1000_node_cluster(chromium, tmp_path):
    cluster = generate_cluster(**BENCH_CLUSTER)
    _large(chromium, tmp_path, [cluster.brokers[0].node])
    strips = chromium.evaluate("() => document.querySelectorAll('#plan-cluster rect.heat').length")
    assert strips == 1000  # every node summarised in its zone's strip


@pytest.mark.slow
def test_a_whole_zone_of_the_1000_node_cluster(chromium, tmp_path):
    _large(chromium, tmp_path, ["zone-b"])
    boxes = chromium.evaluate("() => document.querySelectorAll('#plan-cluster g.node').length")
    assert boxes == 1000  # a zone failure touches every node: the failed ones and those that copy

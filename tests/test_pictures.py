"""The pictures without a browser: what a scene says agrees with the plan, every shape is
labelled or titled, states are told apart by words and patterns as well as colour, stale
replicas are drawn as such, the pages stand alone, and docs/demo is what the demo draws now.
(tests/test_pictures_browser.py opens the same pages in headless Chromium.)"""
from __future__ import annotations

import copy
import filecmp
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement import cli
from placement.models.failures import resolve_failures
from placement.models.loading import load_cluster, parse_cluster
from placement.render.check_page import check_page
from placement.render.cluster_figure import draw_cluster, legend
from placement.render.plan_page import plan_page
from placement.render.scene import DATA_LOST, DROPPED, KEPT, LOST, NEW, scene
from placement.render.story import Act, Panel, act_svg, write_story
from placement.render.timeline_figure import draw_dependencies, draw_timeline
from placement.solve.planner import PlanOptions, plan_recovery
from tests.smallworld import random_cluster
from tests.test_examples import EXAMPLES, RUNS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "demo"
SVG = "{http://www.w3.org/2000/svg}"
SHAPES = {"rect", "path", "line", "circle", "polygon", "ellipse"}


def _plan(name: str):
    (fail, zones), _ = RUNS[name]
    cluster = load_cluster(EXAMPLES / name)
    return cluster, plan_recovery(cluster, resolve_failures(cluster, fail, zones)).to_document()


def untitled_shapes(svg_text: str) -> list[str]:
    """Shapes outside <defs> with no <title> on themselves or on a group around them (the figure's own
    title does not count), and no text beside them in such a group."""
    root = ET.fromstring(svg_text)
    bad = []

    def walk(element, titled: bool) -> None:
        tag = element.tag.replace(SVG, "")
        if tag == "defs" or tag == "style":
            return
        has_title = any(c.tag.replace(SVG, "") == "title" for c in element)
        if tag in SHAPES and not (titled or has_title):
            bad.append(ET.tostring(element, encoding="unicode")[:120])
        for child in element:
            walk(child, titled or (has_title and element is not root))

    for child in root:
        walk(child, False)
    return bad


def svgs_in(html: str) -> list[str]:
    """Each top-level inline <svg> ... </svg> of a page (nested ones stay inside their parent)."""
    out, depth, start = [], 0, 0
    for m in re.finditer(r"<svg\b|</svg>", html):
        if m.group() == "</svg>":
            depth -= 1
            if depth == 0:
                out.append(html[start:m.end()])
        else:
            if depth == 0:
                start = m.start()
            depth += 1
    return out


# -- the scene agrees with the plan ---------------------------------------------------------

@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_scene_shows_every_step_of_the_plan(name):
    cluster, doc = _plan(name)
    view = scene(cluster, doc)
    steps = doc["steps"]
    assert {(c.volume, c.source, c.target, c.step) for c in view.copies} == {
        (s["volume"], s["source"], s["node"], s["id"]) for s in steps if s["action"] == "add-volume-replica"}
    assert {(m.broker, m.source, m.target) for m in view.moves} == {
        (s["broker"], s["from"], s["to"]) for s in steps if s["action"] == "move-broker"}
    marks = {(r.volume, r.node): r for n in view.nodes for r in n.replicas}
    for s in steps:
        if s["action"] == "drop-volume-replica":
            expected = (LOST, DATA_LOST) if s["node"] in doc["failed"] else (DROPPED,)
            assert marks[s["volume"], s["node"]].state in expected
    assert sorted(view.data_lost) == sorted(doc["metrics"]["lostVolumes"])
    for n in view.nodes:
        target = {v for v, nodes in doc["placement"]["volumes"].items() if n.name in nodes}
        kept = {r.volume for r in n.replicas if r.state in (KEPT, NEW)}
        assert kept == (set() if n.state == "failed" else target), n.name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), data=st.data())
def test_random_plans_drawn_whole(seed, data):
    cluster = parse_cluster(random_cluster(seed, kafka_heavy=seed % 2 == 0), "random")
    failed = data.draw(st.lists(st.sampled_from([n.name for n in cluster.nodes]), max_size=2, unique=True))
    doc = plan_recovery(cluster, resolve_failures(cluster, failed), PlanOptions(time_limit=10)).to_document()
    view = scene(cluster, doc)
    figure = draw_cluster(view, prefix="t", caption="random")
    assert not untitled_shapes(figure.svg)
    root = ET.fromstring(figure.svg)
    drawn = {g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("class") == "node"}
    assert drawn == {n.name for n in cluster.nodes}
    arrows = {g.get("data-copy") for g in root.iter(f"{SVG}g") if g.get("data-copy")}
    assert arrows == {c.key for c in view.copies}
    page = plan_page(cluster, doc)
    for s in doc["steps"]:
        assert f'data-step-row="{s["id"]}"' in page


# -- every shape labelled; colour never the only signal -----------------------------------

@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_shape_has_a_title_or_label(name):
    cluster, doc = _plan(name)
    page = plan_page(cluster, doc)
    figures = svgs_in(page)
    assert len(figures) >= 3  # legend, cluster, and (with steps) the timeline and dependencies
    for svg_text in figures:
        assert not (bad := untitled_shapes(svg_text)), bad[:3]


def test_states_are_told_by_words_and_patterns_not_colour_alone():
    cluster, doc = _plan("impossible.yaml")
    root = ET.fromstring(draw_cluster(scene(cluster, doc), prefix="t", caption="c").svg)
    words = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "replica-chip":
            words.setdefault(g.get("data-state"), set()).add(" ".join(t.text or "" for t in g.iter(f"{SVG}text")))
    assert any("DATA LOST" in w for w in words[DATA_LOST])
    assert all("lost" in w for w in words[LOST])
    failed = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node" and g.get("data-state") == "failed"]
    assert failed
    for g in failed:
        assert any(t.text == "FAILED" for t in g.iter(f"{SVG}text"))
        assert len([ln for ln in g.iter(f"{SVG}line") if ln.get("class") == "cross"]) == 2  # crossed out

    seed, seed_doc = _plan("seed.yaml")
    root = ET.fromstring(draw_cluster(scene(seed, seed_doc), prefix="t", caption="c").svg)
    new = [g for g in root.iter(f"{SVG}g") if g.get("class") == "replica-chip" and g.get("data-state") == NEW]
    assert new and all(any((t.text or "").startswith("new ← node-") for t in g.iter(f"{SVG}text")) for g in new)
    assert all(any(t.text and "GiB" in t.text for t in g.iter(f"{SVG}text"))
               for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("arrow copy"))


def _returned_with_stale() -> dict:
    """The seed after node-2 came back: its old replicas still listed, behind (CONTRACT section 5)."""
    doc = yaml.safe_load((EXAMPLES / "seed.yaml").read_text())
    for v in doc["volumes"]:
        if "node-2" in v["replicas"]:
            v["stale"] = {"node-2": 2 if v["name"] == "pvc-kafka-0" else 5.5}
    doc["brokers"][1]["node"] = "node-4"
    return doc


def test_stale_replicas_are_hatched_and_say_how_far_behind():
    cluster = parse_cluster(_returned_with_stale(), "returned")
    root = ET.fromstring(draw_cluster(scene(cluster), prefix="t", caption="back").svg)
    stale = [g for g in root.iter(f"{SVG}g") if g.get("class") == "replica-chip" and g.get("data-node") == "node-2"]
    assert len(stale) == 2
    texts = sorted(" ".join(t.text or "" for t in g.iter(f"{SVG}text")) for g in stale)
    assert "stale, 2 GiB behind" in texts[0] and "stale, 5.5 GiB behind" in texts[1]
    for g in stale:
        assert "stale" in next(g.iter(f"{SVG}rect")).get("class").split()
        assert "behind" in next(g.iter(f"{SVG}title")).text
    assert "-stale)" in ET.tostring(root, encoding="unicode")  # the hatch pattern, not a colour alone


def test_an_act_can_compare_two_stories_side_by_side():
    returned = parse_cluster(_returned_with_stale(), "returned")
    rebuilt = load_cluster(EXAMPLES / "seed.yaml")
    act = Act(4, "node-2 comes back", "two ways",
              (Panel("Portworx waited for node-2", returned), Panel("Rebuilt at once on node-5", rebuilt)))
    drawing = act_svg(act)
    root = ET.fromstring(drawing)
    panels = [e for e in root if e.tag == f"{SVG}svg"]
    assert [p.get("id") for p in panels] == ["act4-panel1", "act4-panel2"]
    assert float(panels[1].get("x")) >= float(panels[0].get("width"))  # side by side, not on top
    assert "stale, 2 GiB behind" in drawing


# -- the pages ----------------------------------------------------------------------------

def _self_contained(html: str, allowed_links: tuple[str, ...] = ()) -> None:
    assert "<script" not in html.lower()
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert all(link in allowed_links for link in links), links
    assert not re.search(r"url\((?!#)", html)  # CSS reaches only this page's own patterns
    assert "@import" not in html
    without_namespace = html.replace("http://www.w3.org/2000/svg", "")
    assert "http://" not in without_namespace and "https://" not in without_namespace


@pytest.mark.parametrize("name", sorted(RUNS))
def test_plan_pages_are_self_contained_and_say_it_in_words(name):
    cluster, doc = _plan(name)
    html = plan_page(cluster, doc)
    _self_contained(html)
    assert f'data-status="{doc["status"]}"' in html
    assert "Copied data" in html and "Violations" in html and "Proof" in html
    for v in doc["violations"]:
        assert v["message"].replace("'", "&#x27;") in html
    assert "Before the failure" in html  # the plan document's preexisting, said even when empty
    if not doc["preexisting"]:
        assert "no invariant was broken before the failure" in html
    for v in doc["preexisting"]:
        assert v["message"].replace("'", "&#x27;") in html


def test_preexisting_problems_are_listed_when_the_document_has_them():
    cluster, doc = _plan("seed.yaml")
    doc = copy.deepcopy(doc)
    doc["preexisting"] = [{"invariant": "I5", "message": "node-3 holds 1200 of 1000 GiB", "subject": "node node-3"}]
    html = plan_page(cluster, doc)
    assert "Before the failure" in html and "node-3 holds 1200 of 1000 GiB" in html
    doc["preexisting"] = []
    assert "no invariant was broken before the failure" in plan_page(cluster, doc)


def test_timeline_marks_the_busiest_nodes_bound_and_every_step():
    cluster, doc = _plan("zone-loss.yaml")
    gantt = draw_timeline(doc, prefix="g", node_order=[n.name for n in cluster.nodes])
    root = ET.fromstring(gantt.svg)
    steps = {g.get("data-step") for g in root.iter(f"{SVG}g") if g.get("data-step")}
    assert steps == {str(s["id"]) for s in doc["steps"]}
    bound = [g for g in root.iter(f"{SVG}g") if g.get("data-mark") == "bound"]
    assert len(bound) == 1 and doc["metrics"]["timeline"]["busiestNode"] in ET.tostring(bound[0], encoding="unicode")
    busiest = [g for g in root.iter(f"{SVG}g") if g.get("data-row") == doc["metrics"]["timeline"]["busiestNode"]]
    assert busiest and "(busiest)" in ET.tostring(busiest[0], encoding="unicode")
    deps = ET.fromstring(draw_dependencies(doc, prefix="d").svg)
    edges = {g.get("data-dep") for g in deps.iter(f"{SVG}g") if g.get("data-dep")}
    assert edges == {f"{a}|{s['id']}" for s in doc["steps"] for a in s["after"]}


def test_a_document_without_step_times_still_draws():
    cluster, doc = _plan("seed.yaml")
    doc = copy.deepcopy(doc)
    del doc["metrics"]["timeline"]["stepSeconds"]
    assert draw_timeline(doc, prefix="g") is None
    assert "gives no step times" in plan_page(cluster, doc)


def test_cli_writes_the_pages(tmp_path):
    runner = CliRunner()
    out = tmp_path / "plan.html"
    result = runner.invoke(cli.main, ["plan", str(EXAMPLES / "impossible.yaml"), "--fail", "node-3", "--format", "html",
                                      "-o", str(out)])
    assert result.exit_code == 1  # degraded: the page is written and the verdict stays negative
    assert out.read_text().startswith("<!DOCTYPE html>") and "DEGRADED" in out.read_text()
    result = runner.invoke(cli.main, ["plan", str(EXAMPLES / "seed.yaml"), "--fail", "node-2", "--format", "html"])
    assert result.exit_code == 0 and result.stdout.startswith("<!DOCTYPE html>")
    check = tmp_path / "check.json"
    result = runner.invoke(cli.main, ["check", str(EXAMPLES / "fragile.yaml"), "--failures", "2", "--format", "json",
                                      "-o", str(check)])
    assert result.exit_code == 1 and '"tolerates": false' in check.read_text() and not result.stdout
    result = runner.invoke(cli.main, ["demo", "--html", str(tmp_path / "story")])
    assert result.exit_code == 0
    assert (tmp_path / "story" / "index.html").exists() and (tmp_path / "story" / "act-1.svg").exists()


def test_demo_into_a_file_is_bad_usage(tmp_path):
    target = tmp_path / "taken"
    target.write_text("")
    result = CliRunner().invoke(cli.main, ["demo", "--html", str(target)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(cli.main, ["demo", "--html", str(target / "story")])  # under a file: cannot be made
    assert result.exit_code == 2 and "cannot be written there" in result.stderr and str(target) in result.stderr


def test_check_page_draws_the_counterexample():
    import placement

    cluster = load_cluster(EXAMPLES / "fragile.yaml")
    result = placement.check(cluster, 2, minimum=True).to_document()
    html = check_page(cluster, result)
    _self_contained(html)
    assert 'data-verdict="no"' in html and 'data-counterexample="node-1 node-3"' in html
    for figure in svgs_in(html):
        assert not untitled_shapes(figure)


def test_legend_names_every_state():
    text = legend("l")
    for words in ("FAILED", "CORDONED", "dropped", "DATA LOST", "stale", "new"):
        assert words in text
    assert not untitled_shapes(text)


# -- docs/demo is what the demo draws now ---------------------------------------------------

def test_docs_pictures_are_up_to_date(tmp_path):
    """docs/demo holds what `placement demo --html` writes today; run `make docs` when this fails."""
    result = CliRunner().invoke(cli.main, ["demo", "--html", str(tmp_path)])
    assert result.exit_code == 0
    fresh = sorted(p.name for p in tmp_path.iterdir())
    kept = sorted(p.name for p in DOCS.iterdir() if p.suffix in (".svg", ".html"))
    assert fresh == kept, "docs/demo is stale: run make docs"
    stale = [name for name in fresh if not filecmp.cmp(tmp_path / name, DOCS / name, shallow=False)]
    assert not stale, f"docs/demo is stale ({', '.join(stale)}): run make docs"
    for name in fresh:
        if name.endswith(".svg"):
            ET.fromstring((DOCS / name).read_text())  # a well-formed standalone SVG
            assert not untitled_shapes((DOCS / name).read_text())
    screenshots = sorted(p.name for p in (ROOT / "docs").glob("demo-*.png"))
    assert "demo-index.png" in screenshots, "the screenshots of the demo pages are missing: run make docs"


def test_write_story_is_deterministic(tmp_path):
    cluster = load_cluster(EXAMPLES / "seed.yaml")
    acts = [Act(1, "one", "text", (Panel("p", cluster),))]
    write_story(tmp_path / "a", acts, title="t", introduction="i")
    write_story(tmp_path / "b", acts, title="t", introduction="i")
    for name in ("act-1.svg", "index.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()

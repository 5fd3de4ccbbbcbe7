"""Benchmark: the HTML pictures of plans and checks, on the 1,000-node cluster of bench/run.py.

    make bench-pictures            # writes bench/PICTURES.md

For each page: the time to write it (median of 3, after planning), its size, and, in
headless Chromium (Debian's /usr/bin/chromium driven by Playwright, a fresh profile),
the time the browser itself measures from navigation start to the end of the load
event and the time until the page's first frames are drawn (median of 3 loads, each
in a new tab). Targets: a whole-zone plan under 5 MB that opens in under 2 s.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLUSTER = dict(nodes=1000, zones=3, brokers=300, volumes=3000, partitions=30_000, seed=1)
RUNS = 3


def timed(make, runs: int = RUNS) -> tuple[str, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = make()
        times.append(time.perf_counter() - started)
    return out, times


def main() -> int:
    import placement
    from placement.models.generate import generate_cluster
    from placement.models.loading import load_cluster
    from placement.render.check_page import check_page
    from placement.render.plan_page import plan_page
    from tests import browser

    why = browser.unavailable()
    if why:
        print(why, file=sys.stderr)
        return 1
    cluster = generate_cluster(**CLUSTER)
    seed = load_cluster(ROOT / "examples" / "seed.yaml")
    cases = []
    plans = [
        ("seed, node-2 fails", seed, dict(fail=["node-2"])),
        ("1,000 nodes, one broker node fails", cluster, dict(fail=[cluster.brokers[0].node])),
        ("1,000 nodes, zone-b fails (333 nodes)", cluster, dict(fail_zones=["zone-b"])),
    ]
    for label, c, failures in plans:
        print(f"planning: {label}", flush=True)
        document = placement.plan(c, **failures, time_limit=120).to_document()
        html, times = timed(lambda: plan_page(c, document))
        cases.append((label, html, times, len(document["steps"])))
    print("checking: 1,000 nodes, --zones --minimum", flush=True)
    result = placement.check(cluster, 0, zones=True, minimum=True, jobs=2).to_document()
    html, times = timed(lambda: check_page(cluster, result))
    cases.append(("1,000 nodes, check --zones --minimum", html, times, 0))

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        b = browser.Browser(Path(tmp) / "profile")
        try:
            for i, (label, html, times, steps) in enumerate(cases):
                path = Path(tmp) / f"page-{i}.html"
                path.write_text(html, encoding="utf-8")
                loads = []
                for _ in range(RUNS):
                    b.page.close()
                    b.page = b.context.new_page()
                    loads.append(b.load(path))
                errors = [e for load in loads for e in load.errors]
                rows.append((label, steps, statistics.median(times), path.stat().st_size,
                             statistics.median(x.load_ms for x in loads),
                             statistics.median(x.rendered_ms for x in loads), errors))
                print(rows[-1][:6], flush=True)
        finally:
            b.close()

    lines = ["# Pictures: page size and load time", "",
             f"Cluster: {CLUSTER['nodes']:,} nodes in {CLUSTER['zones']} zones, {CLUSTER['brokers']} brokers, "
             f"{CLUSTER['volumes']:,} volumes, {CLUSTER['partitions']:,} partitions (seed {CLUSTER['seed']}), and the "
             "seed example. Write time: building the page from the cluster and the plan (or check) document, median of "
             f"{RUNS}. In the browser ({browser.chromium_version()}, headless, a new tab each time, median of {RUNS}): "
             "load = navigation start to the end of the load event as the browser measures it; drawn = from asking "
             "for the page until its first two frames are drawn. Targets: under 5 MB, open in under 2 s.", "",
             "| page | steps | write time | size | load (browser) | drawn | console errors |",
             "|---|---|---|---|---|---|---|"]
    for label, steps, write, size, load_ms, drawn_ms, errors in rows:
        lines.append(f"| {label} | {steps:,} | {write:.3f} s | {size / 2**20:.2f} MB | {load_ms / 1000:.2f} s "
                     f"| {drawn_ms / 1000:.2f} s | {len(errors)} |")
    (ROOT / "bench" / "PICTURES.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    worst = max(rows, key=lambda r: r[3])
    return 0 if worst[3] < 5 * 2**20 and max(r[5] for r in rows) < 2000 and not any(r[6] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

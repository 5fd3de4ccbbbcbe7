"""Headless Chromium for the picture tests: Debian's /usr/bin/chromium driven by Playwright.

Playwright's own browser download is never used (``playwright install`` fails
on machines without general network access); it launches the system's Chromium
with flags that keep it from reaching for the network. Where Chromium is
missing, every browser test is skipped with one message that says why and how
to get it (``make test`` installs it where apt-get is available).
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

CHROMIUM = os.environ.get("PLACEMENT_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return (f"headless Chromium is not installed at {CHROMIUM}: the browser tests are SKIPPED. "
                "Install Debian's chromium package (apt-get install chromium; make test does it where apt-get "
                "is available and it runs as root), or point PLACEMENT_CHROMIUM at a Chromium binary")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is missing (pip install -e '.[test]'): the browser tests are SKIPPED"
    return None


@dataclass
class Loaded:
    errors: list[str]  # console errors, page errors, failed requests
    load_ms: float  # navigation start to the end of the load event, as the browser measured it
    rendered_ms: float  # from asking for the page to its first frames being drawn, measured here
    screenshot: bytes


class Browser:
    """One Chromium for a test module, with a fresh profile directory."""

    def __init__(self, profile: Path):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.context = self._pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, viewport=VIEWPORT)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self._errors: list[str] = []
        self.page.on("console", lambda m: self._errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "assert") else None)
        self.page.on("pageerror", lambda e: self._errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self._errors.append(f"request failed: {r.url}"))
        self.page.on("request", lambda r: self._errors.append(f"network request: {r.url}")
                     if not r.url.startswith(("file:", "data:", "about:")) else None)

    def load(self, path: Path) -> Loaded:
        self._errors.clear()
        started = time.perf_counter()
        self.page.goto(Path(path).resolve().as_uri(), wait_until="load")
        self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        rendered = (time.perf_counter() - started) * 1000
        load_ms = self.page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd : -1; }")
        shot = self.page.screenshot()
        return Loaded(list(self._errors), float(load_ms), rendered, shot)

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def close(self) -> None:
        self.context.close()
        self._pw.stop()


def blank(png: bytes) -> str | None:
    """Why a screenshot looks blank (one colour, or next to nothing drawn), or None."""
    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    if len(colours) <= 1:
        return "the screenshot is a single colour"
    background = max(colours)[1]
    drawn = sum(c for c, rgb in colours if rgb != background) / (image.width * image.height)
    if drawn < 0.01:
        return f"only {drawn:.2%} of the screenshot differs from its background"
    return None


def overlaps(rects: list[dict]) -> list[tuple[str, str]]:
    """Pairs of named rectangles (x, y, width, height, name) that overlap, by a sweep over x."""
    found = []
    ordered = sorted(rects, key=lambda r: r["x"])
    active: list[dict] = []
    for r in ordered:
        active = [a for a in active if a["x"] + a["width"] > r["x"] + 0.5]
        for a in active:
            if a["y"] < r["y"] + r["height"] - 0.5 and r["y"] < a["y"] + a["height"] - 0.5:
                found.append((a["name"], r["name"]))
        active.append(r)
    return found


def chromium_version() -> str:
    import subprocess

    if not shutil.which(CHROMIUM):
        return "not installed"
    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unusable ({exc})"

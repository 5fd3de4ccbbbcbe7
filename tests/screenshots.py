"""PNG screenshots of the demo's pages for the README: ``python -m tests.screenshots docs/demo docs``
(run by ``make docs``). The index is shot at a common screen size; each act at its own size."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests import browser


def main(pages: Path, out: Path) -> int:
    why = browser.unavailable()
    if why:
        print(f"screenshots not taken: {why}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as profile:
        b = browser.Browser(Path(profile))
        try:
            for page in [pages / "index.html", *sorted(pages.glob("act-*.svg"))]:
                loaded = b.load(page)
                if loaded.errors:
                    print(f"{page}: {loaded.errors}", file=sys.stderr)
                    return 1
                target = out / f"demo-{page.stem}.png"
                if page.suffix == ".svg":
                    size = b.evaluate("() => { const s = document.documentElement;"
                                      " return [s.width.baseVal.value, s.height.baseVal.value]; }")
                    b.page.set_viewport_size({"width": int(size[0]), "height": int(size[1])})
                    b.page.screenshot(path=str(target))
                    b.page.set_viewport_size(browser.VIEWPORT)
                else:
                    b.page.screenshot(path=str(target))
                print(f"wrote {target}")
        finally:
            b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))

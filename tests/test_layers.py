"""The architecture, enforced: each layer imports only the layers below it (README "Layout").

Imports are read with ``ast`` from the source (module scope and function bodies
alike, so a lazy import counts too), never by importing anything.

    placement.models      nothing of placement
    placement.scenario    models
    placement.rules       models, scenario
    placement.execute     models, scenario                    (no rule, no solver)
    placement.solve       models, scenario, rules, execute
    placement.resilience  models, scenario, rules, execute, solve
    placement.claims      models, scenario, rules, solve      (a plan document's claims, recomputed)
    placement.imports     models
    placement.render      anything below (not the CLI)
    placement (the API)   anything below except render and the CLI
    placement.cli         the placement API and render
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "placement"

BELOW = {
    "models": set(),
    "scenario": {"models"},
    "rules": {"models", "scenario"},
    "execute": {"models", "scenario"},
    "solve": {"models", "scenario", "rules", "execute"},
    "resilience": {"models", "scenario", "rules", "execute", "solve"},
    "claims": {"models", "scenario", "rules", "execute", "solve"},
    "imports": {"models"},
    "render": {"models", "scenario", "rules", "execute", "solve", "resilience", "imports", "claims"},
    "api": {"models", "scenario", "rules", "execute", "solve", "resilience", "imports", "claims"},
    "cli": {"api", "render"},
}
SOLVERS = ("ortools", "z3")
SOLVER_LAYERS = {"solve", "resilience"}


def _sources() -> dict[str, Path]:
    """Module name -> source file, for every module of the installed package."""
    found = {"placement.cli": ROOT / "cli.py"}
    for path in sorted((ROOT / "models").glob("*.py")):
        found["placement.models" + ("" if path.stem == "__init__" else "." + path.stem)] = path
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_symlink():
            continue  # placement/cli.py is the top-level cli.py
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


SOURCES = _sources()


def _layer(module: str) -> str | None:
    if module == "placement":
        return "api"
    if not module.startswith("placement."):
        return None
    first = module.split(".")[1]
    return first if first in BELOW else None


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, at module scope?) for every import in the file."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:  # `from placement.solve import objectives` imports a module
                sub = f"{node.module}.{alias.name}"
                found.append((sub if sub in SOURCES else node.module, node.lineno, id(node) in top))
    return found


def _where(module: str) -> str:
    return str(SOURCES[module].relative_to(ROOT))


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_each_layer_imports_only_the_layers_below_it(module):
    layer = _layer(module)
    assert layer is not None, f"{module} belongs to no layer: add it to BELOW and the README's layout"
    allowed = BELOW[layer] | {layer}
    wrong = [f"{_where(module)}:{line} imports {name} ({_layer(name)})"
             for name, line, _ in _imports(SOURCES[module])
             if _layer(name) is not None and _layer(name) not in allowed]
    assert not wrong, "\n".join(wrong)


def test_everything_imports_models_and_the_cli_by_their_one_name():
    files = [*SOURCES.values(), *sorted((ROOT / "tests").rglob("*.py")), *sorted((ROOT / "bench").glob("*.py"))]
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {name}"
             for path in files for name, line, _ in _imports(path)
             if name.split(".")[0] in ("models", "cli")]
    assert not wrong, "import placement.models / placement.cli instead:\n" + "\n".join(wrong)


def test_solvers_are_imported_lazily_and_only_by_the_solving_layers():
    wrong = []
    for module, path in sorted(SOURCES.items()):
        for name, line, at_top in _imports(path):
            if name.split(".")[0] in SOLVERS:
                if _layer(module) not in SOLVER_LAYERS:
                    wrong.append(f"{_where(module)}:{line} imports {name} outside solve/ and resilience/")
                elif at_top:
                    wrong.append(f"{_where(module)}:{line} imports {name} at module scope (import it where it is used)")
    assert not wrong, "\n".join(wrong)


def test_the_library_and_the_cli_start_without_a_solver():
    probe = ("import sys, placement, placement.cli, placement.render.tables\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ortools', 'z3', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_of_the_library_resolves():
    import placement

    missing = [name for name in placement.__all__ if getattr(placement, name, None) is None]
    assert not missing


def test_collecting_the_tests_runs_no_solver():
    """Test parameters are chosen without solving: a solve at collection time would run in
    every xdist worker before any test, and under ``-m 'not slow'`` as well."""
    modules = sorted(f"tests.{p.stem}" for p in (ROOT / "tests").glob("test_*.py")) + ["tests.golden.test_golden"]
    probe = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
             "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('ortools', 'z3')}))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

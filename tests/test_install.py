"""Installed as a user installs it: the wheel, in a fresh virtualenv outside the checkout.

The distribution must add only the package ``placement``, its dist-info and the
``placement`` console script (no top-level ``models`` or ``cli`` to collide with
other packages); ``placement demo`` must work from any folder (the seed cluster
ships as package data); and an internal error must reach the user as exit 3 and
one paragraph, through the real console script.

The dependencies (OR-Tools, Z3, click, ...) are made visible to the new
environment from the one running the tests, instead of being downloaded again;
``placement`` itself comes only from the wheel (asserted).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "cli.py", "placement", "models", "examples")

pytestmark = pytest.mark.slow


def _site_packages(env: Path) -> Path:
    found = sorted(env.glob("lib/python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """Build the wheel from a copy of the sources, install it into a fresh virtualenv."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(item, source / name)
    wheels = base / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
                   check=True, capture_output=True, text=True)
    wheel = next(wheels.glob("placement-*.whl"))
    env = base / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    site = _site_packages(env)
    before_site, before_bin = set(os.listdir(site)), set(os.listdir(env / "bin"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--no-deps",
                    "--quiet", str(wheel)], check=True, capture_output=True, text=True)
    added_site = set(os.listdir(site)) - before_site
    added_bin = set(os.listdir(env / "bin")) - before_bin
    # the dependencies, from the environment running the tests (a path entry, so its own
    # .pth files, among them the editable install of this checkout, are not processed)
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return {"env": env, "site": site, "added_site": added_site, "added_bin": added_bin, "cwd": elsewhere}


def _run(installed: dict, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra_env or {})
    return subprocess.run([str(installed["env"] / "bin" / "placement"), *args], cwd=installed["cwd"], env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_wheel_adds_only_the_placement_package_and_its_console_script(installed):
    assert installed["added_site"] == {"placement", "placement-0.1.0.dist-info"}
    assert installed["added_bin"] == {"placement"}
    site = installed["site"]
    assert (site / "placement" / "models" / "cluster.py").is_file()
    assert (site / "placement" / "cli.py").is_file() and not (site / "placement" / "cli.py").is_symlink()
    assert (site / "placement" / "examples" / "seed.yaml").is_file()


def test_placement_comes_from_the_wheel_not_the_checkout(installed):
    probe = "import placement, placement.models.cluster, placement.cli; print(placement.__file__)"
    out = subprocess.run([str(installed["env"] / "bin" / "python"), "-c", probe], cwd=installed["cwd"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Path(out).is_relative_to(installed["site"]), out


def test_placement_demo_runs_from_any_folder_once_installed(installed):
    result = _run(installed, "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "node-2 fails" in result.stdout and "Would it survive worse?" in result.stdout
    assert "Traceback" not in result.stderr


def test_an_internal_error_is_exit_3_and_one_paragraph_through_the_console_script(installed, tmp_path):
    # provoked from outside the product: a sitecustomize that breaks the planner
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent("""
        import placement.solve.planner

        def broken(*args, **kwargs):
            raise ZeroDivisionError("provoked by the test")

        placement.solve.planner.plan_recovery = broken
    """))
    seed = str(installed["site"] / "placement" / "examples" / "seed.yaml")
    result = _run(installed, "plan", seed, "--fail", "node-2", extra_env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 3, result.stdout + result.stderr
    assert "internal error in placement: ZeroDivisionError: provoked by the test" in result.stderr
    assert "This is a bug" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""

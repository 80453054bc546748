"""Session fixtures: a real channel built by forge.api.build into a temp dir, and its view."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from forge import api
from forge.config import ForgeConfig
from forge.pyodide_view import ViewReport, publish_view
from forge.toolchain.paths import default_cache_dir

#: The channel the node tests load from: pytest's graph, dateutil's, attrs, hypothesis.
TARGETS = ["pytest", "python-dateutil", "attrs", "hypothesis", "six", "typing-extensions"]
#: Only these recipe folders are copied into the test's recipes dir, so a recipe someone
#: is writing elsewhere in recipes/ cannot break these tests.
#: (python and pyodide-abi are the forge's platform recipes, which every recipes folder has)
RECIPES = [*TARGETS, "iniconfig", "packaging", "pluggy", "pygments", "tzdata", "sortedcontainers"]
PIPLITE_PROVIDER = "jupyterlite-pyodide-kernel==0.8.7"

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "buildroot: needs the real sid build root")


@pytest.fixture(scope="session")
def channel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh channel holding TARGETS and their dependencies ($FORGE_TEST_CHANNEL reuses one)."""
    if os.environ.get("FORGE_TEST_CHANNEL"):
        return Path(os.environ["FORGE_TEST_CHANNEL"])
    path = tmp_path_factory.mktemp("channel")
    recipes = tmp_path_factory.mktemp("recipes")
    repo = ForgeConfig.load()
    for name in RECIPES:
        shutil.copytree(repo.recipes_dir / name, recipes / name)
    report = api.build(TARGETS, ForgeConfig.load(channel_dir=path, recipes_dir=recipes), jobs=os.cpu_count() or 2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
    return path


@pytest.fixture(scope="session")
def view_report(channel_dir: Path) -> ViewReport:
    return publish_view(channel_dir)


@pytest.fixture(scope="session")
def view_dir(view_report: ViewReport) -> Path:
    return view_report.view_dir


@pytest.fixture(scope="session")
def piplite_wheel_dir() -> Path:
    """piplite (the micropip wrapper JupyterLite runs) and its all.json schema, from the
    jupyterlite-pyodide-kernel wheel on the index pip uses; cached."""
    dest = default_cache_dir() / "test-wheels" / "piplite"
    if not (dest / "piplite" / "piplite.py").is_file():
        dl = dest.with_name("download")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dl),
                        PIPLITE_PROVIDER], check=True)
        outer = zipfile.ZipFile(next(dl.glob("jupyterlite_pyodide_kernel-*.whl")))
        static = next(n.rsplit("/pypi/", 1)[0] for n in outer.namelist() if "/pypi/piplite-" in n)
        inner_name = next(n for n in outer.namelist() if "/pypi/piplite-" in n)
        tmp = dest.with_name("piplite.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        (tmp / "inner.whl").write_bytes(outer.read(inner_name))
        zipfile.ZipFile(tmp / "inner.whl").extractall(tmp)
        (tmp / "piplite.v0.schema.json").write_bytes(outer.read(f"{static}/schema/piplite.v0.schema.json"))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
    return dest

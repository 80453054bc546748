"""The view in the real runtime: npm Pyodide 314.0.7 under node, packages from the view only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from forge.toolchain.pyodide_node import run_in_pyodide
from forge.serve import serving

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="node not installed")

TEST_FILE = '''
import datetime
from dateutil.relativedelta import relativedelta

def test_month_end():
    assert datetime.date(2026, 1, 31) + relativedelta(months=1) == datetime.date(2026, 2, 28)

def test_arithmetic():
    assert sum(range(10)) == 45
'''


def test_dateutil_loads_with_its_dependencies_and_parses(view_dir: Path) -> None:
    run = run_in_pyodide(view_dir=view_dir, code=(
        "from dateutil import parser\n"
        "d = parser.parse('Wed, 25 Nov 2026 12:40:05 +0100')\n"
        "(d.isoformat(), str(d.utcoffset()))"), packages=["python-dateutil"])
    assert run.result == "('2026-11-25T12:40:05+01:00', '1:00:00')"
    lock = json.loads((view_dir / "pyodide-lock.json").read_text())["packages"]
    assert set(run.loaded) == {"python-dateutil", *lock["python-dateutil"]["depends"]}


def test_pytest_main_runs_a_test_file_in_pyodide(view_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "test_in_wasm.py").write_text(TEST_FILE)
    run = run_in_pyodide(view_dir=view_dir, code=(
        "import os, pytest\nos.chdir('/home/pyodide/t')\n"
        "int(pytest.main(['-q', '-p', 'no:cacheprovider', 'test_in_wasm.py']))"),
        packages=["pytest", "python-dateutil"], files={"/home/pyodide/t/test_in_wasm.py": tmp_path / "test_in_wasm.py"})
    assert run.result == "0", "\n".join(run.messages)
    assert {"pytest", "pluggy", "iniconfig", "packaging", "pygments"} <= set(run.loaded)
    assert any("2 passed" in m for m in run.messages)


def test_micropip_installs_from_the_view_with_the_interpreter_from_the_view(view_dir: Path) -> None:
    """micropip itself comes from the view, and so do pyodide.asm.wasm and the stdlib."""
    run = run_in_pyodide(view_dir=view_dir, code=(
        "import micropip\nawait micropip.install(['attrs', 'hypothesis'])\n"
        "import attrs, hypothesis\n(attrs.__version__, sorted(micropip.list()))"),
        packages=["micropip"], index_from_view=True)
    version, listed = eval(run.result)  # noqa: S307  (our own repr)
    assert version == "26.1.0" and {"attrs", "hypothesis", "sortedcontainers", "micropip"} <= set(listed)


def test_micropip_installs_a_wheel_url_over_http_reading_its_metadata(view_dir: Path) -> None:
    """A wheel URL bypasses the lock: micropip reads Requires-Dist from our METADATA."""
    wheel = next(view_dir.glob("python_dateutil-*.whl")).name
    with serving(view_dir.parent) as url:
        run = run_in_pyodide(view_dir=view_dir, code=(
            f"import micropip\nawait micropip.install('{url}/pyodide/{wheel}')\n"
            "import dateutil, tzdata\ndateutil.__version__"), packages=["micropip"])
    assert run.result.startswith("4.")


def test_piplite_installs_from_all_json_over_http(view_dir: Path, piplite_wheel_dir: Path) -> None:
    """JupyterLite's piplite, pointed at all.json served by forge serve, with PyPI disabled and
    a lock that holds only micropip, so every package comes through all.json."""
    lock = json.loads((view_dir / "pyodide-lock.json").read_text())
    only_micropip = {"info": lock["info"], "packages": {"micropip": lock["packages"]["micropip"]}}
    files = {f"/home/pyodide/piplite/{p.name}": p for p in (piplite_wheel_dir / "piplite").glob("*.py")}
    with serving(view_dir.parent) as url:
        run = run_in_pyodide(view_dir=view_dir, code=(
            "import sys\nsys.path.insert(0, '/home/pyodide')\nimport piplite.piplite as pl\n"
            f"pl._PIPLITE_URLS = ['{url}/pyodide/all.json']\npl._PIPLITE_DISABLE_PYPI = True\n"
            "await pl._install('pytest')\nimport pytest, pluggy, iniconfig\npytest.__version__"),
            packages=["micropip"], files=files, lock_contents=json.dumps(only_micropip))
    assert run.result == "9.2.0"


def test_an_unknown_package_fails_instead_of_reaching_a_cdn(view_dir: Path) -> None:
    with pytest.raises(Exception, match="numpy"):
        run_in_pyodide(view_dir=view_dir, code="None", packages=["numpy"])

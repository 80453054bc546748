"""Installability: what `api.build(["pytest"])` publishes is solvable and installable with
py-rattler, and the installed pytest runs a test in
WebAssembly (python-wasm), where every package of the channel runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.testlib import forge_env

from tests.conftest import Built

# py-rattler may crash at interpreter exit after its work is done: solve+install in a child
# that leaves with os._exit once the prefix is written.
SOLVE_INSTALL = """
import asyncio, json, os, sys
from pathlib import Path
import rattler

channel, prefix, cache = sys.argv[1:4]

async def main():
    records = await rattler.solve(
        sources=[rattler.Channel(Path(channel).as_uri())], specs=["pytest"], platforms=["emscripten-wasm32", "noarch"])
    await rattler.install(records, target_prefix=prefix, cache_dir=Path(cache), show_progress=False)
    return sorted(f"{r.name.normalized}={r.version}={r.build}={r.channel}" for r in records)

print(json.dumps(asyncio.run(main())), flush=True)
os._exit(0)
"""


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "CONDA", "PYTEST"))}
    env["PATH"] = os.environ["PATH"]  # node
    return env


def test_published_pytest_installs_and_runs(built_pytest: Built, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    proc = subprocess.run([sys.executable, "-c", SOLVE_INSTALL, str(built_pytest.channel), str(prefix),
                           str(tmp_path / "pkgs")], env=forge_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    solved = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {s.split("=")[0] for s in solved} == {"python", "pyodide-abi", "pytest", "iniconfig", "packaging", "pluggy", "pygments"}
    assert all(built_pytest.channel.as_uri() in s or str(built_pytest.channel) in s for s in solved), \
        "everything comes from the forge's channel"

    records = [json.loads(p.read_text()) for p in (prefix / "conda-meta").glob("*.json")]
    assert {r["name"] for r in records} == {"python", "pyodide-abi", "pytest", "iniconfig", "packaging", "pluggy", "pygments"}
    assert all(r.get("files") for r in records if r["name"] not in ("python", "pyodide-abi")) and all(r["sha256"] for r in records)

    py = prefix / "bin" / "python-wasm"
    version = subprocess.run([str(py), "-m", "pytest", "--version"], env=clean_env(), cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert version.returncode == 0, version.stderr
    assert "pytest 9.2.0" in version.stdout + version.stderr

    where = subprocess.run([str(py), "-c", "import pytest, pluggy; print(pytest.__file__); print(pluggy.__file__)"],
                           env=clean_env(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(prefix)) for line in where.stdout.split()), where.stdout

    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_tiny.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', [1, 2, 3])\n"
        "def test_square(n):\n    assert n * n == n ** 2\n\n"
        "def test_raises():\n    with pytest.raises(ZeroDivisionError):\n        1 / 0\n"
    )
    run = subprocess.run([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tiny.py"],
                         env=clean_env(), cwd=work, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout


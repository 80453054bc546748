"""`forge lite --snapshot` and the precompressed site: the kernel starts from a memory snapshot
made at build time under node (forge.lite.snapshot), and forge.serve sends gzip twins with
Content-Encoding. Real Pyodide, real Chromium, the channel of tests/lite (built from empty)."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from forge.lite import build_site, site_settings
from forge.lite.site import PYODIDE_SUBDIR
from forge.lite.snapshot import FILES, LOADER, SNAPSHOT, WORKER_SKIPS, read_files_pack
from forge.serve import serving
from tests.support.browser import notebook_json, run_notebook

PRINT = 'import sys\nprint("forge-snap:", 6 * 7, "pyodide_kernel" in sys.modules)'
PRINT_EXPECT = "forge-snap: 42 True"
#: %pip and %conda in a kernel that started from the snapshot (markupsafe: not in the lock's preload)
INSTALLS = """\
%pip install markupsafe
import importlib
m = importlib.import_module('markupsafe')
print('forge-pip:', m.escape('<b>'))
"""
CONDA = """\
%conda install lz4
import importlib
block = importlib.import_module('lz4.block')  # not an import statement: the lock's lz4 is not loaded first
print('forge-conda:', block.decompress(block.compress(b'snap' * 50)) == b'snap' * 50)
"""


@pytest.fixture(scope="module")
def snap_site(tmp_path_factory: pytest.TempPathFactory, lite_channel: Path, notebooks):
    files = notebooks[0]
    (files / "print.ipynb").write_text(json.dumps(notebook_json(PRINT)))
    out = tmp_path_factory.mktemp("snap-site") / "site"
    return build_site(lite_channel, out, contents=(files,), refresh_view=False, snapshot=True)


def test_the_site_points_the_kernel_at_the_snapshot_loader(snap_site) -> None:
    pyo = snap_site.output_dir / PYODIDE_SUBDIR
    s = site_settings(snap_site.output_dir)
    assert s["pyodideUrl"] == f"./{PYODIDE_SUBDIR}/{LOADER}"
    assert set(WORKER_SKIPS) <= set(s["loadPyodideOptions"]["packages"])  # the worker installs nothing
    assert s["disablePyPIFallback"] is True and "://" not in (snap_site.output_dir / "jupyter-lite.json").read_text()
    snap = (pyo / SNAPSHOT).read_bytes()
    assert len(snap) > 10_000_000 and snap[:4] == (1886286592).to_bytes(4, "little")  # Pyodide's snapshot magic
    head = read_files_pack(pyo / FILES)
    paths = {f[0] for f in head["files"]}
    assert any(p.endswith("/pyodide_kernel/__init__.py") for p in paths)
    assert any(p.endswith("/IPython/core/interactiveshell.py") for p in paths)
    assert any(p.endswith("/piplite/piplite.py") for p in paths)
    assert not any(p.startswith("/tmp/forge-wheels") for p in paths)
    assert {"micropip", "ipython", "jedi", "comm"} <= set(head["loaded"])
    assert snap_site.snapshot["packages"] == sorted(head["loaded"])
    # gzip twins, smaller, of the runtime and the snapshot; wheels and zips left alone
    for name in ("pyodide.asm.wasm", SNAPSHOT, FILES, LOADER if (pyo / f"{LOADER}.gz").exists() else "pyodide.asm.mjs"):
        gz = pyo / f"{name}.gz"
        assert gz.is_file() and gz.stat().st_size < (pyo / name).stat().st_size, name
        assert gzip.decompress(gz.read_bytes()) == (pyo / name).read_bytes(), name
    assert not list(pyo.glob("*.whl.*")) and not list(pyo.glob("python_stdlib.zip.*"))


def test_serve_sends_the_gzip_twin_only_to_who_accepts_it(snap_site) -> None:
    pyo = snap_site.output_dir / PYODIDE_SUBDIR
    with serving(snap_site.output_dir) as base:
        url = f"{base}/{PYODIDE_SUBDIR}/pyodide.asm.wasm"
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip, br"})) as r:
            assert r.headers["Content-Encoding"] == "gzip" and r.headers["Content-Type"] == "application/wasm"
            body = r.read()
        assert len(body) == (pyo / "pyodide.asm.wasm.gz").stat().st_size
        assert gzip.decompress(body) == (pyo / "pyodide.asm.wasm").read_bytes()
        if shutil.which("zstd"):  # Chromium accepts zstd from 127.0.0.1: the smaller twin wins
            with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept-Encoding": "gzip, br, zstd"})) as r:
                assert r.headers["Content-Encoding"] == "zstd"
                body = r.read()
            assert body == (pyo / "pyodide.asm.wasm.zst").read_bytes()
            assert len(body) < (pyo / "pyodide.asm.wasm.gz").stat().st_size
            plain = subprocess.run(["zstd", "-d", "-c"], input=body, capture_output=True, check=True).stdout
            assert plain == (pyo / "pyodide.asm.wasm").read_bytes()
        with urllib.request.urlopen(url) as r:  # no Accept-Encoding: the file itself
            assert r.headers.get("Content-Encoding") is None
            assert r.read() == (pyo / "pyodide.asm.wasm").read_bytes()


def test_the_kernel_starts_from_the_snapshot_in_chromium(snap_site, browser_ready: None) -> None:
    with serving(snap_site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=print.ipynb", PRINT_EXPECT, timeout=240)
    assert run.ok, (run.error, run.output, run.console[-30:], run.page_errors)
    assert PRINT_EXPECT in run.output and "Traceback" not in run.output
    assert run.offsite == [] and run.hosts() == {"127.0.0.1"}
    got = {r["url"].split("?")[0].rsplit("/", 1)[-1]: r for r in run.requests if r.get("status") == 200}
    assert {LOADER, SNAPSHOT, FILES, "pyodide.asm.wasm"} <= set(got)
    # the kernel started from it: the loader's steps ran, and no start-up wheel was fetched
    steps = [m["step"].split(" ", 1)[0] for m in run.marks]
    assert steps[:4] == ["start", "fetched", "ready", "kernel"], run.marks
    assert not [n for n in got if n.endswith(".whl")], sorted(got)
    # sent compressed
    want = "zstd" if shutil.which("zstd") else "gzip"
    assert got["pyodide.asm.wasm"].get("encoding") == want and got[SNAPSHOT].get("encoding") == want
    print(f"snapshot first cell {run.timings['first_cell_ms']} ms, output at "
          f"{run.timings['run_ms'] + run.timings['first_cell_ms']} ms; {run.bytes / 1e6:.2f} MB; marks {run.marks}")


def test_a_channel_package_loads_after_the_snapshot(snap_site, probe, browser_ready: None) -> None:
    """The probe cell (a compiled package when the channel has one: its side module is loaded into
    the restored runtime) imports what the snapshot does not hold, from the site's lock."""
    with serving(snap_site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=check.ipynb", probe.expect, timeout=240)
    assert run.ok, (run.error, run.output, run.console[-30:])
    for line in probe.expects or (probe.expect,):
        assert line in run.output, (line, run.output)
    assert run.offsite == []


def test_pip_and_conda_install_in_a_snapshot_kernel(tmp_path_factory: pytest.TempPathFactory, lite_channel: Path,
                                                    compiled_probe: bool, browser_ready: None) -> None:
    """`forge lite --snapshot --conda`: `%pip install` (piplite, the view's wheel) and
    `%conda install` (the in-browser solver, a package with a shared library) in kernels that
    started from the snapshot, which holds the %conda kernel package and its start-up hook."""
    if not compiled_probe:
        pytest.skip("the channel holds no cross-built package (needs the build root)")
    files = tmp_path_factory.mktemp("snap-install-files")
    (files / "pip.ipynb").write_text(json.dumps(notebook_json(INSTALLS)))
    (files / "conda.ipynb").write_text(json.dumps(notebook_json(CONDA)))
    site = build_site(lite_channel, tmp_path_factory.mktemp("snap-install") / "site", contents=(files,),
                      refresh_view=False, snapshot=True, conda=True)
    assert "forge-lite-conda" in site.snapshot["packages"], site.snapshot["packages"]
    with serving(site.output_dir) as base:
        pip = run_notebook(f"{base}/notebooks/index.html?path=pip.ipynb", "forge-pip:", timeout=300)
        conda = run_notebook(f"{base}/notebooks/index.html?path=conda.ipynb", "forge-conda:", timeout=300)
    assert pip.ok and "forge-pip: &lt;b&gt;" in pip.output and "Traceback" not in pip.output, (pip.error, pip.output)
    assert any(m["step"].startswith("ready") for m in pip.marks), pip.marks
    got = [r["url"].split("?")[0] for r in pip.requests if r.get("status") == 200]
    assert any("/static/pyodide/markupsafe-" in u and u.endswith(".whl") for u in got), got
    assert conda.ok and "forge-conda: True" in conda.output, (conda.error, conda.output, conda.console[-20:])
    assert any(u.split("?")[0].endswith(".conda") and "lz4" in u for u in (r["url"] for r in conda.requests))
    assert pip.offsite == [] and conda.offsite == []

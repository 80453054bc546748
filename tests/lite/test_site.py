"""forge lite without a browser: the site's kernel settings, its Pyodide directory (runtime
from npm pyodide, lock and wheels from the channel's view), the refusal of a channel that
lacks the kernel's packages, and the command line."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forge.errors import ForgeError
from forge.lite import SiteReport, build_site, kernel_settings, site_settings
from forge.lite.site import CHANNEL_STARTUP, check_view
from forge.toolchain.pyodide_dist import BROWSER_RUNTIME as RUNTIME_FILES
from forge.pyodide_view.runtime import pyodide_dir


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_kernel_settings_point_only_at_the_site(site: SiteReport) -> None:
    s = site_settings(site.output_dir)
    assert s["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert s["loadPyodideOptions"]["lockFileURL"] == "./static/pyodide/pyodide-lock.json"
    assert s["pipliteUrls"][0] == "./static/pyodide/all.json"
    assert s["disablePyPIFallback"] is True
    # nothing in the site's configuration names another host
    for cfg in site.output_dir.rglob("jupyter-lite.json"):
        assert "://" not in cfg.read_text(), cfg


def test_pyodide_dir_is_npm_runtime_plus_channel_view(site: SiteReport, site_pyodide: Path,
                                                      lite_channel: Path) -> None:
    npm = pyodide_dir()
    for name in RUNTIME_FILES:
        assert _sha(site_pyodide / name) == _sha(npm / name), name
    lock = json.loads((site_pyodide / "pyodide-lock.json").read_text())
    assert lock == json.loads((lite_channel / "pyodide" / "pyodide-lock.json").read_text())
    assert lock["info"]["abi_version"] == json.loads((npm / "pyodide-lock.json").read_text())["info"]["abi_version"]
    for name in (*CHANNEL_STARTUP, "traitlets", "prompt-toolkit", "parso", "python-dateutil"):
        entry = lock["packages"][name]
        assert entry["tool"]["wasm-forge"]["conda"], name  # from our channel, not Pyodide's CDN
        assert _sha(site_pyodide / entry["file_name"]) == entry["sha256"], name
    assert set(lock["packages"]["ipython"]["depends"]) >= {"jedi", "traitlets", "prompt-toolkit", "pygments",
                                                           "stack-data", "matplotlib-inline"}
    index = json.loads((site_pyodide / "all.json").read_text())
    for project in index.values():
        for rels in project["releases"].values():
            for rel in rels:
                assert (site_pyodide / rel["url"].removeprefix("./")).is_file(), rel["url"]
    assert sorted(lock["packages"]) == site.lock_packages


def test_refuses_a_view_without_the_kernel_packages(tmp_path: Path, lite_channel: Path) -> None:
    lock = json.loads((lite_channel / "pyodide" / "pyodide-lock.json").read_text())
    assert check_view(lock) == []
    del lock["packages"]["ipython"]
    lock["packages"]["comm"]["file_name"] = "http://elsewhere.invalid/comm.whl"
    problems = check_view(lock)
    assert any("no ipython" in p for p in problems) and any("outside the site" in p for p in problems)
    # a real channel without the kernel's packages: the build stops with the fix
    empty = tmp_path / "channel"
    for sd in ("noarch", "emscripten-wasm32"):
        (empty / sd).mkdir(parents=True)
    from forge.channel import Channel  # noqa: PLC0415

    Channel(empty).reindex()
    with pytest.raises(ForgeError, match=r"forge build micropip comm jedi ipython"):
        build_site(empty, tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_preload_setting() -> None:
    s = kernel_settings(preload=CHANNEL_STARTUP)
    assert s["loadPyodideOptions"] == {"lockFileURL": "./static/pyodide/pyodide-lock.json",
                                       "packages": list(CHANNEL_STARTUP)}


def test_command_line(tmp_path: Path, lite_channel: Path) -> None:
    out = tmp_path / "cli-site"
    proc = subprocess.run([sys.executable, "-m", "forge.lite.cli", "--channel", str(lite_channel),
                           "--output", str(out), "--preload", "--json"],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["output_dir"] == str(out) and (out / "index.html").is_file()
    assert site_settings(out)["loadPyodideOptions"]["packages"] == list(CHANNEL_STARTUP)
    bad = subprocess.run([sys.executable, "-m", "forge.lite.cli", "--channel", str(tmp_path / "nothing"),
                          "--output", str(tmp_path / "x")], capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "is not a channel" in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
    assert not (tmp_path / "nothing").exists() and not (tmp_path / "x").exists()


def test_probe_prefers_a_compiled_package() -> None:
    from tests.support.probe import pick_probe  # noqa: PLC0415

    def entry(fn: str, imports: list[str], kind: str = "package") -> dict:
        return {"file_name": fn, "imports": imports, "package_type": kind}

    lock = {"packages": {"python-dateutil": entry("python_dateutil-4.0.0-py3-none-any.whl", ["dateutil"])}}
    assert pick_probe(lock).package == "python-dateutil" and not pick_probe(lock).compiled
    lock["packages"]["libfoo"] = entry("libfoo-1.0.zip", [], "shared_library")
    lock["packages"]["fastthing"] = entry("fastthing-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl", ["fastthing"])
    p = pick_probe(lock)
    assert (p.package, p.compiled) == ("fastthing", True) and "extension modules loaded: True" in p.expect
    lock["packages"]["markupsafe"] = entry("markupsafe-3.0.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
                                           ["markupsafe"])
    p = pick_probe(lock)
    assert (p.package, p.expect) == ("markupsafe", "forge-lite: &lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt; True")
    lock["packages"]["numpy"] = entry("numpy-2.5.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl", ["numpy"])
    p = pick_probe(lock)
    assert (p.package, p.expect) == ("numpy", "forge-lite: 285")
    # markupsafe's C speedups are still checked, before numpy (whose line the driver waits for)
    assert p.packages == ("markupsafe", "numpy") and p.expects[-1] == p.expect
    assert p.code.index("markupsafe") < p.code.index("numpy") and p.expects[0].endswith(" True")

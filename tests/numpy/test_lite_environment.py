"""numpy from a conda environment file in JupyterLite (`forge lite --environment`), in headless
Chromium: the kernel's start-up packages are built into a channel seeded with this session's
cold numpy build, the file asks for numpy and python-dateutil, and a notebook cell computes with
numpy, which loadPyodide preloaded, with no request leaving 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from forge.recipes import recipe_folders
from forge import api
from forge.channel import Channel
from forge.config import ForgeConfig
from forge.lite import build_site, site_settings
from tests.support.browser import check_browser, notebook_json, run_notebook
from forge.serve import serving

#: what the JupyterLite kernel needs from the channel (tests/lite/conftest.py's list)
KERNEL = ["micropip", "comm", "jedi", "ipython", "python-dateutil"]
CELL = """\
import pyodide_js
preloaded = 'numpy' in pyodide_js.loadedPackages.to_py()
import numpy as np
print('forge-np:', int((np.arange(10) ** 2).sum()), preloaded)
"""


@pytest.mark.recipes("numpy")
def test_numpy_from_an_environment_file_in_chromium(numpy_channel, tmp_path: Path) -> None:
    why = check_browser()
    if why:
        pytest.fail(f"the Chromium harness is not set up: {why}")
    repo = ForgeConfig.load()
    channel, recipes = tmp_path / "channel", tmp_path / "recipes"
    for sd in ("noarch", "emscripten-wasm32"):  # the numpy build's packages (python, pytest, numpy, ...)
        (channel / sd).mkdir(parents=True)
        for f in (numpy_channel.config.channel_dir / sd).glob("*.conda"):
            shutil.copy2(f, channel / sd / f.name)
    Channel(channel).reindex()
    order, _dot = api.graph_order(KERNEL, repo)
    for name in order:
        shutil.copytree(recipe_folders(repo.recipes_dir)[name], recipes / name)  # platform ones too
    cfg = ForgeConfig.load(channel_dir=channel, recipes_dir=recipes, state_dir=tmp_path / "state")
    report = api.build(KERNEL, cfg, jobs=os.cpu_count() or 2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}

    env = tmp_path / "environment.yml"
    env.write_text("name: np\ndependencies:\n  - numpy\n  - python-dateutil\n")
    files = tmp_path / "files"
    files.mkdir()
    (files / "np.ipynb").write_text(json.dumps(notebook_json(CELL)))
    site = build_site(channel, tmp_path / "site", environment=env, contents=(files,))
    assert {"numpy", "python-dateutil"} <= set(site.environment["lock_keys"])
    assert "numpy-tests" not in site.environment["lock_keys"]  # not asked for
    assert site_settings(site.output_dir)["loadPyodideOptions"]["packages"] == site.environment["lock_keys"]
    with serving(site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=np.ipynb", "forge-np:",
                           screenshot=tmp_path / "numpy.png", timeout=300)
    assert run.ok, (run.error, run.output, run.console[-20:])
    assert "forge-np: 285 True" in run.output, run.output
    assert run.offsite == [], run.offsite
    assert (tmp_path / "numpy.png").is_file()

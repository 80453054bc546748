"""Session fixtures for the JupyterLite tests: a channel holding the kernel's start-up packages
(built by forge.api.build from this repo's recipes), a site built from it by forge.lite, and
the probe cell the browser runs (a compiled package when the channel has one).

The channel is a temp dir that starts empty (never seeded from the repo's ./channel: no test
leans on what another run left), so every kernel recipe is built and its tests run in wasm.
It is seeded with the compiled packages tests.support.testlib.wasm_build cross-builds (markupsafe, lz4, ...; shared
with tests/platform and tests/pyodide_view, once per session), so even a fresh clone's run
probes a compiled package; without root (no build root) that part is left out."""

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
from forge.lite import SiteReport, build_site
from tests.support.browser import check_browser, notebook_json
from tests.support.probe import Probe, pick_probe
from forge.lite.site import PYODIDE_SUBDIR
from tests.support.testlib import wasm_build

#: What the kernel needs from the channel, plus the noarch package the probe falls back to.
TARGETS = ["micropip", "comm", "jedi", "ipython", "python-dateutil"]
SUBDIRS = ("noarch", "emscripten-wasm32")
#: With the build root (root, node), the channel holds markupsafe and the probe must be compiled.
COMPILED_PROBE = os.geteuid() == 0 and shutil.which("node") is not None
#: A site request that must never happen offline: the off-site probe tries it.
OFFSITE_URL = "http://forge-offsite-probe.invalid/blocked.json"


def _seed(dest: Path, source: Path) -> None:
    """Copy the package files the source channel indexes (a snapshot; it may be written to)."""
    src = Channel(source)
    for sd in SUBDIRS:
        (dest / sd).mkdir(parents=True, exist_ok=True)
        data = src.repodata(sd) if (source / sd / "repodata.json").is_file() else {}
        for key in ("packages", "packages.conda"):
            for fn in data.get(key) or {}:
                if (source / sd / fn).is_file():
                    shutil.copy2(source / sd / fn, dest / sd / fn)
    Channel(dest).reindex()


@pytest.fixture(scope="session")
def lite_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A channel with the kernel's start-up packages and python-dateutil."""
    repo = ForgeConfig.load()
    root = tmp_path_factory.mktemp("lite-channel")
    channel, recipes = root / "channel", root / "recipes"
    if COMPILED_PROBE:
        _seed(channel, wasm_build(tmp_path_factory)[0].channel_dir)
    order, _dot = api.graph_order(TARGETS, repo)
    for name in order:  # only these recipes: one being written elsewhere cannot break us
        shutil.copytree(recipe_folders(repo.recipes_dir)[name], recipes / name)  # platform ones too
    cfg = ForgeConfig.load(channel_dir=channel, recipes_dir=recipes, state_dir=root / "state")
    report = api.build(TARGETS, cfg, jobs=os.cpu_count() or 2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
    return channel


@pytest.fixture(scope="session")
def notebooks(tmp_path_factory: pytest.TempPathFactory, lite_channel: Path) -> tuple[Path, Probe]:
    """The site's contents: check.ipynb (the probe) and offsite.ipynb (tries to leave 127.0.0.1)."""
    from forge.pyodide_view import publish_view  # noqa: PLC0415

    view = publish_view(lite_channel, include_runtime=False)
    probe = pick_probe(json.loads(view.lock_path.read_text()))
    files = tmp_path_factory.mktemp("lite-files")
    (files / "check.ipynb").write_text(json.dumps(notebook_json(probe.code)))
    offsite = (f"from js import fetch\ntry:\n    await fetch({OFFSITE_URL!r})\nexcept Exception as e:\n"
               f"    print('forge-offsite:', type(e).__name__)\nelse:\n    print('forge-offsite: fetched')")
    (files / "offsite.ipynb").write_text(json.dumps(notebook_json(offsite)))
    return files, probe


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, lite_channel: Path,
         notebooks: tuple[Path, Probe]) -> SiteReport:
    out = tmp_path_factory.mktemp("lite-site") / "site"
    return build_site(lite_channel, out, contents=(notebooks[0],), refresh_view=False)


@pytest.fixture(scope="session")
def probe(notebooks: tuple[Path, Probe]) -> Probe:
    return notebooks[1]


@pytest.fixture(scope="session")
def compiled_probe() -> bool:
    """Whether the channel was seeded with the cross-built compiled packages."""
    return COMPILED_PROBE


@pytest.fixture(scope="session")
def offsite_url() -> str:
    return OFFSITE_URL


@pytest.fixture(scope="session")
def browser_ready() -> None:
    why = check_browser()
    if why:
        pytest.fail(f"the Chromium harness is not set up: {why}")


@pytest.fixture(scope="session")
def site_pyodide(site: SiteReport) -> Path:
    return site.output_dir / PYODIDE_SUBDIR

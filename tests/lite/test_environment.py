"""`forge lite --environment environment.yml`: the file's dependencies solved against the channel
(py-rattler, as `micromamba create -f` would), the site's lock cut down to that set plus the
kernel's own start-up packages, the set preloaded by loadPyodide; an unsatisfiable file is one
sentence naming it. The channel is tests/lite's (the kernel's packages, python-dateutil and,
with the build root, the cross-built markupsafe, ujson, lz4, ... and pytest). numpy from an
environment file, in Chromium, is tests/numpy/test_lite_environment.py (on the numpy build)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forge.errors import ForgeError
from forge.lite import build_site, site_settings
from tests.support.browser import notebook_json, run_notebook
from forge.lite.environment import closure, solve_environment
from forge.lite.site import CHANNEL_STARTUP, PYODIDE_SUBDIR
from forge.serve import serving
from tests.support.testlib import forge_cli

ENV = """\
# what a deployer writes for jupyterlite-xeus, here for the Pyodide kernel
name: lite-env
channels:
  - conda-forge     # not consulted: the site is built from the forge's channel only
dependencies:
  - python
  - python-dateutil >=2.8
{extra}"""


CHECK = """\
import importlib.util, pyodide_js
loaded = pyodide_js.loadedPackages.to_py()
wanted = {wanted!r}
import dateutil.relativedelta
print('forge-env:', all(k in loaded for k in wanted), importlib.util.find_spec('ujson') is None, sorted(loaded))
"""


def _lock(channel: Path) -> dict:
    return json.loads((channel / "pyodide" / "pyodide-lock.json").read_text())


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory, compiled_probe: bool) -> Path:
    path = tmp_path_factory.mktemp("env") / "environment.yml"
    path.write_text(ENV.format(extra="  - markupsafe\n" if compiled_probe else ""))
    return path


@pytest.fixture(scope="module")
def env_site(tmp_path_factory: pytest.TempPathFactory, lite_channel: Path, env_file: Path, notebooks):
    """The site, with a notebook that checks the preloaded set (its names solved beforehand)."""
    wanted = solve_environment(env_file, lite_channel, _lock(lite_channel)).lock_keys
    files = tmp_path_factory.mktemp("env-files")
    (files / "env.ipynb").write_text(json.dumps(notebook_json(CHECK.format(wanted=wanted))))
    out = tmp_path_factory.mktemp("env-site") / "site"
    return build_site(lite_channel, out, environment=env_file, contents=(files,))


def test_the_solved_set_and_the_site_config(env_site, lite_channel: Path, env_file: Path,
                                            compiled_probe: bool) -> None:
    lock = _lock(lite_channel)
    env = solve_environment(env_file, lite_channel, lock)
    names = {r.rsplit("-", 2)[0] for r in env.records}
    # the file's specs and their dependencies, as the solver picked them
    assert {"python", "python-dateutil", "tzdata"} <= names, names
    assert env.specs == ["python", "python-dateutil >=2.8"] + (["markupsafe"] if compiled_probe else [])
    assert env.ignored_channels == ["conda-forge"]
    want = {"python-dateutil", "tzdata"} | ({"markupsafe"} if compiled_probe else set())
    assert want <= set(env.lock_keys), env.lock_keys
    assert "python" not in env.lock_keys and "ipython" not in env.lock_keys  # the runtime; not asked for
    # the site: exactly that set preloaded ...
    settings = site_settings(env_site.output_dir)
    assert settings["loadPyodideOptions"]["packages"] == env.lock_keys
    assert env_site.environment["lock_keys"] == env.lock_keys
    # ... and its lock: the set + the kernel's start-up packages, with their depends, nothing else
    site_lock = json.loads((env_site.output_dir / PYODIDE_SUBDIR / "pyodide-lock.json").read_text())
    expected = closure(lock, [*env.lock_keys, *CHANNEL_STARTUP])
    assert sorted(site_lock["packages"]) == expected == env_site.lock_packages
    if compiled_probe:  # the seeded channel holds packages nobody asked for: left out of the site
        assert {"pytest", "ujson", "lz4"} <= set(lock["packages"])
        assert not {"pytest", "ujson", "lz4"} & set(site_lock["packages"])
    for entry in site_lock["packages"].values():
        assert (env_site.output_dir / PYODIDE_SUBDIR / entry["file_name"]).is_file()
    index = json.loads((env_site.output_dir / PYODIDE_SUBDIR / "all.json").read_text())
    files = {e["file_name"] for e in site_lock["packages"].values()}
    assert {rel["filename"] for p in index.values() for rels in p["releases"].values() for rel in rels} <= files


def test_unsatisfiable_and_bad_files_are_one_sentence(lite_channel: Path, tmp_path: Path) -> None:
    lock = _lock(lite_channel)
    bad = tmp_path / "environment.yml"
    bad.write_text(ENV.format(extra="  - no-such-package-anywhere\n"))
    with pytest.raises(ForgeError) as exc:
        solve_environment(bad, lite_channel, lock)
    assert str(bad) in str(exc.value) and "cannot be satisfied" in str(exc.value)
    bad.write_text(ENV.format(extra="  - python-dateutil >=99\n"))
    with pytest.raises(ForgeError, match="cannot be satisfied"):
        solve_environment(bad, lite_channel, lock)
    bad.write_text(ENV.format(extra="  - pip:\n    - requests\n"))
    with pytest.raises(ForgeError, match="conda packages only"):
        solve_environment(bad, lite_channel, lock)
    with pytest.raises(ForgeError, match="does not exist"):
        solve_environment(tmp_path / "missing.yml", lite_channel, lock)
    # the command line: one line, exit 1, nothing built
    bad.write_text(ENV.format(extra="  - no-such-package-anywhere\n"))
    proc = forge_cli("lite", "--channel", str(lite_channel), "--output", str(tmp_path / "site"),
                     "--environment", str(bad))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: the environment file") and str(bad) in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "site").exists()


def test_the_environment_in_chromium(env_site, env_file: Path, lite_channel: Path, browser_ready: None,
                                     tmp_path: Path) -> None:
    """The preloaded set is there before the first cell runs; a channel package outside it is not."""
    with serving(env_site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=env.ipynb", "forge-env:", screenshot=tmp_path / "env.png",
                           timeout=300)
    assert run.ok, (run.error, run.output, run.console[-20:])
    assert "forge-env: True True" in run.output, run.output
    assert run.offsite == []
    assert (tmp_path / "env.png").is_file()

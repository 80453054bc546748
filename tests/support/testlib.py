"""Helpers for the foundation tests: temp repos of tiny recipes, the CLI in a subprocess,
and channel checks (snapshot, consistency). No mocks: everything runs rattler-build for real."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from forge.config import ForgeConfig

REPO = Path(__file__).resolve().parents[2]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generic_recipe(name: str, *, version: str = "1.0", script: list[str] | None = None,
                   run: list[str] | None = None) -> str:
    """A tiny noarch: generic recipe (no sources) whose build runs `script`."""
    lines = script or [f"echo {name} > $PREFIX/{name}.txt"]
    text = textwrap.dedent(f"""\
        package:
          name: {name}
          version: "{version}"
        build:
          noarch: generic
          script:
        """)
    text += "".join(f"    - {json.dumps(ln)}\n" for ln in lines)
    if run:
        text += "requirements:\n  run:\n" + "".join(f"    - {json.dumps(r)}\n" for r in run)
    return text


def make_repo(root: Path, recipes: dict[str, str], *, variants: str | None = None) -> ForgeConfig:
    """A throwaway forge repo: recipes/<name>/recipe.yaml, channel/ and state/ under `root`."""
    for name, text in recipes.items():
        d = root / "recipes" / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "recipe.yaml").write_text(text)
    (root / "recipes").mkdir(parents=True, exist_ok=True)
    if variants is not None:
        (root / "conda_build_config.yaml").write_text(variants)
    return repo_config(root)


def repo_config(root: Path, channel: Path | None = None) -> ForgeConfig:
    return ForgeConfig.load(root=root, recipes_dir=root / "recipes", channel_dir=channel or root / "channel",
                            state_dir=root / "state")


def forge_repo_config(channel: Path, state: Path) -> ForgeConfig:
    """This repository's own recipes into `channel`, with the build state in `state`."""
    return ForgeConfig.load(root=REPO, recipes_dir=REPO / "recipes", channel_dir=channel, state_dir=state)


def timed_rebuilds(recipe: str, base: Path, tmp: Path, state: Path, runs: int = 3) -> list[tuple[float, object]]:
    """Build `recipe` through api.build (no view refresh) `runs` times, each into a fresh copy
    of the channel `base`, so it is built again rather than found up to date: (seconds, report)."""
    import time  # noqa: PLC0415

    from forge import api  # noqa: PLC0415

    out: list[tuple[float, object]] = []
    for i in range(runs):
        channel = tmp / f"rebuild-{recipe}-{i}"
        shutil.copytree(base, channel)
        t = time.perf_counter()
        report = api.build([recipe], forge_repo_config(channel, state), jobs=1, view=False)
        out.append((time.perf_counter() - t, report))
        assert report.ok, report.results
    return out


def forge_env(root: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["COLUMNS"] = "1000"  # rich wraps at 80 columns otherwise; keep each message on one line
    env.pop("FORGE_FAULT", None)
    if root is not None:
        env["FORGE_ROOT"] = str(root)
        env["FORGE_STATE"] = str(root / "state")
    env.update(extra)
    return env


def forge_cli(*args: str, root: Path | None = None, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
    """Run `forge ARGS` in a subprocess (the real entry point), capturing text output."""
    return subprocess.run(
        [sys.executable, "-c", "from forge.cli import main; main()", *args],
        env=forge_env(root, **extra), capture_output=True, text=True, timeout=timeout,
        cwd=str(root) if root else None, check=False,
    )


def snapshot(channel: Path) -> dict[str, str]:
    """Every file of a channel (hidden ones too) with its content hash."""
    return {
        str(p.relative_to(channel)): sha256(p)
        for p in sorted(channel.rglob("*")) if p.is_file()
    }


def listed(channel: Path) -> dict[str, dict]:
    """'<subdir>/<file>' -> repodata record, over every subdir's repodata.json."""
    out: dict[str, dict] = {}
    for rd in sorted(channel.glob("*/repodata.json")):
        data = json.loads(rd.read_text())
        for key in ("packages", "packages.conda"):
            for fn, rec in (data.get(key) or {}).items():
                out[f"{rd.parent.name}/{fn}"] = rec
    return out


def assert_consistent(channel: Path) -> dict[str, dict]:
    """Every file every repodata.json lists exists, with the listed sha256 and size, and none
    of them is a partial (temporary) file. Returns the listing."""
    records = listed(channel)
    for rel, rec in records.items():
        path = channel / rel
        assert not path.name.startswith("."), f"{rel} is a temporary file but is listed"
        assert path.is_file(), f"{rel} is listed in repodata but missing"
        assert sha256(path) == rec["sha256"], f"{rel} does not have the sha256 repodata lists"
        assert path.stat().st_size == rec["size"], f"{rel} does not have the size repodata lists"
    return records


#: The compiled recipes (C, C++, Cython, a shared library and its user) the wasm suites build.
WASM_COMPILED = ["markupsafe", "cymem", "ujson", "memory-allocator", "liblz4", "lz4"]
_WASM_BUILD: dict[str, tuple] = {}


class ChannelPackages:
    """Mixin for built-channel fixtures: the channel dir and its newest emscripten-wasm32 files."""

    config: ForgeConfig

    @property
    def channel(self) -> Path:
        return self.config.channel_dir

    def package(self, name: str) -> Path:
        found = sorted((self.channel / "emscripten-wasm32").glob(f"{name}-[0-9]*.conda"))
        assert found, f"{name} is not in {self.channel}"
        return found[-1]


def wasm_build(tmp_path_factory) -> tuple[ForgeConfig, object]:
    """python + pytest (the wasm tests' requirement), then WASM_COMPILED, cross-built for real
    (wasm tests and all) into one temp channel, once per pytest process: tests/platform,
    tests/pyodide_view and tests/lite share it. Skips without root (the build root) or node."""
    import pytest  # noqa: PLC0415

    if "done" not in _WASM_BUILD:
        if os.geteuid() != 0:
            pytest.skip("the emscripten build root needs root")
        if not shutil.which("node"):
            pytest.skip("python-wasm needs node on PATH")
        from forge import api  # noqa: PLC0415
        from forge.toolchain import ensure  # noqa: PLC0415

        ensure()
        tmp = tmp_path_factory.mktemp("wasm-channel")
        cfg = forge_repo_config(tmp / "channel", tmp / "state")
        for targets in (["python", "pytest"], WASM_COMPILED):
            report = api.build(targets, cfg, jobs=2, view=False)
            assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
        _WASM_BUILD["done"] = (cfg, report)
    return _WASM_BUILD["done"]


_COLD_NUMPY: dict[str, tuple] = {}


def cold_numpy_build(tmp_path_factory) -> tuple[ForgeConfig, object, float, Path]:
    """The headline, proven cold once per pytest process: `forge build numpy` with its own empty
    FORGE_STATE, FORGE_CACHE and channel (only the build root, which set-up makes, is reused),
    so it cannot pass on sdists or wheels another test fetched. tests/numpy builds on it;
    tests/authors copies its numpy packages. Returns (config, report, seconds, tmp dir)."""
    import time  # noqa: PLC0415

    if "done" not in _COLD_NUMPY:
        from forge import api  # noqa: PLC0415
        from forge.toolchain import ensure  # noqa: PLC0415

        ensure()
        tmp = tmp_path_factory.mktemp("numpy-channel")
        cfg = forge_repo_config(tmp / "channel", tmp / "state")
        saved = os.environ.get("FORGE_CACHE")
        os.environ["FORGE_CACHE"] = str(tmp / "cache")  # empty: sources, wheels, the Pyodide tarball
        try:
            assert not cfg.channel_dir.exists() and not cfg.state_dir.exists() and not (tmp / "cache").exists()
            t0 = time.monotonic()
            report = api.build(["numpy"], cfg, jobs=2)
            seconds = time.monotonic() - t0
        finally:
            if saved is not None:
                os.environ["FORGE_CACHE"] = saved
        assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
        _COLD_NUMPY["done"] = (cfg, report, seconds, tmp)
    return _COLD_NUMPY["done"]

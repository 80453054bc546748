"""Fixtures for the emscripten-wasm32 platform tests: the real build root, host node, real
rattler-build builds of the repo's recipes into a temp channel (once per session)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from forge import api
from forge.config import ForgeConfig
from tests.support.testlib import WASM_COMPILED as COMPILED
from tests.support.testlib import ChannelPackages

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def _platform_env() -> None:
    if os.geteuid() != 0:
        pytest.skip("the emscripten build root needs root")
    if not shutil.which("node"):
        pytest.skip("python-wasm needs node on PATH")


@dataclass
class WasmChannel(ChannelPackages):
    config: ForgeConfig
    report: api.BuildReport
    tmp: Path


def config_for(tmp: Path, recipes: Path | None = None, channel: Path | None = None) -> ForgeConfig:
    return ForgeConfig.load(root=REPO, recipes_dir=recipes or REPO / "recipes",
                            channel_dir=channel or tmp / "channel", state_dir=tmp / "state")


@pytest.fixture(scope="session")
def wasm_channel(tmp_path_factory: pytest.TempPathFactory) -> WasmChannel:
    """python + pytest (their tests' requirement), then every compiled recipe, built for real
    (cross builds, wasm tests and all) into a fresh channel (shared with tests/pyodide_view
    and tests/lite: tests.support.testlib.wasm_build builds it once per session)."""
    from tests.support.testlib import wasm_build  # noqa: PLC0415

    cfg, report = wasm_build(tmp_path_factory)
    return WasmChannel(cfg, report, cfg.channel_dir.parent)


@pytest.fixture(scope="session")
def wasm_prefix(wasm_channel: WasmChannel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An emscripten-wasm32 prefix with every compiled package and pytest, from the channel."""
    from forge.envs import create_env  # noqa: PLC0415

    prefix = tmp_path_factory.mktemp("prefix") / "env"
    create_env(prefix, [str(wasm_channel.channel)], [*COMPILED, "pytest"], "emscripten-wasm32")
    return prefix

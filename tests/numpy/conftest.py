"""One real `forge build numpy` per session (cross builds in the sid build root, wasm tests
under node), shared by every test here; pywavelets and bottleneck are built on it only when a
test that needs them runs (they are not in CI's core set: `@pytest.mark.recipes`).

This is the headline proven cold (tests.support.testlib.cold_numpy_build): numpy is built with
its own empty FORGE_STATE, FORGE_CACHE and channel, as on a fresh machine (only the build root,
which set-up makes, is reused), so it cannot pass on wheels or sdists another test fetched."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

from forge import api  # noqa: E402
from forge.config import ForgeConfig
from tests.support.testlib import ChannelPackages, cold_numpy_build  # noqa: E402

DOWNSTREAM = ["pywavelets", "bottleneck"]


def _needs_root_and_node() -> None:
    if os.geteuid() != 0:
        pytest.skip("the emscripten build root needs root")
    if not shutil.which("node"):
        pytest.skip("python-wasm needs node on PATH")


@dataclass
class NumpyChannel(ChannelPackages):
    config: ForgeConfig
    report: api.BuildReport
    tmp: Path
    numpy_seconds: float


@pytest.fixture(scope="session")
def numpy_channel(tmp_path_factory: pytest.TempPathFactory) -> NumpyChannel:
    _needs_root_and_node()
    cfg, report, numpy_seconds, tmp = cold_numpy_build(tmp_path_factory)
    return NumpyChannel(cfg, report, tmp, numpy_seconds)


@pytest.fixture(scope="session")
def downstream(numpy_channel: NumpyChannel) -> api.BuildReport:
    """pywavelets and bottleneck compiled against the channel's numpy, with their test suites in wasm."""
    report = api.build(DOWNSTREAM, numpy_channel.config, jobs=2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}
    return report

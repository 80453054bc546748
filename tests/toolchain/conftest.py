"""Shared fixtures for toolchain tests; `buildroot` marks tests that need the real sid root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forge.toolchain import Bind, BuildRoot, default_root_dir


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "buildroot: needs the real sid build root (created on first use, minutes cold)"
    )


@pytest.fixture(scope="session")
def build_root() -> BuildRoot:
    """The real build root ($FORGE_BUILDROOT or the user's, forge.locations), ensured once per session."""
    if os.geteuid() != 0:
        pytest.skip("the build root needs root")
    root = BuildRoot(Path(default_root_dir()))
    root.ensure()
    return root


@pytest.fixture(scope="module")
def meson_bin(build_root: BuildRoot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """meson and ninja in a venv of the root's python3.14 (pip; the forge's pip cache)."""
    venv = tmp_path_factory.mktemp("meson") / "venv"
    pip_cache = build_root.cache_dir / "pip"
    pip_cache.mkdir(parents=True, exist_ok=True)
    build_root.run(["sh", "-ec", f"python3.14 -m venv {venv}; {venv}/bin/pip install -q meson==1.12.1 ninja==1.13.2"],
                   binds=[venv.parent, Bind(pip_cache, "/root/.cache/pip")])
    return venv / "bin"

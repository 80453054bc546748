"""Shared fixtures for toolchain tests; `buildroot` marks tests that need the real sid root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forge.toolchain import BuildRoot, default_root_dir


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

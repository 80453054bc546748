"""The toolchain's per-user places (forge.locations decides them for the whole forge)."""

from __future__ import annotations

from pathlib import Path

from ..locations import buildroot_dir, download_cache_dir


def default_root_dir() -> Path:
    """Build root location: $FORGE_BUILDROOT, else <user dir>/buildroot (forge.locations)."""
    return buildroot_dir()


def default_cache_dir() -> Path:
    """Download caches (npm tarballs, .debs): $FORGE_CACHE, else <user dir>/cache."""
    return download_cache_dir()

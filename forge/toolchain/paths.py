"""Default locations: everything generated lives under <repo>/.forge (git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout holding the forge package (parent of forge/)."""
    return Path(__file__).resolve().parents[2]


def default_root_dir() -> Path:
    """Build root location: $FORGE_BUILDROOT or <repo>/.forge/buildroot."""
    env = os.environ.get("FORGE_BUILDROOT")
    return Path(env).resolve() if env else repo_root() / ".forge" / "buildroot"


def default_cache_dir() -> Path:
    """Download caches (npm tarballs, .debs): $FORGE_CACHE or <repo>/.forge/cache."""
    env = os.environ.get("FORGE_CACHE")
    return Path(env).resolve() if env else repo_root() / ".forge" / "cache"

"""Where things live: the repository, its recipes, the channel, caches and logs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The platform every package runs on, and so is tested on: noarch packages too are rendered,
#: resolved and tested for it (python-wasm), never against the build machine's Python.
TARGET_PLATFORM = "emscripten-wasm32"

#: Platforms a recipe is rendered for (noarch outputs come out of the target's rendering).
DEFAULT_PLATFORMS: tuple[str, ...] = (TARGET_PLATFORM,)

#: Placeholder that stands for the per-build sources directory while planning.
SOURCES_PLACEHOLDER = "/forge-sources"


def is_recipe_repo(path: Path) -> bool:
    return (path / "recipes").is_dir() and (path / "conda_build_config.yaml").is_file()


def repo_root(start: Path | None = None) -> Path:
    """The recipe repository the forge works on: $FORGE_ROOT (`forge --root`), else the
    nearest folder at or above the working directory holding recipes/ and
    conda_build_config.yaml (as git finds .git), else the working directory. An installed
    forge builds any repository's recipes, not only its own checkout's."""
    env = os.environ.get("FORGE_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if is_recipe_repo(d)), here)


@dataclass(frozen=True)
class ForgeConfig:
    """Paths and knobs shared by planning, building and publishing."""

    root: Path
    recipes_dir: Path
    channel_dir: Path
    state_dir: Path
    platforms: tuple[str, ...] = field(default=DEFAULT_PLATFORMS)

    @property
    def variant_file(self) -> Path:
        return self.root / "conda_build_config.yaml"

    @property
    def cache_dir(self) -> Path:
        return Path(os.environ.get("FORGE_CACHE", self.state_dir / "cache"))

    @property
    def work_dir(self) -> Path:
        return self.state_dir / "work"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def constraints_file(self) -> Path:
        return self.root / "constraints" / "build-tools.txt"

    @classmethod
    def load(
        cls,
        *,
        root: Path | None = None,
        recipes_dir: Path | None = None,
        channel_dir: Path | None = None,
        state_dir: Path | None = None,
    ) -> "ForgeConfig":
        """Defaults: the repo's recipes/, ./channel (or $FORGE_CHANNEL), .forge/ for state."""
        root = (root or repo_root()).resolve()
        channel = channel_dir or Path(os.environ.get("FORGE_CHANNEL", root / "channel"))
        state = state_dir or Path(os.environ.get("FORGE_STATE", root / ".forge"))
        return cls(
            root=root,
            recipes_dir=(recipes_dir or root / "recipes").resolve(),
            channel_dir=Path(channel).resolve(),
            state_dir=Path(state).resolve(),
        )

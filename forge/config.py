"""A run's paths: the repository, its recipes, the channel, state and caches (forge.locations decides)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .locations import constraints_file, download_cache_dir, find_repo, user_dir

#: The platform every package runs on, and so is tested on: noarch packages too are rendered,
#: resolved and tested for it (python-wasm), never against the build machine's Python.
TARGET_PLATFORM = "emscripten-wasm32"

#: Platforms a recipe is rendered for (noarch outputs come out of the target's rendering).
DEFAULT_PLATFORMS: tuple[str, ...] = (TARGET_PLATFORM,)

#: Placeholder that stands for the per-build sources directory while planning.
SOURCES_PLACEHOLDER = "/forge-sources"


@dataclass(frozen=True)
class ForgeConfig:
    """Paths and knobs shared by planning, building and publishing."""

    root: Path
    recipes_dir: Path
    channel_dir: Path
    state_dir: Path
    platforms: tuple[str, ...] = field(default=DEFAULT_PLATFORMS)
    #: False outside any recipe repository (the forge's platform recipes, the user's channel)
    in_repo: bool = True
    #: every build in Linux namespaces (forge.sandbox); off only by `--no-sandbox` or FORGE_SANDBOX=0,
    #: as Nix's `sandbox = false`
    sandbox: bool = True

    @property
    def variant_file(self) -> Path:
        return self.root / "conda_build_config.yaml"

    @property
    def cache_dir(self) -> Path:
        return download_cache_dir()

    @property
    def work_dir(self) -> Path:
        return self.state_dir / "work"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def constraints_file(self) -> Path:
        return constraints_file(self.root)

    @classmethod
    def load(
        cls,
        *,
        root: Path | None = None,
        recipes_dir: Path | None = None,
        channel_dir: Path | None = None,
        state_dir: Path | None = None,
    ) -> "ForgeConfig":
        """Defaults: the repository's recipes/, channel/ (or $FORGE_CHANNEL) and .forge/ (or
        $FORGE_STATE); outside any recipe repository, the forge's own platform recipes with the
        user's channel and state (forge.locations), so nothing lands in an author's project."""
        found = root or find_repo()
        if found is None:
            from .locations import PLATFORM_REPO  # noqa: PLC0415

            root, default_channel, default_state = PLATFORM_REPO, user_dir() / "channel", user_dir() / "state"
        else:
            root = found.resolve()
            default_channel, default_state = root / "channel", root / ".forge"
        channel = channel_dir or Path(os.environ.get("FORGE_CHANNEL", default_channel))
        state = state_dir or Path(os.environ.get("FORGE_STATE", default_state))
        return cls(
            root=root,
            recipes_dir=(recipes_dir or root / "recipes").resolve(),
            channel_dir=Path(channel).resolve(),
            state_dir=Path(state).resolve(),
            in_repo=found is not None,
            sandbox=os.environ.get("FORGE_SANDBOX", "1").lower() not in ("0", "false", "no", "off"),
        )


def repo_root(start: Path | None = None) -> Path:
    """The recipe repository in force, else the working directory (for messages and defaults)."""
    return find_repo(start) or (start or Path.cwd()).resolve()

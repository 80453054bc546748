"""Where things live: one answer for the checkout, another recipe repository and an author's project.

Two kinds of place, and nothing else:

- **per user** (`user_dir()`: `$FORGE_HOME`, else `$XDG_CACHE_HOME/wasm-forge`, else
  `~/.cache/wasm-forge`): the emscripten build root, the download caches, and, when the forge runs
  outside any recipe repository, its channel (the platform's `python` for wasm venvs) and its state.
  Shared by every repository and project of that user; made on first use.
- **per repository** (a folder with `recipes/` and `conda_build_config.yaml`): its channel and its
  `.forge/` state (work dirs, logs).

The forge ships the platform itself (`forge/platform/`): the Pyodide pins, the build tools'
constraints and the `python` / `pyodide-abi` recipes. It is a recipe repository of its own; any
other repository's pins, constraints and recipes of the same name take precedence over it.
Nothing here reads a file at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

#: the recipe repository shipped inside the forge package: platform pins, constraints, platform recipes
PLATFORM_REPO = Path(__file__).resolve().parent / "platform"
VARIANT_NAME = "conda_build_config.yaml"
CONSTRAINTS = Path("constraints") / "build-tools.txt"


def is_recipe_repo(path: Path) -> bool:
    return (path / "recipes").is_dir() and (path / VARIANT_NAME).is_file()


def find_repo(start: Path | None = None) -> Path | None:
    """$FORGE_ROOT (`forge --root`), else the nearest folder at or above `start` (the working
    directory) holding recipes/ and conda_build_config.yaml, as git finds .git; else None."""
    env = os.environ.get("FORGE_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if is_recipe_repo(d)), None)


def user_dir() -> Path:
    """The user's own forge folder (build root, downloads; channel and state outside a repository)."""
    env = os.environ.get("FORGE_HOME")
    if env:
        return Path(env).resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (Path(base) / "wasm-forge").resolve()


def buildroot_dir() -> Path:
    """The emscripten build root: $FORGE_BUILDROOT, else <user>/buildroot."""
    env = os.environ.get("FORGE_BUILDROOT")
    return Path(env).resolve() if env else user_dir() / "buildroot"


def download_cache_dir() -> Path:
    """Verified downloads (sdists, wheel sets, npm tarballs, .debs): $FORGE_CACHE, else <user>/cache."""
    env = os.environ.get("FORGE_CACHE")
    return Path(env).resolve() if env else user_dir() / "cache"


def variant_files(root: Path | None) -> list[Path]:
    """The variant pins in force, lowest precedence first: the forge's platform pins, then the
    repository's own conda_build_config.yaml (when it is another file)."""
    files = [PLATFORM_REPO / VARIANT_NAME]
    own = root / VARIANT_NAME if root is not None else None
    if own is not None and own.is_file() and own.resolve() != files[0].resolve():
        files.append(own)
    return files


def constraints_file(root: Path) -> Path:
    """The build tools' pins: the repository's constraints/build-tools.txt, else the forge's."""
    own = root / CONSTRAINTS
    return own if own.is_file() else PLATFORM_REPO / CONSTRAINTS


def platform_recipes() -> Path:
    """The recipes the forge itself provides (python, pyodide-abi); a repository's own win."""
    return PLATFORM_REPO / "recipes"

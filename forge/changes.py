"""Which recipes a change touches, and everything that depends on them (what CI rebuilds)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .errors import ForgeError
from .locations import PLATFORM_REPO
from .recipes import tags
from .scheduler import dependents_of
from .workspace import Workspace


def changed_folders(root: Path, recipes_dir: Path, base: str) -> tuple[set[str], bool]:
    """(recipe folders touched since `base`, whether the shared variant pins changed)."""
    proc = subprocess.run(["git", "diff", "--name-only", base, "--"], cwd=root,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ForgeError(f"git cannot diff against {base!r} ({proc.stderr.strip()[:200]})",
                         fix="pass a revision that exists, e.g. --base origin/main")
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=root,
                               capture_output=True, text=True, check=False).stdout
    dirs = [recipes_dir.resolve().relative_to(root.resolve())]
    pin_files = {"conda_build_config.yaml"}
    if PLATFORM_REPO.is_relative_to(root.resolve()):  # the forge's own checkout: its platform recipes and pins
        platform = PLATFORM_REPO.relative_to(root.resolve())
        dirs.append(platform / "recipes")
        pin_files.add(str(platform / "conda_build_config.yaml"))
    names: set[str] = set()
    pins = False
    for line in (proc.stdout + untracked).splitlines():
        parts = Path(line).parts
        pins |= line in pin_files
        for rel in dirs:
            if len(parts) > len(rel.parts) and Path(*parts[: len(rel.parts)]) == rel:
                names.add(parts[len(rel.parts)])
    return names, pins


def affected(ws: Workspace, base: str) -> list[str]:
    """Changed recipes plus their dependents, in build order (all recipes if the pins changed)."""
    names, pins = changed_folders(ws.config.root, ws.config.recipes_dir, base)
    everything = sorted(ws.folders)
    graph = ws.graph(everything)
    hit = set(everything) if pins else {n for n in names if n in ws.folders}
    for name in list(hit):
        hit |= dependents_of(graph.deps, name)
    return [n for n in graph.order() if n in hit]


CORE_TAG = "core"


def core(ws: Workspace) -> set[str]:
    """Recipes tagged `core` (`extra: {tags: [core]}`): what every CI run builds and tests."""
    return {name for name, path in ws.folders.items() if CORE_TAG in tags(path)}


def ci_selection(ws: Workspace, base: str | None) -> list[str]:
    """What a CI run builds: the core set, plus what changed since `base` and its dependents,
    in build order (the full build of every recipe is a benchmark, not every run)."""
    hit = core(ws) | (set(affected(ws, base)) if base else set())
    graph = ws.graph(sorted(hit))
    return [n for n in graph.order() if n in hit]

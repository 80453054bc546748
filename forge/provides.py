"""Which of a channel's packages hold a file: the fix for a build that missed a header, a library
or a pkg-config module is naming the package to put in its `host` requirements.

Read from each package's own file list (paths.json, py-rattler), only when a build has failed
for want of a file, so nothing is indexed ahead of time."""

from __future__ import annotations

from pathlib import Path

from .causes import missing_file


def packages_holding(channel_dir: Path, rel_paths: list[str], subdirs: tuple[str, ...] = ("emscripten-wasm32",)) -> list[str]:
    """Names of the channel's packages that hold any of REL_PATHS (relative to the prefix)."""
    from rattler.package import PathsJson  # noqa: PLC0415  (slow import)

    wanted = set(rel_paths)
    found: set[str] = set()
    for subdir in subdirs:
        for pkg in sorted((channel_dir / subdir).glob("*.conda")):
            name = pkg.name.rsplit("-", 2)[0]
            if name in found:
                continue
            try:
                paths = PathsJson.from_package_archive(pkg).paths
            except Exception:  # noqa: BLE001  (a package it cannot read names nothing)
                continue
            if any(str(e.relative_path) in wanted for e in paths):
                found.add(name)
    return sorted(found)


def missing_file_fix(cause: str, channel_dir: Path | None) -> str | None:
    """The fix for a build that failed for want of a file: the package(s) of the channel that hold
    it, to add to `host`, or that no package holds it and a library recipe is needed."""
    missing = missing_file(cause)
    if missing is None:
        return None
    name, paths = missing
    holders = packages_holding(channel_dir, paths) if channel_dir is not None and channel_dir.is_dir() else []
    if holders:
        return (f"add {' or '.join(holders)} to the recipe's `host` requirements (the channel's "
                f"{'package that provides' if len(holders) == 1 else 'packages that provide'} {name})")
    return (f"no package in the channel holds {' or '.join(paths)}: add a recipe for the library that provides "
            f"{name} (CONTRIBUTING.md, \"C libraries\") and put it in the recipe's `host` requirements")

"""Path checks: a task must never make a worker (or a result make the coordinator) write
outside the directory it was given.

Every name that crosses Redis is checked here before it touches the filesystem: the recipe
name, the relative paths of transferred files, and the `<subdir>/<file>` of packages.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}$")


class UnsafePath(ValueError):
    """A name or relative path that would escape its directory."""


def check_name(name: str, what: str) -> str:
    """A single path component: letters, digits, . _ + -; not '.', '..' or hidden."""
    if not isinstance(name, str) or not _NAME.match(name) or name in {".", ".."}:
        raise UnsafePath(f"{what} {name!r} is not a plain file name")
    return name


def check_relpath(rel: str, what: str) -> PurePosixPath:
    """A relative POSIX path whose every component is a plain name."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        raise UnsafePath(f"{what} {rel!r} is not a relative path")
    p = PurePosixPath(rel)
    if p.is_absolute():
        raise UnsafePath(f"{what} {rel!r} is absolute")
    for part in p.parts:
        if part in {"..", "."}:
            raise UnsafePath(f"{what} {rel!r} leaves its directory")
        check_name(part, what)
    return p


def safe_join(root: Path, rel: str, what: str) -> Path:
    """root/rel, refusing anything that resolves (symlinks included) outside root."""
    p = check_relpath(rel, what)
    target = (root / Path(*p.parts)).resolve()
    base = root.resolve()
    if target != base and base not in target.parents:
        raise UnsafePath(f"{what} {rel!r} resolves outside {base}")
    return target


def check_package(rel: str) -> tuple[str, str]:
    """A package reference `<subdir>/<file>.conda|.tar.bz2`: exactly two plain components."""
    p = check_relpath(rel, "package path")
    if len(p.parts) != 2 or not p.name.endswith((".conda", ".tar.bz2")):
        raise UnsafePath(f"package path {rel!r} is not <subdir>/<name>.conda")
    return p.parts[0], p.parts[1]


def inside(root: Path, path: Path) -> bool:
    """True when path (resolved) is root or below it."""
    base = root.resolve()
    target = path.resolve()
    return target == base or base in target.parents

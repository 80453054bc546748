"""The `.pc` file a shared-library recipe installs, so that the packages built against it
(meson's `dependency()`, setuptools' pkg-config probes) find the target's library and headers in
$PREFIX. One writer for every library recipe instead of a heredoc in each build script; the
prefix line holds $PREFIX, which rattler-build relocates like any other text file."""

from __future__ import annotations

import re
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")


def pc_text(prefix: Path, name: str, version: str, description: str, libs: str, cflags: str = "",
            requires: str = "", requires_private: str = "") -> str:
    """A pkg-config file for `name` under `prefix` (libdir lib/, includedir include/)."""
    lines = [f"prefix={prefix}", "libdir=${prefix}/lib", "includedir=${prefix}/include", "",
             f"Name: {name}", f"Description: {description}", f"Version: {version}"]
    if requires:
        lines.append(f"Requires: {requires}")
    if requires_private:  # needed only to link statically (the shared library records its own)
        lines.append(f"Requires.private: {requires_private}")
    lines += [f"Libs: {libs}".rstrip(), f"Cflags: {cflags or '-I${includedir}'}"]
    return "\n".join(lines) + "\n"


def write_pc(prefix: Path, name: str, version: str, description: str, libs: str, cflags: str = "",
             requires: str = "", requires_private: str = "") -> Path:
    """Write `<prefix>/lib/pkgconfig/<name>.pc`; refuses a name pkg-config could not look up."""
    if not _NAME.match(name) or not version.strip():
        raise ValueError(f"a pkg-config module needs a plain name and a version (got {name!r}, {version!r})")
    path = prefix / "lib" / "pkgconfig" / f"{name}.pc"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pc_text(prefix, name, version, description, libs, cflags, requires, requires_private))
    return path

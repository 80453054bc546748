"""The first real error in a failed tool's output: what a failure sentence carries.

A cross build stacks tools (pypa build -> meson/setuptools/cargo -> emcc -> wasm-ld), and each
layer above the one that failed adds its own message after the real one ("Backend subprocess
exited...", "subprocess-exited-with-error", a Python traceback). The first line that a tool
prints as its own error is the cause; the layers' wrappers are not. ANSI colour codes (cargo,
meson, pip colour their output) are dropped, so the sentence is one plain line.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\[[0-9;]{1,8}m")

#: (kind, pattern) in no particular order: the earliest matching line wins
_TOOL_ERRORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("compiler", re.compile(r"^\S+?:\d+(:\d+)?: (fatal )?error: ")),
    ("linker", re.compile(r"^(\S*/)?(wasm-ld|ld\.lld|ld)(-\d+)?: error: ")),
    ("emcc", re.compile(r"^(\S*/)?(emcc|em\+\+)(\.py)?: error: ")),
    ("meson", re.compile(r"^(\S*meson\.build:\d+:\d+: )?ERROR: (?!Could not find a version|No matching distribution)")),
    ("cmake", re.compile(r"^CMake Error\b")),
    ("pip", re.compile(r"^ERROR: (Could not find a version|No matching distribution|ResolutionImpossible|Cannot install)")),
    ("cargo", re.compile(r"^error(\[E\d+\])?: ")),
    ("f2c", re.compile(r"^Error on line \d+ of ")),
    ("cython", re.compile(r"^\S+\.(pyx|pxd|pxi):\d+:\d+: ")),
)

#: cargo reaching for a crate it does not have: the registry is unreachable here (docs/languages.md)
_CRATE = re.compile(r"(?:failed to (?:get|download|select a version for(?: the requirement)?)|"
                    r"no matching package named|failed to load source for dependency) `([^`]+)`")
_REGISTRY = re.compile(r"(?i)(unable to update registry|failed to fetch|failed to query replaced source registry|"
                       r"download of config\.json failed|couldn't resolve host|network failure|spurious network error)")


def plain(line: str) -> str:
    """LINE without ANSI escapes (and the bare `[0m` left where the escape byte was lost)."""
    return _ANSI.sub("", line).rstrip()


def first_error(lines: list[str]) -> str | None:
    """The cause in a tool's output: a crate cargo could not fetch, named as such; else the first
    line a compiler, linker, meson, CMake, pip's resolver, cargo, f2c or Cython printed as an error."""
    clean = [plain(ln).strip() for ln in lines]
    crate = next((m.group(1) for ln in clean if (m := _CRATE.search(ln))), None)
    if crate and any(_REGISTRY.search(ln) for ln in clean):
        return (f"cargo could not fetch the crate `{crate}`: the crates registry is not reachable from here "
                "(Rust crates must come from a local source, docs/languages.md)")
    raw = [plain(ln) for ln in lines]
    for i, ln in enumerate(clean):
        kind = next((k for k, p in _TOOL_ERRORS if p.search(ln)), None)
        if kind == "cmake":  # CMake says where on this line and what in the indented paragraph below
            para: list[str] = []
            for more in raw[i + 1:]:
                if not more.strip():
                    break
                if not more.startswith((" ", "\t")):
                    continue  # another stream's line in between (cmake's own `-- ...` status on stdout)
                para.append(more.strip())
                if para[-1].endswith("."):  # the paragraph's first sentence says what
                    break
            return " ".join([ln, *para])[:300]
        if kind is not None:
            return ln[:300]
    return None


#: a file the build looked for and did not find: (pattern, the channel paths that would provide it)
_MISSING = (
    (re.compile(r"fatal error: '?([\w./+-]+\.h(?:pp|h)?)'? file not found|fatal error: ([\w./+-]+\.h(?:pp|h)?): No such file"),
     lambda m: [f"include/{m}"]),
    (re.compile(r"unable to find library -l([\w.+-]+)|cannot find -l([\w.+-]+)"),
     lambda m: [f"lib/lib{m}.so", f"lib/lib{m}.a"]),
    (re.compile(r"Dependency \"?([\w.+-]+)\"? not found|Package '?([\w.+-]+)'?,? (?:required by '[^']*',? )?(?:was )?not found"),
     lambda m: [f"lib/pkgconfig/{m}.pc", f"share/pkgconfig/{m}.pc"]),
)


def missing_file(cause: str) -> tuple[str, list[str]] | None:
    """The header, library or pkg-config module a failed build could not find, and the channel
    paths a package providing it would hold (its host requirement is what is missing)."""
    for pattern, paths in _MISSING:
        m = pattern.search(cause)
        if m:
            name = next(g for g in m.groups() if g)
            return name, paths(name)
    return None

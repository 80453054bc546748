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
    for ln in clean:
        if any(p.search(ln) for _kind, p in _TOOL_ERRORS):
            return ln[:300]
    return None

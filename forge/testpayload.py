"""Test payloads: the bytes a recipe's `tests: files:` put into the package users download.

rattler-build copies a test's `files:` (`source:` globs over the source tree, `recipe:` over the
recipe folder) into the package, under `etc/conda/test-files/<name>/<i>/`, so that the package can
be tested on its own; it has no switch to leave them out (rattler-build#1228). Pyodide keeps them
out of what users load by giving them their own `<name>-tests` package, and so does the forge:
a runtime package carries no test files (`LIMIT`, 0 bytes); they belong in a `-tests` output
(CONTRIBUTING.md, "Test payloads"). This module measures it before a build (from the
verified source archive, for `forge lint`) and after (from the built package, for the publisher).
"""

from __future__ import annotations

import os
import re
import tarfile
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: What rattler-build packs for a test's `files:`, inside the package.
TEST_FILES = "etc/conda/test-files/"
#: The most test-file bytes (unpacked) a runtime package may carry: none, as in Pyodide's
#: packages (even a few KiB of tests is a large share of a small package); FORGE_TEST_PAYLOAD_LIMIT
#: overrides it.
LIMIT = 0
#: The suffix of an output that exists to carry tests (Pyodide's and this forge's convention).
TESTS_SUFFIX = "-tests"
FIX = "move the tests that need them into a `<name>-tests` output (CONTRIBUTING.md, \"Test payloads\")"


def is_tests_output(name: str) -> bool:
    """Outputs named `<name>-tests` exist to carry tests: their payload is the point."""
    return name.endswith(TESTS_SUFFIX)


def limit() -> int:
    """The limit in force (read each time: tests and users set it per run)."""
    return int(os.environ.get("FORGE_TEST_PAYLOAD_LIMIT", str(LIMIT)))


def allowance() -> str:
    """How the limit reads in a sentence: "none" or "at most 4 KiB"."""
    return "none" if limit() <= 0 else f"at most {human(limit())}"


@dataclass(frozen=True)
class Payload:
    """The test files of one package: their total unpacked bytes and the largest top folder."""

    bytes: int
    largest: str = ""
    largest_bytes: int = 0


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A `files:` entry as rattler-build reads it: a folder (everything under it), a file, or a glob
    where `**` crosses folders and `*`/`?` do not."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if not any(c in pattern for c in "*?["):
        stem = re.escape(pattern.rstrip("/"))
        return re.compile(rf"^{stem}(/.*)?$")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(rf"^{out}(/.*)?$")


def _strip_top(names: list[tuple[str, int]]) -> dict[str, int]:
    """Archive members relative to the source tree (an sdist's single top folder removed)."""
    tops = {n.split("/", 1)[0] for n, _ in names if "/" in n}
    strip = len(tops) == 1 and all("/" in n for n, _ in names)
    return {(n.split("/", 1)[1] if strip else n): size for n, size in names if not (strip and n.count("/") == 0)}


@lru_cache(maxsize=64)
def archive_files(archive: Path) -> dict[str, int]:
    """Path inside the source tree -> unpacked bytes, for a .tar.* or .zip source archive."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = [(i.filename, i.file_size) for i in zf.infolist() if not i.is_dir()]
    else:
        with tarfile.open(archive) as tf:
            names = [(m.name, m.size) for m in tf.getmembers() if m.isfile()]
    return _strip_top(names)


def folder_files(folder: Path) -> dict[str, int]:
    """Path inside a recipe folder -> bytes."""
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def _sum(files: dict[str, int], globs: list[str]) -> dict[str, int]:
    regexes = [_glob_regex(g) for g in globs]
    return {f: size for f, size in files.items() if any(r.match(f) for r in regexes)}


def test_globs(tests: list) -> tuple[tuple[str, str], ...]:
    """(`source` | `recipe`, glob) of every test's `files:`, from rendered `tests:` (rattler-build's to_dict())."""
    out: list[tuple[str, str]] = []
    for test in tests or []:
        files = test.get("files") if isinstance(test, dict) else None
        if isinstance(files, dict):
            out += [(kind, str(g)) for kind in ("source", "recipe") for g in files.get(kind) or []]
    return tuple(out)


def measure(globs: tuple[tuple[str, str], ...], source_files: dict[str, int], recipe_files: dict[str, int]) -> Payload:
    """What an output's test `files:` pack, from the source tree's and the recipe folder's files."""
    picked: dict[str, int] = {}
    for kind, files in (("source", source_files), ("recipe", recipe_files)):
        chosen = [g for k, g in globs if k == kind]
        if chosen:
            picked.update({f"{kind}/{k}": v for k, v in _sum(files, chosen).items()})
    return _largest(picked, depth=2)


def package_payload(paths: list[tuple[str, int]]) -> Payload:
    """The test files a built package holds, from its paths.json entries (path, size)."""
    picked = {p[len(TEST_FILES):]: size for p, size in paths if p.startswith(TEST_FILES)}
    return _largest(picked, depth=3)


def _largest(files: dict[str, int], depth: int) -> Payload:
    by_top: dict[str, int] = {}
    for f, size in files.items():
        top = "/".join(f.split("/")[:depth])
        by_top[top] = by_top.get(top, 0) + size
    if not by_top:
        return Payload(0)
    top, n = max(by_top.items(), key=lambda kv: kv[1])
    return Payload(sum(files.values()), top, n)


def human(n: int) -> str:
    """Bytes for a sentence: 68.8 MB, 412 KiB, 90 B."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} B"

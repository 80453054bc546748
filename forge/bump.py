"""`forge outdated` and `forge bump`: keep recipes pinned to PyPI sdists current.

A recipe takes part when its `context.version` drives an sdist source: a source `path`
whose file name is `<project>-${{ version }}.tar.gz` (or .zip) with a `sha256`. The newest
release is asked from the package index pip is configured with (forge.pipindex, unearth),
the same place the fetch phase downloads from.

`bump` edits the recipe in place: ruamel.yaml's round-trip loader finds where
`context.version`, the source's `sha256` and `build.number` sit, only those scalars are
rewritten (quotes kept), and the result is loaded again to prove it says what was meant. So
comments, key order, quoting and indentation stay exactly as the author wrote them. The new
sdist is downloaded and verified into the source cache, so the next build does not fetch it
again and the pinned sha256 is the one of the bytes downloaded.
"""

from __future__ import annotations

import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import parse_sdist_filename
from packaging.version import InvalidVersion, Version

from . import pipindex
from .errors import ForgeError
from .recipes import SourceFile, discover
from .sources import SourceCache, sha256_file

_VERSION_EXPR = re.compile(r"\$\{\{\s*version\s*\}\}")
_NAME_EXPR = re.compile(r"\$\{\{\s*name\s*\}\}")


@dataclass(frozen=True)
class SdistPin:
    """Where a recipe pins its PyPI sdist."""

    recipe: str
    file: Path
    version: str
    project: str
    template: str  # the source file name with ${{ version }} left in (${{ name }} filled in)
    filename: str
    sha256: str
    written: str  # the source path's file name as the recipe writes it

    def filename_for(self, version: str) -> str:
        return _VERSION_EXPR.sub(version, self.template)


@dataclass(frozen=True)
class Outdated:
    """A recipe whose index has a newer release."""

    recipe: str
    project: str
    current: str
    latest: str
    filename: str


@dataclass(frozen=True)
class Bumped:
    """What bump changed."""

    recipe: str
    file: Path
    old_version: str
    new_version: str
    old_sha256: str
    new_sha256: str
    archive: Path  # the verified sdist in the source cache
    changed: bool


def _yaml() -> Any:
    from ruamel.yaml import YAML  # noqa: PLC0415

    y = YAML()  # round-trip: keeps the position of every node
    y.preserve_quotes = True
    return y


def _load(text: str, shown: str, recipe: str) -> Any:
    from ruamel.yaml import YAMLError  # noqa: PLC0415

    try:
        return _yaml().load(io.StringIO(text))
    except YAMLError as exc:
        raise ForgeError(f"it is not valid YAML ({str(exc).splitlines()[0]})", recipe=recipe, file=shown,
                         fix="fix the YAML first (forge lint shows where)") from None


def _sources(data: Any) -> list[Any]:
    src = data.get("source") if hasattr(data, "get") else None
    if src is None:
        return []
    return list(src) if isinstance(src, list) else [src]


def find_pin(recipe: str, recipe_dir: Path) -> SdistPin | None:
    """The recipe's version-driven PyPI sdist, or None (no such source: nothing to bump)."""
    file = recipe_dir / "recipe.yaml"
    data = _load(file.read_text(), str(file), recipe)
    context = data.get("context") if hasattr(data, "get") else None
    if not hasattr(context, "get") or context.get("version") is None:
        return None
    version = str(context["version"])
    for src in _sources(data):
        if not hasattr(src, "get") or not isinstance(src.get("path"), str) or not src.get("sha256"):
            continue
        written = template = src["path"].rsplit("/", 1)[-1]
        if not _VERSION_EXPR.search(template) or not template.endswith(pipindex.SDIST_SUFFIXES):
            continue
        if context.get("name") is not None:
            template = _NAME_EXPR.sub(str(context["name"]), template)
        filename = _VERSION_EXPR.sub(version, template)
        if "${{" in filename:
            continue
        try:
            project, _v = parse_sdist_filename(filename)
        except Exception:  # noqa: BLE001 — not an sdist name
            continue
        return SdistPin(recipe, file, version, str(project), template, filename, str(src["sha256"]), written)
    return None


def _pins(recipes_dir: Path, names: list[str] | None) -> list[SdistPin]:
    folders = discover(recipes_dir)
    unknown = [n for n in names or [] if n not in folders]
    if unknown:
        raise ForgeError(f"there is no recipe named {', '.join(unknown)} in {recipes_dir}", fix="run `forge list`")
    pins = [find_pin(n, folders[n]) for n in (names or sorted(folders))]
    return [p for p in pins if p is not None]


def _newer(a: str, b: str) -> bool:
    try:
        return Version(a) > Version(b)
    except InvalidVersion:
        return False


def outdated(recipes_dir: Path, names: list[str] | None = None, *, jobs: int = 8) -> list[Outdated]:
    """Recipes whose sdist has a newer (final) release on pip's index, by recipe name."""
    pins = _pins(recipes_dir, names)
    settings = pipindex.index_settings()

    def latest(pin: SdistPin) -> pipindex.SdistLink | ForgeError:
        try:
            return pipindex.find_sdist_link(pin.project, settings=settings)
        except ForgeError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        found = list(pool.map(latest, pins))
    errors = [f for f in found if isinstance(f, ForgeError)]
    if errors and len(errors) == len(found):
        raise errors[0]  # the index is unreachable, not one project missing
    return [Outdated(p.recipe, p.project, p.version, f.version, f.filename) for p, f in zip(pins, found)
            if not isinstance(f, ForgeError) and _newer(f.version, p.version)]


# -- editing in place --------------------------------------------------------------------------

_SCALAR = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#,\]}]+)""")


def _replace_scalar(lines: list[str], line: int, col: int, value: str) -> None:
    """Rewrite the scalar starting at (line, col) with `value`, in the same quoting style."""
    text = lines[line]
    m = _SCALAR.match(text, col)
    if not m:
        raise ValueError(f"no scalar at line {line + 1}")
    old = m.group(1)
    new = f'"{value}"' if old.startswith('"') else f"'{value}'" if old.startswith("'") else value
    lines[line] = text[: m.start(1)] + new + text[m.end(1):]


def edit_recipe(text: str, *, version: str, sha256: str, written: str, reset_build_number: bool = True) -> str:
    """`text` with context.version, the sha256 of the source whose path ends in `written` (and
    build.number: 0) replaced, every other byte as it was."""
    data = _yaml().load(io.StringIO(text))
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    ctx = data["context"]
    edits.append((*ctx.lc.value("version"), version))
    for src in _sources(data):
        if hasattr(src, "get") and isinstance(src.get("path"), str) and src["path"].rsplit("/", 1)[-1] == written:
            edits.append((*src.lc.value("sha256"), sha256))
            break
    else:
        raise ValueError("the sdist source is gone")
    build = data.get("build")
    if reset_build_number and hasattr(build, "get") and build.get("number") not in (None, 0):
        edits.append((*build.lc.value("number"), "0"))
    for line, col, value in sorted(edits, reverse=True):
        _replace_scalar(lines, line, col, value)
    out = "".join(lines)
    check = _yaml().load(io.StringIO(out))
    if str(check["context"]["version"]) != version:
        raise ValueError("context.version did not take the new value")
    return out


def bump(name: str, recipes_dir: Path, cache_dir: Path, *, version: str | None = None) -> Bumped:
    """Point recipe NAME at `version` (default: the index's newest release) and its sha256."""
    folders = discover(recipes_dir)
    if name not in folders:
        raise ForgeError(f"there is no recipe named {name} in {recipes_dir}", fix="run `forge list`")
    if version is not None:
        try:
            Version(version)
        except InvalidVersion:
            raise ForgeError(f"--version {version!r} is not a version (PEP 440)", recipe=name,
                             fix="pass a release number such as 1.2.3") from None
    pin = find_pin(name, folders[name])
    shown = str(folders[name] / "recipe.yaml")
    if pin is None:
        raise ForgeError("its source is not a PyPI sdist named after context.version (a `path: "
                         ".../<project>-${{ version }}.tar.gz` with a sha256), so there is nothing forge bump can "
                         "update", recipe=name, file=shown, fix="edit the version and sha256 by hand")
    link = pipindex.find_sdist_link(pin.project, version)
    want = pin.filename_for(link.version)
    if link.filename != want:
        raise ForgeError(f"the index lists {link.filename} for {pin.project} {link.version}, but the recipe's "
                         f"source names {want}", recipe=name, file=shown,
                         fix="change the source path's file name to the one the index lists, then bump again")
    if link.version == pin.version:
        archive = SourceCache(cache_dir).path_for(SourceFile(pin.filename, pin.sha256))
        return Bumped(name, pin.file, pin.version, pin.version, pin.sha256, pin.sha256, archive, changed=False)
    cache = SourceCache(cache_dir)
    staging = cache.root / ".bump" / f"{os.getpid()}-{link.filename}"
    try:
        digest = pipindex.download(link.url, staging, sha256=link.sha256)
        archive = cache.path_for(SourceFile(link.filename, digest))
        archive.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, archive)
    finally:
        staging.unlink(missing_ok=True)
    assert sha256_file(archive) == digest
    text = pin.file.read_text()
    try:
        new_text = edit_recipe(text, version=link.version, sha256=digest, written=pin.written)
    except (ValueError, KeyError) as exc:
        raise ForgeError(f"its version and sha256 could not be rewritten in place ({exc})", recipe=name,
                         file=shown, fix="edit them by hand") from None
    tmp = pin.file.with_name(f".{pin.file.name}.bump-{os.getpid()}")
    tmp.write_text(new_text)
    os.replace(tmp, pin.file)
    return Bumped(name, pin.file, pin.version, link.version, pin.sha256, digest, archive, changed=True)

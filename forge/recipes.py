"""Recipe discovery, parsing and rendering with py-rattler-build.

A recipe folder holds a rattler-build v1 `recipe.yaml`. Rendering evaluates it for each target
platform and the variant pins of `conda_build_config.yaml`, giving the concrete outputs
(name, version, build string, subdir) and requirements the graph and the planner work on.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rattler_build import (
    JinjaConfig,
    PlatformConfig,
    RenderConfig,
    Stage0Recipe,
    VariantConfig,
)

from .config import SOURCES_PLACEHOLDER
from .errors import ForgeError
from .testpayload import test_globs
from .locations import platform_recipes, variant_files
from .yamlpos import line_from_message, yaml_syntax_error

RECIPE_FILE = "recipe.yaml"


@dataclass(frozen=True)
class SourceFile:
    """A source archive a build needs: its file name, the sha256 the recipe pins, and the patches
    (paths relative to the recipe folder) rattler-build applies to it before building."""

    filename: str
    sha256: str
    patches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Output:
    """One rendered package a recipe produces."""

    recipe: str
    name: str
    version: str
    build_string: str
    subdir: str
    build: tuple[str, ...] = ()
    host: tuple[str, ...] = ()
    run: tuple[str, ...] = ()
    test: tuple[str, ...] = ()  # requirements of the output's tests (they run before publishing)
    #: (`source` | `recipe`, glob) of the tests' `files:`: what rattler-build packs into the package
    test_files: tuple[tuple[str, str], ...] = ()
    sources: tuple[SourceFile, ...] = ()
    variant: tuple[tuple[str, str], ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}-{self.build_string}.conda"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.subdir, self.name, self.version, self.build_string)

    @property
    def requirements(self) -> tuple[str, ...]:
        return self.build + self.host + self.run + self.test


@dataclass
class Recipe:
    """A recipe folder and the outputs it renders to."""

    name: str
    path: Path
    outputs: list[Output] = field(default_factory=list)
    platforms: dict[str, list[Output]] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.path / RECIPE_FILE

    def display_file(self, root: Path) -> str:
        try:
            return str(self.file.relative_to(root))
        except ValueError:
            return str(self.file)


def discover(recipes_dir: Path) -> dict[str, Path]:
    """Recipe folders by name: every direct child folder with a recipe.yaml."""
    if not recipes_dir.is_dir():
        raise ForgeError(f"the recipes folder {recipes_dir} does not exist", fix="create it or pass --recipes")
    return {
        p.name: p
        for p in sorted(recipes_dir.iterdir())
        if p.is_dir() and (p / RECIPE_FILE).is_file()
    }


def recipe_folders(recipes_dir: Path) -> dict[str, Path]:
    """A repository's recipes over the forge's platform recipes (python, pyodide-abi): every
    repository builds the platform it runs on without carrying those recipes; its own win."""
    own = discover(recipes_dir)
    return {**discover(platform_recipes()), **own}


def parse(name: str, path: Path, *, display: str | None = None) -> Stage0Recipe:
    """Parse a recipe.yaml, turning YAML and schema problems into a ForgeError with a line."""
    file = path / RECIPE_FILE
    shown = display or str(file)
    syntax = yaml_syntax_error(file)
    if syntax:
        line, problem = syntax
        raise ForgeError(
            f"the YAML is malformed ({problem})", recipe=name, file=shown, line=line,
            fix="fix the YAML syntax at that line",
        )
    try:
        return Stage0Recipe.from_file(file)
    except Exception as exc:  # noqa: BLE001 — rattler_build raises its own error classes
        msg = str(exc).strip().splitlines()[0]
        raise ForgeError(
            f"rattler-build cannot read it: {msg}", recipe=name, file=shown,
            line=line_from_message(file, msg),
            fix="see the rattler-build v1 recipe format (CONTRIBUTING.md) and correct that field",
        ) from None


@lru_cache(maxsize=16)
def _variant_config(files: tuple[tuple[str, float], ...], platform: str) -> VariantConfig:
    jinja = JinjaConfig(platform=PlatformConfig(target_platform=platform))
    merged = VariantConfig()
    for file, _mtime in files:  # later files win, key by key
        merged = merged.merge(VariantConfig.from_conda_build_config(file, jinja))
    # `host_platform` is only in a variant whose recipe asks for it (build.variant.use_keys);
    # rattler-build then solves the host env for the target instead of the build machine
    return merged.merge(VariantConfig.from_yaml(f"host_platform: [{platform}]\n"))


def variant_config(variant_file: Path | None, platform: str) -> VariantConfig:
    """The variant pins for a platform: the forge's platform pins, then the repository's
    conda_build_config.yaml over them (cached per mtime)."""
    root = variant_file.parent if variant_file is not None else None
    files = [f for f in variant_files(root) if f.exists()]
    try:
        return _variant_config(tuple((str(f), f.stat().st_mtime) for f in files), platform)
    except Exception as exc:  # noqa: BLE001
        raise ForgeError(
            f"the variant file cannot be read: {str(exc).splitlines()[0]}", file=files[-1] if files else variant_file,
            fix="correct conda_build_config.yaml",
        ) from None


def _specs(values: list[Any] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):  # pin_subpackage / pin_compatible render to dicts
            for inner in v.values():
                if isinstance(inner, dict) and "name" in inner:
                    out.append(str(inner["name"]))
    return tuple(out)


def _sources(raw: list[dict[str, Any]], name: str, shown: str) -> tuple[SourceFile, ...]:
    files: list[SourceFile] = []
    for src in raw:
        path = src.get("path")
        if not path or not str(path).startswith(SOURCES_PLACEHOLDER + "/"):
            continue
        sha = src.get("sha256")
        if not sha:
            raise ForgeError(
                f"the source {Path(path).name} has no sha256", recipe=name, file=shown,
                fix="add `sha256:` with the archive's sha256 (forge new prints it)",
            )
        files.append(SourceFile(Path(path).name, str(sha), tuple(str(p) for p in src.get("patches") or ())))
    return tuple(files)


def _platform_flags(platform: str) -> dict[str, object]:
    os_part, _, arch = platform.partition("-")
    return {
        "target_platform": platform, "linux": os_part == "linux", "osx": os_part == "osx",
        "win": os_part == "win", "emscripten": os_part == "emscripten", "unix": os_part in ("linux", "osx", "emscripten"),
        "wasm32": arch == "wasm32", "x86_64": arch == "64", "aarch64": arch == "aarch64",
        "true": True, "false": False,
    }


def skipped(stage0: Stage0Recipe, platform: str, name: str, shown: str) -> bool:
    """Evaluate `build.skip` for a platform (rattler-build defers it to build time)."""
    exprs = (stage0.to_dict().get("build") or {}).get("skip") or []
    if isinstance(exprs, (str, bool)):
        exprs = [exprs]
    flags = _platform_flags(platform)
    for expr in exprs:
        if isinstance(expr, bool):
            if expr:
                return True
            continue
        try:
            if eval(compile(str(expr), "<skip>", "eval"), {"__builtins__": {}}, flags):  # noqa: S307
                return True
        except Exception:  # noqa: BLE001
            raise ForgeError(
                f"the skip condition {expr!r} cannot be evaluated", recipe=name, file=shown,
                fix="use platform selectors such as `not linux`, `emscripten` or `win`",
            ) from None
    return False


def _test_specs(tests: object) -> tuple[str, ...]:
    """`requirements.run`/`build` of script tests: a test environment needs them published."""
    specs: list[str] = []
    for t in tests if isinstance(tests, list) else []:
        reqs = t.get("requirements") if isinstance(t, dict) else None
        if isinstance(reqs, dict):
            specs += _specs(reqs.get("build")) + _specs(reqs.get("run"))
    return tuple(specs)


def render(
    name: str,
    path: Path,
    *,
    platforms: tuple[str, ...],
    variant_file: Path | None,
    display: str | None = None,
) -> Recipe:
    """Render a recipe for every platform; outputs that are identical (noarch) are merged."""
    shown = display or str(path / RECIPE_FILE)
    stage0 = parse(name, path, display=shown)
    recipe = Recipe(name=name, path=path)
    seen: dict[tuple[str, str, str, str], Output] = {}
    os.environ.setdefault("FORGE_SOURCES", SOURCES_PLACEHOLDER)
    for platform in platforms:
        if skipped(stage0, platform, name, shown):
            recipe.platforms[platform] = []
            continue
        try:
            variants = stage0.render(
                variant_config(variant_file, platform),
                RenderConfig(platform=PlatformConfig(target_platform=platform)),
            )
        except ForgeError:
            raise
        except Exception as exc:  # noqa: BLE001
            msg = str(exc).strip().splitlines()[0]
            raise ForgeError(
                f"rendering for {platform} failed: {msg}", recipe=name, file=shown,
                line=line_from_message(path / RECIPE_FILE, msg),
                fix="correct the expression or the variant it uses",
            ) from None
        outs: list[Output] = []
        for v in variants:
            st = v.recipe
            noarch = st.build.noarch
            subdir = "noarch" if noarch else platform
            reqs = st.requirements.to_dict()
            tests = st.to_dict().get("tests")
            out = Output(
                recipe=name,
                name=st.package.name,
                version=str(st.package.version),
                build_string=str(st.build.string),
                subdir=subdir,
                build=_specs(reqs.get("build")),
                host=_specs(reqs.get("host")),
                run=_specs(reqs.get("run")),
                test=_test_specs(tests),
                test_files=test_globs(tests),
                sources=_sources([s.to_dict() for s in st.sources], name, shown),
                variant=tuple(sorted((k, str(val)) for k, val in v.variant.items())),
            )
            out = seen.setdefault(out.key, out)
            outs.append(out)
        recipe.platforms[platform] = outs
    recipe.outputs = list(seen.values())
    return recipe


# --- sources outside the verified fetch phase --------------------------------------------

#: The one source form the fetch phase resolves and verifies (CONTRIBUTING.md).
_CONVENTION = re.compile(r"""^\$\{\{\s*env\.get\(\s*(["'])FORGE_SOURCES\1\s*\)\s*\}\}/[^/]+$""")
_SHA256 = re.compile(r"^([0-9a-fA-F]{64}|\$\{\{.*\}\})$")
_SOURCE_FIX = ('use `path: ${{ env.get("FORGE_SOURCES") }}/<sdist file>` with `sha256:` so the fetch phase '
               "downloads it through pip's index and verifies it (CONTRIBUTING.md, forge new writes it)")


@dataclass(frozen=True)
class UnverifiedSource:
    """A recipe source the fetch phase would not verify; `kind`: url, path, sha256 (missing), digest (malformed) or other."""

    recipe: str
    file: str
    line: int | None
    kind: str
    message: str
    fix: str = _SOURCE_FIX

    def error(self) -> ForgeError:
        return ForgeError(self.message, recipe=self.recipe, file=self.file, line=self.line, fix=self.fix)

    def __str__(self) -> str:
        return str(self.error())


def _source_nodes(node: Any) -> list[Any]:
    """Source entries, with `if:`/`then:`/`else:` branches flattened."""
    items = node if isinstance(node, list) else [node] if node is not None else []
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict) and "if" in item and ("then" in item or "else" in item):
            out += _source_nodes(item.get("then")) + _source_nodes(item.get("else"))
        elif isinstance(item, dict):
            out.append(item)
    return out


def _line(node: Any, key: str) -> int | None:
    try:
        return node.lc.key(key)[0] + 1
    except Exception:  # noqa: BLE001
        return None


def unverified_sources(name: str, path: Path, *, display: str | None = None) -> list[UnverifiedSource]:
    """Every source of a recipe that bypasses the verified fetch phase (empty: all verified).

    Only `path: ${{ env.get("FORGE_SOURCES") }}/<file>` with a `sha256:` is resolved through
    pip's index and checked; a local path, a `url:` or a `git:` source would be packaged
    unchecked. The planner refuses such a recipe; `forge lint` reports it (FL001/FL002/FL009).
    """
    from ruamel.yaml import YAML  # noqa: PLC0415

    file = path / RECIPE_FILE
    shown = display or str(file)
    try:
        data = YAML(typ="rt").load(file.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001
        return []  # malformed YAML is reported by parse()
    if not isinstance(data, dict):
        return []
    nodes = _source_nodes(data.get("source"))
    for part in [data.get("cache"), *(data.get("outputs") or [])]:  # a staging cache, multi-output recipes
        if isinstance(part, dict):
            nodes += _source_nodes(part.get("source"))
    found: list[UnverifiedSource] = []

    def add(node: Any, key: str, kind: str, message: str) -> None:
        found.append(UnverifiedSource(name, shown, _line(node, key), kind, message))

    for src in nodes:
        if "url" in src:
            add(src, "url", "url", f"the source `url: {src['url']}` is downloaded by rattler-build past the "
                "forge's verified fetch phase")
        elif "path" in src:
            where = str(src["path"]).strip()
            sha = src.get("sha256")
            if not _CONVENTION.match(where):
                add(src, "path", "path", f"the source `path: {where}` is a local file or folder the fetch phase "
                    "never verifies" + (" (and it pins no sha256)" if sha in (None, "") else ""))
            elif sha in (None, ""):
                add(src, "path", "sha256", f"the source `path: {where}` pins no sha256, so the fetch phase "
                    "cannot verify it")
            elif isinstance(sha, str) and not _SHA256.match(sha.strip()):  # YAML may read all-digit ones as int
                add(src, "sha256", "digest", f"the source's sha256 {str(sha)!r} is not a 64-digit hex digest")
        else:
            kind = next((k for k in ("git", "hg", "svn") if k in src), "other")
            key = kind if kind != "other" else next(iter(src), "source")
            add(src, key, "other", f"a `{key}:` source is checked out past the forge's verified fetch phase")
    return found


def refuse_unverified_sources(name: str, path: Path, *, display: str | None = None) -> None:
    """Raise the first unverified source as a ForgeError (recipe, file:line, fix)."""
    found = unverified_sources(name, path, display=display)
    if found:
        raise found[0].error()


def tags(path: Path) -> frozenset[str]:
    """The recipe's `extra.tags` (e.g. `core`: built in every CI run, as pyodide-recipes' tag:core).

    Read from the raw YAML, not the rendering, so selecting a tier stays instant."""
    from ruamel.yaml import YAML  # noqa: PLC0415

    try:
        data = YAML(typ="safe").load((path / RECIPE_FILE).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001
        return frozenset()  # malformed YAML is reported by parse()
    extra = data.get("extra") if isinstance(data, dict) else None
    found = extra.get("tags") if isinstance(extra, dict) else None
    return frozenset(str(t) for t in found) if isinstance(found, list) else frozenset()

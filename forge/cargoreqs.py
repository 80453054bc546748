"""What a Rust project asks of the crates registry: the registry dependencies its Cargo.toml
files name (workspace members and path dependencies too) with cargo's semver requirements.

Read before any build (forge.crates maps them to Debian's `librust-*-dev` packages), so a
crate Debian lacks is refused in the fetch phase rather than by cargo in the sandbox.
"""

from __future__ import annotations

import glob
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

#: dependency tables cargo resolves for a build (dev-dependencies only for tests, not built here)
DEP_TABLES = ("dependencies", "build-dependencies")
#: `[target.'cfg(...)'.dependencies]` for platforms a wasm build never compiles; Debian drops them too
FOREIGN_TARGET = re.compile(r"windows|macos|ios|android|apple|darwin|wasi|hermit|sgx|redox|fuchsia|vxworks")


@dataclass(frozen=True)
class CrateReq:
    """One registry dependency: the crate, cargo's requirement text, the features asked for."""

    name: str
    req: str
    features: tuple[str, ...] = ()
    default_features: bool = True
    origin: str = "Cargo.toml"  # the manifest that asks, relative to the source tree


@dataclass
class Manifests:
    """The registry dependencies of a source tree's crates, and the manifests read."""

    reqs: list[CrateReq] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    local: set[str] = field(default_factory=set)  # crates of the tree itself (path/workspace members)
    #: `[features]` entries enabling a dependency's feature (`pyo3/generate-import-lib`): (crate, feature, manifest)
    feature_refs: list[tuple[str, str, str]] = field(default_factory=list)


def norm(name: str) -> str:
    """Crate names compare as Debian names them: lowercase, `_` as `-`."""
    return name.lower().replace("_", "-")


def _load(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def _members(root: Path, manifest: dict) -> list[Path]:
    ws = manifest.get("workspace", {}) if isinstance(manifest.get("workspace"), dict) else {}
    out: list[Path] = []
    excluded = {(root / e).resolve() for e in ws.get("exclude", [])}
    for pattern in ws.get("members", []):
        for hit in sorted(glob.glob(str(root / pattern))):
            p = Path(hit).resolve()
            if p not in excluded and (p / "Cargo.toml").is_file():
                out.append(p)
    return out


def _dep_tables(manifest: dict) -> list[dict]:
    tables = [manifest.get(t, {}) for t in DEP_TABLES]
    for cfg, target in (manifest.get("target") or {}).items():
        if isinstance(target, dict) and not FOREIGN_TARGET.search(cfg):
            tables += [target.get(t, {}) for t in DEP_TABLES]
    return [t for t in tables if isinstance(t, dict)]


def read_manifests(src: Path) -> Manifests:
    """Every registry dependency of the tree's top Cargo.toml, its workspace members and the
    path dependencies they reach (`workspace = true` entries take the workspace's version), and
    the dependency features `[features]` tables and `[tool.maturin] features` enable."""
    out = Manifests()
    top = _load(src / "Cargo.toml")
    ws_deps = (top.get("workspace") or {}).get("dependencies", {}) if isinstance(top.get("workspace"), dict) else {}
    todo = [src.resolve()] + _members(src.resolve(), top)
    seen: set[Path] = set()
    while todo:
        crate_dir = todo.pop(0)
        if crate_dir in seen or not (crate_dir / "Cargo.toml").is_file():
            continue
        seen.add(crate_dir)
        manifest = _load(crate_dir / "Cargo.toml")
        rel = str((crate_dir / "Cargo.toml").relative_to(src.resolve())) if crate_dir.is_relative_to(src.resolve()) \
            else str(crate_dir / "Cargo.toml")
        out.files.append(rel)
        if isinstance(manifest.get("package"), dict) and manifest["package"].get("name"):
            out.local.add(norm(str(manifest["package"]["name"])))
        features = manifest.get("features") if isinstance(manifest.get("features"), dict) else {}
        for values in features.values():
            for value in values if isinstance(values, list) else []:
                dep, sep, feat = str(value).partition("/")
                if sep and not dep.startswith("dep:"):
                    out.feature_refs.append((norm(dep.rstrip("?")), feat, rel))
        for table in _dep_tables(manifest):
            for key, spec in table.items():
                if isinstance(spec, dict) and spec.get("workspace") is True:
                    base = ws_deps.get(key, {})
                    base = {"version": base} if isinstance(base, str) else dict(base)
                    extra = list(base.get("features", [])) + list(spec.get("features", []))
                    spec = {**base, **{k: v for k, v in spec.items() if k != "workspace"}, "features": extra}
                    if "path" in base:
                        spec["path"] = str((src / base["path"]).resolve())
                if isinstance(spec, str):
                    spec = {"version": spec}
                if not isinstance(spec, dict):
                    continue
                if "path" in spec:
                    todo.append((crate_dir / spec["path"]).resolve())
                    continue
                if "git" in spec or spec.get("registry"):
                    continue  # not the crates registry: cargo fails on it offline, as it would anyway
                out.reqs.append(CrateReq(
                    name=norm(str(spec.get("package", key))), req=str(spec.get("version", "*")),
                    features=tuple(sorted(spec.get("features", []))),
                    default_features=bool(spec.get("default-features", spec.get("default_features", True))),
                    origin=rel))
        todo += _members(crate_dir, manifest)
    out.reqs = [r for r in out.reqs if r.name not in out.local]
    maturin = ((_load(src / "pyproject.toml").get("tool") or {}).get("maturin") or {})
    for value in maturin.get("features", []) if isinstance(maturin, dict) else []:
        dep, sep, feat = str(value).partition("/")  # maturin passes them to cargo as --features
        if sep:
            out.feature_refs.append((norm(dep.rstrip("?")), feat, "pyproject.toml"))
    registry = {r.name for r in out.reqs}
    out.feature_refs = [f for f in out.feature_refs if f[0] in registry]
    return out


_DEV_HEADER = re.compile(r"^\s*\[(?:target\.(?:'[^']*'|\"[^\"]*\"|[^\]]*)\.)?dev-dependencies(?:\.[^\]]+)?\]\s*$")
_HEADER = re.compile(r"^\s*\[")


def drop_dev_dependencies(src: Path) -> list[str]:
    """Remove the `[dev-dependencies]` tables of the tree's manifests (returns the files changed).

    A wheel never builds a crate's tests or benches, but cargo's lock resolution still needs
    every workspace member's dev-dependencies, and Debian packages few bench crates (jiter's
    codspeed-criterion-compat): without them the lock resolves from what the build uses."""
    changed = []
    for rel in read_manifests(src).files:
        path = src / rel
        lines = path.read_text().splitlines(keepends=True)
        out, skipping = [], False
        for line in lines:
            if _HEADER.match(line):
                skipping = bool(_DEV_HEADER.match(line))
            if not skipping:
                out.append(line)
        if len(out) != len(lines):
            path.write_text("".join(out))
            changed.append(rel)
    return changed


def read_lock(src: Path) -> dict[str, list[str]]:
    """Registry packages pinned in the tree's Cargo.lock: crate name -> versions."""
    pins: dict[str, list[str]] = {}
    for pkg in _load(src / "Cargo.lock").get("package", []):
        if str(pkg.get("source", "")).startswith("registry+"):
            pins.setdefault(norm(pkg["name"]), []).append(str(pkg["version"]))
    return pins


# -- cargo's semver requirements (https://doc.rust-lang.org/cargo/reference/specifying-dependencies.html)

Version = tuple[int, int, int, tuple[str, ...]]
_VERSION = re.compile(r"^\s*(\d+)(?:\.(\d+|\*|x|X))?(?:\.(\d+|\*|x|X))?(?:-([0-9A-Za-z.-]+))?(?:\+\S*)?\s*$")


def parse_version(text: str) -> Version:
    """A full version `1.2.3[-pre]`; ValueError otherwise."""
    m = _VERSION.match(text)
    if not m or m.group(2) is None or m.group(3) is None or not m.group(2).isdigit() or not m.group(3).isdigit():
        raise ValueError(f"not a version: {text!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), tuple((m.group(4) or "").split(".")) if m.group(4) else ()


def _key(v: Version) -> tuple:
    # a pre-release sorts before its release
    return (v[0], v[1], v[2], 0 if v[3] else 1, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in v[3]))


def _bounds(op: str, body: str) -> list[tuple[str, Version]]:
    m = _VERSION.match(body)
    if not m:
        raise ValueError(f"not a version requirement: {body!r}")
    major = int(m.group(1))
    minor = int(m.group(2)) if m.group(2) and m.group(2).isdigit() else None
    patch = int(m.group(3)) if m.group(3) and m.group(3).isdigit() else None
    pre = tuple(m.group(4).split(".")) if m.group(4) else ()
    low: Version = (major, minor or 0, patch or 0, pre)
    if op == "=":
        if minor is None:
            return [(">=", low), ("<", (major + 1, 0, 0, ()))]
        if patch is None:
            return [(">=", low), ("<", (major, minor + 1, 0, ()))]
        return [("=", low)]
    if op in (">", ">=", "<", "<="):
        if op == ">" and patch is None:  # >1.2 means >=1.3.0
            return [(">=", (major, minor + 1, 0, ()) if minor is not None else (major + 1, 0, 0, ()))]
        if op == "<=" and patch is None:
            return [("<", (major, minor + 1, 0, ()) if minor is not None else (major + 1, 0, 0, ()))]
        return [(op, low)]
    if op == "~":
        upper = (major, minor + 1, 0, ()) if minor is not None else (major + 1, 0, 0, ())
        return [(">=", low), ("<", upper)]
    if op == "*":
        return []
    # caret (the default): the left-most non-zero component may not change
    if minor is None:
        upper = (major + 1, 0, 0, ())
    elif major > 0:
        upper = (major + 1, 0, 0, ())
    elif patch is None or minor > 0:
        upper = (0, minor + 1, 0, ())
    else:
        upper = (0, 0, patch + 1, ())
    return [(">=", low), ("<", upper)]


def matches(req: str, version: str) -> bool:
    """Whether `version` satisfies cargo's requirement `req` (`0.28.2`, `^1`, `~1.2`, `>=1, <3`, `1.*`)."""
    v = parse_version(version)
    for part in (req or "*").split(","):
        part = part.strip()
        if part in ("", "*"):
            continue
        m = re.match(r"^(\^|~|=|>=|<=|>|<)?\s*(.*)$", part)
        assert m is not None
        op, body = m.group(1) or "", m.group(2)
        if body.split(".")[-1] in ("*", "x", "X"):  # 1.* / 1.2.* wildcards are tilde-like ranges
            op, body = ("~" if body.count(".") == 2 else "^"), body.rsplit(".", 1)[0]
        for cmp, bound in _bounds(op, body):
            a, b = _key(v), _key(bound)
            ok = {"=": a == b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[cmp]
            if not ok:
                return False
        if v[3] and "-" not in body:
            return False  # a pre-release satisfies only a requirement that names one
    return True

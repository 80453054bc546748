"""Rust crates from Debian's archive: the fetch phase's crate source for sdists that do not
vendor theirs (the crates registry is unreachable; Debian's archive is not).

Debian packages crate sources as `librust-<crate>-dev` (.debs holding
/usr/share/cargo/registry/<crate>-<version>/ with a .cargo-checksum.json), which cargo reads as a
`directory` source. Here, before any build: the sdist's Cargo.toml requirements
(forge.cargoreqs) are matched to those packages in the archive index the build root uses (a
private apt state under the download cache: the machine's apt is untouched), their Depends
closure is taken, the .debs are fetched with `apt-get download` (verified by apt against the
signed index, and their sha256 checked here and recorded), and the crate folders are unpacked into
<cache>/crates/<key>/ (key: the sha256 of the sorted package list). The build
(forge-pyodide-build) points cargo at that folder offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cargoreqs import (CrateReq, Manifests, drop_dev_dependencies, matches, norm, parse_version, read_lock,
                        read_manifests)
from .errors import ForgeError
from .fsutil import write_atomic

#: where a librust-*-dev package keeps its crate
REGISTRY = "usr/share/cargo/registry"
#: the archive index is read again when older than this (Debian's crates move daily)
LISTS_MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class DebCrate:
    """One real librust-*-dev package of the archive index."""

    package: str
    version: str  # Debian's version (1.2.1-1)
    crate: str  # the crate's name as Debian normalises it
    crate_version: str  # the upstream version cargo sees (1.2.1)
    depends: tuple[tuple[str, ...], ...] = ()  # alternatives per entry, package names only
    provides: tuple[str, ...] = ()
    filename: str = ""
    sha256: str = ""


@dataclass
class CrateIndex:
    """The archive's librust-*-dev packages, by name and by every name they provide."""

    packages: dict[str, DebCrate] = field(default_factory=dict)
    providers: dict[str, list[DebCrate]] = field(default_factory=dict)

    def add(self, deb: DebCrate) -> None:
        self.packages[deb.package] = deb
        for name in (deb.package, *deb.provides):
            self.providers.setdefault(name, []).append(deb)

    def of_crate(self, crate: str) -> list[DebCrate]:
        """Every package holding `crate` (the main one and semver-suffixed ones), newest first."""
        found = [d for d in self.packages.values() if d.crate == norm(crate)]
        return sorted(found, key=lambda d: _vkey(d.crate_version), reverse=True)


def debian_package(crate: str) -> str:
    """Debian's package for a crate: `librust-<crate>-dev` (lowercase, `_` as `-`)."""
    return f"librust-{norm(crate)}-dev"


def upstream_version(debian_version: str) -> str:
    """The crate version inside a Debian version: no epoch, no revision, `~` back to `-`."""
    v = debian_version.split(":", 1)[-1]
    v = v.rsplit("-", 1)[0] if "-" in v else v
    v = v.rsplit("+really", 1)[-1]  # 0.5.0-1+really0.5.0: a version put back
    return v.split("+", 1)[0].replace("~", "-")  # +dfsg: Debian's repack, not the crate's


def _vkey(version: str) -> tuple:
    try:
        major, minor, patch, pre = parse_version(version)
    except ValueError:
        return (-1, -1, -1, ())
    return (major, minor, patch, 0 if pre else 1, pre)


def _crate_name(package: str, version: str) -> str:
    """librust-syn-1-dev at 1.0.109 holds the crate `syn`; librust-pyo3-dev holds `pyo3`."""
    stem = package[len("librust-"):-len("-dev")]
    parts = version.split(".")
    for n in (3, 2, 1):
        suffix = "-" + ".".join(parts[:n])
        if stem.endswith(suffix) and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def _names(field_text: str) -> tuple[tuple[str, ...], ...]:
    groups = []
    for entry in field_text.split(","):
        alts = tuple(re.split(r"[\s(:]", a.strip(), maxsplit=1)[0] for a in entry.split("|") if a.strip())
        if alts:
            groups.append(alts)
    return tuple(groups)


def parse_index(text: str) -> CrateIndex:
    """The librust-*-dev stanzas of an apt Packages index (`apt-cache dumpavail` output)."""
    index = CrateIndex()
    for block in text.split("\n\n"):
        if not block.startswith("Package: librust-"):
            continue
        fields: dict[str, str] = {}
        last = ""
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and last:
                fields[last] += " " + line.strip()
            else:
                key, _, value = line.partition(":")
                last = key
                fields[key] = value.strip()
        package, version = fields.get("Package", ""), fields.get("Version", "")
        if not package.endswith("-dev") or not version:
            continue
        old = index.packages.get(package)
        if old is not None and _vkey(upstream_version(old.version)) >= _vkey(upstream_version(version)):
            continue
        up = upstream_version(version)
        index.add(DebCrate(
            package=package, version=version, crate=_crate_name(package, up), crate_version=up,
            depends=_names(fields.get("Depends", "")),
            provides=tuple(p[0] for p in _names(fields.get("Provides", ""))),
            filename=fields.get("Filename", ""), sha256=fields.get("SHA256", "")))
    return index


def has_feature(deb: DebCrate, feature: str, index: CrateIndex) -> bool:
    """Whether Debian's package (or a feature package beside it) provides the crate's feature:
    `librust-<crate>[-<series>]+<feature>-dev`."""
    suffix = f"+{norm(feature)}-dev"
    names = [n for n in (deb.package, *deb.provides) if n.endswith(suffix)]
    series = re.compile(rf"^librust-{re.escape(deb.crate)}(-[0-9.]+)?{re.escape(suffix)}$")
    names += [n for n in index.providers if series.match(n)]
    return feature == "default" or bool(names)


def missing_crate_error(req: CrateReq, debs: list[DebCrate], *, recipe: str, file: str) -> ForgeError:
    """The one sentence for a crate Debian cannot serve: the crate, what the project requires,
    what Debian has, and the fix."""
    has = ", ".join(f"{d.crate_version} ({d.package})" for d in debs)
    what = f"Debian's archive has {has}" if debs else f"Debian's archive has no {debian_package(req.name)}"
    return ForgeError(
        f"the crate {req.name} is required as {req.req} by the sdist's {req.origin}, but {what}",
        recipe=recipe, file=file,
        fix=(f"pin a release of the project whose {req.origin} accepts Debian's {req.name}"
             + (f", or patch its requirement to \"{debs[0].crate_version}\" in the recipe" if debs else "")
             + " (or vendor the crates into the recipe's sources with `cargo vendor`)"))


def resolve(manifests: Manifests, index: CrateIndex, lock: dict[str, list[str]] | None = None, *,
            recipe: str, file: str) -> list[DebCrate]:
    """The packages holding every required crate at a matching version, plus the crates the
    sdist's Cargo.lock names (Debian's release of the locked series when it has one).

    Debian's Depends are followed only into crates the lock or the manifests name: a package
    with collapsed features depends on every optional crate (pyo3's reaches 500 packages), while
    the lock already holds what cargo's resolver needs for this project on every platform."""
    lock = lock or {}
    wanted = {r.name for r in manifests.reqs} | set(lock)
    chosen: dict[str, DebCrate] = {}
    todo: list[DebCrate] = []
    problems: list[ForgeError] = []
    for req in manifests.reqs:
        debs = index.of_crate(req.name)
        fit = [d for d in debs if _safe_match(req.req, d.crate_version)]
        if not fit:
            problems.append(missing_crate_error(req, debs, recipe=recipe, file=file))
            continue
        todo.append(fit[0])
        refs = [(feature, req.origin) for feature in req.features]
        refs += [(feat, origin) for crate, feat, origin in manifests.feature_refs if crate == req.name]
        for feature, origin in dict.fromkeys(refs):
            if not has_feature(fit[0], feature, index):
                problems.append(ForgeError(
                    f"the crate {req.name} is required with the feature {feature} by the sdist's {origin}, but "
                    f"Debian's {req.name} {fit[0].crate_version} ({fit[0].package}) does not have it",
                    recipe=recipe, file=file,
                    fix=f"patch the feature out of {origin} in the recipe if the wasm build does not need it "
                        "(Debian drops other platforms' features, such as Windows' generate-import-lib)"))
    problems = list({p.message: p for p in problems}.values())  # a crate several manifests ask for
    if len(problems) == 1:
        raise problems[0]
    if problems:  # every crate at once: one round of recipe patches, not one per build attempt
        raise ForgeError(
            f"{len(problems)} crates cannot come from Debian's archive: "
            + "; ".join(p.message.removeprefix("the crate ") for p in problems),
            recipe=recipe, file=file,
            fix="pin a release of the project whose Cargo.toml files accept Debian's crates, or patch the "
                "requirements to Debian's versions and drop the features Debian lacks in the recipe (or vendor "
                "the crates into the recipe's sources with `cargo vendor`)")
    for crate, versions in sorted(lock.items()):
        debs = index.of_crate(crate)
        same = [d for v in versions for d in debs if _safe_match(f"^{v}", d.crate_version)]
        todo += same or debs[:1]  # none at all: a platform's crate Debian drops (windows-sys)
    while todo:
        deb = todo.pop()
        if deb.package in chosen:
            continue
        chosen[deb.package] = deb
        for alts in deb.depends:
            for name in alts:
                for dep in index.providers.get(name, []) if name.startswith("librust-") else []:
                    if dep.crate in wanted:
                        todo.append(dep)
    return sorted(chosen.values(), key=lambda d: d.package)


def _safe_match(req: str, version: str) -> bool:
    try:
        return matches(req, version)
    except ValueError:
        return False


def crates_key(debs: list[DebCrate]) -> str:
    """The cache key of a crate set: the sha256 of its sorted `package=version sha256` lines."""
    lines = sorted(f"{d.package}={d.version} {d.sha256}" for d in debs)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class CrateFetcher:
    """apt-get against the build root's archive, with its own lists and downloads under the
    download cache (no host is written in the project: the root's sources.list names it)."""

    def __init__(self, cache_dir: Path, *, recipe: str, file: str) -> None:
        self.cache_dir = cache_dir
        self.apt = cache_dir / "apt-crates"
        self.recipe, self.file = recipe, file

    def _fail(self, message: str, fix: str) -> ForgeError:
        return ForgeError(message, recipe=self.recipe, file=self.file, fix=fix)

    def _options(self) -> list[str]:
        from forge.toolchain.mirror import debian_mirror  # noqa: PLC0415
        from forge.toolchain.paths import default_root_dir  # noqa: PLC0415

        root_apt = default_root_dir() / "etc" / "apt"
        try:
            uri = debian_mirror(root_apt)
        except ForgeError as exc:
            raise self._fail(f"no Debian archive to fetch crates from: {exc.message} (read {root_apt})",
                             "create the build root (`forge toolchain`) or set FORGE_BUILDROOT") from None
        for d in ("lists/partial", "archives/partial"):
            (self.apt / d).mkdir(parents=True, exist_ok=True)
        (self.apt / "status").touch()
        write_atomic(self.apt / "sources.list", f"deb [arch=amd64] {uri} sid main\n")
        return ["-o", f"Dir::Etc::SourceList={self.apt / 'sources.list'}", "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", f"Dir::State::Lists={self.apt / 'lists'}", "-o", f"Dir::Cache={self.apt}",
                "-o", f"Dir::State::status={self.apt / 'status'}", "-o", "APT::Architecture=amd64",
                "-o", "Acquire::Languages=none", "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1", "-q"]

    def _apt(self, args: list[str], what: str, cwd: Path | None = None) -> str:
        proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd)
        if proc.returncode != 0:
            why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise self._fail(f"{what} failed with apt-get ({why[:200]})",
                             "check the network and the build root's apt sources")
        return proc.stdout

    def index(self, *, refresh: bool = False) -> CrateIndex:
        """The archive's crate packages, the lists read again when missing, old or asked to."""
        opts = self._options()
        stamp = self.apt / "lists.stamp"
        if refresh or not stamp.exists() or time.time() - stamp.stat().st_mtime > LISTS_MAX_AGE:
            self._apt(["apt-get", *opts, "update"], "reading the Debian archive's package index")
            stamp.touch()
        return parse_index(self._apt(["apt-cache", *opts, "dumpavail"], "listing the Debian archive's packages"))

    def fetch(self, debs: list[DebCrate], base: Path | None = None) -> Path:
        """<cache>/crates/<key>/: the crate folders of `debs`, with debs.json recording each
        .deb and its sha256; made once (a complete folder is renamed into place). The packages
        an earlier folder `base` already holds are hard-linked from it, not downloaded again."""
        dest = self.cache_dir / "crates" / crates_key(debs)
        if (dest / "debs.json").is_file():
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".crates-", dir=dest.parent))
        try:
            debdir, unpack, out = tmp / "debs", tmp / "unpack", tmp / "out"
            for d in (debdir, unpack, out):
                d.mkdir()
            record: list[dict[str, str]] = []
            done: set[str] = set()
            if base is not None and (base / "debs.json").is_file():
                record = [r for r in json.loads((base / "debs.json").read_text())
                          if any(r["package"] == d.package and r["version"] == d.version for d in debs)]
                done = {r["package"] for r in record}
                for crate_dir in base.iterdir():
                    if crate_dir.is_dir():
                        shutil.copytree(crate_dir, out / crate_dir.name, symlinks=True, copy_function=os.link)
            todo = [d for d in debs if d.package not in done]
            if todo:
                self._apt(["apt-get", *self._options(), "download", *[f"{d.package}={d.version}" for d in todo]],
                          f"downloading {len(todo)} crate packages", cwd=debdir)
            for deb in todo:
                got = next(iter(debdir.glob(f"{deb.package}_*.deb")), None)
                if got is None:
                    raise self._fail(f"apt-get did not download {deb.package} {deb.version}",
                                     "run the build again (the archive index is read again daily)")
                digest = hashlib.sha256(got.read_bytes()).hexdigest()
                if deb.sha256 and digest != deb.sha256:
                    raise self._fail(f"{got.name} has sha256 {digest}, not the {deb.sha256} the archive index lists",
                                     "run the build again; a mirror served a bad file")
                self._apt(["dpkg-deb", "-x", str(got), str(unpack)], f"unpacking {got.name}")
                record.append({"package": deb.package, "version": deb.version, "file": got.name, "sha256": digest})
            registry = unpack / REGISTRY
            for crate_dir in sorted(registry.iterdir()) if registry.is_dir() else []:
                if (crate_dir / "Cargo.toml").is_file() and not (out / crate_dir.name).exists():
                    shutil.copytree(crate_dir, out / crate_dir.name, symlinks=True)
            record.sort(key=lambda r: r["package"])
            (out / "debs.json").write_text(json.dumps(record, indent=1) + "\n")
            try:
                os.rename(out, dest)
            except OSError:  # another run made it first
                if not (dest / "debs.json").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return dest


def fetch_crates(sdist: Path, cache_dir: Path, patches: list[Path], *, recipe: str, file: str) -> Path | None:
    """The fetch phase for a Rust sdist that vendors no crates: its crates from Debian, in the
    download cache (None when it builds no crate or vendors its own). Read with the recipe's
    patches applied, as the build will see it (a patch may relax a requirement to Debian's)."""
    from forge.buildreqs import apply_patches, unpack_sdist  # noqa: PLC0415

    if not _has_top_cargo_toml(sdist):  # most sdists: not unpacked at all
        return None
    with tempfile.TemporaryDirectory(prefix="forge-crates-") as tmp:
        src = unpack_sdist(sdist, Path(tmp))
        apply_patches(src, patches, recipe=recipe, file=file)
        return crates_for_tree(src, cache_dir, recipe=recipe, file=file)


def check_sdist(sdist: Path, cache_dir: Path, *, recipe: str, file: str) -> list[DebCrate] | None:
    """What the fetch phase would take from Debian's archive for SDIST, read from the archive
    index alone (nothing downloaded): the packages, None when it builds no crate or vendors its
    own; a ForgeError naming each crate Debian cannot serve. `forge new` says it up front."""
    from forge.buildreqs import unpack_sdist  # noqa: PLC0415
    from forge.helpers.pyodide_build import builds_rust, cargo_vendor_dir  # noqa: PLC0415

    if not _has_top_cargo_toml(sdist):
        return None
    with tempfile.TemporaryDirectory(prefix="forge-crates-") as tmp:
        src = unpack_sdist(sdist, Path(tmp))
        if not builds_rust(src) or cargo_vendor_dir(src) is not None:
            return None
        return resolve(read_manifests(src), CrateFetcher(cache_dir, recipe=recipe, file=file).index(), read_lock(src),
                       recipe=recipe, file=file)


def _has_top_cargo_toml(sdist: Path) -> bool:
    import tarfile  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as zf:
                names = zf.namelist()
        else:
            with tarfile.open(sdist) as tf:
                names = tf.getnames()
    except (OSError, tarfile.TarError, zipfile.BadZipFile):
        return True  # let the unpack say what is wrong
    return any(n.count("/") <= 1 and n.rsplit("/", 1)[-1] == "Cargo.toml" for n in names)


def crates_for_tree(src: Path, cache_dir: Path, *, recipe: str, file: str) -> Path | None:
    """`fetch_crates` for an unpacked, patched source tree."""
    from forge.helpers.pyodide_build import builds_rust, cargo_vendor_dir  # noqa: PLC0415

    if not builds_rust(src) or cargo_vendor_dir(src) is not None:
        return None
    manifests, lock = read_manifests(src), read_lock(src)
    fetcher = CrateFetcher(cache_dir, recipe=recipe, file=file)
    try:
        index = fetcher.index()
        debs = resolve(manifests, index, lock, recipe=recipe, file=file)
    except ForgeError:  # Debian may have moved on since the lists were read
        index = fetcher.index(refresh=True)
        debs = resolve(manifests, index, lock, recipe=recipe, file=file)
    made: list[Path] = []  # partial sets this call created (another recipe's complete set is left alone)

    def fetch(debs: list[DebCrate], base: Path | None = None) -> Path:
        existed = (cache_dir / "crates" / crates_key(debs) / "debs.json").is_file()
        got = fetcher.fetch(debs, base)
        if not existed:
            made.append(got)
        return got

    folder = fetch(debs)
    try:
        for _ in range(CARGO_ROUNDS):  # cargo's own resolver decides what is still missing
            needed = cargo_missing(src, folder, recipe=recipe, file=file)
            if not needed:
                return folder
            have = {x.package for x in debs}
            more = [d for name, _by in needed for d in index.of_crate(name) if d.package not in have]
            if not more:
                name, by = needed[0]
                raise ForgeError(
                    f"the crate {name}, required by {by}, is not in Debian's archive ({debian_package(name)})",
                    recipe=recipe, file=file,
                    fix="patch the dependency out in the recipe if the wasm build does not use it, or vendor the "
                        "crates into the recipe's sources with `cargo vendor`")
            debs = sorted([*debs, *more], key=lambda d: d.package)
            folder = fetch(debs, base=folder)
        raise ForgeError(f"cargo still misses crates after {CARGO_ROUNDS} rounds of adding Debian's",
                         recipe=recipe, file=file, fix="vendor the crates into the recipe's sources with `cargo vendor`")
    finally:  # only the complete set stays in the cache
        for partial in made:
            if partial != folder:
                shutil.rmtree(partial, ignore_errors=True)


#: rounds of `cargo generate-lockfile` adding crates Debian's versions need beyond the sdist's lock
CARGO_ROUNDS = 40  # cargo names one missing crate per run; a round is a second or two
_NO_MATCH = re.compile(r"no matching package named `([^`]+)` found")
_NO_VERSION = re.compile(r"failed to select a version for the requirement `([^ `]+) = \"([^\"]+)\"`")
_CANDIDATES = re.compile(r"candidate versions found which didn't match: ([^\n]+)")
_REQUIRED_BY = re.compile(r"required by package `([^ `]+) v([^ `]+)")


def cargo_missing(src: Path, folder: Path, *, recipe: str, file: str) -> list[tuple[str, str]]:
    """Crates cargo's resolver still needs with `folder` as the crates registry (offline, in
    the build root, on a scratch copy of the lock): [] when the set is complete. A version
    Debian holds outside a crate's requirement is a ForgeError naming both; no cargo in the
    build root means no check (the build will say). Dev-dependencies are dropped first, as the
    build drops them."""
    from forge.toolchain import Bind, BuildRoot, ToolchainError  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="forge-cargo-check-", dir=src.parent) as tmp:
        home = Path(tmp)
        (home / "config.toml").write_text(
            f'[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "{folder}"\n')
        drop_dev_dependencies(src)  # as the build does before it relocks (forge-pyodide-build)
        lock = src / "Cargo.lock"
        saved = lock.read_bytes() if lock.exists() else None
        try:
            proc = BuildRoot().run(["cargo", "generate-lockfile", "--offline"], cwd=src, capture=True, check=False,
                                   env={"CARGO_HOME": str(home), "CARGO_NET_OFFLINE": "true"},
                                   binds=[Bind(src), Bind(home), Bind(folder, readonly=True)])
        except (ToolchainError, OSError):
            return []
        finally:
            if saved is not None:
                lock.write_bytes(saved)
    return [] if proc.returncode == 0 else cargo_failure(proc.stderr, folder, recipe=recipe, file=file)


def cargo_failure(text: str, folder: Path, *, recipe: str, file: str) -> list[tuple[str, str]]:
    """What `cargo generate-lockfile --offline` failing against `folder` means: (crate, required
    by) to add (cargo found none by that name), or a ForgeError (a version outside a
    requirement, anything else)."""
    if "command not found" in text or ("No such file" in text and "cargo" in text):
        return []
    names = _NO_MATCH.findall(text)
    if names:
        by = _REQUIRED_BY.search(text)
        return [(norm(n), f"{by.group(1)} {by.group(2)}" if by else "a crate") for n in names]
    m = _NO_VERSION.search(text)
    if m:
        by = _REQUIRED_BY.search(text)
        cand = _CANDIDATES.search(text)
        who = f"{by.group(1)} {by.group(2)}" if by else "a crate"
        raise ForgeError(
            f"the crate {m.group(1)} is required as {m.group(2)} by {who} (from Debian's archive or the sdist), "
            f"but Debian's archive has {cand.group(1).strip() if cand else 'no matching version'}",
            recipe=recipe, file=file,
            fix="pin a release of the project whose crates Debian's archive serves, or patch the requirement in the "
                "recipe (or vendor the crates into the recipe's sources with `cargo vendor`)")
    why = next((ln for ln in text.splitlines() if ln.startswith("error")), text.strip()[-200:])
    raise ForgeError(f"cargo cannot resolve the crates against Debian's offline ({why[:300]})",
                     recipe=recipe, file=file,
                     fix="read `cargo generate-lockfile --offline` in the build root against the crates folder "
                         f"{folder}, then patch the requirement in the recipe")

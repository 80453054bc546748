"""`forge-pyodide-build`: cross-build the sdist in $SRC_DIR for emscripten-wasm32 and install
the wheel into $PREFIX (run by a recipe's build script; rattler-build runs it on the host).

The one place that knows how a compiled package is built for the target:

- `pyodide build` (pyodide-build in the sid build root) with the forge's cross environment
  (forge.toolchain.prepare_cross_env: Pyodide's ABI from conda_build_config.yaml);
- binds: $SRC_DIR, $PREFIX (headers and shared libraries of host dependencies), the forge's
  wheelhouse (read-only: PEP 517 build requirements; no index at all) and a private out dir;
- target settings: `-I$PREFIX/include`, `-L$PREFIX/lib`, PKG_CONFIG_LIBDIR limited to the
  prefix plus a target `python-X.Y.pc` (never the build root's own .pc files), the meson cross
  file for meson-python projects;
- Rust crates (maturin, setuptools-rust): std built from the root's rust-src with wasm exceptions,
  offline, from the crates the sdist vendors or else Debian's (FORGE_CRATES, fetched by
  forge.crates), Cargo.lock regenerated offline when it pins versions Debian lacks (`rust_env`,
  `relock_for`; docs/languages.md);
- checks before installing: the wheel's tag is the target's (cpXY-cpXY-pyemscripten_<abi>_wasm32
  or abi3), it is not a pure-Python fallback (unless --allow-pure), and every `.so` passes
  forge.toolchain.wasmcheck (a side module with Pyodide's exception ABI); the build's RUNPATH
  dropped from every side module first (forge.toolchain.dylink: meson leaves the host prefix there);
- install: the wheel unpacked into $PREFIX/lib/pythonX.Y/site-packages, the layout conda
  packages for emscripten-wasm32 use (`.data/headers` into include/, `.data/data` into $PREFIX).

    forge-pyodide-build [--allow-pure] [--exports pyinit|requested|whole_archive] [--env K=V]... [-- EXTRA]
    forge-pyodide-build --run -- CMD...     (a C/C++ library: make, emcc, ... with the target's flags)
    forge-pyodide-build --pkgconfig NAME --version V --libs "-L${libdir} -lNAME" [--cflags ...]
                                            (its $PREFIX/lib/pkgconfig/NAME.pc: forge.helpers.pkgconfig)

EXTRA goes to `pyodide build` (e.g. `-Csetup-args=-Dfoo=bar`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path


class BuildError(Exception):
    pass


# -- Rust (maturin/pyo3, setuptools-rust): Debian's rustc has no std for wasm32-unknown-emscripten, so
# std is compiled from rust-src (-Zbuild-std, allowed on a stable rustc by RUSTC_BOOTSTRAP) with wasm
# exceptions like Pyodide's own Rust wheels; the crates registry is unreachable, so the sdist vendors its
# crates (`cargo vendor` + .cargo/config.toml, as orjson's does) or the fetch phase brings Debian's
# (librust-*-dev, forge.crates; FORGE_CRATES), and std's own vendored crates
# (rust-src ships them) are linked beside them. Debian ships no rust-lld, hence link-self-contained=no.
RUST_STD_VENDOR = "/usr/lib/rustlib/src/rust/library/vendor"
RUSTFLAGS = ("-C link-arg=-sSIDE_MODULE=2 -C link-arg=-sWASM_BIGINT -Z emscripten-wasm-eh "
             "-C link-self-contained=no")


def cargo_vendor_dir(src: Path) -> Path | None:
    """The directory the sdist's .cargo/config.toml puts in place of the crates registry
    (`crates-io`), when the sdist vendors its crates."""
    for name in ("config.toml", "config"):
        try:
            cfg = tomllib.loads((src / ".cargo" / name).read_text())
        except (OSError, tomllib.TOMLDecodeError):
            continue
        sources = cfg.get("source", {})
        repl = sources.get("crates-io", {}).get("replace-with")
        directory = sources.get(repl, {}).get("directory") if repl else None
        if directory:
            return (src / directory).resolve()
    return None


#: build tools that compile a crate; without one in [build-system] a Cargo.toml is not built
RUST_BUILD_TOOLS = ("maturin", "setuptools-rust", "setuptools_rust")


def builds_rust(src: Path) -> bool:
    """Whether building `src` compiles its Cargo.toml: a maturin backend or setuptools-rust among
    [build-system].requires. A crate beside another backend's extension (zstandard's optional
    Rust backend, off by default) is not built; a setup.py without [build-system] may use
    setuptools-rust unseen, so it counts as Rust."""
    if not (src / "Cargo.toml").is_file():
        return False
    try:
        system = tomllib.loads((src / "pyproject.toml").read_text()).get("build-system")
    except (OSError, tomllib.TOMLDecodeError):
        system = None
    if not isinstance(system, dict):
        return True
    names = [str(r).lower() for r in system.get("requires", [])] + [str(system.get("build-backend", "")).lower()]
    return any(n.startswith(RUST_BUILD_TOOLS) for n in names)


def rust_env(src: Path, root_dir: Path, cargo_home: Path, crates: Path | None = None) -> dict[str, str]:
    """Cargo settings for a crate in `src` (none when it builds none: `builds_rust`). The offline
    source is the sdist's vendor directory, or else `crates` (Debian's, fetched by forge.crates
    into a folder of links made here); std's crates are linked beside them so one source serves both."""
    if not builds_rust(src):
        return {}
    vendor = cargo_vendor_dir(src)
    if (vendor is None or not vendor.is_dir()) and crates is None:
        raise BuildError(f"{src.name} is a Rust crate whose sdist does not vendor its crates (no "
                         ".cargo/config.toml replacing crates-io with a directory) and the fetch phase brought "
                         "no Debian crates (FORGE_CRATES is unset), and the crates registry cannot be reached "
                         "from the build root; build it through `forge build`, or vendor them (`cargo vendor`) "
                         "into the recipe's sources")
    std_vendor = root_dir / RUST_STD_VENDOR.lstrip("/")
    if not std_vendor.is_dir():
        raise BuildError(f"the build root {root_dir} has no Rust standard library sources ({RUST_STD_VENDOR}); "
                         "install rustc, cargo and rust-src in it (forge.toolchain.buildroot PACKAGES)")
    cargo_home.mkdir(parents=True, exist_ok=True)
    if vendor is None or not vendor.is_dir():
        assert crates is not None
        vendor = cargo_home.parent / "crates-src"
        vendor.mkdir(exist_ok=True)
        for crate in sorted(crates.iterdir()):
            if crate.is_dir() and not (std_vendor / crate.name).exists():  # std's copy wins a tie
                os.symlink(crate, vendor / crate.name)
        (cargo_home / "config.toml").write_text(
            f'[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = "{vendor}"\n')
    for crate in sorted(std_vendor.iterdir()):
        if not os.path.lexists(vendor / crate.name):  # a link from an earlier try dangles on the host
            os.symlink(f"{RUST_STD_VENDOR}/{crate.name}", vendor / crate.name)
    return {
        "RUSTC_BOOTSTRAP": "1",
        "CARGO_NET_OFFLINE": "true",
        "CARGO_HOME": str(cargo_home),
        "CARGO_UNSTABLE_BUILD_STD": "std,panic_unwind,panic_abort",  # crates may set panic = "abort"
        "CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_RUSTFLAGS": RUSTFLAGS,
    }


def _lock_pins(lock: Path) -> dict[tuple[str, str], str]:
    """(name, version) -> checksum of the registry packages a Cargo.lock pins."""
    try:
        packages = tomllib.loads(lock.read_text()).get("package", [])
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return {(p["name"], p["version"]): p.get("checksum", "") for p in packages
            if str(p.get("source", "")).startswith("registry+")}


def _source_crates(vendor: Path) -> dict[tuple[str, str], str]:
    """(name, version) -> the `package` checksum of each crate in a directory source."""
    out = {}
    for crate in vendor.iterdir():
        try:
            pkg = tomllib.loads((crate / "Cargo.toml").read_text()).get("package", {})
            out[(pkg["name"], pkg["version"])] = json.loads((crate / ".cargo-checksum.json").read_text()).get("package", "")
        except (OSError, KeyError, ValueError, TypeError):
            continue
    return out


def relock_for(src: Path, vendor: Path, run) -> list[str]:  # noqa: ANN001
    """When the sdist's Cargo.lock pins a version the directory source `vendor` lacks, or a
    checksum it does not carry (Debian's crates record none: "Could not get crate checksum"),
    regenerate the lock offline against it (`run(argv)` runs cargo in the root) and return
    the version changes as `name old -> new` lines."""
    lock = src / "Cargo.lock"
    before = _lock_pins(lock)
    have = _source_crates(vendor)
    if before and all(key in have and (not sum_ or have[key] == sum_) for key, sum_ in before.items()):
        return []
    if run(["cargo", "generate-lockfile", "--offline"]) != 0:
        raise BuildError("cargo could not resolve the crate's dependencies against Debian's crates offline "
                         "(`cargo generate-lockfile --offline`, output above): a crate Debian lacks or holds at "
                         "a version outside the requirement; add it or relax the requirement with a recipe patch")
    after = _lock_pins(lock)
    old: dict[str, set[str]] = {}
    new: dict[str, set[str]] = {}
    for n, v in before:
        old.setdefault(n, set()).add(v)
    for n, v in after:
        new.setdefault(n, set()).add(v)
    changes = []
    for name in sorted(set(old) | set(new)):
        o, w = sorted(old.get(name, set())), sorted(new.get(name, set()))
        if o != w:
            changes.append(f"{name} {', '.join(o) or '(none)'} -> {', '.join(w) or '(dropped)'}")
    return changes


def _backend(src: Path) -> str:
    try:
        return tomllib.loads((src / "pyproject.toml").read_text()).get("build-system", {}).get("build-backend", "")
    except (OSError, tomllib.TOMLDecodeError):
        return ""


def python_pc(dest: Path, include: str, version: str) -> Path:
    """A target `python-X.Y.pc` (and `python-X.Y-embed.pc`) for pkg-config/meson."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in (f"python-{version}", f"python-{version}-embed", "python3"):
        (dest / f"{name}.pc").write_text(
            f"Name: Python\nDescription: CPython {version} for emscripten-wasm32 (Pyodide)\n"
            f"Version: {version}\nLibs:\nCflags: -I{include}\n")
    return dest


def wheel_tags(whl: Path) -> list[str]:
    with zipfile.ZipFile(whl) as zf:
        name = next(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/WHEEL"))
        return [ln.split(":", 1)[1].strip() for ln in zf.read(name).decode().splitlines() if ln.startswith("Tag:")]


def check_wheel(whl: Path, allow_pure: bool = False) -> None:
    from forge.toolchain import target  # noqa: PLC0415
    from forge.toolchain.wasmcheck import check_so  # noqa: PLC0415

    tags = wheel_tags(whl)
    pure = all(t.endswith("-none-any") for t in tags)
    if pure and not allow_pure:
        raise BuildError(f"{whl.name} is a pure-Python wheel: the extension was not compiled (the build fell "
                         "back to Python; see the compiler errors above), or pass --allow-pure")
    if not pure and not any(target.installs_here(t) for t in tags):
        raise BuildError(f"{whl.name} is tagged {', '.join(tags)}, not {target.WHEEL_TAG}: it was built for "
                         f"another Python or Pyodide ABI than the pins (pyodide {target.PYODIDE_VERSION}, "
                         f"ABI {target.PYODIDE_ABI_VERSION})")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(whl) as zf:
        for n in zf.namelist():
            if n.endswith(".so") or ".so." in n.rsplit("/", 1)[-1]:
                zf.extract(n, tmp)
                problems = check_so(Path(tmp) / n, n)
                if problems:
                    raise BuildError(problems[0])


def install_wheel(whl: Path, prefix: Path, pyxy: str) -> Path:
    """Unpack a wheel into PREFIX/lib/pythonX.Y/site-packages (purelib and platlib alike)."""
    sp = prefix / "lib" / f"python{pyxy}" / "site-packages"
    sp.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(whl) as zf:
        for info in zf.infolist():
            name = info.filename
            parts = name.split("/")
            if parts[0].endswith(".data") and len(parts) > 2:
                kind, rest = parts[1], "/".join(parts[2:])
                dest = {"purelib": sp, "platlib": sp, "headers": prefix / "include", "data": prefix}.get(kind)
                if dest is None:  # scripts: console scripts are host programs, not wasm ones
                    continue
                target = dest / rest
            else:
                target = sp / name
            if name.endswith("/"):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode | 0o644)
        dist_info = next(n.split("/")[0] for n in zf.namelist() if n.split("/")[0].endswith(".dist-info"))
    (sp / dist_info / "INSTALLER").write_text("conda\n")
    return sp


def _root():  # noqa: ANN202
    from forge.toolchain import BuildRoot, ToolchainError, prepare_cross_env  # noqa: PLC0415

    br = BuildRoot()
    if not br.is_marked():
        raise BuildError(f"the emscripten build root {br.root_dir} is missing or incomplete (no emcc to "
                         "compile with); run `forge toolchain` to create it")
    try:
        br.verify()
    except ToolchainError as exc:
        raise BuildError(f"the emscripten build root's toolchain is broken: {exc}") from None
    return br, prepare_cross_env(br)


def target_env(cross, prefix: Path, pcdir: Path) -> dict[str, str]:  # noqa: ANN001
    """Environment of every command run in the root for this target and this prefix."""
    from forge.toolchain import target  # noqa: PLC0415

    env = {k: v for k, v in cross.env().items() if k != "_PYTHON_SYSCONFIGDATA_NAME"}
    python_pc(pcdir, cross.python_include, target.PYTHON_XY)
    env.update({
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "CFLAGS": f"-I{prefix}/include",
        "CXXFLAGS": f"-I{prefix}/include",
        "LDFLAGS": f"-L{prefix}/lib",
        "PKG_CONFIG_LIBDIR": ":".join([f"{prefix}/lib/pkgconfig", f"{prefix}/share/pkgconfig", str(pcdir)]),
        "PKG_CONFIG_PATH": "",
        "PREFIX": str(prefix),
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "315532800"),
    })
    return env


def run_in_root(cmd: list[str], src: Path, prefix: Path, env_extra: dict[str, str]) -> int:
    """`--run`: a plain command (make, emcc, a configure script) in the root with the target's
    compilers and flags: CC/CXX/AR/RANLIB are emscripten's, CFLAGS/LDFLAGS are Pyodide's (plus
    the prefix), $SIDE_MODULE_LDFLAGS links a shared library Pyodide can load."""
    from forge.toolchain import Bind, target  # noqa: PLC0415

    br, cross = _root()
    out = Path(tempfile.mkdtemp(prefix="forge-emscripten-run-", dir=src.parent))
    try:
        env = target_env(cross, prefix, out / "pkgconfig")
        cflags = " ".join(target.CFLAGS)
        env.update({
            "CC": "emcc", "CXX": "em++", "AR": "emar", "RANLIB": "emranlib",
            "CFLAGS": f"{cflags} -I{prefix}/include", "CXXFLAGS": f"{cflags} -I{prefix}/include",
            "LDFLAGS": f"-L{prefix}/lib",
            "SIDE_MODULE_LDFLAGS": " ".join([*target.LDFLAGS, "-Wl,--experimental-pic"]),
            "SRC_DIR": str(src),
        })
        env.update(env_extra)
        print("+ (build root)", " ".join(cmd), flush=True)
        return br.run(cmd, env=env, cwd=src, binds=[Bind(src), Bind(prefix), Bind(out)], check=False).returncode
    finally:
        shutil.rmtree(out, ignore_errors=True)


def fortran_cross_file(out: Path) -> Path:
    """A meson cross file naming forge-f77 as the Fortran compiler (later cross files win, and a
    cross file wins over $FC, which pyodide-build points at its own f2c wrapper without the
    gfortran ABI that C callers such as scipy's wrappers expect); used only by projects that
    `add_languages('fortran')`. The libf2c recipe in `host` gives the link its runtime."""
    from . import fortran  # noqa: PLC0415

    launcher = fortran.write_launcher(out / "forge-f77-bin")
    cross = out / "forge-fortran.cross"
    cross.write_text(f"[binaries]\nfortran = '{launcher}'\n")
    return cross


def build(src: Path, prefix: Path, *, wheelhouse: str | None, extra: list[str], allow_pure: bool,
          exports: str | None, env_extra: dict[str, str], dist: Path | None = None) -> Path:
    """Build, check and install the wheel into PREFIX; with `dist`, keep a copy of it there too
    (`forge wheel`: an author's project, built exactly as recipes are)."""
    from forge.toolchain import Bind, target  # noqa: PLC0415
    from forge.toolchain.dylink import strip_wheel_runpaths  # noqa: PLC0415

    # -- numpy & co (forge/helpers/cross_deps.py): one wheel per job for multi-output recipes
    from . import cross_deps  # noqa: PLC0415

    store = cross_deps.reuse_store(src)
    key = cross_deps.reuse_key(os.environ.get("RECIPE_DIR"), [extra, exports, env_extra, allow_pure])
    reused = cross_deps.reused_wheel(store, key)
    if reused is not None:
        check_wheel(reused, allow_pure)
        sp = install_wheel(reused, prefix, target.PYTHON_XY)
        print(f"forge-pyodide-build: installed {reused.name} (built for another output of this recipe in "
              f"this job) into {sp}", flush=True)
        return sp
    # -- end cross_deps

    br, cross = _root()
    out = Path(tempfile.mkdtemp(prefix="forge-pyodide-build-", dir=src.parent))
    try:
        env = target_env(cross, prefix, out / "pkgconfig")
        binds = [Bind(src), Bind(prefix), Bind(out)]
        if wheelhouse:
            env["PIP_FIND_LINKS"] = wheelhouse
            binds.append(Bind(Path(wheelhouse), readonly=True))
            # -- cross_deps: host packages (numpy) replace the native build requirement's C API
            try:
                made, pins = cross_deps.cross_wheels(prefix, target.PYTHON_XY, wheelhouse, out / "cross-wheels")
            except RuntimeError as exc:
                raise BuildError(str(exc)) from None
            if made:
                (out / "cross-constraints.txt").write_text("\n".join(pins) + "\n")
                env["PIP_FIND_LINKS"] = f"{out / 'cross-wheels'} {wheelhouse}"
                env["PIP_CONSTRAINT"] = str(out / "cross-constraints.txt")
                print(f"forge-pyodide-build: build requirements {', '.join(pins)} with the host's wasm32 "
                      "headers and libraries", flush=True)
            # -- end cross_deps
        args = ["pyodide", "build", str(src), "--outdir", str(out / "dist")]
        if exports:
            args += ["--exports", exports]
        crates = Path(os.environ["FORGE_CRATES"]) if os.environ.get("FORGE_CRATES") else None
        env.update(rust_env(src, br.root_dir, out / "cargo-home", crates))
        if crates is not None and "CARGO_HOME" in env and cargo_vendor_dir(src) is None:
            from forge.cargoreqs import drop_dev_dependencies  # noqa: PLC0415

            binds.append(Bind(crates, readonly=True))
            dropped = drop_dev_dependencies(src)  # as the fetch phase resolved them (forge.crates)
            if dropped:
                print(f"forge-pyodide-build: dropped [dev-dependencies] (tests and benches are not built) from "
                      f"{', '.join(dropped)}", flush=True)
            changes = relock_for(src, out / "crates-src", lambda argv: br.run(
                argv, env=env, cwd=src, binds=binds, check=False).returncode)
            for line in changes:
                print(f"forge-pyodide-build: Cargo.lock pin changed to Debian's crate: {line}", flush=True)
            if changes:
                print(f"forge-pyodide-build: Cargo.lock regenerated offline against Debian's crates "
                      f"({len(changes)} crates changed)", flush=True)
        if _backend(src) == "mesonpy":
            mcf = br.run(["pyodide", "config", "get", "meson_cross_file"], env=env, capture=True).stdout.strip()
            env["MESON_CROSS_FILE"] = mcf
            args.append(f"-Csetup-args=--cross-file={mcf}")
            args.append(f"-Csetup-args=--cross-file={fortran_cross_file(out)}")
        env.update(env_extra)
        args += extra
        print("+ (build root)", " ".join(args), flush=True)
        t0 = time.monotonic()
        res = br.run(args, env=env, cwd=src, binds=binds, check=False)
        if res.returncode != 0:
            raise BuildError(f"`pyodide build` exited {res.returncode} in the build root (the compiler output is above)")
        wheels = sorted((out / "dist").glob("*.whl"))
        if len(wheels) != 1:
            raise BuildError(f"`pyodide build` made {len(wheels)} wheels, expected one")
        whl = wheels[0]
        print(f"forge-pyodide-build: built {whl.name} in {time.monotonic() - t0:.1f}s", flush=True)
        stripped = strip_wheel_runpaths(whl)
        if stripped:
            print(f"forge-pyodide-build: dropped the build's RUNPATH from {len(stripped)} side modules "
                  f"(e.g. {stripped[0]})", flush=True)
        check_wheel(whl, allow_pure)
        if dist is not None:
            dist.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(whl, dist / whl.name)
        cross_deps.keep_wheel(store, key, whl)  # cross_deps: for the recipe's other outputs
        sp = install_wheel(whl, prefix, target.PYTHON_XY)
        print(f"forge-pyodide-build: installed {whl.name} into {sp}", flush=True)
        return sp
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="forge-pyodide-build", description=__doc__.split("\n\n")[0])
    ap.add_argument("--allow-pure", action="store_true", help="accept a pure-Python wheel")
    ap.add_argument("--exports", help="symbols to export from .so files (pyodide build --exports)")
    ap.add_argument("--env", action="append", default=[], metavar="K=V", help="extra environment for the build")
    ap.add_argument("--run", action="store_true",
                    help="run the command after -- in the build root with the target's compilers and flags")
    ap.add_argument("--pkgconfig", metavar="NAME", help="write $PREFIX/lib/pkgconfig/NAME.pc and exit")
    ap.add_argument("--version", help="with --pkgconfig: the module's version")
    ap.add_argument("--libs", default="", help="with --pkgconfig: its Libs line")
    ap.add_argument("--cflags", default="", help="with --pkgconfig: its Cflags line (default -I${includedir})")
    ap.add_argument("--requires", default="", help="with --pkgconfig: its Requires line")
    ap.add_argument("--requires-private", default="", help="with --pkgconfig: its Requires.private line")
    ap.add_argument("--description", default="", help="with --pkgconfig: its Description line")
    ap.add_argument("extra", nargs="*", help="passed to `pyodide build` (after --)")
    ns = ap.parse_args(sys.argv[1:] if argv is None else argv)
    prefix = os.environ.get("PREFIX")
    if not prefix:
        print("forge-pyodide-build: $PREFIX is not set (run it from a recipe's build script)", file=sys.stderr)
        return 2
    if ns.pkgconfig:
        from .pkgconfig import write_pc  # noqa: PLC0415

        try:
            write_pc(Path(prefix), ns.pkgconfig, ns.version or os.environ.get("PKG_VERSION", ""),
                     ns.description or f"{ns.pkgconfig} for emscripten-wasm32", ns.libs, ns.cflags, ns.requires,
                     ns.requires_private)
        except ValueError as exc:
            print(f"forge-pyodide-build: {exc}", file=sys.stderr)
            return 2
        return 0
    src = Path(os.environ.get("SRC_DIR") or os.getcwd()).resolve()
    env_extra = dict(kv.split("=", 1) for kv in ns.env)
    if ns.run:
        try:
            return run_in_root(ns.extra, src, Path(prefix).resolve(), env_extra)
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 1
    try:
        build(src, Path(prefix).resolve(), wheelhouse=os.environ.get("FORGE_WHEELHOUSE"), extra=ns.extra,
              allow_pure=ns.allow_pure, exports=ns.exports, env_extra=env_extra)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

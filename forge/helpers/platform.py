"""`forge-python-platform`: lay out the emscripten-wasm32 `python` package in $PREFIX.

Run by recipes/python's build script, with the npm `pyodide` tarball unpacked in $SRC_DIR:

    $PREFIX/lib/pyodide/            Pyodide's runtime (pyodide.js, pyodide.asm.wasm, python_stdlib.zip, ...)
    $PREFIX/include/pythonX.Y/      CPython headers: the build root's pythonX.Y-dev tree with a
                                    pyconfig.h generated from Pyodide's sysconfigdata
    $PREFIX/lib/pythonX.Y/_sysconfigdata__emscripten_wasm32-emscripten.py
    $PREFIX/lib/pythonX.Y/site-packages/
    $PREFIX/bin/python-wasm         the node launcher (forge/helpers/python_wasm.js)

Every version it writes is checked against the pins (forge.toolchain.target), so a tarball
for another Pyodide or CPython fails the build with one sentence.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from forge.toolchain.pyodide_dist import PREFIX_RUNTIME

LAUNCHER = Path(__file__).with_name("python_wasm.js")


class PlatformError(Exception):
    pass


def runtime_dir(src: Path) -> Path:
    """The unpacked npm package: $SRC_DIR itself (rattler-build strips `package/`) or package/."""
    for cand in (src, src / "package"):
        if (cand / "pyodide.asm.wasm").is_file():
            return cand
    raise PlatformError(f"{src} holds no Pyodide runtime (pyodide.asm.wasm); the source must be the npm "
                        "`pyodide-<version>.tgz` tarball")


def check_versions(rt: Path) -> tuple[str, str]:
    from forge.toolchain import target  # noqa: PLC0415

    pkg = json.loads((rt / "package.json").read_text())
    lock = json.loads((rt / "pyodide-lock.json").read_text())
    pyodide, python = pkg.get("version"), lock.get("info", {}).get("python")
    if pyodide != target.PYODIDE_VERSION or python != target.PYTHON_VERSION:
        raise PlatformError(
            f"the tarball is Pyodide {pyodide} with CPython {python}, but conda_build_config.yaml pins "
            f"pyodide_version {target.PYODIDE_VERSION} and pyodide_python {target.PYTHON_VERSION}; "
            "change the pins or the source together")
    return pyodide, python


def install_headers(prefix: Path, sysconfig_source: str, label: str) -> Path:
    """The build root's CPython X.Y headers with the target's pyconfig.h into $PREFIX/include."""
    from forge.toolchain import target  # noqa: PLC0415
    from forge.toolchain.buildroot import BuildRoot  # noqa: PLC0415
    from forge.toolchain.pyconfig import generate_pyconfig  # noqa: PLC0415
    from forge.toolchain.pyodide_dist import load_sysconfigdata  # noqa: PLC0415

    br = BuildRoot()
    src = br.root_dir / f"usr/include/python{target.PYTHON_XY}"
    if not br.is_marked() or not (src / "Python.h").is_file():
        raise PlatformError(
            f"the emscripten build root {br.root_dir} is missing or incomplete (no python{target.PYTHON_XY} "
            "headers); run `forge toolchain` to create it")
    dest = prefix / "include" / f"python{target.PYTHON_XY}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest, symlinks=False, ignore=shutil.ignore_patterns("pyconfig.h"))
    (dest / "pyconfig.h").write_text(generate_pyconfig(load_sysconfigdata(sysconfig_source), source=label))
    return dest


def layout(src: Path, prefix: Path) -> list[Path]:
    from forge.toolchain import target  # noqa: PLC0415
    from forge.toolchain.pyodide_dist import SYSCONFIGDATA  # noqa: PLC0415

    rt = runtime_dir(src)
    pyodide, _python = check_versions(rt)
    out = prefix / "lib" / "pyodide"
    out.mkdir(parents=True, exist_ok=True)
    for name in PREFIX_RUNTIME:
        if (rt / name).is_file():
            shutil.copyfile(rt / name, out / name)
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(rt / "python_stdlib.zip") as zf:
        sysconfig_source = zf.read(SYSCONFIGDATA).decode()
    written = [out]
    written.append(install_headers(prefix, sysconfig_source, f"pyodide {pyodide} {SYSCONFIGDATA}"))
    stdlib = prefix / "lib" / f"python{target.PYTHON_XY}"
    (stdlib / "site-packages").mkdir(parents=True, exist_ok=True)
    (stdlib / SYSCONFIGDATA).write_text(sysconfig_source)
    # conda packages carry no empty folders: keep site-packages with a marker file
    (stdlib / "site-packages" / "README.python-wasm").write_text(
        "Packages for python-wasm (Pyodide under node) install here.\n")
    bindir = prefix / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    launcher = bindir / "python-wasm"
    shutil.copyfile(LAUNCHER, launcher)
    launcher.chmod(0o755)
    written += [stdlib, launcher]
    return written


def main(argv: list[str] | None = None) -> int:
    _args = sys.argv[1:] if argv is None else argv
    prefix, src = os.environ.get("PREFIX"), os.environ.get("SRC_DIR", os.getcwd())
    if not prefix:
        print("forge-python-platform: $PREFIX is not set (run it from a recipe's build script)", file=sys.stderr)
        return 2
    try:
        for p in layout(Path(src), Path(prefix)):
            print(f"forge-python-platform: wrote {p}", flush=True)
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

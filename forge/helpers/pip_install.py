"""`forge-pip-install`: the one way noarch recipes install a Python sdist into $PREFIX.

pypa `build` makes the wheel in an isolated environment filled only from the job's wheel set
(the closed set the fetch phase asked the same backend for: forge.buildreqs), with no index,
so the build needs no network and cannot pick up a stray wheel. pypa `installer` then unpacks
it into $PREFIX/lib/pythonX.Y/site-packages (rattler-build turns that into a noarch
package). Console scripts are not written: noarch recipes declare `build.python.entry_points`
instead, which rattler-build makes portable; no `direct_url.json` names the build machine.

    forge-pip-install [-C KEY=VALUE]...      (config settings for the backend)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def build_env(environ: dict[str, str]) -> dict[str, str]:
    """pip (inside pypa build's isolated env) sees only the job's wheel set."""
    env = {k: v for k, v in environ.items() if not k.startswith("PIP_")}
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if environ.get("FORGE_WHEELHOUSE"):
        env["PIP_FIND_LINKS"] = environ["FORGE_WHEELHOUSE"]
    return env


def build_wheel(src: Path, outdir: Path, config: dict[str, str]) -> Path:
    import build  # noqa: PLC0415
    import build.env  # noqa: PLC0415

    t0 = time.monotonic()
    with build.env.DefaultIsolatedEnv() as env:
        builder = build.ProjectBuilder.from_isolated_env(env, src)
        env.install(builder.build_system_requires)
        env.install(builder.get_requires_for_build("wheel", config))
        t1 = time.monotonic()
        whl = Path(builder.build("wheel", outdir, config))
    print(f"== phase isolated-env {t1 - t0:.3f}\n== phase wheel {time.monotonic() - t1:.3f}", flush=True)
    return whl


def install_wheel(whl: Path, prefix: Path, scripts_dir: Path) -> Path:
    from installer import install  # noqa: PLC0415
    from installer.destinations import SchemeDictionaryDestination  # noqa: PLC0415
    from installer.sources import WheelFile  # noqa: PLC0415

    sp = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    scheme = {"purelib": str(sp), "platlib": str(sp), "headers": str(prefix / "include"),
              "scripts": str(scripts_dir), "data": str(prefix)}
    dest = SchemeDictionaryDestination(scheme, interpreter="/usr/bin/env python", script_kind="posix",
                                       bytecode_optimization_levels=())
    with WheelFile.open(whl) as source:
        install(source, dest, {"INSTALLER": b"conda\n"})
    return sp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="forge-pip-install", description=__doc__.split("\n\n")[0])
    ap.add_argument("-C", "--config-setting", action="append", default=[], metavar="KEY=VALUE")
    ns = ap.parse_args(sys.argv[1:] if argv is None else argv)
    prefix = os.environ.get("PREFIX")
    if not prefix:
        print("forge-pip-install: $PREFIX is not set (run it from a recipe's build script)", file=sys.stderr)
        return 2
    config = dict(kv.split("=", 1) for kv in ns.config_setting)
    env = build_env(dict(os.environ))
    os.environ.clear()
    os.environ.update(env)
    src = Path(os.environ.get("SRC_DIR") or os.getcwd()).resolve()
    with tempfile.TemporaryDirectory(prefix="forge-pip-install-") as tmp:
        try:
            whl = build_wheel(src, Path(tmp) / "dist", config)
        except Exception as exc:  # noqa: BLE001 — build's BuildBackendException, a failed install of requirements
            print(f"error: building a wheel of {src.name} failed: {exc}", file=sys.stderr, flush=True)
            return 1
        print(f"forge-pip-install: built {whl.name}", flush=True)
        sp = install_wheel(whl, Path(prefix), Path(tmp) / "scripts")
        print(f"forge-pip-install: installed {whl.name} into {sp}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

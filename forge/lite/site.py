"""build_site: a JupyterLite site whose Pyodide kernel runs entirely from the site itself.

    <site>/static/pyodide/      the Pyodide runtime (npm pyodide, pinned by forge.toolchain)
                                + the channel's Pyodide view: pyodide-lock.json, wheels, all.json
    <site>/jupyter-lite.json    litePluginSettings of the Pyodide kernel:
                                  pyodideUrl        ./static/pyodide/pyodide.mjs
                                  loadPyodideOptions.lockFileURL  ./static/pyodide/pyodide-lock.json
                                  pipliteUrls       [./static/pyodide/all.json]
                                  disablePyPIFallback  true

How the kernel starts (jupyterlite-pyodide-kernel 0.8.6, its worker): loadPyodide({indexURL:
dirname(pyodideUrl), ...loadPyodideOptions}); loadPackage("micropip") (our lock); micropip
installs the extension's own piplite wheel; then piplite installs ipykernel (the extension's
shim), comm, pyodide-kernel (the extension's wheel), jedi and ipython. micropip looks in the
lock first, so comm, jedi, ipython and their dependencies load from the channel's view; only
the three kernel wheels shipped inside the extension come from the extension's all.json.
Nothing is fetched from anywhere but the site.

jupyterlite-core's Pyodide addon copies a "well-known" `<lite-dir>/static/pyodide/` into the
output and points `pyodideUrl` at it; we lay the runtime and the view out there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ForgeError
from ..fsutil import link_or_copy
from ..toolchain.pyodide_dist import BROWSER_RUNTIME, LOCK_FILE

KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
PYODIDE_SUBDIR = "static/pyodide"
ALL_JSON = "all.json"
#: What the kernel's worker installs at start-up besides micropip and piplite (its source:
#: `initKernel` in the extension's comlink worker). ipykernel and pyodide-kernel are wheels
#: shipped inside the extension; the rest must be in the channel's view.
KERNEL_STARTUP = ("ipykernel", "comm", "pyodide-kernel", "jedi", "ipython")
EXTENSION_WHEELS = ("ipykernel", "pyodide-kernel", "piplite", "widgetsnbextension")
#: The channel packages the kernel needs (the lock's depends fill in the rest).
CHANNEL_STARTUP = ("micropip", "comm", "jedi", "ipython")


@dataclass
class SiteReport:
    """What build_site made."""

    output_dir: Path
    pyodide_dir: Path
    lock_packages: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    pyodide_bytes: int = 0
    view_seconds: float = 0.0
    build_seconds: float = 0.0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    #: with --environment: the file, its specs, the solved records and the preloaded lock keys
    environment: dict | None = None
    #: with --conda: the staged channel (packages, files, bytes) and the solver (forge.lite.conda)
    conda: dict | None = None
    #: with --snapshot: the kernel's memory snapshot and files pack (forge.lite.snapshot)
    snapshot: dict | None = None
    #: files precompressed for Content-Encoding (forge.serve.precompress): files, bytes, gz_bytes, zst_bytes
    compressed: dict | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["output_dir"], d["pyodide_dir"] = str(self.output_dir), str(self.pyodide_dir)
        return d


def kernel_settings(pyodide_path: str = f"./{PYODIDE_SUBDIR}", preload: tuple[str, ...] = (),
                    snapshot: bool = False) -> dict:
    """The Pyodide kernel's litePluginSettings: everything from the site, no PyPI fallback.
    With `snapshot`, Pyodide is loaded through forge.lite.snapshot's loader, and the worker is
    told that the kernel's packages are there already (they are, in the snapshot)."""
    options: dict = {"lockFileURL": f"{pyodide_path}/{LOCK_FILE}"}
    if snapshot:
        from .snapshot import WORKER_SKIPS  # noqa: PLC0415

        preload = tuple(dict.fromkeys([*WORKER_SKIPS, *preload]))
    if preload:
        options["packages"] = list(preload)
    entry = "pyodide.mjs"
    if snapshot:
        from .snapshot import LOADER  # noqa: PLC0415

        entry = LOADER
    return {
        "pyodideUrl": f"{pyodide_path}/{entry}",
        "loadPyodideOptions": options,
        "pipliteUrls": [f"{pyodide_path}/{ALL_JSON}"],
        "disablePyPIFallback": True,
    }


def check_view(lock: dict) -> list[str]:
    """Problems that would stop the kernel from starting offline (empty: fine)."""
    pkgs = lock.get("packages", {})
    problems = [f"the channel's Pyodide view has no {name} (forge build {name})"
                for name in CHANNEL_STARTUP if name not in pkgs]
    for key, entry in pkgs.items():
        fn = entry.get("file_name", "")
        if "://" in fn or fn.startswith("/"):
            problems.append(f"lock entry {key} points outside the site: {fn}")
    return problems


def _stage_pyodide(view_dir: Path, runtime_dir: Path, dest: Path, keep: list[str] | None = None) -> list[str]:
    """Runtime files from npm pyodide + the view's lock, wheels and all.json, as hard links
    (with `keep`: only those lock entries, and a lock and all.json cut down to them)."""
    lock = json.loads((view_dir / LOCK_FILE).read_text())
    all_json = json.loads((view_dir / ALL_JSON).read_text())
    if keep is not None:
        from .environment import dumps, restrict  # noqa: PLC0415

        lock, all_json = restrict(lock, all_json, keep)
    for name in BROWSER_RUNTIME:  # the lock is replaced by the view's
        link_or_copy(runtime_dir / name, dest / name)
    for entry in lock["packages"].values():
        link_or_copy(view_dir / entry["file_name"], dest / entry["file_name"])
    for project in all_json.values():
        for rels in project["releases"].values():
            for rel in rels:
                fn = rel["url"].removeprefix("./")
                if not (dest / fn).exists():
                    link_or_copy(view_dir / fn, dest / fn)
    if keep is None:
        link_or_copy(view_dir / ALL_JSON, dest / ALL_JSON)
        link_or_copy(view_dir / LOCK_FILE, dest / LOCK_FILE)
    else:
        (dest / ALL_JSON).write_text(dumps(all_json))
        (dest / LOCK_FILE).write_text(dumps(lock))
    return sorted(lock["packages"])


def _jupyter_lite() -> list[str]:
    exe = Path(sys.executable).with_name("jupyter-lite")
    if exe.is_file():
        return [str(exe)]
    return [sys.executable, "-m", "jupyterlite_core"]


def build_site(channel_dir: Path, output_dir: Path, *, contents: tuple[Path, ...] = (),
               cache_dir: Path | None = None, preload: tuple[str, ...] = (),
               refresh_view: bool = True, log_path: Path | None = None,
               environment: Path | None = None, conda: bool = False, snapshot: bool = False,
               compress: bool = True) -> SiteReport:
    """Build a JupyterLite site into output_dir (replaced) from the channel's Pyodide view.

    With `environment` (a conda environment file), the kernel gets exactly the file's solved
    set with its dependencies, preloaded (forge.lite.environment), plus what it needs to start.
    With `conda`, the site also serves the channel and a solver, and the kernel has `%conda
    install` (forge.lite.conda). With `snapshot`, the kernel starts from a memory snapshot made
    here under node (forge.lite.snapshot). With `compress` (the default), text and wasm files get
    zstd and gzip twins that forge.serve sends with Content-Encoding."""
    try:
        import jupyterlite_core  # noqa: F401, PLC0415
        import jupyterlite_pyodide_kernel  # noqa: F401, PLC0415
    except ImportError as exc:
        raise ForgeError(f"{exc.name} is not installed, so no JupyterLite site can be built",
                         fix="pip install jupyterlite-core==0.8.6 jupyterlite-pyodide-kernel==0.8.6") from None
    if contents:
        try:
            import jupyter_server  # noqa: F401, PLC0415
        except ImportError:
            raise ForgeError("jupyter lite build needs jupyter-server to index --contents",
                             fix="pip install 'jupyterlite-core[contents]==0.8.6'") from None
    from ..pyodide_view import publish_view  # noqa: PLC0415
    from ..pyodide_view.runtime import pyodide_dir  # noqa: PLC0415

    start = time.monotonic()
    channel_dir, output_dir = Path(channel_dir).resolve(), Path(output_dir).resolve()
    if not (channel_dir / "noarch" / "repodata.json").is_file():
        raise ForgeError(f"{channel_dir} is not a channel (no noarch/repodata.json)",
                         fix="pass --channel DIR, or build into it first: forge build " + " ".join(CHANNEL_STARTUP))
    report = SiteReport(output_dir=output_dir, pyodide_dir=output_dir / PYODIDE_SUBDIR)
    if refresh_view:
        view = publish_view(channel_dir, cache_dir=cache_dir, include_runtime=False)
        view_dir = view.view_dir
        report.warnings.extend(view.warnings)
    else:
        view_dir = channel_dir / "pyodide"
    report.view_seconds = time.monotonic() - start
    if not (view_dir / LOCK_FILE).is_file():
        raise ForgeError(f"the channel {channel_dir} has no Pyodide view ({view_dir / LOCK_FILE} is missing)",
                         fix="run `forge pyodide view` (or build without --no-refresh)")
    problems = check_view(json.loads((view_dir / LOCK_FILE).read_text()))
    if problems:
        raise ForgeError(f"the JupyterLite kernel could not start from {view_dir}: {'; '.join(problems)}",
                         fix="forge build " + " ".join(CHANNEL_STARTUP))
    runtime_dir = pyodide_dir(cache_dir)
    keep: list[str] | None = None
    if environment is not None:
        from .environment import closure, solve_environment  # noqa: PLC0415

        lock = json.loads((view_dir / LOCK_FILE).read_text())
        env = solve_environment(environment, channel_dir, lock)
        report.environment = asdict(env) | {"file": str(env.file)}
        preload = tuple(dict.fromkeys([*env.lock_keys, *preload]))
        keep = closure(lock, [*env.lock_keys, *CHANNEL_STARTUP, *preload])

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".lite-", dir=output_dir.parent) as tmp:
        lite_dir = Path(tmp) / "lite"
        staged_out = Path(tmp) / "out"
        report.lock_packages = _stage_pyodide(view_dir, runtime_dir, lite_dir / PYODIDE_SUBDIR, keep)
        if conda:
            from .conda import KERNEL_PACKAGE, add_kernel_package  # noqa: PLC0415

            add_kernel_package(lite_dir / PYODIDE_SUBDIR)
            report.lock_packages = sorted([*report.lock_packages, KERNEL_PACKAGE])
            preload = (*preload, KERNEL_PACKAGE)
        config = {"jupyter-config-data": {"litePluginSettings": {KERNEL_PLUGIN: kernel_settings(preload=preload)}}}
        (lite_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=2) + "\n")
        cmd = [*_jupyter_lite(), "build", "--lite-dir", str(lite_dir), "--output-dir", str(staged_out),
               "--no-sourcemaps", "--no-unused-shared-packages"]
        for c in contents:
            cmd += ["--contents", str(Path(c).resolve())]
        if not contents:
            cmd += ["--contents", str(lite_dir / "files")]
            (lite_dir / "files").mkdir()
        t0 = time.monotonic()
        env = {**os.environ, "JUPYTERLITE_NO_LIBARCHIVE": "1"}
        env.pop("JUPYTERLITE_PYODIDE_URL", None)
        proc = subprocess.run(cmd, cwd=lite_dir, capture_output=True, text=True, env=env, check=False)
        report.build_seconds = time.monotonic() - t0
        log = log_path or (output_dir.parent / f"{output_dir.name}.build.log")
        log.write_text(f"$ {' '.join(cmd)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}\n")
        if proc.returncode != 0:
            tail = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise ForgeError(f"jupyter lite build failed: {tail} (log: {log})", fix="read the log")
        settings = site_settings(staged_out)
        if not settings_ok(settings, kernel_settings(preload=preload)):
            raise ForgeError(f"jupyter lite build changed the kernel settings to {json.dumps(settings)}",
                             fix="read the log " + str(log))
        if snapshot:
            report.snapshot = _add_snapshot(staged_out, preload)
        if conda:
            from .conda import CONDA_SUBDIR, stage_channel  # noqa: PLC0415

            report.conda = asdict(stage_channel(channel_dir, staged_out / CONDA_SUBDIR, cache_dir))
        if compress:
            from ..serve import precompress  # noqa: PLC0415

            # not the channel --conda serves: rattler's fetch of an encoded repodata.json panics in
            # the browser (a clock it does not have on wasm); the solver module itself is fine
            skip = tuple(f"{CONDA_SUBDIR}/{d.name}" for d in (staged_out / CONDA_SUBDIR).glob("*")
                         if d.is_dir() and d.name != "solver") if conda else ()
            report.compressed = precompress(staged_out, skip=skip)
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staged_out.rename(output_dir)
    for f in output_dir.rglob("*"):
        if f.is_file():
            report.files += 1
            report.bytes += f.stat().st_size
            if report.pyodide_dir in f.parents:
                report.pyodide_bytes += f.stat().st_size
    report.seconds = time.monotonic() - start
    return report


def _add_snapshot(site: Path, preload: tuple[str, ...]) -> dict:
    """The kernel's snapshot made in the built site, and its settings pointed at the loader."""
    from .environment import closure  # noqa: PLC0415
    from .snapshot import make_snapshot, pure_python  # noqa: PLC0415

    pyodide = site / PYODIDE_SUBDIR
    lock = json.loads((pyodide / LOCK_FILE).read_text())
    packages = closure(lock, list(CHANNEL_STARTUP))
    for key in preload:  # a preloaded package joins the snapshot if its whole closure can
        deps = closure(lock, [key])
        if deps and pure_python(lock, deps) == deps:
            packages += deps
    ext = site / "extensions" / "@jupyterlite" / "pyodide-kernel-extension" / "static" / "pypi"
    rep = make_snapshot(pyodide, ext, sorted(set(packages)))
    config_path = site / "jupyter-lite.json"
    config = json.loads(config_path.read_text())
    plugins = config.setdefault("jupyter-config-data", {}).setdefault("litePluginSettings", {})
    want = kernel_settings(preload=preload, snapshot=True)
    plugins[KERNEL_PLUGIN] = {**plugins.get(KERNEL_PLUGIN, {}), **{k: want[k] for k in ("pyodideUrl", "loadPyodideOptions")}}
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    if not settings_ok(site_settings(site), want):
        raise ForgeError(f"the kernel settings in {config_path} did not take the snapshot loader")
    return asdict(rep)


def settings_ok(got: dict, want: dict) -> bool:
    """The built site keeps our settings; jupyterlite's piplite addon may only append
    site-relative indexes (the extension's own all.json) to pipliteUrls."""
    same = all(got.get(k) == want[k] for k in ("pyodideUrl", "loadPyodideOptions", "disablePyPIFallback"))
    urls = got.get("pipliteUrls") or []
    return same and urls[:1] == want["pipliteUrls"] and all(u.startswith("./") for u in urls)


def site_settings(site: Path) -> dict:
    """The Pyodide kernel's settings in a built site's jupyter-lite.json."""
    data = json.loads((Path(site) / "jupyter-lite.json").read_text())
    return data.get("jupyter-config-data", {}).get("litePluginSettings", {}).get(KERNEL_PLUGIN, {})

"""`forge lite --snapshot`: the kernel's start, baked at build time.

Pyodide 314 can restore a memory snapshot (loadPyodide's `_makeSnapshot` / `_loadSnapshot`, what
python-wasm in forge/helpers does for its own start-up). build_site runs the kernel's start-up
under node once, against the site's own runtime, lock and wheels: loadPyodide, the kernel's
packages from the lock, the extension's piplite / ipykernel / pyodide-kernel wheels with micropip,
and `import pyodide_kernel` (IPython's shell is initialised then). It keeps two files:

    static/pyodide/forge-lite-kernel.snapshot  the wasm memory (pyodide.makeMemorySnapshot)
    static/pyodide/forge-lite-kernel.files     the files the start-up wrote (site-packages, the
                                               IPython profile), since memory holds no file system

and points the kernel's `pyodideUrl` at `forge-lite-loader.mjs`, a wrapper of pyodide.mjs. The
worker calls its loadPyodide as it would Pyodide's: the wrapper fetches the two files (in parallel
with the runtime), writes the files back in `fsInit`, restores the memory and marks the snapshot's
packages as loaded. `loadPyodideOptions.packages` names micropip, piplite and the kernel's five, so
the worker skips every install and its `import pyodide_kernel` finds the module imported.

What a snapshot cannot carry stays out of it and is done as before: micropip and piplite are not
left imported (micropip keeps the lock's base URL from the moment it is imported, a node path
here), and packages with wasm side modules (`--environment` with numpy) are loaded after the
restore by loadPackage. The worker logs `forge-lite: <step> <epoch ms>` lines (start, fetched,
ready, kernel) that the benchmark and the tests read.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ForgeError

LOADER = "forge-lite-loader.mjs"
SNAPSHOT = "forge-lite-kernel.snapshot"
FILES = "forge-lite-kernel.files"
#: What `loadPyodideOptions.packages` must name so the worker installs nothing itself.
WORKER_SKIPS = ("micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "jedi", "ipython")
#: The extension's wheels that the kernel's start installs with micropip (not in the lock).
EXTENSION_START = ("piplite", "ipykernel", "pyodide_kernel")
FILES_MAGIC = b"FLF1"

_MAKER = r"""
const fs = require("fs");
const path = require("path");
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { loadPyodide } = require(path.join(job.index, "pyodide.js"));
const log = [];
const SKIP = new Set(["/dev", "/proc", "/sys", "/tmp/forge-wheels"]);
function walk(FS, dir, files, dirs) {
  for (const name of FS.readdir(dir)) {
    if (name === "." || name === "..") continue;
    const p = dir === "/" ? "/" + name : dir + "/" + name;
    if (SKIP.has(p) || job.skip_files.includes(p)) continue;
    const st = FS.lstat(p);
    if (FS.isDir(st.mode)) { dirs.push(p); walk(FS, p, files, dirs); }
    else if (FS.isFile(st.mode)) files.push([p, st.mode & 0o777]);
  }
}
(async () => {
  const t0 = performance.now();
  const py = await loadPyodide({ indexURL: job.index + "/", lockFileURL: path.join(job.index, job.lock),
                                 _makeSnapshot: true, stdout: (s) => log.push(s), stderr: (s) => log.push(s) });
  await py.loadPackage(job.packages, { messageCallback: (m) => log.push(m),
                                       errorCallback: (m) => { throw new Error(m); } });
  py.FS.mkdirTree("/tmp/forge-wheels");
  for (const w of job.wheels) py.FS.writeFile("/tmp/forge-wheels/" + path.basename(w), fs.readFileSync(w));
  await py.runPythonAsync(job.code);
  const files = [], dirs = [];
  walk(py.FS, "/", files, dirs);
  const entries = [];
  const blobs = [];
  let offset = 0;
  for (const [p, mode] of files) {
    const data = py.FS.readFile(p);
    entries.push([p, offset, data.length, mode]);
    blobs.push(data);
    offset += data.length;
  }
  const loaded = Object.keys(py.loadedPackages);
  const header = Buffer.from(JSON.stringify({ dirs, files: entries, loaded }));
  const head = Buffer.alloc(8);
  head.write("FLF1", 0, "latin1");
  head.writeUInt32LE(header.length, 4);
  fs.writeFileSync(job.files_out, Buffer.concat([head, header, ...blobs.map((b) => Buffer.from(b))]));
  // Pyodide checks its start-up hiwire entries, and entry 6 is loadedPackages, expected empty:
  // emptied for the snapshot; the loader fills the browser's own from the pack's `loaded`
  for (const k of loaded) delete py.loadedPackages[k];
  // JS objects Python holds that Pyodide cannot name itself: the public API (pyodide_js), its
  // members and its internal API's (micropip's and the kernel's imports), named by key; the
  // loader resolves them against the browser's own Pyodide (forge.lite.snapshot._LOADER)
  const names = new Map([[py, ""]]);
  for (const [prefix, obj] of [["", py], ["_api.", py._api]]) {
    for (const k of Object.getOwnPropertyNames(obj)) {
      try { const v = obj[k]; if (v && ["object", "function"].includes(typeof v) && !names.has(v)) names.set(v, prefix + k); } catch {}
    }
  }
  const unknown = [];
  const snap = py.makeMemorySnapshot({ serializer: (obj) => {
    if (names.has(obj)) return { forgeApi: names.get(obj), fn: typeof obj === "function" };
    unknown.push(String(obj && (obj.name || obj.constructor && obj.constructor.name)) + " " + String(obj).slice(0, 80));
    return { forgeUnknown: unknown.length - 1 };
  } });
  if (unknown.length) { console.error("unknown JS objects: " + unknown.join(" ; ")); process.exit(1); }
  fs.writeFileSync(job.snapshot_out, snap);
  process.stdout.write("\n@@FORGE-SNAPSHOT@@" + JSON.stringify({
    ms: performance.now() - t0, files: entries.length, loaded, log: log.slice(-50) }) + "\n");
  process.exit(0);
})().catch((e) => { console.error(String(e && e.stack || e)); console.error(log.slice(-50).join("\n")); process.exit(1); });
"""

#: Run in the snapshot-making Pyodide, after the lock's packages are loaded: the extension's wheels,
#: the kernel imported (IPython's shell initialised), and what must not stay imported dropped.
_START_CODE = r"""
import micropip, os, sys
await micropip.install(sorted("emfs:/tmp/forge-wheels/" + f for f in os.listdir("/tmp/forge-wheels")),
                       deps=False)
import piplite.piplite
import pyodide_kernel
for _m in [m for m in sys.modules if m.split(".")[0] in ("micropip", "piplite")]:
    del sys.modules[_m]
sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
import shutil
shutil.rmtree("/tmp/forge-wheels")
del _m, micropip, piplite, shutil
import gc
gc.collect()
"""

_LOADER = r"""// forge lite --snapshot: Pyodide's loadPyodide, starting from the kernel's snapshot (forge.lite.snapshot)
import { loadPyodide as pyodideLoad, version } from "./pyodide.mjs";
export { version };
const mark = (step) => console.log(`forge-lite: ${step} ${Date.now()}`);
async function bytes(name) {
  const resp = await fetch(new URL(name, import.meta.url));
  if (!resp.ok) throw new Error(`forge lite: ${name}: HTTP ${resp.status}`);
  return new Uint8Array(await resp.arrayBuffer());
}
function parseFiles(buf) {
  const magic = new TextDecoder().decode(buf.subarray(0, 4));
  if (magic !== "FLF1") throw new Error("forge lite: not a kernel files pack");
  const n = new DataView(buf.buffer, buf.byteOffset + 4, 4).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
  return { header, blob: buf.subarray(8 + n) };
}
// The snapshot names JS objects Python held by their key in the public API (forgeApi: "" is the
// API itself, "_api.x" its internal API's x): stand-ins that forward to this page's Pyodide, which
// exists once loadPyodide returns (nothing calls them before: they are micropip's and the kernel's).
let current = null;
function resolve(path) {
  if (!current) throw new Error(`forge lite: the snapshot's ${path || "pyodide"} was used before Pyodide was ready`);
  return path ? path.split(".").reduce((o, k) => o[k], current) : current;
}
function standIn({ forgeApi: path, fn }) {
  if (path === undefined) throw new Error("forge lite: the snapshot holds a JS object it cannot name");
  if (fn) return function (...args) { return resolve(path).apply(this, args); };
  return new Proxy({}, {
    get: (_t, k) => { const o = resolve(path); const v = Reflect.get(o, k); return typeof v === "function" ? v.bind(o) : v; },
    set: (_t, k, v) => Reflect.set(resolve(path), k, v),
    has: (_t, k) => Reflect.has(resolve(path), k),
    ownKeys: () => Reflect.ownKeys(resolve(path)),
    getOwnPropertyDescriptor: (_t, k) => {
      const d = Reflect.getOwnPropertyDescriptor(resolve(path), k);
      if (d) d.configurable = true;
      return d;
    },
  });
}
export async function loadPyodide(options = {}) {
  mark("start");
  const files = bytes("__FILES__").then(parseFiles);
  const snapshot = bytes("__SNAPSHOT__");
  const snapshotPackages = new Set(__SNAPSHOT_PACKAGES__);
  const { packages = [], fsInit, ...rest } = options;
  // Pyodide's wasm exports its memory, so the snapshot's size (INITIAL_MEMORY) is not honoured:
  // the restore would not fit. The runtime's instance is grown to it before Pyodide sees it.
  const W = globalThis.WebAssembly;
  const saved = { instantiate: W.instantiate, instantiateStreaming: W.instantiateStreaming };
  const grow = async (result) => {
    const memory = result && result.instance && result.instance.exports && result.instance.exports.memory;
    if (memory instanceof W.Memory) {
      const snap = await snapshot;
      const heap = snap.length - new DataView(snap.buffer, snap.byteOffset + 4, 4).getUint32(0, true);
      const pages = Math.ceil(heap / 65536) - memory.buffer.byteLength / 65536;
      if (pages > 0) memory.grow(pages);
      Object.assign(W, saved);
    }
    return result;
  };
  W.instantiate = async (...args) => grow(await saved.instantiate.apply(W, args));
  W.instantiateStreaming = async (...args) => grow(await saved.instantiateStreaming.apply(W, args));
  const later = packages.filter((p) => !snapshotPackages.has(p) && !__WORKER_SKIPS__.includes(p));
  const py = await pyodideLoad({
    ...rest,
    _snapshotDeserializer: standIn,
    _loadSnapshot: Promise.all([snapshot, files]).then(([s]) => { mark("fetched"); return s; }),
    fsInit: async (FS, info) => {
      const { header, blob } = await files;
      for (const d of header.dirs) FS.mkdirTree(d);
      for (const [p, off, len, mode] of header.files) {
        FS.writeFile(p, blob.subarray(off, off + len), { canOwn: false });
        FS.chmod(p, mode);
      }
      if (fsInit) await fsInit(FS, info);
    },
  });
  Object.assign(W, saved);
  current = py;
  const { header } = await files;
  for (const name of header.loaded) py.loadedPackages[name] ??= "default channel";
  // the kernel's streams: the snapshot's pyodide_kernel set them, loadPyodide's restore reset them
  py.runPython("import sys, pyodide_kernel as _k; sys.stdout, sys.stderr = _k.stdout_stream, _k.stderr_stream; del _k");
  if (later.length) await py.loadPackage(later);
  // the worker's last start-up step runs `import pyodide_kernel`: marked when it is done
  const runAsync = py.runPythonAsync;
  Object.defineProperty(py, "runPythonAsync", { configurable: true, writable: true, value: async function (code, ...rest) {
    const out = await runAsync.call(this, code, ...rest);
    if (typeof code === "string" && code.includes("import pyodide_kernel")) mark("kernel");
    return out;
  } });
  mark("ready");
  return py;
}
"""


@dataclass
class SnapshotReport:
    """What make_snapshot wrote."""

    snapshot_bytes: int = 0
    files_bytes: int = 0
    files: int = 0
    packages: list[str] = field(default_factory=list)
    seconds: float = 0.0


def extension_wheels(pypi_dir: Path) -> list[Path]:
    """The extension's wheels the kernel's start installs (piplite, ipykernel, pyodide_kernel)."""
    out = []
    for stem in EXTENSION_START:
        found = sorted(pypi_dir.glob(f"{stem}-*-py3-none-any.whl"))
        if not found:
            raise ForgeError(f"the JupyterLite Pyodide kernel extension has no {stem} wheel in {pypi_dir}",
                             fix="pip install jupyterlite-pyodide-kernel==0.8.6")
        out.append(found[-1])
    return out


def pure_python(lock: dict, keys: list[str]) -> list[str]:
    """The lock keys a snapshot can hold: those without wasm side modules (shared libraries)."""
    pkgs = lock["packages"]
    return [k for k in keys if k in pkgs and pkgs[k].get("package_type") != "shared_library"
            and "wasm32" not in pkgs[k].get("file_name", "") and not pkgs[k].get("shared_library")]


def make_snapshot(pyodide_dir: Path, pypi_dir: Path, packages: list[str], *, timeout: float = 600) -> SnapshotReport:
    """Run the kernel's start-up under node in `pyodide_dir` (the site's static/pyodide: runtime,
    lock, wheels) and write the snapshot, the files pack and the loader next to the runtime."""
    node = shutil.which("node")
    if not node:
        raise ForgeError("forge lite --snapshot needs node to make the kernel's snapshot", fix="apt-get install nodejs")
    start = time.monotonic()
    lock = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    packages = pure_python(lock, packages)
    with tempfile.TemporaryDirectory(prefix="forge-lite-snapshot-") as tmp:
        job = {"index": str(pyodide_dir), "lock": "pyodide-lock.json", "packages": packages,
               "wheels": [str(w) for w in extension_wheels(pypi_dir)], "code": _START_CODE,
               "files_out": str(pyodide_dir / FILES), "snapshot_out": str(pyodide_dir / SNAPSHOT),
               "skip_files": [f"/lib/python{'%d%d' % _py_version(pyodide_dir)}.zip"]}
        job_path, script = Path(tmp) / "job.json", Path(tmp) / "maker.cjs"
        job_path.write_text(json.dumps(job))
        script.write_text(_MAKER)
        proc = subprocess.run([node, str(script), str(job_path)], capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=tmp, env={**os.environ, "NODE_OPTIONS": ""})
    marker = "@@FORGE-SNAPSHOT@@"
    if proc.returncode != 0 or marker not in proc.stdout:
        tail = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-8:]
        raise ForgeError("the kernel's start-up failed under node, so no snapshot was made: " + " | ".join(tail),
                         fix="build the site without --snapshot, or rebuild the kernel's packages")
    info = json.loads(proc.stdout.split(marker, 1)[1].splitlines()[0])
    loaded = sorted(info["loaded"])
    (pyodide_dir / LOADER).write_text(
        _LOADER.replace("__FILES__", FILES).replace("__SNAPSHOT__", SNAPSHOT)
        .replace("__SNAPSHOT_PACKAGES__", json.dumps(loaded)).replace("__WORKER_SKIPS__", json.dumps(list(WORKER_SKIPS))))
    return SnapshotReport(snapshot_bytes=(pyodide_dir / SNAPSHOT).stat().st_size,
                          files_bytes=(pyodide_dir / FILES).stat().st_size, files=int(info["files"]),
                          packages=loaded, seconds=time.monotonic() - start)


def _py_version(pyodide_dir: Path) -> tuple[int, int]:
    """CPython's (major, minor) of the runtime (the stdlib zip is python3XY.zip in its FS)."""
    data = json.loads((pyodide_dir / "pyodide-lock.json").read_text())
    major, minor = data.get("info", {}).get("python", "3.14").split(".")[:2]
    return int(major), int(minor)


def read_files_pack(path: Path) -> dict:
    """The header of a files pack (dirs, files [path, offset, size, mode], loaded packages)."""
    raw = Path(path).read_bytes()
    if raw[:4] != FILES_MAGIC:
        raise ForgeError(f"{path} is not a kernel files pack")
    (n,) = struct.unpack("<I", raw[4:8])
    return json.loads(raw[8:8 + n])

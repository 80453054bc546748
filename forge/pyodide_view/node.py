"""Run Python in the real Pyodide runtime (npm pyodide under the host's node) against a
view: loadPyodide with the view's lock, loadPackage from the view's files, then async code.

forge.toolchain.run_in_pyodide runs synchronous code with Pyodide's own lock; a view
needs the lock options, package loading and `await` (micropip), hence this runner."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..toolchain.paths import default_cache_dir
from ..toolchain.pyodide_dist import npm_install_pyodide
from ..toolchain.target import PYODIDE_VERSION
from .lock import LOCK_FILE

_RUNNER = r"""
const fs = require("fs");
const path = require("path");
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { loadPyodide } = require(path.join(job.pkg, "pyodide.js"));
const messages = [];
(async () => {
  const t0 = performance.now();
  const opts = { indexURL: job.index_url, packageBaseUrl: job.package_base_url,
                 stdout: (s) => messages.push(s), stderr: (s) => messages.push(s) };
  if (job.lock_contents) opts.lockFileContents = job.lock_contents; else opts.lockFileURL = job.lock_url;
  const py = await loadPyodide(opts);
  const t1 = performance.now();
  if (job.packages.length) {
    await py.loadPackage(job.packages, { messageCallback: (m) => messages.push(m),
                                         errorCallback: (m) => { throw new Error(m); } });
  }
  const t2 = performance.now();
  for (const [dest, src] of Object.entries(job.files)) {
    py.FS.mkdirTree(path.dirname(dest));
    py.FS.writeFile(dest, fs.readFileSync(src));
  }
  const result = await py.runPythonAsync(job.code);
  const t3 = performance.now();
  process.stdout.write("\n@@FORGE-RESULT@@" + JSON.stringify({
    result: String(result), load_ms: t1 - t0, packages_ms: t2 - t1, run_ms: t3 - t2,
    loaded: Object.keys(py.loadedPackages), messages }) + "\n");
  process.exit(0);
})().catch((e) => { console.error(String(e && e.stack || e)); console.error(messages.join("\n")); process.exit(1); });
"""


@dataclass
class NodeRun:
    """The value of the code's last expression (str) and where the time went."""

    result: str
    load_ms: float
    packages_ms: float
    run_ms: float
    loaded: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


class PyodideRunError(RuntimeError):
    """Pyodide under node failed; the message holds the JS/Python error text."""


def run_with_view(view_dir: Path, code: str = "None", *, packages: Sequence[str] = (),
                  files: Mapping[str, Path] | None = None, lock_contents: str | None = None,
                  index_from_view: bool = False, cache_dir: Path | None = None,
                  timeout: float = 300) -> NodeRun:
    """loadPyodide with the view's lock, loadPackage(packages), run `code` with top-level await.

    Package files come from the view only (packageBaseUrl is the view, so there is no CDN
    fallback). With `index_from_view` the interpreter itself is loaded from the view's
    runtime files instead of the npm install (proves the view is self-contained).
    """
    view = Path(view_dir).resolve()
    pkg = npm_install_pyodide((cache_dir or default_cache_dir()) / f"node-pyodide-{PYODIDE_VERSION}")
    job = {"pkg": str(pkg), "index_url": str(view if index_from_view else pkg) + "/",
           "package_base_url": str(view) + "/", "lock_url": str(view / LOCK_FILE),
           "lock_contents": lock_contents, "packages": list(packages), "code": code,
           "files": {k: str(v) for k, v in (files or {}).items()}}
    with tempfile.TemporaryDirectory() as tmp:
        runner = Path(tmp) / "run.js"
        runner.write_text(_RUNNER)
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        res = subprocess.run(["node", str(runner), str(Path(tmp) / "job.json")],
                             capture_output=True, text=True, timeout=timeout)
    marker = "@@FORGE-RESULT@@"
    if res.returncode != 0 or marker not in res.stdout:
        raise PyodideRunError((res.stderr or res.stdout).strip()[-3000:] or "no output")
    data = json.loads(res.stdout.rsplit(marker, 1)[1].strip().splitlines()[0])
    return NodeRun(**data)

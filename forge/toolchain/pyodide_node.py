"""Run Python in the real Pyodide runtime (npm pyodide under the host's node): the one
runner behind every "does it load in the target" check — the build root's output
(`toolchain`), a channel's Pyodide view (`forge pyodide check`) and the tests.

loadPyodide (with Pyodide's own lock, or a view's lock and package files), loadPackage,
files copied into Pyodide's FS, then the code with top-level await (micropip works)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ToolchainError
from .paths import default_cache_dir
from .pyodide_dist import LOCK_FILE, npm_install_pyodide
from . import target

_RUNNER = r"""
const fs = require("fs");
const path = require("path");
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { loadPyodide } = require(path.join(job.pkg, "pyodide.js"));
const messages = [];
(async () => {
  const t0 = performance.now();
  const opts = { indexURL: job.index_url, stdout: (s) => messages.push(s), stderr: (s) => messages.push(s) };
  if (job.package_base_url) opts.packageBaseUrl = job.package_base_url;
  if (job.lock_contents) opts.lockFileContents = job.lock_contents;
  else if (job.lock_url) opts.lockFileURL = job.lock_url;
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
_MARKER = "@@FORGE-RESULT@@"


@dataclass
class NodeRun:
    """The value of the code's last expression (str) and where the time went."""

    result: str
    load_ms: float
    packages_ms: float
    run_ms: float
    loaded: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


class PyodideRunError(ToolchainError):
    """Pyodide under node failed; `detail` holds the JS/Python error text (its tail)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


def run_in_pyodide(code: str = "None", files: Mapping[str, Path] | None = None, *,
                   view_dir: Path | None = None, packages: Sequence[str] = (),
                   lock_contents: str | None = None, index_from_view: bool = False,
                   cache_dir: Path | None = None, version: str | None = None,
                   timeout: float = 300) -> NodeRun:
    """Run `code` in Pyodide, with `files` (path in Pyodide's FS -> host file) copied in.

    With `view_dir` (a channel's Pyodide view) the view's lock is used and package files come
    from the view only (packageBaseUrl is the view: no CDN fallback); `index_from_view` also
    loads the interpreter from the view's runtime files (proves the view is self-contained).
    Without it, Pyodide's own lock and files. `.result` is str() of the last expression.
    """
    version = version or target.PYODIDE_VERSION
    pkg = npm_install_pyodide((cache_dir or default_cache_dir()) / f"node-pyodide-{version}", version)
    view = Path(view_dir).resolve() if view_dir is not None else None
    job = {"pkg": str(pkg), "index_url": str(view if view and index_from_view else pkg) + "/",
           "package_base_url": str(view) + "/" if view else None,
           "lock_url": str(view / LOCK_FILE) if view else None,
           "lock_contents": lock_contents, "packages": list(packages), "code": code,
           "files": {k: str(v) for k, v in (files or {}).items()}}
    with tempfile.TemporaryDirectory() as tmp:
        runner = Path(tmp) / "run.js"
        runner.write_text(_RUNNER)
        (Path(tmp) / "job.json").write_text(json.dumps(job))
        res = subprocess.run(["node", str(runner), str(Path(tmp) / "job.json")],
                             capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0 or _MARKER not in res.stdout:
        detail = (res.stderr or res.stdout).strip()[-3000:] or "no output"
        errors = [ln for ln in detail.splitlines() if re.match(r"[\w.]*(Error|Exception)\b.*: ", ln)
                  and "Traceback" not in ln]
        what = (errors or detail.splitlines() or ["no output"])[-1].strip()
        raise PyodideRunError(f"running code in Pyodide {version} under node failed ({what}); "
                              "check the packages were built for this ABI and node is >= 18", detail)
    return NodeRun(**json.loads(res.stdout.rsplit(_MARKER, 1)[1].strip().splitlines()[0]))

"""Run Python code in the real Pyodide runtime (npm pyodide under the host's node),
so we can prove that what the build root makes loads in the target."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import ToolchainError
from .paths import default_cache_dir
from .pyodide_dist import npm_install_pyodide
from .target import PYODIDE_VERSION

_RUNNER = r"""
const fs = require("fs");
const path = require("path");
const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { loadPyodide } = require(path.join(job.pkg, "pyodide.js"));
(async () => {
  const py = await loadPyodide({ indexURL: job.pkg + "/" });
  for (const [dest, src] of Object.entries(job.files)) {
    py.FS.mkdirTree(path.dirname(dest));
    py.FS.writeFile(dest, fs.readFileSync(src));
  }
  const result = py.runPython(job.code);
  process.stdout.write("\n@@FORGE-RESULT@@" + String(result) + "\n");
})().catch((e) => { console.error(String(e)); process.exit(1); });
"""


def run_in_pyodide(code: str, files: Mapping[str, Path] | None = None,
                   cache_dir: Path | None = None, version: str = PYODIDE_VERSION,
                   timeout: float = 300) -> str:
    """Run `code` in Pyodide with `files` (path in Pyodide's FS -> host file) copied in.

    Returns str() of the value of the code's last expression.
    """
    prefix = (cache_dir or default_cache_dir()) / f"node-pyodide-{version}"
    pkg = npm_install_pyodide(prefix, version)
    with tempfile.TemporaryDirectory() as tmp:
        runner = Path(tmp) / "run.js"
        runner.write_text(_RUNNER)
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"pkg": str(pkg), "code": code,
                                   "files": {k: str(v) for k, v in (files or {}).items()}}))
        res = subprocess.run(["node", str(runner), str(job)], capture_output=True, text=True, timeout=timeout)
    marker = "@@FORGE-RESULT@@"
    if res.returncode != 0 or marker not in res.stdout:
        detail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ToolchainError(f"Running code in Pyodide {version} under node failed ({detail[0]}); "
                             "check the module was built for this ABI and node is >= 18.")
    return res.stdout.rsplit(marker, 1)[1].rstrip("\n")

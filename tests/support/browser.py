"""Run a notebook of a JupyterLite site in headless Chromium (driver.cjs, npm playwright-core
driving Debian's /usr/bin/chromium) and report the output, timings and every request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from forge.errors import ForgeError
from tests.support.testlib import REPO

DRIVER = Path(__file__).with_name("driver.cjs")
CHROMIUM = "/usr/bin/chromium"


@dataclass
class BrowserRun:
    """What the browser saw."""

    ok: bool
    output: str
    error: str | None
    timings: dict[str, float]
    requests: list[dict]
    offsite: list[str]
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None
    attempts: int = 0  # Shift+Enter presses until the cell started
    images: list[dict] = field(default_factory=list)  # <img> in the cell's output: type, width, height, bytes
    marks: list[dict] = field(default_factory=list)  # the kernel worker's `forge-lite: <step>` lines: step, t (ms)

    @property
    def bytes(self) -> int:
        return sum(r.get("bytes") or 0 for r in self.requests)

    def hosts(self) -> set[str]:
        return {urlparse(r["url"]).hostname or "" for r in self.requests
                if not r["url"].startswith(("data:", "blob:"))}

    def failed(self) -> list[dict]:
        return [r for r in self.requests if r.get("failed") or (r.get("status") or 0) >= 400]


def node_modules() -> Path:
    """Where scripts/setup-lite.sh put npm playwright-core: the checkout's node_modules/."""
    return REPO / "node_modules"


def check_browser() -> str | None:
    """Why the browser harness cannot run here (None: it can)."""
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} is missing (bash scripts/setup-lite.sh)"
    if not (node_modules() / "playwright-core").is_dir():
        return f"npm playwright-core is not in {node_modules()} (bash scripts/setup-lite.sh)"
    if not shutil.which("node"):
        return "node is not on PATH"
    return None


def notebook_json(code: str) -> dict:
    """A one-cell notebook that opens with the Pyodide kernel without asking."""
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "forge-lite-check", "metadata": {},
                   "outputs": [], "source": code}],
        "metadata": {"kernelspec": {"display_name": "Python (Pyodide)", "language": "python", "name": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def run_notebook(url: str, expect: str, *, screenshot: Path | None = None, timeout: float = 240,
                 allowed_hosts: tuple[str, ...] = ("127.0.0.1",)) -> BrowserRun:
    """Open `url` (a notebook page), run its first cell, wait until its output holds `expect`."""
    why = check_browser()
    if why:
        raise ForgeError(f"cannot drive Chromium: {why}")
    with tempfile.TemporaryDirectory(prefix="forge-chromium-") as profile:
        opts = {"url": url, "expect": expect, "timeoutMs": int(timeout * 1000), "executablePath": CHROMIUM,
                "userDataDir": profile, "allowedHosts": list(allowed_hosts),
                "screenshot": str(screenshot) if screenshot else None}
        env = {**os.environ, "NODE_PATH": str(node_modules())}
        proc = subprocess.run(["node", str(DRIVER), json.dumps(opts)], capture_output=True, text=True,
                              env=env, timeout=timeout + 60, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise ForgeError(f"the Chromium driver printed no result (exit {proc.returncode}): "
                         f"{(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
    data = json.loads(lines[-1])
    return BrowserRun(ok=bool(data.get("ok")), output=data.get("output", ""), error=data.get("error"),
                      timings=data.get("timings", {}), requests=data.get("requests", []),
                      offsite=data.get("offsite", []), console=data.get("console", []),
                      page_errors=data.get("pageErrors", []), attempts=int(data.get("attempts") or 0),
                      images=data.get("images", []), marks=data.get("marks", []),
                      screenshot=Path(data["screenshot"]) if data.get("screenshot") else None)

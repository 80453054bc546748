"""Open a static page in headless Chromium (tests/page_driver.cjs, the same playwright-core and
Debian chromium the JupyterLite tests drive through tests.support.browser), wait for an element's
text, keep a screenshot, and return what the page showed and every request it made."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.browser import CHROMIUM, check_browser, node_modules

DRIVER = Path(__file__).with_name("page_driver.cjs")


@dataclass
class PageRun:
    ok: bool
    text: str
    error: str | None
    requests: list[dict] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def open_page(url: str, selector: str, expect: str, *, screenshot: Path | None = None, timeout: float = 180,
              full_page: bool = False) -> PageRun:
    """Load `url`, wait until `selector`'s text matches the regular expression `expect`."""
    why = check_browser()
    if why:
        raise RuntimeError(f"the Chromium harness is not set up: {why}")
    with tempfile.TemporaryDirectory(prefix="forge-page-") as profile:
        opts = {"url": url, "selector": selector, "expect": expect, "timeoutMs": int(timeout * 1000),
                "executablePath": CHROMIUM, "userDataDir": profile, "fullPage": full_page,
                "screenshot": str(screenshot) if screenshot else None}
        proc = subprocess.run(["node", str(DRIVER), json.dumps(opts)], capture_output=True, text=True,
                              env={**os.environ, "NODE_PATH": str(node_modules())}, timeout=timeout + 60, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"the page driver printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    data = json.loads(lines[-1])
    return PageRun(ok=bool(data.get("ok")), text=data.get("text", ""), error=data.get("error"),
                   requests=data.get("requests", []), offsite=data.get("offsite", []),
                   console=data.get("console", []),
                   screenshot=Path(data["screenshot"]) if data.get("screenshot") else None)

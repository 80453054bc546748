"""The site in a real headless Chromium (npm playwright-core driving /usr/bin/chromium),
served on 127.0.0.1: open a notebook, run a cell that imports a channel package (a compiled
one when the channel has one) and prints a computed value; every request the page, its
workers and the service worker make is recorded, and any that leaves 127.0.0.1 fails."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from forge.config import repo_root
from forge.lite import SiteReport
from tests.support.browser import run_notebook
from forge.serve import serving


ARTIFACT = repo_root() / ".forge" / "artifacts" / "lite.png"


def test_notebook_runs_offline_from_the_channel(site: SiteReport, probe, compiled_probe: bool,
                                                browser_ready: None, tmp_path: Path) -> None:
    if compiled_probe:  # markupsafe is in the channel: its C speedups must run in the browser
        assert probe.compiled and "markupsafe" in probe.packages, probe
        assert "forge-lite: &lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt; True" in probe.expects
    shot = tmp_path / "lite.png"
    with serving(site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=check.ipynb", probe.expect, screenshot=shot,
                           timeout=240)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    if shot.is_file():
        shutil.copyfile(shot, ARTIFACT)
    ARTIFACT.with_name("lite-run.json").write_text(json.dumps(dataclasses.asdict(run), default=str, indent=1))
    assert run.ok, (run.error, run.output, run.attempts, run.console[-30:], run.page_errors)
    for line in probe.expects or (probe.expect,):
        assert line in run.output, (line, run.output)
    assert run.offsite == [], run.offsite
    assert run.hosts() == {"127.0.0.1"}, run.hosts()
    fetched = {r["url"].split("?")[0].rsplit("/", 1)[-1] for r in run.requests if r.get("status") == 200}
    # the worker's requests were seen (so an off-site one would have been): the runtime...
    assert {"pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"} <= fetched
    # ...the kernel's start-up packages from the channel's view, and the probed package
    lock_files = {r["url"].split("?")[0] for r in run.requests if "/static/pyodide/" in r["url"]}
    for wheel in ("micropip-", "ipython-", "comm-", "jedi-", "traitlets-"):
        assert any(u.rsplit("/", 1)[-1].startswith(wheel) for u in lock_files), wheel
    for name in probe.packages or (probe.package,):
        assert any(name.replace("-", "_") in u.rsplit("/", 1)[-1] for u in lock_files), (name, lock_files)
    assert shot.is_file() and shot.stat().st_size > 10_000
    print(f"probe {probe.package} {probe.packages} (compiled: {probe.compiled}); first cell {run.timings.get('first_cell_ms')} ms; "
          f"{run.bytes / 1e6:.1f} MB in {len(run.requests)} requests; {run.attempts} Shift+Enter; screenshot {ARTIFACT}")


def test_an_offsite_request_is_caught(site: SiteReport, offsite_url: str, browser_ready: None) -> None:
    """The recorder is not blind: a cell that fetches another host shows up in `offsite`."""
    with serving(site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=offsite.ipynb", "forge-offsite:", timeout=240)
    assert run.ok, (run.error, run.output)
    assert "forge-offsite: fetched" not in run.output
    assert offsite_url in run.offsite, run.offsite

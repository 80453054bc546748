"""The typer commands, called in-process (the view and serve are tested elsewhere)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forge.pyodide_view.cli import app


def test_view_command_reports_json(channel_dir: Path, tmp_path: Path) -> None:
    ch = tmp_path / "ch"
    shutil.copytree(channel_dir, ch, ignore=shutil.ignore_patterns("pyodide"))
    res = CliRunner().invoke(app, ["view", "--channel", str(ch), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert "pytest" in report["packages"] and (ch / "pyodide" / "pyodide-lock.json").is_file()


@pytest.mark.skipif(not shutil.which("node"), reason="node not installed")
def test_check_command_imports_every_package(view_dir: Path) -> None:
    res = CliRunner().invoke(app, ["check", "--channel", str(view_dir.parent), "pytest", "attrs"])
    assert res.exit_code == 0, res.output
    assert "modules imported" in res.stdout

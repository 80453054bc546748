"""pyodide-lock 0.2.1 (in the build root) accepts the view's lock and catches a bad one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from forge.pyodide_view import validate_lock

pytestmark = [pytest.mark.buildroot,
              pytest.mark.skipif(os.geteuid() != 0, reason="the build root needs root")]


def test_view_lock_validates(view_dir: Path) -> None:
    result = validate_lock(view_dir)
    assert result["problems"] == []
    assert result["pyodide_lock"] == "0.2.1"
    assert result["info"] == {"platform": "emscripten_5_0_3", "python": "3.14.2", "arch": "wasm32",
                              "abi_version": "2026_0"}


def test_a_broken_lock_is_reported(view_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "view"
    shutil.copytree(view_dir, bad)
    lock = json.loads((bad / "pyodide-lock.json").read_text())
    lock["packages"]["six"]["sha256"] = "0" * 64
    lock["packages"]["pytest"]["depends"].append("not-here")
    lock["packages"]["attrs"]["file_name"] = "attrs-1.0-py3-none-any.whl"
    (bad / "pyodide-lock.json").write_text(json.dumps(lock))
    problems = "\n".join(validate_lock(bad)["problems"])
    assert "six: sha256" in problems and "not-here" in problems and "attrs" in problems

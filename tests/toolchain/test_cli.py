"""`forge toolchain` sub-app: ensure/info/run against the real root."""

import json

import pytest
from typer.testing import CliRunner

from forge.toolchain.cli import app

pytestmark = pytest.mark.buildroot
runner = CliRunner()


def test_ensure_json(build_root) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["ensure", "--json", "--root", str(build_root.root_dir)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["emscripten"].startswith("6.")


def test_no_subcommand_ensures(build_root) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["--root", str(build_root.root_dir)])
    assert res.exit_code == 0 and "emscripten" in res.stdout
    res = runner.invoke(app, ["--root", str(build_root.root_dir), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["clang"].startswith("21.")


def test_info(build_root) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["info", "--root", str(build_root.root_dir)])
    assert res.exit_code == 0 and "marker: ok" in res.stdout


def test_run_exit_code_passes_through(build_root, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["run", "--root", str(build_root.root_dir), "--",
                              "sh", "-c", "touch made-inside && exit 7"])
    assert res.exit_code == 7
    assert (tmp_path / "made-inside").exists()


def test_info_without_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["info", "--root", str(tmp_path / "none")])
    assert res.exit_code == 1 and "forge toolchain ensure" in res.output


def test_xbuildenv_prints_exports(build_root) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["xbuildenv", "--root", str(build_root.root_dir)])
    assert res.exit_code == 0, res.output
    assert "export PYODIDE_ROOT=/opt/forge/xbuildenv/" in res.stdout
    assert "export SKIP_EMSCRIPTEN_VERSION_CHECK=1" in res.stdout

"""forge.helpers.pkgconfig: the .pc file a library recipe installs, read back by the real
pkg-config (pkgconf, installed by scripts/setup.sh) the way meson and setuptools probe it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from forge.helpers.pkgconfig import write_pc
from forge.helpers.pyodide_build import main as pyodide_build_main

pytestmark = pytest.mark.unit


def pkg_config(prefix: Path, *args: str) -> str:
    env = {**os.environ, "PKG_CONFIG_LIBDIR": str(prefix / "lib" / "pkgconfig"), "PKG_CONFIG_PATH": ""}
    return subprocess.run(["pkg-config", *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


def test_written_module_is_found_with_its_version_libs_and_cflags(tmp_path: Path) -> None:
    path = write_pc(tmp_path, "yaml-0.1", "0.2.5", "LibYAML", "-L${libdir} -lyaml")
    assert path == tmp_path / "lib" / "pkgconfig" / "yaml-0.1.pc"
    assert pkg_config(tmp_path, "--modversion", "yaml-0.1") == "0.2.5"
    assert pkg_config(tmp_path, "--libs", "yaml-0.1") == f"-L{tmp_path}/lib -lyaml"
    assert pkg_config(tmp_path, "--cflags", "yaml-0.1") == f"-I{tmp_path}/include"


def test_requires_and_cflags_are_kept(tmp_path: Path) -> None:
    write_pc(tmp_path, "zlib", "1.3.2", "zlib", "-L${libdir} -lz")
    write_pc(tmp_path, "libpng16", "1.6.50", "PNG", "-L${libdir} -lpng16", cflags="-I${includedir}/libpng16",
             requires="zlib")
    assert pkg_config(tmp_path, "--cflags", "libpng16") == f"-I{tmp_path}/include/libpng16 -I{tmp_path}/include"
    assert pkg_config(tmp_path, "--libs", "libpng16") == f"-L{tmp_path}/lib -lpng16 -lz"
    write_pc(tmp_path, "libpng", "1.6.50", "PNG", "-L${libdir} -lpng16", requires_private="zlib")
    assert pkg_config(tmp_path, "--libs", "libpng") == f"-L{tmp_path}/lib -lpng16"
    static = pkg_config(tmp_path, "--libs", "--static", "libpng").split()
    assert static.index("-lpng16") < static.index("-lz")  # zlib only when linking statically


def test_cli_writes_into_prefix_with_pkg_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFIX", str(tmp_path))
    monkeypatch.setenv("PKG_VERSION", "1.9.4")
    assert pyodide_build_main(["--pkgconfig", "liblz4", "--libs", "-L${libdir} -llz4"]) == 0
    assert pkg_config(tmp_path, "--modversion", "liblz4") == "1.9.4"


def test_a_name_pkg_config_cannot_look_up_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFIX", str(tmp_path))
    assert pyodide_build_main(["--pkgconfig", "bad name", "--version", "1", "--libs=-lx"]) == 2
    assert not (tmp_path / "lib").exists()

"""forge/helpers/cross_deps.py without a build: hybrid wheels, pins, the per-job wheel store."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from forge.helpers import cross_deps


def _native_wheel(d: Path, version: str = "2.5.5") -> Path:
    whl = d / f"numpy-{version}-cp314-cp314-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("numpy/__init__.py", "def get_include(): pass\n")
        zf.writestr("numpy/_core/include/numpy/_numpyconfig.h", "#define NPY_SIZEOF_LONG 8\n")
        zf.writestr("numpy/_core/_multiarray_umath.cpython-314-x86_64-linux-gnu.so", b"\x7fELF")
        zf.writestr(f"numpy-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: cp314-cp314-manylinux_2_28_x86_64\n")
        zf.writestr(f"numpy-{version}.dist-info/METADATA", f"Name: numpy\nVersion: {version}\n")
        zf.writestr(f"numpy-{version}.dist-info/RECORD", "")
    return whl


def _host_prefix(prefix: Path, version: str = "2.5.5") -> Path:
    sp = prefix / "lib/python3.14/site-packages"
    (sp / "numpy/_core/include/numpy").mkdir(parents=True)
    (sp / "numpy/_core/include/numpy/_numpyconfig.h").write_text("#define NPY_SIZEOF_LONG 4\n")
    (sp / "numpy/_core/lib").mkdir(parents=True)
    (sp / "numpy/_core/lib/libnpymath.a").write_bytes(b"!<arch>\nwasm")
    (sp / "numpy/__init__.py").write_text("# wasm numpy\n")
    (sp / f"numpy-{version}.dist-info").mkdir()
    return sp


def test_hybrid_wheel_takes_the_hosts_c_api(tmp_path: Path) -> None:
    wh = tmp_path / "wheelhouse"
    wh.mkdir()
    _native_wheel(wh)
    _host_prefix(tmp_path / "prefix")
    made, pins = cross_deps.cross_wheels(tmp_path / "prefix", "3.14", str(wh), tmp_path / "out")
    assert pins == ["numpy==2.5.5"]
    hybrid = Path(made[0])
    assert hybrid.name.startswith("numpy-2.5.5-1-cp314-cp314-")  # build tag 1: pip prefers it
    with zipfile.ZipFile(hybrid) as zf:
        assert zf.read("numpy/_core/include/numpy/_numpyconfig.h") == b"#define NPY_SIZEOF_LONG 4\n"
        assert zf.read("numpy/_core/lib/libnpymath.a").startswith(b"!<arch>")  # added from the host
        assert zf.read("numpy/__init__.py") == b"def get_include(): pass\n"  # Python stays native
        assert "Build: 1" in zf.read("numpy-2.5.5.dist-info/WHEEL").decode()
        rows = list(csv.reader(io.StringIO(zf.read("numpy-2.5.5.dist-info/RECORD").decode())))
        assert {r[0] for r in rows} == set(zf.namelist())


def test_no_native_wheel_means_not_a_build_requirement(tmp_path: Path) -> None:
    wh = tmp_path / "wheelhouse"
    wh.mkdir()
    _host_prefix(tmp_path / "prefix")
    assert cross_deps.cross_wheels(tmp_path / "prefix", "3.14", str(wh), tmp_path / "out") == ([], [])


def test_another_native_version_is_a_clear_error(tmp_path: Path) -> None:
    wh = tmp_path / "wheelhouse"
    wh.mkdir()
    _native_wheel(wh, "2.6.0")
    _host_prefix(tmp_path / "prefix")
    with pytest.raises(RuntimeError, match=r"host numpy is 2\.5\.5 but the wheelhouse has only numpy-2\.6\.0"):
        cross_deps.cross_wheels(tmp_path / "prefix", "3.14", str(wh), tmp_path / "out")


def test_wheel_store_is_per_job_and_keyed_by_recipe_and_args(tmp_path: Path) -> None:
    src = tmp_path / "output/bld/rattler-build_numpy_123/work"
    src.mkdir(parents=True)
    store = cross_deps.reuse_store(src)
    assert store == tmp_path / "output/forge-wheels"
    assert cross_deps.reuse_store(tmp_path) is None  # not under rattler-build: no reuse
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    (recipe / "recipe.yaml").write_text("a")
    key = cross_deps.reuse_key(str(recipe), ["-Csetup-args=-Dallow-noblas=true"])
    assert cross_deps.reused_wheel(store, key) is None
    whl = tmp_path / "x-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    whl.write_bytes(b"PK")
    cross_deps.keep_wheel(store, key, whl)
    assert cross_deps.reused_wheel(store, key).name == whl.name
    assert cross_deps.reuse_key(str(recipe), ["other"]) != key
    (recipe / "recipe.yaml").write_text("b")
    assert cross_deps.reuse_key(str(recipe), ["-Csetup-args=-Dallow-noblas=true"]) != key

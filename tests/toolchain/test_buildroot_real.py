"""Integration: the real sid build root (warm: a few seconds; cold: about a minute or more)."""

import json
import time
from pathlib import Path

import pytest

from forge.toolchain import BuildRoot, ToolchainLock
from forge.toolchain.buildroot import MARKER
from forge.toolchain.target import CFLAGS, LDFLAGS

pytestmark = pytest.mark.buildroot


def test_versions(build_root: BuildRoot) -> None:
    lock = ToolchainLock.read(build_root.lock_path)
    assert lock.emscripten.split(".")[0] == "6"
    assert lock.clang.startswith("21.")
    assert lock.python.startswith("3.14.")
    assert int(lock.node.lstrip("v").split(".")[0]) >= 20
    assert lock.pyodide_build.startswith("0.39.")
    assert lock.pyodide_lock == "0.2.1"
    assert lock.debian_suite == "sid" and lock.debian_date
    assert "emscripten" in lock.debian_packages


def test_ensure_is_idempotent_and_fast(build_root: BuildRoot) -> None:
    before = ToolchainLock.read(build_root.lock_path)
    t = time.monotonic()
    again = build_root.ensure()
    assert time.monotonic() - t < 5
    assert again == before


def test_corrupt_marker_is_detected(build_root: BuildRoot, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = build_root.root_dir / MARKER
    saved = marker.read_text()
    calls: list[str] = []

    def fake_create(progress=None):  # type: ignore[no-untyped-def]
        calls.append("create")
        marker.write_text(saved)  # "rebuild" = restore, to keep the test cheap

    monkeypatch.setattr(build_root, "create", fake_create)
    try:
        marker.write_text(json.dumps({"recipe": "stale"}))
        assert not build_root.is_marked()
        build_root.ensure()
        assert calls == ["create"]
    finally:
        marker.write_text(saved)
    assert build_root.is_marked()


def test_side_module_builds_in_bound_host_dir(build_root: BuildRoot, tmp_path: Path) -> None:
    (tmp_path / "m.c").write_text("int forge_twice(int x) { return 2 * x; }\n")
    build_root.run(["sh", "-c", f"emcc {' '.join(CFLAGS)} -c m.c -o m.o && emcc {' '.join(LDFLAGS)} m.o -o m.so"],
                   cwd=tmp_path, binds=[tmp_path], capture=True)
    assert (tmp_path / "m.so").read_bytes()[:4] == b"\0asm"


def test_failing_command_raises(build_root: BuildRoot) -> None:
    from forge.toolchain import ToolchainError
    with pytest.raises(ToolchainError, match="exited 3 inside the build root"):
        build_root.run(["sh", "-c", "exit 3"], capture=True)
    assert build_root.run(["true"]).returncode == 0


def test_no_mounts_leak(build_root: BuildRoot) -> None:
    from forge.toolchain.chroot import mounts_under
    build_root.run(["true"], binds=[Path.cwd()])
    assert mounts_under(build_root.root_dir) == []

"""ensure()'s decisions (verify / rebuild) on cheap fake roots; creation is stubbed out."""

import json
import os
from pathlib import Path

import pytest

from forge.toolchain.buildroot import MARKER, BuildRoot, recipe_hash
from forge.toolchain.errors import ToolchainError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")


def _stub_create(br: BuildRoot, calls: list[str]) -> None:
    def create(progress=None):  # type: ignore[no-untyped-def]
        calls.append("create")
    br.create = create  # type: ignore[method-assign]


def test_verify_of_empty_dir_fails_clearly(tmp_path: Path) -> None:
    br = BuildRoot(tmp_path / "root", cache_dir=tmp_path / "cache")
    (tmp_path / "root").mkdir()
    with pytest.raises(ToolchainError) as ei:
        br.verify()
    assert str(br.log_path) in str(ei.value) and "--rebuild" in str(ei.value)


@pytest.mark.parametrize("marker", [None, "garbage", {"recipe": recipe_hash()}])
def test_unmarked_or_broken_root_is_rebuilt(tmp_path: Path, marker: object) -> None:
    root = tmp_path / "root"
    root.mkdir()
    if marker is not None:
        (root / MARKER).write_text(marker if isinstance(marker, str) else json.dumps(marker))
    br = BuildRoot(root, cache_dir=tmp_path / "cache")
    calls: list[str] = []
    msgs: list[str] = []
    _stub_create(br, calls)
    with pytest.raises(ToolchainError):  # the stub builds nothing, so the final verify fails
        br.ensure(progress=msgs.append)
    assert calls == ["create"]
    assert any("rebuilding" in m for m in msgs)


def test_missing_debootstrap_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import forge.toolchain.buildroot as mod
    monkeypatch.setattr(mod.shutil, "which", lambda tool: None if tool == "debootstrap" else "/usr/bin/" + tool)
    with pytest.raises(ToolchainError, match=r"`debootstrap` is not on PATH.*apt-get install -y debootstrap"):
        BuildRoot(tmp_path / "root", cache_dir=tmp_path / "cache").create()
    assert not (tmp_path / "root").exists()

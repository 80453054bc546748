"""Pure pieces of the build root: probe parsing, chroot argv, errors, the lock."""

import json
import subprocess
from pathlib import Path

import pytest

from forge.toolchain.buildroot import BuildRoot, parse_probe, recipe_hash, release_date
from forge.toolchain.chroot import Bind, chroot_argv, mounts_under
from forge.toolchain.errors import ToolchainError
from forge.toolchain.lock import ToolchainLock
from forge.toolchain.proc import run_logged

PROBE = """\
emscripten=emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 6.0.5 ()
clang=Debian clang version 21.1.8 (14)
node=v24.22.2
python=3.14.10
pyodide_build=0.39.2
pyodide_lock=0.2.1
deb:emscripten=6.0.5+dfsg-2
"""


def test_parse_probe() -> None:
    f = parse_probe(PROBE)
    assert (f["emscripten"], f["clang"], f["node"], f["python"]) == ("6.0.5", "21.1.8", "v24.22.2", "3.14.10")
    assert f["debian_packages"] == {"emscripten": "6.0.5+dfsg-2"}


def test_parse_probe_rejects_missing_tool() -> None:
    with pytest.raises(ValueError):
        parse_probe("node=v24\n")


def test_lock_roundtrip(tmp_path: Path) -> None:
    f = parse_probe(PROBE)
    lock = ToolchainLock(**f, debian_suite="sid", debian_date="Fri, 30 Oct 2026")  # type: ignore[arg-type]
    p = tmp_path / "l.json"
    lock.write(p)
    assert ToolchainLock.read(p) == lock
    assert json.loads(p.read_text())["target"]["platform_tag"] == "pyemscripten_2026_0_wasm32"


def test_chroot_argv_quotes_and_binds(tmp_path: Path) -> None:
    argv = chroot_argv(Path("/r"), ["echo", "a b"], env={"X": "1 2"}, cwd="/w",
                       binds=[Bind(tmp_path), Bind(tmp_path, "/src", readonly=True)])
    assert argv[:4] == ["unshare", "--mount", "--propagation", "private"]
    script = argv[-1]
    assert f"mount --bind {tmp_path} /r{tmp_path}" in script
    assert "mount -o remount,bind,ro /r/src" in script
    assert "'X=1 2'" in script and "'a b'" in script


def test_mounts_under(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text("36 35 98:0 / /mnt/root/proc rw - proc proc rw\n"
                    "37 35 98:0 / /mnt/rootx rw - ext4 x rw\n")
    assert mounts_under(Path("/mnt/root"), info) == ["/mnt/root/proc"]


def test_run_logged_error_names_log(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    with pytest.raises(ToolchainError) as ei:
        run_logged(["sh", "-c", "echo boom; exit 3"], log_path=log, what="the boom step", hint="do the fix")
    msg = str(ei.value)
    assert msg.startswith("the boom step failed") and str(log) in msg and msg.endswith("do the fix.")
    assert "boom" in log.read_text()


def test_run_logged_capture(tmp_path: Path) -> None:
    assert run_logged(["echo", "hi"], log_path=tmp_path / "l", what="w", hint="h", capture=True) == "hi\n"


def test_unmarked_root_is_not_complete(tmp_path: Path) -> None:
    br = BuildRoot(tmp_path / "root", cache_dir=tmp_path / "cache")
    assert not br.is_marked()
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / ".forge-buildroot.json").write_text('{"recipe": "other"}')
    assert not br.is_marked()
    (tmp_path / "root" / ".forge-buildroot.json").write_text(json.dumps({"recipe": recipe_hash()}))
    assert br.is_marked()
    assert br.log_path == tmp_path / "root.log" and br.lock_path == tmp_path / "root.lock.json"


def test_release_date(tmp_path: Path) -> None:
    d = tmp_path / "var/lib/apt/lists"
    d.mkdir(parents=True)
    (d / "m_debian_dists_sid_InRelease").write_text("Origin: Debian\nDate: Fri, 30 Oct 2026 08:08:01 UTC\n")
    assert release_date(tmp_path) == "Fri, 30 Oct 2026 08:08:01 UTC"


def test_unshare_available() -> None:
    """The chroot helper depends on util-linux's unshare (present on Debian hosts)."""
    assert subprocess.run(["unshare", "--version"], capture_output=True).returncode == 0


def test_log_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import forge.toolchain.proc as proc
    monkeypatch.setattr(proc, "MAX_LOG_BYTES", 10)
    log = tmp_path / "x.log"
    log.write_text("x" * 100)
    run_logged(["true"], log_path=log, what="w", hint="h")
    assert (tmp_path / "x.log.1").stat().st_size == 100 and log.stat().st_size < 100

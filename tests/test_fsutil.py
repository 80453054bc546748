"""forge.fsutil: the one flock, atomic write, link-or-copy and leftover sweep (real files,
real processes; no build root, redis, node or network: the unit tier)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from forge.fsutil import (
    file_lock,
    link_or_copy,
    partial_path,
    place_atomic,
    scratch_dir,
    sweep_leftovers,
    try_lock,
    write_atomic,
)


def test_write_atomic_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "data.json"
    write_atomic(target, "old")
    write_atomic(target, b"new bytes", fsync=True)
    assert target.read_bytes() == b"new bytes"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data.json"]


def test_write_atomic_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "data"
    write_atomic(target, "old")
    try:
        write_atomic(target, 42)  # type: ignore[arg-type]  # not writable: the write fails midway
    except TypeError:
        pass
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_link_or_copy_links_and_replaces(tmp_path: Path) -> None:
    src = tmp_path / "a.whl"
    src.write_text("wheel")
    dest = tmp_path / "out" / "a.whl"
    dest.parent.mkdir()
    dest.write_text("stale")
    link_or_copy(src, dest)
    assert dest.read_text() == "wheel"
    assert os.path.samefile(src, dest)  # same filesystem: a hard link, no copy


def test_link_or_copy_copies_across_filesystems(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        src = tmp_path / "src"  # no second filesystem here: a copy is then never needed
        src.write_text("x")
        assert link_or_copy(src, tmp_path / "dst").read_text() == "x"
        return
    src = shm / f"forge-fsutil-{os.getpid()}"
    src.write_text("across")
    try:
        dest = link_or_copy(src, tmp_path / "dest")
        assert dest.read_text() == "across" and not os.path.samefile(src, dest)
    finally:
        src.unlink()


def test_place_atomic_copy_is_independent_of_its_source(tmp_path: Path) -> None:
    src = tmp_path / "pkg.conda"
    src.write_text("v1")
    dest = tmp_path / "channel" / "pkg.conda"
    dest.parent.mkdir()
    seen: list[bool] = []
    place_atomic(src, dest, copy=True, fsync=True, before_rename=lambda: seen.append(dest.exists()))
    assert seen == [False]  # the rename comes last: nothing at dest before it
    src.write_text("v2")
    assert dest.read_text() == "v1"
    assert not partial_path(dest).exists()


def test_sweep_removes_only_dead_writers_leftovers(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    (tmp_path / f".partial-{dead}-x.conda").write_text("dead")
    (tmp_path / ".partial-old.conda").write_text("no pid: an older forge's crash")
    mine = partial_path(tmp_path / "y.conda")
    mine.write_text("live")
    scratch = scratch_dir(tmp_path, "work")
    (tmp_path / "keep.conda").write_text("published")
    removed = sorted(p.name for p in sweep_leftovers(tmp_path))
    assert removed == [f".partial-{dead}-x.conda", ".partial-old.conda"]
    assert mine.exists() and scratch.is_dir() and (tmp_path / "keep.conda").exists()


def test_file_lock_excludes_another_process(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "channel.lock"
    ready = tmp_path / "ready"
    child = ("import sys, time; from pathlib import Path; from forge.fsutil import file_lock\n"
             "Path(sys.argv[2]).touch()\nwith file_lock(Path(sys.argv[1])):\n    print(time.time())")
    with file_lock(lock):
        proc = subprocess.Popen([sys.executable, "-c", child, str(lock), str(ready)], stdout=subprocess.PIPE,
                                text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert proc.poll() is None  # still waiting for the lock
        released = time.time()
    acquired = float(proc.communicate(timeout=30)[0])
    assert acquired >= released


def test_try_lock_is_exclusive_and_released_by_close(tmp_path: Path) -> None:
    path = tmp_path / "recipe.lock"
    fd = try_lock(path)
    assert fd is not None
    other: list[int | None] = []
    t = threading.Thread(target=lambda: other.append(try_lock(path)))  # a second open file: refused
    t.start()
    t.join()
    assert other == [None]
    os.close(fd)
    again = try_lock(path)
    assert again is not None
    os.close(again)

"""The forge's file primitives, one place each: an flock (blocking, or a non-blocking try),
an atomic write (a temporary name in the same directory, then os.replace), link-or-copy (a hard
link, a copy across filesystems), and the pid-tagged temporary names a sweep may remove once
their writer is gone. The channel, caches, the Pyodide view, the lite site, build claims,
the toolchain and the farm's blob cache all use these, so a reader never sees half a file and
a crash never leaves one listed."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_PREFIX = ".partial-"
#: A writer's temporary file or folder, with the writer's pid (none in older forges' names).
_LEFTOVER = re.compile(r"^\.(?:partial|index|work)-(?:(\d+)-)?")


def partial_path(dest: Path) -> Path:
    """The name a writer gives `dest` until it renames it into place (carries the writer's pid)."""
    return dest.with_name(f"{TMP_PREFIX}{os.getpid()}-{dest.name}")


def scratch_dir(parent: Path, kind: str) -> Path:
    """A private temporary folder `.<kind>-<pid>-*` in `parent` (kind: index or work)."""
    return Path(tempfile.mkdtemp(prefix=f".{kind}-{os.getpid()}-", dir=parent))


def writer_gone(name: str) -> bool:
    """True when `name` is a temporary name whose writer process no longer runs."""
    m = _LEFTOVER.match(name)
    if not m:
        return False
    if m.group(1) is None:
        return True  # an older forge's name (no pid): only ever left by a crash
    pid = int(m.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def sweep_leftovers(directory: Path) -> list[Path]:
    """Remove the temporary files and folders in `directory` whose writer died; keep live ones.

    A live writer's `.partial-<pid>-*` is never touched, so a sweep by one writer cannot pull a
    file from under another.
    """
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        if writer_gone(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing) for the block; waits for others.

    An flock is shared by threads of one process only through the same open file, so callers
    that re-enter (Channel.lock) count holders themselves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def try_lock(path: Path) -> int | None:
    """A non-blocking exclusive flock on `path`: the descriptor holding it (os.close releases
    it), or None when another holder has it."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def write_atomic(path: Path, data: str | bytes, *, fsync: bool = False) -> Path:
    """Write `data` under a temporary name in `path`'s folder, then rename: readers see the old
    file or the whole new one, never a part. `fsync` makes the content durable first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def link_or_copy(src: Path, dest: Path) -> Path:
    """`dest` becomes a hard link to `src` (a copy when no link can be made, e.g. across
    filesystems); whatever was at `dest` is replaced."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)
    return dest


def place_atomic(src: Path, dest: Path, *, copy: bool = False, fsync: bool = False,
                 before_rename: Callable[[], None] | None = None) -> Path:
    """Put `src`'s content at `dest` through a pid-tagged temporary name and a rename: a hard
    link (a copy when `copy`, or when no link can be made); `fsync` a copy before the rename;
    `before_rename` runs between the two (fault injection)."""
    tmp = partial_path(dest)
    tmp.unlink(missing_ok=True)
    if copy:
        shutil.copyfile(src, tmp)
    else:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
    if fsync:
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    if before_rename is not None:
        before_rename()
    os.replace(tmp, dest)
    return dest


def extract_tar_atomic(tarball: Path, dest: Path) -> Path:
    """Unpack `tarball` into `dest` as a whole: into `<dest>.partial`, then renamed into place,
    so an interrupted unpack never looks finished (tarfile's `data` filter refuses unsafe members)."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tarball) as tf:
        tf.extractall(tmp, filter="data")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest

"""Every build in a sandbox: Linux namespaces around one build job, its scripts and its wasm tests.

A recipe's scripts come by pull request; they must not change what later builds produce, reach
the farm's broker or leave processes behind. So `run_job` forks the (warm) build process and, in
the child, before anything of the build runs:

- **mount namespace**: every mount read-only (the host, the recipes, the channel, the download
  cache, the state), then writable again only the job's work dir and its log file; the build root
  and rattler's package cache are overlays whose writes land in the work dir and vanish with it
  (emcc's cache and the chroot's mount points, packages extracted for this build); a fresh
  /dev/shm.
- **network namespace**: its own loopback and nothing else (the sources and wheels were fetched
  and verified before the build, so a build never needs the network).
- **PID namespace**: the build is PID 1 of its own namespace, so whatever it leaves running is
  killed when it ends; a fresh /proc shows only the build.
- **IPC and UTS namespaces**, and a clean environment: a fixed PATH (the forge's tools, then the
  system's), HOME and TMPDIR in the work dir, only the variables the build itself reads.

Namespaces need CAP_SYS_ADMIN, or an unprivileged user namespace (then the build runs as root of
its own user namespace). `refusal()` says in one sentence why a kernel refuses them; the forge then
builds only with `--no-sandbox` (FORGE_SANDBOX=0), never silently unsandboxed. Which it was goes
into the build's log and the package's test record.

Why fork + unshare(2) and not bwrap: the warm process has rattler-build imported already (a new
process per build costs 130-210 ms), bwrap 0.8 cannot overlay the build root, and each build gets
exactly its own paths (docs/farm.md, "Sandboxing builds").
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ForgeError
from .jobs import BuildJob, BuildOutcome
from .locations import buildroot_dir, download_cache_dir

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 0x20, 0x400, 0x800, 0x1000
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 0x4000, 0x40000, 0x200000, 0x1000000
_MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
                "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
#: mounts left as they are: the kernel's own file systems (a fresh /proc and /dev/shm come on top)
_KERNEL = ("/proc", "/sys", "/dev")
PR_SET_PDEATHSIG = 1
#: the variables a build reads, passed through when set (everything else is dropped; PYTHONPATH
#: too: the build root's python3.14 and the build's own Pythons must not see the host's paths)
PASSED = ("LANG", "TERM", "SOURCE_DATE_EPOCH", "FORGE_WASM_TEST_TIMEOUT", "FORGE_VARIANT_FILE", "FORGE_ROOT",
          "FORGE_HOME")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(OSError):
    """A namespace or mount the kernel refused (errno and the step that failed)."""


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _unshare(flags: int) -> None:
    if os.environ.get("FORGE_FAULT") == "sandbox-refused":  # tests: a kernel that refuses namespaces
        raise SandboxError(errno.EPERM, f"unshare: {os.strerror(errno.EPERM)}")
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def rattler_cache_dir() -> Path:
    """rattler's package cache, as rattler finds it ($RATTLER_CACHE_DIR, else the user cache)."""
    env = os.environ.get("RATTLER_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rattler" / "cache"


@dataclass(frozen=True)
class Plan:
    """The paths and environment of one sandboxed build (all on the machine that builds)."""

    work: Path  # writable: the job's work dir
    log: Path  # writable: the build's log file
    overlays: tuple[Path, ...]  # readable as they are; writes go to the work dir and are dropped
    env: dict[str, str]

    @property
    def scratch(self) -> Path:
        return self.work / ".sandbox"


def plan_for(job: BuildJob) -> Plan:
    """What the job may write and read, and its environment."""
    work = Path(job.work_dir).resolve()
    scratch = work / ".sandbox"
    cache = rattler_cache_dir().resolve()
    overlays = tuple(p for p in (buildroot_dir(), cache) if p.is_dir())
    env = {k: os.environ[k] for k in PASSED if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env.update({
        "PATH": f"{Path(sys.executable).parent}:{SYSTEM_PATH}",
        "HOME": str(scratch / "home"),
        "TMPDIR": str(scratch / "tmp"),
        "RATTLER_CACHE_DIR": str(cache),
        "FORGE_BUILDROOT": str(buildroot_dir()),
        "FORGE_BUILDROOT_LOG": str(scratch / "buildroot.log"),
        "FORGE_CACHE": str(download_cache_dir()),
        "PYTHON_WASM_CACHE": str(scratch / "python-wasm"),
        "PYTHONUNBUFFERED": "1",
    })
    return Plan(work=work, log=Path(job.log_path).resolve(), overlays=overlays, env=env)


def _mount_points() -> list[tuple[str, set[str]]]:
    """(mount point, per-mount options) of this mount namespace, parents before children."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")
        out.append((point, set(fields[5].split(","))))
    return out


def _read_only_everywhere() -> None:
    for point, opts in _mount_points():
        if point.startswith(_KERNEL) or "ro" in opts:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for name in opts & _MOUNT_FLAGS.keys():
            flags |= _MOUNT_FLAGS[name]
        try:
            _mount(None, point, None, flags)
        except SandboxError as exc:
            if exc.errno not in (errno.ENOENT, errno.EACCES):  # a mount point hidden by a later mount
                raise


def _overlay(path: Path, scratch: Path, n: int) -> None:
    shutil.rmtree(scratch / f"overlay-{n}", ignore_errors=True)  # a previous attempt's writes
    upper, work = scratch / f"overlay-{n}" / "upper", scratch / f"overlay-{n}" / "work"
    upper.mkdir(parents=True)
    work.mkdir(parents=True)
    _mount("overlay", str(path), "overlay", 0, f"lowerdir={path},upperdir={upper},workdir={work}")


def _loopback_up() -> None:
    """The namespace's own lo, up (SIOCGIFFLAGS / SIOCSIFFLAGS), for tests that talk to themselves."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, ifreq))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))


def _user_namespace() -> None:
    """Unprivileged: become root of a user namespace of our own (uid and gid map to ours)."""
    uid, gid = os.geteuid(), os.getegid()
    _unshare(CLONE_NEWUSER)
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")


def enter(plan: Plan) -> None:
    """In a fresh child: the namespaces and mounts; the caller forks again to become PID 1."""
    if os.geteuid() != 0:
        _user_namespace()
    _unshare(NAMESPACES)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    scratch = plan.scratch
    for d in (scratch / "home", scratch / "tmp", scratch / "python-wasm"):
        d.mkdir(parents=True, exist_ok=True)
    _read_only_everywhere()
    for path in (plan.work, plan.log):  # writable again: a bind mount of its own, remounted rw
        _mount(str(path), str(path), None, MS_BIND)
        _mount(None, str(path), None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
    for n, path in enumerate(plan.overlays):  # their writes land in the (writable) work dir
        _overlay(path, scratch, n)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    _loopback_up()


def _as_init(plan: Plan) -> None:
    """In the new PID namespace (PID 1): its own /proc, the clean environment."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.environ.clear()
    os.environ.update(plan.env)
    os.chdir(plan.work)


def _die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def run_sandboxed(plan: Plan, fn: Callable[[], bytes]) -> bytes:
    """fn() in the sandbox (a child, then its child as PID 1 of a new PID namespace); its bytes.

    Raises SandboxError when the kernel refuses a step, ChildProcessError when the build process
    died without answering."""
    plan.work.mkdir(parents=True, exist_ok=True)
    plan.log.parent.mkdir(parents=True, exist_ok=True)
    plan.log.touch()
    rfd, wfd = os.pipe()
    efd_r, efd_w = os.pipe()  # the sandbox's own failure, if any
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: namespaces, then PID 1 in the new PID namespace
        code = 1
        try:
            os.close(rfd)
            os.close(efd_r)
            _die_with_parent()
            try:
                enter(plan)
            except OSError as exc:
                what = exc.strerror if isinstance(exc, SandboxError) else f"{exc.strerror}: {exc.filename}"
                os.write(efd_w, json.dumps([exc.errno or 0, what]).encode())
                os._exit(3)
            init = os.fork()
            if init == 0:
                _die_with_parent()
                os.close(efd_w)
                try:
                    _as_init(plan)
                    data = fn()
                    view = memoryview(data)
                    while view:
                        view = view[os.write(wfd, view):]
                except BaseException:  # noqa: BLE001 — said on stderr, then no answer: the caller reports it
                    import traceback  # noqa: PLC0415

                    traceback.print_exc()
                    sys.stderr.flush()
                finally:
                    os._exit(0)
            os.close(wfd)
            _, status = os.waitpid(init, 0)
            code = os.waitstatus_to_exitcode(status)
        finally:
            os._exit(code if isinstance(code, int) and code >= 0 else 2)
    os.close(wfd)
    os.close(efd_w)
    chunks = []
    while chunk := os.read(rfd, 1 << 16):
        chunks.append(chunk)
    os.close(rfd)
    failure = os.read(efd_r, 4096)
    os.close(efd_r)
    _, status = os.waitpid(pid, 0)
    if failure:
        err, what = json.loads(failure)
        raise SandboxError(err, what)
    if not chunks:
        raise ChildProcessError(f"status {os.waitstatus_to_exitcode(status)}")
    return b"".join(chunks)


_REFUSAL: list[str | None] = []


def refusal() -> str | None:
    """None when this kernel gives a build its namespaces, else the one sentence why not (probed
    once per process: a child tries exactly what `enter` needs of the kernel)."""
    if _REFUSAL:
        return _REFUSAL[0]
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"forge-sandbox-probe-{os.getpid()}"
    probe.mkdir(parents=True, exist_ok=True)
    log = probe / "probe.log"
    try:
        run_sandboxed(Plan(work=probe, log=log, overlays=(), env={"PATH": SYSTEM_PATH}), lambda: b"ok")
        reason = None
    except SandboxError as exc:
        reason = f"this machine refuses the Linux namespaces it needs ({exc.strerror})"
    except ChildProcessError as exc:
        reason = f"the sandbox's probe process died ({exc})"
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    _REFUSAL.append(reason)
    return reason


def run_job(job: BuildJob) -> BuildOutcome:
    """Build `job` (builder.run_build_job) in its sandbox, or in this process when the job says
    `sandbox: false`; the log and the test record say which."""
    from .builder import run_build_job  # noqa: PLC0415

    if not job.sandbox:
        _log_line(job, "== sandbox: off (--no-sandbox): the scripts ran with the build process's "
                       "own view of the machine\n")
        return _mark(run_build_job(job), sandboxed=False)
    plan = plan_for(job)
    start = time.monotonic()
    _log_line(job, f"== sandbox: on (mount, network, PID, IPC, UTS namespaces; writable: {plan.work}, "
                   f"the log; overlays: {', '.join(map(str, plan.overlays)) or 'none'})\n")
    try:
        data = run_sandboxed(plan, lambda: run_build_job(job).to_json().encode())
    except SandboxError as exc:
        return BuildOutcome(
            recipe=job.recipe, ok=False, log_path=job.log_path, seconds=time.monotonic() - start,
            error=ForgeError("its sandbox could not be set up", recipe=job.recipe, file=job.recipe_file,
                             cause=str(exc.strerror), log=job.log_path,
                             fix="build with --no-sandbox (FORGE_SANDBOX=0) where namespaces are refused"))
    except ChildProcessError as exc:
        return BuildOutcome(
            recipe=job.recipe, ok=False, log_path=job.log_path, seconds=time.monotonic() - start,
            transient=True, error=ForgeError(f"the sandboxed build process died ({exc}) before reporting",
                                             recipe=job.recipe, file=job.recipe_file, log=job.log_path))
    return _mark(BuildOutcome.from_json(data.decode()), sandboxed=True)


def _log_line(job: BuildJob, text: str) -> None:
    Path(job.log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(job.log_path, "a", encoding="utf-8") as fh:
        fh.write(text)


def _mark(outcome: BuildOutcome, *, sandboxed: bool) -> BuildOutcome:
    for record in outcome.tests.values():
        record["sandbox"] = sandboxed
    return outcome

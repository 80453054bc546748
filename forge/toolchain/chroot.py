"""Run a command inside a chroot with host directories visible.

Each call runs in its own private mount namespace (`unshare --mount`): /proc,
/dev and the requested bind mounts exist only for that process tree and vanish
when it exits, even on SIGKILL. So concurrent runs never fight over mounts, and
nothing is ever left mounted inside the root (which makes deleting it safe).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Bind:
    """Make host directory `host` visible at `inside` (default: the same path)."""

    host: Path
    inside: str | None = None
    readonly: bool = False

    @property
    def target(self) -> str:
        return self.inside or str(Path(self.host).resolve())


def mount_script(root: Path, binds: Sequence[Bind]) -> list[str]:
    """Shell lines that mount /proc, /dev and the binds under root."""
    r = shlex.quote(str(root))
    lines = [
        "set -e",
        f"mount -t proc proc {r}/proc",
        f"mount --rbind /dev {r}/dev",
    ]
    for b in binds:
        host = Path(b.host).resolve()
        tgt = shlex.quote(str(root) + b.target)
        lines.append(f"mkdir -p {tgt}" if host.is_dir() else f"mkdir -p $(dirname {tgt}) && touch {tgt}")
        lines.append(f"mount --bind {shlex.quote(str(host))} {tgt}")
        if b.readonly:
            lines.append(f"mount -o remount,bind,ro {tgt}")
    return lines


def chroot_argv(
    root: Path,
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str = "/",
    binds: Sequence[Bind] = (),
) -> list[str]:
    """The host argv that runs `cmd` inside `root` with a clean environment."""
    full_env = {"PATH": DEFAULT_PATH, "HOME": "/root", "LANG": "C.UTF-8", **(env or {})}
    inner = ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in full_env.items()),
             "/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd, *cmd]
    script = mount_script(root, binds)
    script.append("exec chroot " + shlex.quote(str(root)) + " " + shlex.join(inner))
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", "\n".join(script)]


def mounts_under(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> list[str]:
    """Mount points at or below `path` in this namespace (must be none before deleting it)."""
    p = str(Path(path).resolve())
    out = []
    for line in mountinfo.read_text().splitlines():
        mp = line.split()[4].encode().decode("unicode_escape")
        if mp == p or mp.startswith(p + "/"):
            out.append(mp)
    return out

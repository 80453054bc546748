"""The farm's moving parts as plain helpers (tests/farm's fixtures and benchmarks/bench_farm.py
use them): a throwaway redis-server on a free loopback port and real Celery worker processes,
each in its own session and work dir, killed as a whole process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server bound to loopback, without persistence, restartable on its port."""

    def __init__(self, workdir: Path, password: str | None = None) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.password = password
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(self.workdir)]
        if self.password:
            cmd += ["--requirepass", self.password]
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


class Workers:
    """Real `celery -A workers.app worker` processes, each in its own session and work dir."""

    def __init__(self, base: Path, url: str, env: dict[str, str]) -> None:
        self.base, self.url, self.env = base, url, env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *, wait: bool = True, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        wdir = self.base / name
        wdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, **(extra_env or {}), "FORGE_FARM": self.url,
               "FORGE_WORKER_DIR": str(wdir), "PYTHONUNBUFFERED": "1"}
        env.pop("FORGE_CHANNEL", None)
        log = open(wdir / "celery.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "-n", f"{name}@%h",
             "-c", "1", "-l", "info", "--without-mingle", "--without-gossip"],
            cwd=wdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.procs[name] = proc
        if wait:
            self.wait_ready(name)
        return proc

    def start_ready(self, *names: str) -> None:
        """Start several workers at once, then wait until each is ready (they boot in parallel)."""
        for name in names:
            self.start(name, wait=False)
        for name in names:
            self.wait_ready(name)

    def log(self, name: str) -> str:
        p = self.base / name / "celery.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while " ready." not in self.log(name):
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"worker {name} exited:\n{self.log(name)[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {name} not ready:\n{self.log(name)[-3000:]}")
            time.sleep(0.1)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill the worker's whole process group: the machine died mid-build."""
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                self.kill(name)

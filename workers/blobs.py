"""Files moved through Redis, content-addressed by sha256.

A blob is stored once under `forge:blob:<sha256>` with a TTL, whoever needs it (many builds
share the same channel packages and wheels). Readers always recompute the sha256, so a
truncated or tampered value is refused, never written where a build or the channel sees it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import redis

from forge.fsutil import link_or_copy, write_atomic

from . import settings

#: Redis refuses strings above 512 MiB; we stop well before to fail with a clear message.
MAX_BLOB = 500 * 1024 * 1024


class BlobError(RuntimeError):
    """A blob is missing from Redis (expired, Redis restarted) or fails its sha256."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileHasher:
    """sha256 of local files, remembered by (path, size, mtime) so a run hashes each once."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, int, int], str] = {}

    def __call__(self, path: Path) -> str:
        st = path.stat()
        k = (str(path), st.st_size, st.st_mtime_ns)
        if k not in self._memo:
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            self._memo[k] = h.hexdigest()
        return self._memo[k]


class BlobStore:
    """The Redis side: upload what is missing, download and verify."""

    def __init__(self, client: redis.Redis, ttl: int | None = None) -> None:
        self.r = client
        self.ttl = ttl or settings.blob_ttl()

    @staticmethod
    def key(sha: str) -> str:
        return settings.key("blob", sha)

    def upload(self, files: dict[str, Path]) -> int:
        """Make every sha -> file available; refresh the TTL of those present. Returns bytes sent."""
        shas = list(files)
        if not shas:
            return 0
        pipe = self.r.pipeline(transaction=False)
        for sha in shas:
            pipe.expire(self.key(sha), self.ttl)
        present = pipe.execute()
        sent = 0
        for sha, there in zip(shas, present):
            if there:
                continue
            data = files[sha].read_bytes()
            if sha256_bytes(data) != sha:
                raise BlobError(f"{files[sha]} changed while being sent (sha256 differs)")
            self.put(data, sha)
            sent += len(data)
        return sent

    def put(self, data: bytes, sha: str | None = None) -> str:
        if len(data) > MAX_BLOB:
            raise BlobError(f"a {len(data)} byte file exceeds the farm's {MAX_BLOB} byte transfer limit")
        sha = sha or sha256_bytes(data)
        self.r.set(self.key(sha), data, ex=self.ttl)
        return sha

    def get(self, sha: str) -> bytes:
        data = self.r.get(self.key(sha))
        if data is None:
            raise BlobError(f"blob {sha[:12]} is not in Redis (expired, or Redis lost its data)")
        got = sha256_bytes(data)
        if got != sha:
            raise BlobError(f"blob {sha[:12]} fails verification: its sha256 is {got[:12]}")
        return data


class BlobCache:
    """A machine-local store <root>/<sha256>: each blob crosses the network once per machine."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise BlobError(f"{sha!r} is not a sha256")
        return self.root / sha

    def ensure(self, sha: str, store: BlobStore) -> Path:
        """The local copy of a blob, fetched and verified if absent."""
        p = self.path(sha)
        if not p.exists():
            write_atomic(p, store.get(sha), fsync=True)
        return p

    def place(self, sha: str, store: BlobStore, dest: Path) -> None:
        """Put the blob at dest (a hard link into the cache when possible)."""
        link_or_copy(self.ensure(sha, store), dest)

"""`forge serve`: the channel (its repodata, packages and Pyodide view) over HTTP on
127.0.0.1, with CORS and the content types browsers insist on (application/wasm for
streaming compilation, JSON, zip) so a page or a JupyterLite site on another origin
can loadPyodide / micropip / piplite straight from a local build."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPES = {
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".map": "application/json",
    ".ts": "text/plain",
    ".conda": "application/octet-stream",
    ".bz2": "application/x-bzip2",
    ".zst": "application/zstd",
}
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


#: Files worth compressing for the wire (text, wasm, the kernel's snapshot); zips and wheels are not.
COMPRESSIBLE = (".js", ".mjs", ".cjs", ".wasm", ".json", ".css", ".html", ".svg", ".txt", ".map",
                ".snapshot", ".files")
COMPRESS_MIN = 1024
#: Encodings in the order a twin is preferred when the client accepts several (Chromium sends
#: `gzip, deflate, br, zstd` to 127.0.0.1): the suffix of the twin next to the file.
ENCODINGS = (("zstd", ".zst"), ("gzip", ".gz"))
#: zstd level 19 with an 8 MB window: browsers decode windows up to 8 MB (RFC 9659)
ZSTD_ARGS = ("-q", "-19", "--zstd=wlog=23", "-T0")


def _zstd(data: bytes, cache: Path | None) -> bytes | None:
    """`data` compressed by the zstd CLI (None without it), cached by content (level 19 is slow,
    and the runtime and the JupyterLite app are the same files in every site)."""
    exe = shutil.which("zstd")
    if not exe:
        return None
    key = hashlib.sha256(data).hexdigest()
    hit = cache / f"{key}.zst" if cache else None
    if hit and hit.is_file():
        return hit.read_bytes()
    out = subprocess.run([exe, *ZSTD_ARGS, "-c"], input=data, capture_output=True, check=False).stdout
    if not out:
        return None
    if hit:
        hit.parent.mkdir(parents=True, exist_ok=True)
        tmp = hit.with_name(f".{hit.name}.{os.getpid()}")
        tmp.write_bytes(out)
        os.replace(tmp, hit)
    return out


def precompress(directory: Path, level: int = 6, cache: Path | None = None,
                skip: tuple[str, ...] = ()) -> dict:
    """`<file>.gz` (gzip) and `<file>.zst` (zstd, with the zstd CLI) twins of every compressible
    file over COMPRESS_MIN bytes under `directory`, each kept only when smaller: forge.serve sends
    the best one the client accepts, with Content-Encoding. `cache` keeps zstd outputs by content
    (default: the download cache's `precompressed/`); folders in `skip` (relative) are left alone.
    Returns {files, bytes, gz_bytes, zst_bytes}."""
    if cache is None:
        from .locations import download_cache_dir  # noqa: PLC0415

        cache = download_cache_dir() / "precompressed"
    files = raw = gz_total = zst_total = 0
    directory = Path(directory)
    skipped = {directory / d for d in skip}
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if Path(root) / d not in skipped]
        for name in names:
            if not name.endswith(COMPRESSIBLE):
                continue
            path = Path(root) / name
            size = path.stat().st_size
            if size < COMPRESS_MIN:
                continue
            data = path.read_bytes()
            kept = False
            for suffix, packed in ((".gz", gzip.compress(data, compresslevel=level, mtime=0)),
                                   (".zst", _zstd(data, cache) if size >= 16 * COMPRESS_MIN else None)):
                if packed is None or len(packed) >= size * 0.95:
                    continue
                tmp = path.with_name(f".{name}{suffix}.{os.getpid()}")
                tmp.write_bytes(packed)
                os.replace(tmp, path.with_name(name + suffix))
                kept = True
                if suffix == ".gz":
                    gz_total += len(packed)
                else:
                    zst_total += len(packed)
            if kept:
                files, raw = files + 1, raw + size
    return {"files": files, "bytes": raw, "gz_bytes": gz_total, "zst_bytes": zst_total}


def accepted(header: str | None) -> set[str]:
    """The content codings an Accept-Encoding header accepts (q=0 excluded)."""
    out = set()
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        if name and params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            out.add(name.strip().lower())
    return out


class ChannelHandler(SimpleHTTPRequestHandler):
    """Static files with CORS; index files (json) are revalidated on every request; a file's
    precompressed twin (precompress: `.zst`, else `.gz`) is sent instead, with Content-Encoding,
    to a client that accepts that coding."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}
    quiet = False
    _encoding: str | None = None

    def send_head(self):  # noqa: ANN201  (http.server's signature)
        self._encoding = None
        path = self.translate_path(self.path)
        accepts = accepted(self.headers.get("Accept-Encoding"))
        twin = next(((enc, path + suffix) for enc, suffix in ENCODINGS
                     if enc in accepts and os.path.isfile(path + suffix)), None)
        if twin and not path.endswith("/") and os.path.isfile(path):
            try:
                f = open(twin[1], "rb")  # noqa: SIM115  (handed to the caller, as http.server does)
            except OSError:
                return super().send_head()
            fs = os.fstat(f.fileno())
            self.send_response(200)
            self.send_header("Content-type", self.guess_type(path))
            self.send_header("Content-Length", str(fs.st_size))
            self.send_header("Last-Modified", self.date_time_string(fs.st_mtime))
            self._encoding = twin[0]
            self.end_headers()
            return f
        return super().send_head()

    def end_headers(self) -> None:
        if self._encoding:
            self.send_header("Content-Encoding", self._encoding)
            self.send_header("Vary", "Accept-Encoding")
            self._encoding = None
        for key, value in CORS_HEADERS.items():
            self.send_header(key, value)
        if self.path.split("?", 1)[0].endswith(".json"):
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_OPTIONS(self) -> None:  # noqa: N802  (http.server's naming)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if not self.quiet:
            super().log_message(format, *args)


class ChannelServer(ThreadingHTTPServer):
    """Threaded; a client that hangs up mid-download is normal, not an error to print."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        import sys  # noqa: PLC0415

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000,
                quiet: bool = False) -> ChannelServer:
    """A threaded server for `directory` (port 0: any free port; see server.server_port)."""
    handler = type("Handler", (ChannelHandler,), {"quiet": quiet})
    return ChannelServer((host, port), functools.partial(handler, directory=str(Path(directory).resolve())))


@contextmanager
def serving(directory: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `directory` in a background thread for the block; yields the base URL."""
    server = make_server(directory, host, port, quiet=True)
    thread = threading.Thread(target=server.serve_forever, name="forge-serve", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve(directory: Path, host: str = "127.0.0.1", port: int = 8000,
          announce: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted; `announce` gets the base URL once the port is bound."""
    server = make_server(directory, host, port)
    if announce:
        announce(f"http://{host}:{server.server_port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()

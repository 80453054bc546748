"""`forge serve`: the channel (its repodata, packages and Pyodide view) over HTTP on
127.0.0.1, with CORS and the content types browsers insist on (application/wasm for
streaming compilation, JSON, zip) so a page or a JupyterLite site on another origin
can loadPyodide / micropip / piplite straight from a local build."""

from __future__ import annotations

import functools
import gzip
import os
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


def precompress(directory: Path, level: int = 6) -> dict:
    """A `<file>.gz` twin for every compressible file over COMPRESS_MIN bytes under `directory`,
    kept only when smaller: forge.serve sends it with Content-Encoding: gzip to a client that
    accepts gzip. Returns {files, bytes (originals), gz_bytes}."""
    files = raw = packed = 0
    for root, _dirs, names in os.walk(directory):
        for name in names:
            if not name.endswith(COMPRESSIBLE):
                continue
            path = Path(root) / name
            size = path.stat().st_size
            if size < COMPRESS_MIN:
                continue
            data = gzip.compress(path.read_bytes(), compresslevel=level, mtime=0)
            if len(data) >= size * 0.95:
                continue
            tmp = path.with_name(f".{name}.gz.{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, path.with_name(name + ".gz"))
            files, raw, packed = files + 1, raw + size, packed + len(data)
    return {"files": files, "bytes": raw, "gz_bytes": packed}


class ChannelHandler(SimpleHTTPRequestHandler):
    """Static files with CORS; index files (json) are revalidated on every request; a file's
    precompressed `.gz` twin (precompress) is sent instead, with Content-Encoding: gzip, to a
    client that accepts gzip."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}
    quiet = False
    _encoding: str | None = None

    def send_head(self):  # noqa: ANN201  (http.server's signature)
        self._encoding = None
        path = self.translate_path(self.path)
        accepts = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if accepts and not path.endswith("/") and os.path.isfile(path) and os.path.isfile(path + ".gz"):
            try:
                f = open(path + ".gz", "rb")  # noqa: SIM115  (handed to the caller, as http.server does)
            except OSError:
                return super().send_head()
            fs = os.fstat(f.fileno())
            self.send_response(200)
            self.send_header("Content-type", self.guess_type(path))
            self.send_header("Content-Length", str(fs.st_size))
            self.send_header("Last-Modified", self.date_time_string(fs.st_mtime))
            self._encoding = "gzip"
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

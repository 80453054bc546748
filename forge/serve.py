"""`forge serve`: the channel (its repodata, packages and Pyodide view) over HTTP on
127.0.0.1, with CORS and the content types browsers insist on (application/wasm for
streaming compilation, JSON, zip) so a page or a JupyterLite site on another origin
can loadPyodide / micropip / piplite straight from a local build."""

from __future__ import annotations

import functools
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


class ChannelHandler(SimpleHTTPRequestHandler):
    """Static files with CORS; index files (json) are revalidated on every request."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}
    quiet = False

    def end_headers(self) -> None:
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

# httpcore's suite runs against a live server and trio: HTTP/1.1 over httpcore's own mock network
# backends (sync and async) in wasm: requests, keep-alive in the pool, streaming, errors
import wasm_loop  # noqa: F401  (asyncio.run without JSPI; see wasm_loop.py)
import asyncio
import httpcore
from httpcore._backends.mock import MockBackend, AsyncMockBackend

resp = [b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain\r\n", b"Content-Length: 13\r\n", b"\r\n", b"Hello, world!"]
with httpcore.ConnectionPool(network_backend=MockBackend(resp * 2)) as pool:
    r = pool.request("GET", "https://example.com/")
    assert r.status == 200 and r.content == b"Hello, world!"
    assert (b"Content-Type", b"text/plain") in r.headers
    with pool.stream("GET", "https://example.com/again") as r2:
        assert b"".join(r2.iter_stream()) == b"Hello, world!"
    assert len(pool.connections) == 1  # kept alive and reused

async def amain() -> None:
    async with httpcore.AsyncConnectionPool(network_backend=AsyncMockBackend(resp)) as pool:
        r = await pool.request("POST", "http://example.com/", content=b"data")
        assert r.status == 200 and r.content == b"Hello, world!"
asyncio.run(amain())

with httpcore.ConnectionPool(network_backend=MockBackend([b"garbage\r\n\r\n"])) as pool:
    try:
        pool.request("GET", "http://example.com/")
    except httpcore.RemoteProtocolError:
        pass
    else:
        raise AssertionError("protocol error expected")
try:
    httpcore.request("GET", "nope://x")
except httpcore.UnsupportedProtocol:
    pass
print("httpcore ok", httpcore.__version__)

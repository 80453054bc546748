# httpx's suite serves over uvicorn in a thread: clients over MockTransport and over an in-process
# ASGI app (sync and async) in wasm: URLs, headers, params, JSON, redirects, auth, errors
import wasm_loop  # noqa: F401  (asyncio.run without JSPI; see wasm_loop.py)
import asyncio
import json
import httpx

def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/redirect":
        return httpx.Response(302, headers={"Location": "/json"})
    if request.url.path == "/json":
        return httpx.Response(200, json={"q": request.url.params.get("q"), "auth": request.headers.get("authorization")})
    if request.url.path == "/echo":
        return httpx.Response(201, content=request.content, headers={"X-Len": str(len(request.content))})
    return httpx.Response(404, text="missing")

with httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.example", auth=("u", "p")) as c:
    r = c.get("/redirect", params={"q": "wasm"}, follow_redirects=True)
    assert r.status_code == 200 and r.json()["q"] is None and r.history[0].status_code == 302
    r = c.get("/json", params={"q": "wasm"})
    assert r.json() == {"q": "wasm", "auth": "Basic dTpw"}, r.json()
    r = c.post("/echo", json={"a": [1, 2]})
    assert r.status_code == 201 and json.loads(r.content) == {"a": [1, 2]} and r.headers["x-len"] == str(len(r.content))
    r = c.get("/nope")
    try:
        r.raise_for_status()
    except httpx.HTTPStatusError as e:
        assert e.response.status_code == 404
    else:
        raise AssertionError("HTTPStatusError expected")

async def app(scope: dict, receive: object, send: object) -> None:
    assert scope["type"] == "http"
    body = f"{scope['method']} {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})

async def amain() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        r = await c.put("/x/y")
        assert r.text == "PUT /x/y"
asyncio.run(amain())
u = httpx.URL("https://user@example.com:8080/a/b?x=1#f")
assert (u.host, u.port, u.path, u.fragment) == ("example.com", 8080, "/a/b", "f")
assert httpx.Headers({"A": "1"})["a"] == "1"
print("httpx ok", httpx.__version__)

# starlette's suite uses TestClient (anyio's blocking portal: a thread): the ASGI app driven by
# httpx's in-process ASGITransport in wasm: routing, path params, JSON, middleware, errors
import wasm_loop  # noqa: F401  (asyncio.run without JSPI; see wasm_loop.py)
import asyncio
import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, Mount
from starlette.exceptions import HTTPException
from starlette.requests import Request

async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("home")
async def user(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["uid"], "q": request.query_params.get("q")})
async def echo(request: Request) -> JSONResponse:
    return JSONResponse(await request.json())
async def fail(request: Request) -> None:
    raise HTTPException(status_code=418, detail="teapot")

class Tag(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: object) -> object:
        resp = await call_next(request)
        resp.headers["x-tag"] = "wasm"
        return resp

api = Mount("/api", routes=[Route("/user/{uid:int}", user), Route("/echo", echo, methods=["POST"])])
app = Starlette(routes=[Route("/", home), api, Route("/fail", fail)],
                middleware=[Middleware(Tag)])

async def main() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/")
        assert r.text == "home" and r.headers["x-tag"] == "wasm"
        r = await c.get("/api/user/7?q=z")
        assert r.json() == {"id": 7, "q": "z"}
        r = await c.post("/api/echo", json={"a": "1", "b": "2"})
        assert r.json() == {"a": "1", "b": "2"}
        assert (await c.get("/fail")).status_code == 418
        assert (await c.get("/missing")).status_code == 404
        assert (await c.get("/api/echo")).status_code == 405
asyncio.run(main())
print("starlette ok")

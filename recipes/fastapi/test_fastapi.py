# fastapi's suite uses TestClient (a thread per request): an app driven by httpx's in-process
# ASGITransport in wasm: path/query/body validation with pydantic, dependencies, errors, OpenAPI
import wasm_loop  # noqa: F401  (asyncio.run without JSPI; see wasm_loop.py)
import asyncio
import httpx
from typing import Annotated
from fastapi import FastAPI, Depends, HTTPException, Query
from pydantic import BaseModel, Field

app = FastAPI(title="wasm")

class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []

async def token(x_token: Annotated[str | None, Query()] = None) -> str:
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="bad token")
    return x_token

@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None) -> dict:
    return {"item_id": item_id, "q": q}

@app.post("/items", status_code=201)
async def create_item(item: Item, tok: Annotated[str, Depends(token)]) -> dict:
    return {"total": item.price * 2, **item.model_dump()}

async def main() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/items/5?q=x")
        assert r.status_code == 200 and r.json() == {"item_id": 5, "q": "x"}
        r = await c.get("/items/abc")
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "item_id"]
        r = await c.post("/items?x_token=secret", json={"name": "a", "price": 2.5})
        assert r.status_code == 201 and r.json() == {"total": 5.0, "name": "a", "price": 2.5, "tags": []}, r.json()
        r = await c.post("/items?x_token=secret", json={"name": "a", "price": -1})
        assert r.status_code == 422
        r = await c.post("/items", json={"name": "a", "price": 1})
        assert r.status_code == 401 and r.json() == {"detail": "bad token"}
        spec = (await c.get("/openapi.json")).json()
        assert spec["info"]["title"] == "wasm" and "/items/{item_id}" in spec["paths"]
        assert "Item" in spec["components"]["schemas"]
asyncio.run(main())
print("fastapi ok")

# pydantic's suite imports jsonschema in its conftest (rpds-py, a Rust build, not in this
# channel yet): models, validation errors, serialisation, JSON schema, TypeAdapter, dataclasses
# and validate_call on pydantic-core 2.45.0 in wasm
import datetime
from typing import Annotated, Literal

import pydantic
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass


class Address(BaseModel):
    city: str
    zip: Annotated[str, Field(pattern=r"^\d{5}$")]


class User(BaseModel):
    model_config = pydantic.ConfigDict(str_strip_whitespace=True)
    id: int
    name: str
    kind: Literal["admin", "user"] = "user"
    joined: datetime.date
    tags: set[str] = set()
    address: Address | None = None

    @field_validator("name")
    @classmethod
    def capitalised(cls, v: str) -> str:
        return v.title()

    @model_validator(mode="after")
    def admins_have_addresses(self) -> "User":
        if self.kind == "admin" and self.address is None:
            raise ValueError("admins need an address")
        return self


u = User.model_validate({"id": "7", "name": "  ada lovelace ", "joined": "1815-12-10", "tags": ["a", "a"],
                         "address": {"city": "London", "zip": "12345"}})
assert u.id == 7 and u.name == "Ada Lovelace" and u.joined == datetime.date(1815, 12, 10) and u.tags == {"a"}
assert User.model_validate_json(u.model_dump_json()) == u
try:
    User(id="x", name="b", joined="nope", kind="root", address={"city": "c", "zip": "1"})
except ValidationError as e:
    locs = sorted(tuple(err["loc"]) for err in e.errors())
    assert locs == [("address", "zip"), ("id",), ("joined",), ("kind",)], locs
else:
    raise AssertionError("ValidationError expected")
try:
    User(id=1, name="b", joined="2020-01-01", kind="admin")
except ValidationError as e:
    assert "admins need an address" in str(e)
schema = User.model_json_schema()
assert schema["properties"]["kind"]["enum"] == ["admin", "user"] and "Address" in schema["$defs"]
ta = TypeAdapter(list[Annotated[int, Field(gt=0)]])
assert ta.validate_python(["1", 2]) == [1, 2]
assert ta.dump_json([3]) == b"[3]"


@dataclass
class Point:
    x: float
    y: float = 0.0


assert Point(x="1.5").x == 1.5


@pydantic.validate_call
def add(a: int, b: int = 1) -> int:
    return a + b


assert add("2", b="3") == 5
print("pydantic ok", pydantic.VERSION, pydantic.version.version_info().splitlines()[1])

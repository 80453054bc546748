"""The toolchain lock: exact versions of what builds the packages, carried into
build metadata so a package says which compiler and Debian snapshot made it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..fsutil import write_atomic
from . import target


def target_dict() -> dict[str, str]:
    """The Pyodide ABI the root builds for."""
    return {
        "pyodide": target.PYODIDE_VERSION,
        "python": target.PYTHON_VERSION,
        "emscripten": target.EMSCRIPTEN_VERSION,
        "abi": target.PYODIDE_ABI_VERSION,
        "platform_tag": target.PLATFORM_TAG,
    }


@dataclass(frozen=True)
class ToolchainLock:
    """Versions measured inside a verified build root."""

    emscripten: str  # e.g. "6.0.5" (emcc --version)
    clang: str  # e.g. "21.1.8"
    node: str  # e.g. "v24.x" (node inside the root)
    python: str  # the root's python3.14, e.g. "3.14.x"
    pyodide_build: str
    pyodide_lock: str
    debian_suite: str  # "sid"
    debian_date: str  # Date: of the suite's Release file when the root was made
    debian_packages: dict[str, str] = field(default_factory=dict)
    target: dict[str, str] = field(default_factory=target_dict)
    root_dir: str = ""
    created: str = ""  # when the root was created (UTC, ISO 8601)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> ToolchainLock:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})  # type: ignore[arg-type]

    def write(self, path: Path) -> None:
        """Write as JSON atomically (readers never see half a lock)."""
        write_atomic(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> ToolchainLock:
        return cls.from_dict(json.loads(path.read_text()))

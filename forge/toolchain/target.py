"""The Pyodide ABI this forge targets, read from the variant pins (pyodide_version,
pyodide_python, pyodide_abi, emscripten_version). One place, so build metadata, the cross
environment and the tests agree; upgrading Pyodide is a change of those pins plus a rebuild.

Only the arithmetic (tags, suffixes, flags) lives here. The pins are the forge's platform pins
(forge/platform/conda_build_config.yaml, shipped with the package) with the recipe repository's
own conda_build_config.yaml over them, or `$FORGE_VARIANT_FILE` alone. They are read on first
use, never at import: `forge --help` works anywhere. `target.PINS`, `target.WHEEL_TAG`, ... are
module attributes computed then (PEP 562).
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from ..locations import find_repo, variant_files


# Pyodide's flags: side modules built with these load in its main module.
CFLAGS = ("-O2", "-g0", "-fPIC", "-fwasm-exceptions", "-sSUPPORT_LONGJMP=wasm")
LDFLAGS = ("-sSIDE_MODULE=1", "-sWASM_BIGINT", "-fwasm-exceptions", "-sSUPPORT_LONGJMP=wasm")
#: what `target.NAME` computes from the pins on first use
PINNED = ("PINS", "PYODIDE_VERSION", "PYTHON_VERSION", "PYTHON_XY", "PYTHON_NODOT", "EMSCRIPTEN_VERSION",
          "PYODIDE_ABI_VERSION", "PLATFORM_TAG", "WHEEL_TAG", "EXT_SUFFIX")


def variant_file() -> Path:
    """The file whose pins win: $FORGE_VARIANT_FILE, else the repository's, else the forge's."""
    env = os.environ.get("FORGE_VARIANT_FILE")
    if env:
        return Path(env)
    return variant_files(find_repo())[-1]


def read_pins(path: Path) -> dict[str, str]:
    """The first value of every `key:\\n  - value` list (the subset of YAML the file uses)."""
    pins: dict[str, str] = {}
    key: str | None = None
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$", line)
        if m:
            key = m.group(1)
            if m.group(2):  # inline scalar or [a, b]
                val = m.group(2).strip("[] ").split(",")[0].strip().strip("'\"")
                pins.setdefault(key, val)
                key = None
            continue
        m = re.match(r"^\s+-\s*(.+)$", line)
        if m and key and key not in pins:
            pins[key] = m.group(1).strip().strip("'\"")
    return pins


@cache
def _pins() -> dict[str, str]:
    env = os.environ.get("FORGE_VARIANT_FILE")
    files = [Path(env)] if env else variant_files(find_repo())
    pins: dict[str, str] = {}
    for path in files:
        try:
            pins.update(read_pins(path))
        except OSError as exc:
            raise RuntimeError(f"the variant file {path} cannot be read ({exc.strerror or exc}); "
                               "fix or remove it (the forge's own pins apply where a repository has none)") from None
    need = ("pyodide_version", "pyodide_python", "pyodide_abi", "emscripten_version")
    missing = [k for k in need if k not in pins]
    if missing:
        raise RuntimeError(f"{files[-1]} does not pin {', '.join(missing)}; add them (see docs/platform.md)")
    return pins


def _derived() -> dict[str, object]:
    pins = _pins()
    python = pins["pyodide_python"]  # CPython inside that Pyodide, e.g. 3.14.2
    xy = ".".join(python.split(".")[:2])
    nodot = xy.replace(".", "")
    platform_tag = f"pyemscripten_{pins['pyodide_abi']}_wasm32"
    return {
        "PINS": pins, "PYODIDE_VERSION": pins["pyodide_version"], "PYTHON_VERSION": python, "PYTHON_XY": xy,
        "PYTHON_NODOT": nodot, "EMSCRIPTEN_VERSION": pins["emscripten_version"],  # what Pyodide itself was built with
        "PYODIDE_ABI_VERSION": pins["pyodide_abi"], "PLATFORM_TAG": platform_tag,
        "WHEEL_TAG": f"cp{nodot}-cp{nodot}-{platform_tag}", "EXT_SUFFIX": f".cpython-{nodot}-wasm32-emscripten.so",
    }


def __getattr__(name: str) -> object:
    """The pinned values (PINS, PYODIDE_VERSION, PYTHON_VERSION, PYTHON_XY, PYTHON_NODOT,
    EMSCRIPTEN_VERSION, PYODIDE_ABI_VERSION, PLATFORM_TAG, WHEEL_TAG, EXT_SUFFIX), read on first use."""
    if name in PINNED:
        return _derived()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def installs_here(tag: str) -> bool:
    """A compiled wheel tag this Pyodide installs: its own, or abi3 from any CPython 3 up to its
    own, as pip accepts (setuptools projects such as pyerfa tag limited-API wheels with the oldest
    CPython they support: cp39-abi3)."""
    wheel_tag, platform_tag, nodot = _derived()["WHEEL_TAG"], _derived()["PLATFORM_TAG"], str(_derived()["PYTHON_NODOT"])
    if tag == wheel_tag:
        return True
    m = re.fullmatch(r"cp3(\d+)-abi3-(.+)", tag)
    return bool(m) and m.group(2) == platform_tag and int(m.group(1)) <= int(nodot[1:])


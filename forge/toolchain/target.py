"""The Pyodide ABI this forge targets, read from the variant pins in
conda_build_config.yaml (pyodide_version, pyodide_python, pyodide_abi,
emscripten_version). One place, so build metadata, the cross environment and the
tests agree; upgrading Pyodide is a change of those pins plus a rebuild.

Only the arithmetic (tags, suffixes, flags) lives here. `$FORGE_VARIANT_FILE`
(else `$FORGE_ROOT/conda_build_config.yaml`, else the checkout's) is the source.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .paths import repo_root


def variant_file() -> Path:
    env = os.environ.get("FORGE_VARIANT_FILE")
    if env:
        return Path(env)
    root = os.environ.get("FORGE_ROOT")
    if root and (Path(root) / "conda_build_config.yaml").exists():
        return Path(root) / "conda_build_config.yaml"
    # a recipes repo without its own pins targets the forge checkout's Pyodide
    return repo_root() / "conda_build_config.yaml"


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


def _pins() -> dict[str, str]:
    path = variant_file()
    try:
        pins = read_pins(path)
    except OSError as exc:
        raise RuntimeError(f"the variant file {path} cannot be read ({exc}); set FORGE_ROOT to the forge checkout") from None
    need = ("pyodide_version", "pyodide_python", "pyodide_abi", "emscripten_version")
    missing = [k for k in need if k not in pins]
    if missing:
        raise RuntimeError(f"{path} does not pin {', '.join(missing)}; add them (see docs/platform.md)")
    return pins


PINS = _pins()
PYODIDE_VERSION = PINS["pyodide_version"]
PYTHON_VERSION = PINS["pyodide_python"]  # CPython inside that Pyodide, e.g. 3.14.2
PYTHON_XY = ".".join(PYTHON_VERSION.split(".")[:2])
PYTHON_NODOT = PYTHON_XY.replace(".", "")
EMSCRIPTEN_VERSION = PINS["emscripten_version"]  # what Pyodide itself was built with
PYODIDE_ABI_VERSION = PINS["pyodide_abi"]
PLATFORM_TAG = f"pyemscripten_{PYODIDE_ABI_VERSION}_wasm32"
WHEEL_TAG = f"cp{PYTHON_NODOT}-cp{PYTHON_NODOT}-{PLATFORM_TAG}"
EXT_SUFFIX = f".cpython-{PYTHON_NODOT}-wasm32-emscripten.so"


def installs_here(tag: str) -> bool:
    """A compiled wheel tag this Pyodide installs: its own, or abi3 from any CPython 3 up to its
    own, as pip accepts (setuptools projects such as pyerfa tag limited-API wheels with the oldest
    CPython they support: cp39-abi3)."""
    if tag == WHEEL_TAG:
        return True
    m = re.fullmatch(r"cp3(\d+)-abi3-(.+)", tag)
    return bool(m) and m.group(2) == PLATFORM_TAG and int(m.group(1)) <= int(PYTHON_NODOT[1:])

# Pyodide's flags: side modules built with these load in its main module.
CFLAGS = ("-O2", "-g0", "-fPIC", "-fwasm-exceptions", "-sSUPPORT_LONGJMP=wasm")
LDFLAGS = ("-sSIDE_MODULE=1", "-sWASM_BIGINT", "-fwasm-exceptions", "-sSUPPORT_LONGJMP=wasm")

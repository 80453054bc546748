"""The emscripten-wasm32 toolchain: a Debian sid build root with emscripten,
the Pyodide ABI it targets, and the cross-build environment for pyodide-build."""

from .buildroot import BuildRoot, ensure, run
from .chroot import Bind
from .cross_env import CrossEnv, prepare_cross_env
from .errors import ToolchainError
from .lock import ToolchainLock
from .pyodide_dist import PyodideDist, fetch_pyodide
from .pyodide_node import NodeRun, PyodideRunError, run_in_pyodide
from .paths import default_cache_dir, default_root_dir

__all__ = [
    "Bind", "BuildRoot", "CrossEnv", "NodeRun", "PyodideDist", "PyodideRunError", "fetch_pyodide", "prepare_cross_env", "run_in_pyodide",
    "ToolchainError", "ToolchainLock", "default_cache_dir", "default_root_dir", "ensure", "run",
]


def __getattr__(name: str) -> object:
    """PLATFORM_TAG, PYODIDE_ABI_VERSION, PYODIDE_VERSION, PYTHON_VERSION: the pins, read on first use."""
    from . import target  # noqa: PLC0415

    if name in ("PLATFORM_TAG", "PYODIDE_ABI_VERSION", "PYODIDE_VERSION", "PYTHON_VERSION"):
        return getattr(target, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

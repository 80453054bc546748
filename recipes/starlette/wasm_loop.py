"""asyncio in python-wasm: a pytest plugin (-p wasm_loop) and a module to import before asyncio.run.

python-wasm runs under a node without WebAssembly stack switching (JSPI), so Pyodide's WebLoop
cannot block (asyncio.run, run_until_complete). This installs a plain asyncio event loop whose
selector only sleeps (there are no sockets in wasm), so asyncio.run and pytest-asyncio work.
"""
import asyncio
import socket
import time
import warnings


class _Selector:
    def select(self, timeout: float | None) -> list:
        if timeout:
            time.sleep(timeout)
        return []

    def close(self) -> None:
        pass


class WasmLoop(asyncio.BaseEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self._selector = _Selector()

    def _process_events(self, events: list) -> None:
        pass

    def _write_to_self(self) -> None:
        pass


class _Policy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> WasmLoop:
        return WasmLoop()


def _no_socketpair(*args: object, **kwargs: object) -> None:
    # socket.socketpair listens on a socket, which aborts Pyodide under node: fail as an OS would
    raise OSError("socketpair is not available in WebAssembly")


asyncio.events._set_running_loop(None)  # Pyodide's WebLoop counts as always running
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the policy API is deprecated in 3.14
    asyncio.set_event_loop_policy(_Policy())
socket.socketpair = _no_socketpair

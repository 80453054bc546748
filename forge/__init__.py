"""wasm-forge: build conda recipes for noarch and emscripten-wasm32 into a channel."""

__version__ = "0.1.0"

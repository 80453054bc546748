"""Library authors' commands: `forge venv`, `forge wheel`, `forge publish`, `forge ci`.

The recipes' machinery (forge-pyodide-build, buildreqs, wasmcheck, python-wasm, envs) applied to
an author's own project instead of a recipe: see docs/library-authors.md.
"""

# the sdist ships no tests: the patches are no-ops where no browser XMLHttpRequest exists
# (python-wasm runs under node), and the modules that patch in a browser import
import pyodide_http
print("should_patch:", pyodide_http.should_patch())
pyodide_http.patch_all()

assert pyodide_http.__version__ == "0.2.2"
print("pyodide-http ok")

# setuptools' own suite needs subprocesses, virtualenvs and network: a PEP 517 wheel and sdist
# of a small project built in-process in wasm instead (build_meta, find_packages, version parsing)
import os
import tempfile
import zipfile
import tarfile
import setuptools
from setuptools import build_meta, find_packages

proj = tempfile.mkdtemp()
os.makedirs(os.path.join(proj, "demo_pkg", "sub"))
for rel in ("demo_pkg/__init__.py", "demo_pkg/sub/__init__.py"):
    with open(os.path.join(proj, rel), "w") as f:
        f.write("VALUE = 42\n")
with open(os.path.join(proj, "pyproject.toml"), "w") as f:
    f.write('[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
            '[project]\nname = "demo-pkg"\nversion = "1.2.3"\ndependencies = ["attrs>=22"]\n'
            '[project.scripts]\ndemo = "demo_pkg:main"\n')
assert sorted(find_packages(proj)) == ["demo_pkg", "demo_pkg.sub"]
out = tempfile.mkdtemp()
cwd = os.getcwd()
os.chdir(proj)
try:
    whl = build_meta.build_wheel(out)
    sdist = build_meta.build_sdist(out)
finally:
    os.chdir(cwd)
assert whl == "demo_pkg-1.2.3-py3-none-any.whl", whl
with zipfile.ZipFile(os.path.join(out, whl)) as z:
    names = z.namelist()
    meta = z.read("demo_pkg-1.2.3.dist-info/METADATA").decode()
    eps = z.read("demo_pkg-1.2.3.dist-info/entry_points.txt").decode()
assert "demo_pkg/sub/__init__.py" in names and "Requires-Dist: attrs>=22" in meta and "demo = demo_pkg:main" in eps
with tarfile.open(os.path.join(out, sdist)) as t:
    assert "demo_pkg-1.2.3/pyproject.toml" in t.getnames()
print("setuptools ok", setuptools.__version__, whl, sdist)

"""`forge lite --conda`: `%conda install` in the kernel, solved in the browser against the site's
own copy of the channel. The site is built with an environment file (python-dateutil), so the
compiled package the cell installs (markupsafe, cross-built into tests/lite's channel from
empty) is neither preloaded nor in the site's lock: only `%conda install` can bring it.

The kernel side (forge/lite/conda_kernel.py) is checked three ways: its pure parts on the host,
its unpacking and dynlib loading in real Pyodide under node, and the whole magic in Chromium."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from forge.lite import build_site, site_settings
from forge.lite import conda_kernel as ck
from forge.lite.conda import CONDA_SUBDIR, KERNEL_PACKAGE, SOLVER_FILE, STARTUP, kernel_wheel
from forge.lite.site import PYODIDE_SUBDIR
from forge.lite.solver import MODULE, SHA256, fetch_solver, tarball_name
from forge.serve import serving
from forge.toolchain.pyodide_node import run_in_pyodide
from tests.support.browser import notebook_json, run_notebook

ENV = "name: conda-site\ndependencies:\n  - python\n  - python-dateutil\n"
INSTALL = """\
%conda install markupsafe
import markupsafe, markupsafe._speedups
print('forge-conda:', markupsafe.escape('<a>'), markupsafe._escape_inner is markupsafe._speedups._escape_inner)
"""
EXPECT = "forge-conda: &lt;a&gt; True"
UNKNOWN = "%conda install no-such-package\n"
SENTENCE = ("%conda install no-such-package: the site's channel has no package named no-such-package; build it "
            "into the channel (forge build no-such-package) and rebuild the site with forge lite --conda")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def conda_site(tmp_path_factory: pytest.TempPathFactory, lite_channel: Path):
    files = tmp_path_factory.mktemp("conda-files")
    (files / "install.ipynb").write_text(json.dumps(notebook_json(INSTALL)))
    (files / "unknown.ipynb").write_text(json.dumps(notebook_json(UNKNOWN)))
    env = files.parent / "conda-environment.yml"
    env.write_text(ENV)
    out = tmp_path_factory.mktemp("conda-site") / "site"
    return build_site(lite_channel, out, environment=env, conda=True, contents=(files,), refresh_view=False)


def test_the_site_serves_the_channel_the_solver_and_the_kernel_wheel(conda_site, lite_channel: Path,
                                                                     compiled_probe: bool) -> None:
    conda = conda_site.output_dir / CONDA_SUBDIR
    staged = set(conda_site.conda["packages"])
    for sd in ("noarch", "emscripten-wasm32"):
        repodata = json.loads((lite_channel / sd / "repodata.json").read_text())
        assert (conda / sd / "repodata.json").read_bytes() == (lite_channel / sd / "repodata.json").read_bytes()
        for fn in repodata.get("packages.conda") or {}:
            assert f"{sd}/{fn}" in staged
            assert _sha(conda / sd / fn) == repodata["packages.conda"][fn]["sha256"], fn
    if compiled_probe:
        assert any(p.startswith("emscripten-wasm32/markupsafe-") for p in staged), staged
    # the solver: the pinned npm tarball's module, byte for byte
    pkg = fetch_solver()
    assert _sha(pkg.parent.parent / tarball_name()) == SHA256
    assert (conda / SOLVER_FILE).read_bytes() == (pkg / MODULE).read_bytes()
    assert conda_site.conda["solver_bytes"] == (pkg / MODULE).stat().st_size
    # the kernel wheel: in the site's lock (not the view's), preloaded, its module this repo's file
    lock = json.loads((conda_site.output_dir / PYODIDE_SUBDIR / "pyodide-lock.json").read_text())
    entry = lock["packages"][KERNEL_PACKAGE]
    wheel = conda_site.output_dir / PYODIDE_SUBDIR / entry["file_name"]
    assert _sha(wheel) == entry["sha256"] and entry["imports"] == ["forge_lite_conda"]
    assert (entry["file_name"], wheel.read_bytes()) == kernel_wheel()  # deterministic
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read("forge_lite_conda.py") == Path(ck.__file__).read_bytes()
        startup = [n for n in zf.namelist() if n.endswith(STARTUP)]
        assert startup and b"register()" in zf.read(startup[0])
    assert KERNEL_PACKAGE in site_settings(conda_site.output_dir)["loadPyodideOptions"]["packages"]
    assert KERNEL_PACKAGE not in json.loads((lite_channel / "pyodide" / "pyodide-lock.json").read_text())["packages"]
    assert "markupsafe" not in lock["packages"]  # only %conda install can bring it


def test_the_kernel_logic_on_the_host(tmp_path: Path) -> None:
    assert ck.parse("install -y markupsafe 'numpy >=2'") == ["markupsafe", "numpy >=2"]
    for bad, words in (("list", "%conda list is not supported"), ("install", "needs at least one"),
                       ("install -c conda-forge x", "-c is not supported"), ("install 'x", "could not read")):
        with pytest.raises(ck.CondaError, match=words):
            ck.parse(bad)
    rec = [ck.Record(n, v, "0", f"http://h/{n}.conda") for n, v in
           (("python", "3.14.2"), ("pyodide-abi", "2026.0"), ("Typing_Extensions", "4.16"), ("markupsafe", "3.0.4"))]
    todo, kept = ck.split(rec, {"typing-extensions": "4.15"})
    assert [r.name for r in todo] == ["markupsafe"]
    assert [(r.name, v) for r, v in kept] == [("python", ""), ("pyodide-abi", ""), ("Typing_Extensions", "4.15")]
    assert [ck._kept(r, v) for r, v in kept][1:] == ["pyodide-abi", "Typing_Extensions 4.15 (the channel's is 4.16)"]
    # the failed solve's sentence, from rattler's own messages (as simpleSolve rejected, under node)
    have = {"markupsafe": {"3.0.4"}, "python": {"3.14.2"}}
    assert ck.unsolvable_message(["no-such-package"], "Cannot solve the request because of: No candidates were "
                                 "found for no-such-package *.\n", have) == SENTENCE
    assert ck.unsolvable_message(["markupsafe >=99"], "Cannot solve the request because of: No candidates were "
                                 "found for markupsafe >=99.\n", have) == (
        "%conda install markupsafe >=99: the site's channel cannot satisfy markupsafe >=99 (it has markupsafe "
        "3.0.4); relax the spec or build that version into the channel")
    other = ck.unsolvable_message(["a", "b"], "Cannot solve the request because of: a 1 cannot be installed\n"
                                  "  because b 2 needs a >=2.\n", have)
    assert other == ("%conda install a b: the site's channel cannot satisfy these specs together (a 1 cannot be "
                     "installed because b 2 needs a >=2); relax them")
    sp, dso, prefix = tmp_path / "lib/python3.14/site-packages", tmp_path / "usr/lib", tmp_path
    t = lambda m: ck.target(m, sp, dso, prefix)  # noqa: E731
    assert t("lib/python3.14/site-packages/lz4/_block.so") == sp / "lz4/_block.so"
    assert t("site-packages/tzdata/__init__.py") == sp / "tzdata/__init__.py"
    assert t("lib/liblz4.so") == dso / "liblz4.so"
    assert t("lib/pkgconfig/liblz4.pc") == prefix / "lib/pkgconfig/liblz4.pc"
    assert t("include/lz4.h") == prefix / "include/lz4.h"
    assert t("etc/conda/test-files/lz4/1/tests/x.py") is None and t("../evil") is None and t("/abs") is None
    # a package tar: files placed, the lib/ library listed before the extension that needs it
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("lib/python3.14/site-packages/lz4/_block.cpython-314-wasm32-emscripten.so", b"\0asm"),
                           ("lib/python3.14/site-packages/lz4/__init__.py", b"x = 1\n"),
                           ("lib/liblz4.so.1.9", b"\0asm")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("lib/liblz4.so")
        link.type, link.linkname = tarfile.SYMTYPE, "liblz4.so.1.9"
        tf.addfile(link)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tf:
        placed = ck.place(tf, sp, dso, prefix)
    assert (sp / "lz4/__init__.py").read_text() == "x = 1\n" and os.readlink(dso / "liblz4.so") == "liblz4.so.1.9"
    assert placed.dynlibs == [dso / "liblz4.so.1.9", sp / "lz4/_block.cpython-314-wasm32-emscripten.so"]
    # the cell transform: only %conda / %mamba lines, indentation kept
    lines = asyncio.run(ck.transform(["%conda install markupsafe\n", "  %mamba install -y lz4\n", "x = '%conda'\n"]))
    assert lines == [f"await __import__({ck.__name__!r}).magic('install markupsafe', 'conda')\n",
                     f"  await __import__({ck.__name__!r}).magic('install -y lz4', 'mamba')\n", "x = '%conda'\n"]


UNPACK = """
import sys, importlib
sys.path.insert(0, "/forge")
import forge_lite_conda as f
placed = []
for path, name, version, build, sha in {records!r}:
    rec = f.Record(name, version, build, "http://site/static/conda/emscripten-wasm32/" + path.rsplit("/", 1)[-1], sha)
    placed.append(f.unpack(open(path, "rb").read(), rec, sha))
await f.load_dynlibs(placed)
importlib.invalidate_caches()
import markupsafe, markupsafe._speedups, lz4.block
ok = markupsafe._escape_inner is markupsafe._speedups._escape_inner
data = b"forge " * 100
have = f.installed()
(str(markupsafe.escape("<a>")), ok, lz4.block.decompress(lz4.block.compress(data)) == data,
 [str(p) for pl in placed for p in pl.dynlibs], have.get("markupsafe"), have.get("liblz4"))
"""


def test_unpack_and_load_in_pyodide(lite_channel: Path, compiled_probe: bool) -> None:
    """Real .conda files in real Pyodide (node): placed, side modules loaded, C code runs;
    lz4's extensions link against liblz4's lib/liblz4.so, loaded first from /usr/lib."""
    if not compiled_probe:
        pytest.skip("the channel holds no cross-built package (needs the build root)")
    repodata = json.loads((lite_channel / "emscripten-wasm32" / "repodata.json").read_text())["packages.conda"]
    files, records = {}, []
    for fn, r in repodata.items():
        if r["name"] in ("markupsafe", "lz4", "liblz4"):
            files[f"/pkgs/{fn}"] = lite_channel / "emscripten-wasm32" / fn
            records.append((f"/pkgs/{fn}", r["name"], r["version"], r["build"], r["sha256"]))
    files["/forge/forge_lite_conda.py"] = Path(ck.__file__)
    run = run_in_pyodide(UNPACK.format(records=sorted(records, key=lambda x: x[1])), files)
    assert run.result.startswith("('&lt;a&gt;', True, True, ["), run.result
    assert "'/usr/lib/liblz4.so'" in run.result and run.result.index("/usr/lib/liblz4.so") < run.result.index(
        "_block.cpython-314"), run.result
    assert run.result.endswith("'3.0.4', '1.9.4')"), run.result  # dist-info / conda-meta: both seen as installed


def test_conda_install_in_chromium(conda_site, compiled_probe: bool, browser_ready: None, tmp_path: Path) -> None:
    """`%conda install markupsafe`, then its C extension, in one cell; nothing leaves 127.0.0.1."""
    if not compiled_probe:
        pytest.skip("the channel holds no cross-built package (needs the build root)")
    with serving(conda_site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=install.ipynb", EXPECT,
                           screenshot=tmp_path / "conda.png", timeout=300)
    assert run.ok, (run.error, run.output, run.console[-20:], run.page_errors)
    assert EXPECT in run.output and "Traceback" not in run.output
    assert "already in the kernel: pyodide-abi, python" in run.output, run.output  # never reinstalled
    assert run.offsite == [] and run.hosts() == {"127.0.0.1"}, run.offsite
    got = [r["url"].split("?")[0] for r in run.requests if r.get("status") == 200]
    assert any("/static/conda/solver/rattler.mjs" in u for u in got)
    assert any("/static/conda/emscripten-wasm32/repodata.json" in u for u in got)
    conda_files = {u.rsplit("/", 1)[-1] for u in got if u.endswith(".conda")}
    assert len(conda_files) == 1 and next(iter(conda_files)).startswith("markupsafe-3.0.4-"), conda_files
    assert not any("/static/pyodide/markupsafe" in u for u in got), "markupsafe came from the lock"
    print(f"conda install cell {run.timings.get('first_cell_ms')} ms; output: {run.output!r}")


def test_an_unknown_package_is_one_sentence(conda_site, browser_ready: None) -> None:
    with serving(conda_site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=unknown.ipynb", "no package named", timeout=300)
    assert run.ok, (run.error, run.output, run.page_errors)
    assert run.output.strip() == SENTENCE, run.output
    assert run.offsite == []


PIP = """\
%pip install markupsafe
import importlib
m = importlib.import_module('markupsafe')
print('forge-pip:', m.escape('<b>'), m.__file__.startswith('/lib/python3.14/site-packages/'))
"""


def test_pip_install_from_the_view_still_works(tmp_path_factory: pytest.TempPathFactory, lite_channel: Path,
                                               compiled_probe: bool, browser_ready: None) -> None:
    """With --conda (and no environment file, so the lock holds markupsafe), `%pip install` still
    goes through piplite to the view's wheel; the %conda transform leaves the line alone."""
    if not compiled_probe:
        pytest.skip("the channel holds no cross-built package (needs the build root)")
    files = tmp_path_factory.mktemp("pip-files")
    (files / "pip.ipynb").write_text(json.dumps(notebook_json(PIP)))
    site = build_site(lite_channel, tmp_path_factory.mktemp("pip-site") / "site", conda=True, contents=(files,),
                      refresh_view=False)
    with serving(site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=pip.ipynb", "forge-pip:", timeout=300)
    assert run.ok, (run.error, run.output, run.page_errors)
    assert "forge-pip: &lt;b&gt; True" in run.output and "Traceback" not in run.output, run.output
    got = [r["url"].split("?")[0] for r in run.requests if r.get("status") == 200]
    assert any("/static/pyodide/markupsafe-" in u and u.endswith(".whl") for u in got)
    assert not any(u.endswith(".conda") for u in got) and run.offsite == []

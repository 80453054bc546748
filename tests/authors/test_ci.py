"""`forge wheel`, `forge ci` (wheel + tests in wasm) and `forge publish` on sample projects made
here: a pure one, a C extension on numpy's C API, and a tiny C extension uploaded to a real
pypiserver and installed back into a `forge venv` with `pip install --index-url`."""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from forge.errors import ForgeError
from tests.support.testlib import forge_cli

from tests.support.samples import numpy_c_project, pure_project, pyproject, write_project


def test_forge_ci_pure_project(authors_channel: Path, wasm_venv, pypi_server: str, tmp_path: Path) -> None:
    """The CLI end to end: py3-none-any wheel, venv, pip install wheel[test] (six from the index),
    pytest in wasm, upload (tests passed); exit 0 and a markdown summary (also into
    $GITHUB_STEP_SUMMARY); `forge wasm-test` exits with pytest's status."""
    proj = pure_project(tmp_path / "purepkg")
    summary = tmp_path / "summary.md"
    step = tmp_path / "step-summary.md"
    r = forge_cli("ci", str(proj), "-c", str(authors_channel), "--summary", str(summary), "--publish-url",
                  f"{pypi_server}/", timeout=900, TWINE_USERNAME="u", TWINE_PASSWORD="p", GITHUB_STEP_SUMMARY=str(step))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (proj / "dist" / "purepkg-0.1.0-py3-none-any.whl").is_file()
    assert "2 passed" in r.stdout
    text = summary.read_text()
    assert text.startswith("### forge ci: purepkg passed")
    for phase in ("| build | `purepkg-0.1.0-py3-none-any.whl` (pure) |", "| venv |", "| install |", "| tests | pytest exit 0 |",
                  f"| publish | 1 file(s) to {pypi_server}/ |"):
        assert phase in text, text
    assert step.read_text() == text
    (proj / "tests" / "test_fails.py").write_text("def test_fails():\n    assert 1 == 2\n")
    r = forge_cli("wasm-test", str(proj / "dist" / "purepkg-0.1.0-py3-none-any.whl"), "--project", str(proj),
                  "--venv", str(wasm_venv.path), "--pytest-args", "-q tests", "-c", str(authors_channel))
    assert r.returncode == 1 and "1 failed, 2 passed" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]


def test_forge_ci_numpy_c_extension(numpy_channel: Path, tmp_path: Path) -> None:
    """A setuptools C extension on numpy's C API: compiled against the channel's wasm32 numpy
    (sizeof(npy_intp) == 4), a PEP 783 wheel, tested in wasm with numpy from the channel's view."""
    from forge.authors.ci import run_ci
    from forge.config import ForgeConfig

    proj = numpy_c_project(tmp_path / "cnumsum")
    cfg = ForgeConfig.load(channel_dir=numpy_channel, state_dir=tmp_path / "state")
    report = run_ci(proj, [str(numpy_channel)], cfg, pytest_args=["-v", "tests"])
    assert report.error == "" and report.exit_code == 0, report.markdown()
    assert report.wheel.name == "cnumsum-0.1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    assert "2 passed" in report.tests.output_tail
    with zipfile.ZipFile(report.wheel) as zf:
        assert "cnumsum/_csum.cpython-314-wasm32-emscripten.so" in zf.namelist()
    assert set(report.phases) == {"build", "venv", "install", "tests"}


def test_publish_to_a_real_index_and_install_back(authors_channel: Path, pypi_server: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """forge wheel (a tiny C extension, from its sdist) -> forge publish (twine) -> pypiserver -> pip install
    --index-url in a forge venv; a re-upload, a wrong tag and a missing file are one sentence each."""
    from forge.authors.publish import publish
    from forge.authors.venv import create_venv
    from forge.authors.wheel import build_wheel
    from forge.config import ForgeConfig

    proj = write_project(tmp_path / "ctiny", {
        "pyproject.toml": pyproject("forge-ctiny", "0.3.0", "A tiny C extension", test_extra=False),
        "README.md": "# forge-ctiny\n",
        "setup.py": """
            from setuptools import Extension, setup
            setup(packages=["ctiny"], ext_modules=[Extension("ctiny._c", ["ctiny/_c.c"])])
            """,
        "ctiny/__init__.py": "from ._c import triple\n",
        "ctiny/_c.c": """
            #include <Python.h>
            static PyObject *triple(PyObject *s, PyObject *a) { return PyLong_FromLong(3 * PyLong_AsLong(a)); }
            static PyMethodDef m[] = {{"triple", triple, METH_O, ""}, {NULL, NULL, 0, NULL}};
            static struct PyModuleDef d = {PyModuleDef_HEAD_INIT, "_c", NULL, -1, m};
            PyMODINIT_FUNC PyInit__c(void) { return PyModule_Create(&d); }
            """,
    })
    sdist = tmp_path / "forge_ctiny-0.3.0.tar.gz"  # `forge wheel` takes an sdist as well as a folder
    with tarfile.open(sdist, "w:gz") as tf:
        tf.add(proj, arcname="forge_ctiny-0.3.0")
    cfg = ForgeConfig.load(channel_dir=authors_channel, state_dir=tmp_path / "state")
    built = build_wheel(sdist, tmp_path / "dist", [str(authors_channel)], cfg)
    whl = built.wheel
    assert whl.name == "forge_ctiny-0.3.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl" and not built.pure

    r = forge_cli("publish", str(whl), "--repository-url", f"{pypi_server}/", TWINE_USERNAME="u", TWINE_PASSWORD="p")
    assert r.returncode == 0 and f"uploaded {whl.name}" in r.stdout, r.stdout + r.stderr

    venv = create_venv(tmp_path / "v", [str(authors_channel)])
    r = venv.run("-m", "pip", "install", "--index-url", f"{pypi_server}/simple/", "forge-ctiny", cwd=tmp_path)
    assert r.returncode == 0 and "Successfully installed forge-ctiny-0.3.0" in r.stdout, r.stdout + r.stderr
    r = venv.run("-c", "import ctiny; print(ctiny.triple(14))", cwd=tmp_path)
    assert (r.returncode, r.stdout.strip()) == (0, "42"), r.stderr

    # no credentials: said before anything is sent
    monkeypatch.delenv("TWINE_USERNAME", raising=False)
    monkeypatch.delenv("TWINE_PASSWORD", raising=False)
    with pytest.raises(ForgeError, match=r"^twine has no username or password for http://127.0.0.1:\d+/, so nothing"):
        publish([whl], repository_url=f"{pypi_server}/")
    # the same file again: pypiserver refuses it (400, "already exists"), and the sentence says so
    monkeypatch.setenv("TWINE_USERNAME", "u")
    monkeypatch.setenv("TWINE_PASSWORD", "p")
    with pytest.raises(ForgeError) as info:
        publish([whl], repository_url=f"{pypi_server}/")
    msg = str(info.value)
    assert msg.startswith(f"the index {pypi_server}/ refused the upload of {whl.name} (400 Bad Request") and "\n" not in msg, msg
    # a wheel for another platform is refused before any upload
    wrong = tmp_path / whl.name.replace("pyemscripten_2026_0_wasm32", "manylinux_2_17_x86_64")
    shutil.copyfile(whl, wrong)
    with pytest.raises(ForgeError, match=r"is tagged cp314-cp314-manylinux_2_17_x86_64, not cp314-cp314-pyemscripten_2026_0_wasm32"):
        publish([wrong], repository_url=f"{pypi_server}/")
    r = forge_cli("publish", str(tmp_path / "missing.whl"), "--repository-url", f"{pypi_server}/")
    assert r.returncode == 1 and f"{tmp_path / 'missing.whl'} does not exist; build it first" in r.stderr, r.stderr


def test_publish_conda_packages_to_a_channel(authors_channel: Path, tmp_path: Path) -> None:
    """`forge publish PKG.conda --channel DIR`: the package lands in its subdir and is indexed;
    without --channel it is one sentence."""
    import json

    pkgs = [next((authors_channel / "noarch").glob("iniconfig-*.conda")),
            next((authors_channel / "emscripten-wasm32").glob("pyodide-abi-*.conda"))]
    dest = tmp_path / "mychannel"
    r = forge_cli("publish", *map(str, pkgs), "--channel", str(dest))
    assert r.returncode == 0, r.stderr
    for pkg in pkgs:
        subdir = pkg.parent.name
        assert (dest / subdir / pkg.name).is_file()
        listed = json.loads((dest / subdir / "repodata.json").read_text())["packages.conda"]
        assert pkg.name in listed, listed
    r = forge_cli("publish", str(pkgs[0]))
    assert r.returncode == 1 and f"{pkgs[0].name} is a conda package but no channel was given; pass --channel DIR" in r.stderr


def test_github_actions_workflow_calls_forge_ci() -> None:
    """docs/ci/github-actions.yml is valid YAML and runs the commands the docs describe."""
    from ruamel.yaml import YAML

    from tests.support.testlib import REPO

    wf = YAML(typ="safe").load((REPO / "docs" / "ci" / "github-actions.yml").read_text())
    runs = "\n".join(step.get("run", "") for step in wf["jobs"]["wasm"]["steps"])
    for needed in ('pip" install -q ./wasm-forge', 'forge" toolchain', 'forge" ci . "${publish[@]}"', "--repository pypi"):
        assert needed in runs, needed

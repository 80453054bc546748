"""The view of a real channel: lock, wheels, all.json, incremental and atomic updates."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from forge.channel import Channel
from forge.pyodide_view import publish_view
from forge.pyodide_view.runtime import pyodide_lock
from forge.toolchain.target import PLATFORM_TAG, PYODIDE_VERSION

FIELDS = {"name", "version", "file_name", "install_dir", "sha256", "package_type", "imports",
          "depends", "unvendored_tests", "tool"}


def _lock(view: Path) -> dict:
    return json.loads((view / "pyodide-lock.json").read_text())


def test_lock_info_is_the_pinned_pyodide(view_dir: Path) -> None:
    info = _lock(view_dir)["info"]
    own = pyodide_lock()["info"]
    assert {k: info[k] for k in own} == own
    assert info["version"] == PYODIDE_VERSION and info["abi_version"] == PLATFORM_TAG.split("_", 1)[1][:6]
    assert info["platform"] == "emscripten_5_0_3" and info["python"] == "3.14.2"


def test_every_entry_is_local_and_hashed(view_dir: Path) -> None:
    packages = _lock(view_dir)["packages"]
    for name in ("pytest", "pluggy", "iniconfig", "packaging", "pygments", "python-dateutil", "micropip"):
        assert name in packages
    for key, e in packages.items():
        assert set(e) == FIELDS, key
        assert "/" not in e["file_name"] and "://" not in e["file_name"]
        data = (view_dir / e["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"]
        assert (e["package_type"], e["install_dir"]) == ("package", "site")
        assert e["file_name"].endswith("-py3-none-any.whl")
        assert all(d in packages for d in e["depends"])
    assert set(packages["pytest"]["depends"]) == {"iniconfig", "packaging", "pluggy", "pygments"}
    assert packages["pytest"]["imports"][:2] == ["_pytest", "py"] and "pytest" in packages["pytest"]["imports"]
    assert packages["attrs"]["imports"] == ["attr", "attrs"]
    assert packages["pytest"]["tool"]["wasm-forge"]["conda"].startswith("noarch/pytest-")


def test_wheel_dist_info(view_dir: Path, channel_dir: Path) -> None:
    e = _lock(view_dir)["packages"]["pytest"]
    zf = zipfile.ZipFile(view_dir / e["file_name"])
    di = next(n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/WHEEL"))
    wheel = zf.read(f"{di}/WHEEL").decode()
    assert "Tag: py3-none-any" in wheel and "Root-Is-Purelib: true" in wheel
    meta = zf.read(f"{di}/METADATA").decode().split("\n\n", 1)[0]
    reqs = sorted(line.split(": ", 1)[1] for line in meta.splitlines()
                  if line.startswith("Requires-Dist") and "extra ==" not in line)
    conda = next(r for r in Channel(channel_dir).records("noarch") if r.name == "pytest")
    assert reqs == sorted(d.replace(" ", "") for d in conda.depends if not d.startswith("python "))
    assert not any(n.endswith(("INSTALLER", "REQUESTED", "direct_url.json")) for n in zf.namelist())
    assert "[console_scripts]" in zf.read(f"{di}/entry_points.txt").decode()
    rows = list(csv.reader(io.StringIO(zf.read(f"{di}/RECORD").decode())))
    assert {r[0] for r in rows} == set(zf.namelist())
    for path, digest, size in rows:
        if path.endswith("RECORD"):
            assert digest == size == ""
            continue
        data = zf.read(path)
        want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert (digest, int(size)) == (want, len(data))


@pytest.mark.skipif(shutil.which("twine") is None and
                    subprocess.run([sys.executable, "-m", "twine", "--version"], capture_output=True).returncode,
                    reason="twine not installed (pip install twine)")
def test_wheels_pass_twine_check(view_dir: Path) -> None:
    wheels = sorted(str(p) for p in view_dir.glob("*.whl"))
    res = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *wheels],
                         capture_output=True, text=True)
    # --strict fails on "long_description_content_type missing" (an upstream METADATA gap); plain must pass
    if res.returncode:
        res = subprocess.run([sys.executable, "-m", "twine", "check", *wheels], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("PASSED") == len(wheels)


def test_piplite_index_matches_wheels(view_dir: Path) -> None:
    index = json.loads((view_dir / "all.json").read_text())
    lock = _lock(view_dir)["packages"]
    assert set(index) == set(lock)
    for name, project in index.items():
        (version, files), = project["releases"].items()
        (rel,) = files
        assert version == lock[name]["version"]
        assert rel["url"] == "./" + rel["filename"] == "./" + lock[name]["file_name"]
        assert rel["digests"]["sha256"] == lock[name]["sha256"] and rel["packagetype"] == "bdist_wheel"
        assert rel["size"] == (view_dir / rel["filename"]).stat().st_size
    assert index["pytest"]["releases"]["9.2.0"][0]["requires_python"] == ">=3.10"


def test_piplite_index_validates_against_piplite_schema(view_dir: Path, piplite_wheel_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((piplite_wheel_dir / "piplite.v0.schema.json").read_text())
    jsonschema.validate(json.loads((view_dir / "all.json").read_text()), schema,
                        format_checker=jsonschema.FormatChecker())


def _copy_channel(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("pyodide", ".index-*"))
    return dst


def test_incremental_and_removal(channel_dir: Path, view_report, tmp_path: Path) -> None:
    ch = _copy_channel(channel_dir, tmp_path / "ch")
    first = publish_view(ch)
    assert first.built and not first.reused
    again = publish_view(ch)
    assert again.built == [] and sorted(again.reused) == sorted(first.built)
    assert again.seconds < first.seconds
    before = (ch / "pyodide" / "pyodide-lock.json").read_bytes()
    assert publish_view(ch).built == [] and (ch / "pyodide" / "pyodide-lock.json").read_bytes() == before
    # drop a package from the channel (`forge index` skips the pyodide/ folder): its wheel
    # leaves the view, nothing else is rebuilt
    for f in (ch / "noarch").glob("six-*.conda"):
        f.unlink()
    Channel(ch).reindex()
    after = publish_view(ch)
    assert after.built == [] and any(f.startswith("six-") for f in after.removed)
    assert "six" not in _lock(ch / "pyodide")["packages"]
    assert not list((ch / "pyodide").glob("six-*.whl"))


def test_a_changed_package_is_the_only_one_rebuilt(channel_dir: Path, tmp_path: Path) -> None:
    ch = _copy_channel(channel_dir, tmp_path / "ch")
    publish_view(ch)
    state = json.loads((ch / "pyodide" / ".forge-view.json").read_text())
    sha = next(k for k, v in state["packages"].items() if v["name"] == "iniconfig")
    del state["packages"][sha]  # as if iniconfig's conda file had a new sha256
    (ch / "pyodide" / ".forge-view.json").write_text(json.dumps(state))
    assert publish_view(ch).built == ["iniconfig"]


def test_concurrent_publishers_leave_a_consistent_view(channel_dir: Path, tmp_path: Path) -> None:
    ch = _copy_channel(channel_dir, tmp_path / "ch")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            publish_view(ch)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    view = ch / "pyodide"
    assert not list(view.glob(".partial-*")) and not list(view.glob(".work-*"))
    for e in _lock(view)["packages"].values():
        assert hashlib.sha256((view / e["file_name"]).read_bytes()).hexdigest() == e["sha256"]


def test_view_is_reproducible(channel_dir: Path, view_dir: Path, tmp_path: Path) -> None:
    ch = _copy_channel(channel_dir, tmp_path / "ch")
    publish_view(ch)
    assert (ch / "pyodide" / "pyodide-lock.json").read_text() == (view_dir / "pyodide-lock.json").read_text()

"""`forge report`: the channel's breadth page from real channels (here, with the wasm group:
it shares the cross-built channel of tests/platform, tests/pyodide_view and tests/lite).

- the tiny noarch: generic packages (tests/conftest.py's tiny_channel): rows, sizes, kinds,
  no view, and the CLI;
- the cross-built channel tests/platform, tests/pyodide_view and tests/lite share
  (forge_testlib.wasm_build: python, pytest and its dependencies, markupsafe, cymem, ujson,
  memory-allocator, liblz4, lz4): compiled packages and a shared library told apart by their
  files, the upstream tests markupsafe's build passed in wasm (its pytest summary, recorded
  by the publisher beside the package), every view package imported in npm Pyodide, and the
  page and its REPL link opened in headless Chromium with screenshots kept in the test's tmp dir.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from forge.channel import Channel, wasm_record_name
from forge.report import INDEX_HTML, INDEX_JSON, REPL_HTML, collect, write_report
from forge.wasmtest import pytest_passed
from tests.support.testlib import forge_cli, wasm_build


def test_pytest_summary_lines() -> None:
    assert pytest_passed("....\n160 passed in 3.20s\n") == 160
    assert pytest_passed("===== 1 failed, 12 passed, 2 skipped in 0.50s =====") == 12
    assert pytest_passed("12 passed, 3 deselected in 1.00s (0:00:01)") == 12
    assert pytest_passed("3 passed in 1s\n...\n5 passed in 2.00s") == 5  # the last summary counts
    assert pytest_passed("no tests ran in 0.01s") is None
    assert pytest_passed("imported: 5 passed") is None


def test_tiny_channel_report(tiny_channel, tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    shutil.copytree(tiny_channel.channel, channel)
    report = write_report(channel)
    data = json.loads((channel / INDEX_JSON).read_text())
    assert data == report.to_dict()
    rows = {p["name"]: p for p in data["packages"]}
    assert sorted(rows) == [f"tiny{i}" for i in range(8)]
    for name, row in rows.items():
        pkg = channel / row["file"]
        assert row["kind"] == "noarch" and row["subdir"] == "noarch" and row["version"] == "1.0"
        assert row["size"] == pkg.stat().st_size
        # built by this session's forge: the wasm test record is there (no tests: nothing passed)
        assert row["wasm_checks"] == [] and row["upstream_tests_passed"] is None
        assert (channel / "noarch" / wasm_record_name(pkg.name)).is_file()
        assert row["in_pyodide_view"] is False and row["repl"] is None  # generic: nothing for Pyodide
    assert data["counts"]["packages"] == 8 and data["counts"]["noarch"] == 8
    page = (channel / INDEX_HTML).read_text()
    assert all(f'data-name="tiny{i}"' in page for i in range(8))
    assert (channel / REPL_HTML).is_file()
    # the CLI: same files, the JSON on stdout
    (channel / INDEX_JSON).unlink()
    proc = forge_cli("report", "--channel", str(channel), "--json")
    assert proc.returncode == 0, proc.stderr
    assert [p["name"] for p in json.loads(proc.stdout)["packages"]] == sorted(rows)
    assert (channel / INDEX_JSON).is_file()
    proc = forge_cli("report", "--channel", str(tmp_path / "nothing"))
    assert proc.returncode == 1 and "is not a channel" in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def wasm_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A copy of the cross-built channel with its Pyodide view (runtime files included, so the
    REPL loads from it) and the report, import check included."""
    from forge.pyodide_view import publish_view  # noqa: PLC0415

    source = wasm_build(tmp_path_factory)[0].channel_dir
    channel = tmp_path_factory.mktemp("report") / "channel"
    for sd in ("noarch", "emscripten-wasm32"):
        (channel / sd).mkdir(parents=True)
        for f in (source / sd).iterdir():
            if f.suffix == ".conda" or f.name.endswith(".tests.json"):
                shutil.copy2(f, channel / sd / f.name)
    Channel(channel).reindex()
    publish_view(channel)
    write_report(channel, check=True)
    return channel, json.loads((channel / INDEX_JSON).read_text())


def tmp_path_factory_dir(channel: Path) -> Path:
    """A scratch folder beside the report's channel (the module's own temp dir)."""
    out = channel.parent / "unpacked"
    out.mkdir(exist_ok=True)
    return out


def test_kinds_tests_and_pyodide(wasm_report) -> None:
    channel, data = wasm_report
    rows = {p["name"]: p for p in data["packages"]}
    # kinds from the files: side modules under site-packages; lib/*.so; pure Python; the runtime
    assert rows["markupsafe"]["kind"] == "compiled" and rows["ujson"]["kind"] == "compiled"
    assert rows["lz4"]["kind"] == "compiled"
    assert rows["liblz4"]["kind"] == "shared library"
    assert rows["pytest"]["kind"] == "noarch" and rows["pluggy"]["kind"] == "noarch"
    assert rows["python"]["kind"] == "other"
    # markupsafe's recipe runs its upstream suite with pytest in wasm, from its markupsafe-tests
    # output (the runtime package carries no test files): the count is recorded there
    record = json.loads((channel / rows["markupsafe-tests"]["file"]).with_name(
        wasm_record_name(Path(rows["markupsafe-tests"]["file"]).name)).read_text())
    assert record["upstream_passed"] == rows["markupsafe-tests"]["upstream_tests_passed"]
    assert rows["markupsafe-tests"]["upstream_tests_passed"] > 50, rows["markupsafe-tests"]
    assert "0:imports" in rows["markupsafe"]["wasm_checks"]
    assert rows["pytest"]["upstream_tests_passed"] is None  # imports only
    assert data["counts"]["upstream_tests_passed"] >= rows["markupsafe-tests"]["upstream_tests_passed"]
    # in unmodified npm Pyodide: every Python package of the view imports
    for name in ("markupsafe", "ujson", "lz4", "cymem", "pytest", "pluggy"):
        assert rows[name]["in_pyodide_view"] and rows[name]["imports_in_pyodide"] is True, rows[name]
        assert rows[name]["repl"] == f"{REPL_HTML}?package={rows[name]['lock_key']}"
    assert rows["liblz4"]["in_pyodide_view"] and rows["python"]["in_pyodide_view"] is False
    # sizes: each package's .conda against its wheel in the view, and the test files it packs
    # (markupsafe's recipe runs its upstream tests from `files:`, which rattler-build packs)
    from rattler.package_streaming import extract

    for name in ("markupsafe", "pytest", "liblz4"):
        wheel = channel / "pyodide" / next(e["file_name"] for k, e in json.loads(
            (channel / "pyodide" / "pyodide-lock.json").read_text())["packages"].items() if k == rows[name]["lock_key"])
        assert rows[name]["view_size"] == wheel.stat().st_size
        assert rows[name]["ratio"] == round(rows[name]["size"] / wheel.stat().st_size, 2)
    unpacked = tmp_path_factory_dir(channel) / "markupsafe-tests"
    extract(channel / rows["markupsafe-tests"]["file"], unpacked)
    payload = sum(f.stat().st_size for f in (unpacked / "etc" / "conda" / "test-files").rglob("*") if f.is_file())
    assert payload > 0 and rows["markupsafe-tests"]["test_payload"] == payload
    assert rows["markupsafe"]["test_payload"] == 0 and not rows["markupsafe-tests"]["in_pyodide_view"]
    # size verdicts: conda's metadata (the info-*.tar.zst member) measured; liblz4's headers are
    # its recipe's stated reason (extra: size-note); nothing over the target without one
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(channel / rows["markupsafe"]["file"]) as zf:
        meta = sum(i.compress_size for i in zf.infolist() if i.filename.startswith("info-"))
    assert rows["markupsafe"]["meta_size"] == meta > 0
    assert rows["markupsafe"]["payload_ratio"] == round((rows["markupsafe"]["size"] - meta) / rows["markupsafe"]["view_size"], 2)
    assert rows["liblz4"]["size_note"].startswith("its headers and pkg-config file")
    assert rows["liblz4"]["size_verdict"] in ("ok", "metadata", "explained"), rows["liblz4"]
    for name, row in rows.items():
        want = ("-" if row["ratio"] is None else "ok" if row["ratio"] <= 1.15 else
                "metadata" if row["payload_ratio"] <= 1.15 else "explained" if row["size_note"] else "over")
        assert row["size_verdict"] == want, (name, row)
    assert data["size_target"] == {"ratio": 1.15, "over": sorted(n for n, r in rows.items() if r["size_verdict"] == "over")}
    assert rows["python"]["view_size"] is None and rows["python"]["ratio"] is None
    assert data["bytes"] == {"conda": sum(r["size"] for r in rows.values()),
                             "view": sum(r["view_size"] or 0 for r in rows.values()),
                             "test_payload": sum(r["test_payload"] for r in rows.values())}
    page = (channel / INDEX_HTML).read_text()
    assert 'id="bytes"' in page and "test files (unpacked)" in page and "size (target 1.15x)" in page
    assert f"Over 1.15x their wheel with no reason given:\n{len(data['size_target']['over'])}" in page
    # a refresh without the check keeps the answers (same wheels)
    again = collect(channel)
    assert {p.name: p.imports_in_pyodide for p in again.packages} == {n: r["imports_in_pyodide"] for n, r in rows.items()}


def test_page_and_repl_in_chromium(wasm_report, tmp_path: Path) -> None:
    from forge.serve import serving  # noqa: PLC0415
    from tests.support.pagecheck import open_page  # noqa: PLC0415

    channel, data = wasm_report
    with serving(channel) as base:
        page = open_page(f"{base}/{INDEX_HTML}", "#packages", "markupsafe", screenshot=tmp_path / "index.png",
                         full_page=True)
        assert page.ok, (page.error, page.console)
        assert page.screenshot and page.screenshot.stat().st_size > 10_000
        assert not page.offsite, page.offsite
        for row in data["packages"]:
            assert row["name"] in page.text
        # the page's link for markupsafe: Pyodide from the channel, the package from its view
        repl = next(p["repl"] for p in data["packages"] if p["name"] == "markupsafe")
        run = open_page(f"{base}/{repl}", "#status", "^(ready|failed)", screenshot=tmp_path / "repl.png")
    assert run.ok and run.text.startswith("ready: markupsafe imported"), (run.text, run.error, run.console[-10:])
    assert not run.offsite, run.offsite
    assert any(r["url"].endswith(".whl") and "markupsafe" in r["url"].lower() for r in run.requests)

"""matplotlib from the channel: its compiled chain (FreeType, Qhull and libjpeg-turbo side modules
from Debian's upstream tarballs, zlib from Pyodide's main module, Pillow, kiwisolver, contourpy) built on the
session's cold numpy channel with `forge.api.build`, then a figure rendered to PNG with the Agg
backend in wasm: under python-wasm in a conda prefix, and by Pyodide from the channel's view."""

from __future__ import annotations

import base64
import struct
import subprocess
from pathlib import Path

import pytest

from forge import api
from tests.support.samples import MPL_FIGURE_CELL

# the first test's fixtures build numpy cold and then the whole chain: far past the default 900 s
pytestmark = pytest.mark.timeout(3600)

CHAIN = ["freetype", "qhull", "zlib", "libjpeg-turbo", "pillow", "kiwisolver", "contourpy", "matplotlib"]

DRAW = """
import base64, io, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt, numpy as np
fig, (a, b) = plt.subplots(1, 2, figsize=(6, 3), dpi=80)
a.plot(np.linspace(0, 6, 50), np.sin(np.linspace(0, 6, 50)), label="sin")
a.legend(); a.set_title("line")
b.imshow(np.outer(np.arange(16.0), np.arange(16.0)), cmap="viridis"); b.set_title("image")
buf = io.BytesIO(); fig.savefig(buf, format="png")
"""


@pytest.fixture(scope="session")
def mpl_channel(numpy_channel) -> api.BuildReport:  # noqa: ANN001
    report = api.build(["matplotlib"], numpy_channel.config, jobs=2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status not in ("built", "present")}
    return report


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.recipes("matplotlib")
def test_chain_built_and_tested_in_wasm(numpy_channel, mpl_channel) -> None:  # noqa: ANN001
    for name in CHAIN:
        res = mpl_channel.results[name]
        assert res.status == "built", (name, res.status, res.error)
        log = Path(res.log).read_text(errors="replace")
        assert f"== wasm tests of {name}-" in log, name
    # FreeType, Qhull and libjpeg-turbo are shared side modules matplotlib and Pillow link, not copies inside them
    assert all(numpy_channel.package(n).exists() for n in ("freetype", "qhull", "libjpeg-turbo"))


@pytest.mark.recipes("matplotlib")
def test_figure_renders_png_under_python_wasm(numpy_channel, mpl_channel, tmp_path: Path) -> None:  # noqa: ANN001
    from forge.envs import create_env

    prefix = tmp_path / "env"
    create_env(prefix, [numpy_channel.channel.as_uri()], ["matplotlib"])
    code = DRAW + "print('PNG=' + base64.b64encode(buf.getvalue()).decode())"
    res = subprocess.run([str(prefix / "bin" / "python-wasm"), "-c", code], capture_output=True, text=True,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    data = base64.b64decode(res.stdout.split("PNG=", 1)[1].split()[0])
    (tmp_path / "figure.png").write_bytes(data)
    assert _png_size(data) == (480, 240)
    assert len(data) > 10_000, len(data)  # a plot and an image, not a blank canvas


@pytest.mark.recipes("matplotlib")
def test_pyodide_draws_from_the_channel_view(numpy_channel, mpl_channel) -> None:  # noqa: ANN001
    from forge.toolchain.pyodide_node import run_in_pyodide

    code = DRAW + "base64.b64encode(buf.getvalue()).decode()"
    run = run_in_pyodide(code, view_dir=numpy_channel.channel / "pyodide", packages=["matplotlib"])
    data = base64.b64decode(run.result)
    assert _png_size(data) == (480, 240) and len(data) > 10_000, len(data)
    assert {"matplotlib", "pillow", "kiwisolver", "contourpy"} <= set(run.loaded), run.loaded


#: The JupyterLite kernel's start-up packages (tests/lite) and the inline backend.
KERNEL = ["micropip", "comm", "jedi", "ipython", "python-dateutil", "matplotlib-inline"]

CELL = MPL_FIGURE_CELL


@pytest.mark.recipes("matplotlib")
def test_jupyterlite_cell_draws_a_png_figure_offline(numpy_channel, mpl_channel, tmp_path: Path) -> None:  # noqa: ANN001
    """`forge lite`'s site in headless Chromium: a notebook cell draws a line plot and an image,
    the figure appears as a PNG in the output, and no request leaves 127.0.0.1."""
    import json

    from forge.lite import build_site
    from tests.support.browser import check_browser, notebook_json, run_notebook
    from forge.serve import serving

    why = check_browser()
    if why:
        pytest.fail(f"the Chromium harness is not set up: {why}")
    report = api.build(KERNEL, numpy_channel.config, jobs=2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status not in ("built", "present")}
    files = tmp_path / "files"
    files.mkdir()
    (files / "mpl.ipynb").write_text(json.dumps(notebook_json(CELL)))
    site = build_site(numpy_channel.channel, tmp_path / "site", contents=(files,))
    shot = tmp_path / "mpl.png"
    with serving(site.output_dir) as base:
        run = run_notebook(f"{base}/notebooks/index.html?path=mpl.ipynb", "forge-mpl:", screenshot=shot, timeout=300)
    assert run.ok, (run.error, run.output, run.console[-30:], run.page_errors)
    pngs = [i for i in run.images if i["type"] == "image/png"]
    # the inline backend saves with bbox_inches="tight": a bit under 480 x 240 (424 x 218 measured)
    assert pngs and 300 < pngs[0]["width"] <= 480 and 150 < pngs[0]["height"] <= 240, run.images
    assert pngs[0]["bytes"] > 10_000, run.images
    assert run.offsite == [] and run.hosts() == {"127.0.0.1"}, (run.offsite, run.hosts())
    fetched = {r["url"].split("?")[0].rsplit("/", 1)[-1] for r in run.requests if r.get("status") == 200}
    for wheel in ("matplotlib-", "pillow-", "kiwisolver-", "contourpy-", "numpy-"):
        assert any(f.startswith(wheel) for f in fetched), (wheel, sorted(fetched))
    assert shot.is_file() and shot.stat().st_size > 10_000

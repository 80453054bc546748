"""`forge report`: the channel's breadth page, `<channel>/index.html` + `index.json`.

One row per package (the newest build of each name and subdir): version, kind decided from
the package's own files (`.so` side modules under site-packages: compiled; `lib/*.so`: a
shared library; else noarch, or `other` for the runtime's own packages), size, the upstream
tests that passed in wasm (the `<stem>.tests.json` record Channel.publish keeps beside each
package, written from the build's outcome, so farm builds have it too), whether it is in the
Pyodide view and imports in unmodified Pyodide (`check_imports`: every view package loaded
in npm Pyodide under node; the answers are kept per lock sha256 and reused), and a link that
opens it in `repl.html`, a Pyodide REPL served from the channel that loads the package from
the channel's own view. Static files, so `forge serve` serves them as they are; written
under the channel's lock like the view (Channel.refresh_view), and refreshed by every build.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from . import testpayload
from .channel import TESTS_SUFFIX, Channel, partial_path, wasm_record_name
from .errors import ForgeError

INDEX_HTML = "index.html"
INDEX_JSON = "index.json"
REPL_HTML = "repl.html"
VIEW_DIR = "pyodide"
LOCK_FILE = "pyodide-lock.json"
#: import checks in npm Pyodide, by the lock entry's sha256 (reused while the wheel is the same)
IMPORTS_FILE = ".forge-report-imports.json"
SUBDIRS = ("noarch", "emscripten-wasm32")
KINDS = ("noarch", "compiled", "shared library", "other")
FORMAT = 1
#: the most a .conda may weigh against its wheel in the view (issue 21): past it, its files cost
#: more than the wheel's and the recipe must say why (`extra: size-note:`)
RATIO_TARGET = 1.15


@dataclass
class PackageRow:
    """One package of the channel as the breadth page shows it."""

    name: str
    version: str
    build: str
    subdir: str
    file: str  # "<subdir>/<filename>"
    kind: str  # one of KINDS
    size: int  # the .conda file's bytes
    #: the bytes of its wheel in the Pyodide view (None: not in the view), and .conda / wheel
    view_size: int | None = None
    #: unpacked bytes under etc/conda/test-files (what rattler-build packs for `tests: files:`)
    test_payload: int = 0
    upstream_tests_passed: int | None = None  # pytest's "N passed" in wasm (None: no pytest run)
    wasm_checks: list[str] | None = None  # the wasm test steps that passed (None: no record)
    in_pyodide_view: bool = False
    lock_key: str | None = None
    imports: list[str] = field(default_factory=list)
    #: True/False: every import worked / failed in unmodified npm Pyodide; None: not checked
    imports_in_pyodide: bool | None = None
    import_error: str | None = None
    repl: str | None = None  # relative link to the channel's Pyodide REPL with this package loaded
    #: bytes of conda's own metadata in the .conda (its info-*.tar.zst: the recipe, the file list,
    #: about.json), which every conda package carries and a wheel does not
    meta_size: int = 0
    #: why the recipe lets its .conda be larger than its wheel (`extra: size-note:`, kept in
    #: about.json), e.g. a library's headers for the recipes that build against it
    size_note: str | None = None
    own_tests: int = 0  # bytes of the package's own tests/ folders under site-packages
    pyc_files: int = 0  # byte-code files shipped (the view and Pyodide ship sources)

    @property
    def ratio(self) -> float | None:
        """.conda bytes per wheel byte (None: no wheel in the view)."""
        return round(self.size / self.view_size, 2) if self.view_size else None

    @property
    def payload_ratio(self) -> float | None:
        """The ratio without conda's metadata: what the package's files cost against the wheel's."""
        return round((self.size - self.meta_size) / self.view_size, 2) if self.view_size else None

    @property
    def size_verdict(self) -> str:
        """"ok" (within RATIO_TARGET of its wheel), "metadata" (over it only by conda's metadata: a
        small package), "explained" (the recipe's size-note says why), "over", or "-" (no wheel)."""
        if self.ratio is None:
            return "-"
        if self.ratio <= RATIO_TARGET:
            return "ok"
        if self.payload_ratio is not None and self.payload_ratio <= RATIO_TARGET:
            return "metadata"
        return "explained" if self.size_note else "over"


@dataclass
class Report:
    """What write_report wrote."""

    channel: Path
    packages: list[PackageRow] = field(default_factory=list)
    generated: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        counts = {k: sum(p.kind == k for p in self.packages) for k in KINDS}
        return {"format": FORMAT, "generated": self.generated, "channel": str(self.channel),
                "counts": {"packages": len(self.packages), **counts,
                           "upstream_tests_passed": sum(p.upstream_tests_passed or 0 for p in self.packages)},
                "bytes": self.totals(),
                "size_target": {"ratio": RATIO_TARGET,
                                "over": sorted(p.name for p in self.packages if p.size_verdict == "over")},
                "packages": [{**asdict(p), "ratio": p.ratio, "payload_ratio": p.payload_ratio,
                              "size_verdict": p.size_verdict} for p in self.packages]}

    def totals(self) -> dict[str, int]:
        """The channel's bytes: its .conda files, their wheels in the view, their packed test files."""
        return {"conda": sum(p.size for p in self.packages),
                "view": sum(p.view_size or 0 for p in self.packages),
                "test_payload": sum(p.test_payload for p in self.packages)}


#: a package's own test suite installed with it (site-packages/<pkg>/**/tests/), and byte code
_OWN_TESTS = re.compile(r"site-packages/.*/tests?/")


def package_facts(package: Path, subdir: str) -> tuple[str, int]:
    """(kind, test payload bytes) from the files the package holds (its paths.json)."""
    kind, payload, _own, _pyc = package_contents(package, subdir)
    return kind, payload


def package_contents(package: Path, subdir: str) -> tuple[str, int, int, int]:
    """(kind, test payload bytes, bytes of its own tests/ folders, .pyc files) from its paths.json."""
    from rattler.package import PathsJson  # noqa: PLC0415  (slow import)

    entries = PathsJson.from_package_archive(package).paths
    rels = [(str(e.relative_path), e.size_in_bytes or 0) for e in entries]
    payload = sum(n for r, n in rels if r.startswith(testpayload.TEST_FILES))
    own = sum(n for r, n in rels if _OWN_TESTS.search(r))
    pyc = sum(1 for r, _n in rels if r.endswith(".pyc"))
    return _kind([r for r, _n in rels], subdir), payload, own, pyc


def package_size_facts(package: Path) -> tuple[int, str | None]:
    """(bytes of conda's metadata in the .conda, the recipe's `extra: size-note:`) of a package."""
    import asyncio  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    from rattler.package_streaming import PackageArchive  # noqa: PLC0415  (slow import)

    meta = 0
    if package.name.endswith(".conda"):
        with zipfile.ZipFile(package) as zf:
            meta = sum(i.compress_size for i in zf.infolist() if i.filename.startswith("info-"))

    async def about() -> dict:
        return dict((await (await PackageArchive.from_path(package)).about_json()).extra or {})

    try:
        note = asyncio.run(about()).get("size-note")
    except (OSError, RuntimeError, ValueError):
        note = None
    return meta, (str(note).strip() or None) if note else None


def package_kind(package: Path, subdir: str) -> str:
    """noarch / compiled / shared library / other, from the files the package holds."""
    return package_facts(package, subdir)[0]


def _kind(rels: list[str], subdir: str) -> str:
    if any("site-packages/" in r and (r.endswith(".so") or ".so." in r) for r in rels):
        return "compiled"
    if any(r.startswith("lib/") and r.count("/") == 1 and ".so" in r for r in rels):
        return "shared library"
    return "noarch" if subdir == "noarch" else "other"


def _newest(channel: Channel) -> list[tuple[str, str, dict]]:
    """(subdir, filename, record) of the newest build of each name per subdir."""
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    def key(rec: dict) -> tuple:
        try:
            v: tuple = (1, Version(rec["version"]))
        except InvalidVersion:
            v = (0, rec["version"])
        return (v, int(rec.get("build_number", 0)), int(rec.get("timestamp", 0)))

    out: list[tuple[str, str, dict]] = []
    for sd in SUBDIRS:
        if not (channel.path / sd / "repodata.json").is_file():
            continue
        newest: dict[str, tuple[str, dict]] = {}
        data = channel.repodata(sd)
        for group in ("packages", "packages.conda"):
            for fn, rec in (data.get(group) or {}).items():
                if rec["name"] not in newest or key(rec) > key(newest[rec["name"]][1]):
                    newest[rec["name"]] = (fn, rec)
        out += [(sd, fn, rec) for fn, rec in (newest[n] for n in sorted(newest))]
    return out


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def collect(channel_dir: Path) -> Report:
    """The rows, read from the repodata, the packages, the test records and the view's lock."""
    channel = Channel(Path(channel_dir))
    if not (channel.path / "noarch" / "repodata.json").is_file():
        raise ForgeError(f"{channel.path} is not a channel (no noarch/repodata.json)",
                         fix="pass --channel DIR, or build into it first (forge build NAME)")
    view = channel.path / VIEW_DIR
    lock = _read_json(view / LOCK_FILE).get("packages", {})
    by_conda = {((e.get("tool") or {}).get("wasm-forge") or {}).get("conda"): (k, e) for k, e in lock.items()}
    checked = _read_json(view / IMPORTS_FILE).get("results", {})
    report = Report(channel=channel.path, generated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    for sd, fn, rec in _newest(channel):
        pkg = channel.path / sd / fn
        if not pkg.is_file():
            continue
        tests = _read_json(channel.path / sd / wasm_record_name(fn))
        key, entry = by_conda.get(f"{sd}/{fn}", (None, None))
        kind, payload, own_tests, pyc = package_contents(pkg, sd)
        meta, note = package_size_facts(pkg)
        wheel = view / str(entry.get("file_name", "")) if entry is not None else None
        row = PackageRow(name=rec["name"], version=rec["version"], build=rec["build"], subdir=sd,
                         file=f"{sd}/{fn}", kind=kind, size=pkg.stat().st_size, test_payload=payload,
                         view_size=wheel.stat().st_size if wheel is not None and wheel.is_file() else None,
                         upstream_tests_passed=tests.get("upstream_passed"),
                         wasm_checks=tests.get("checks") if tests else None, in_pyodide_view=entry is not None,
                         lock_key=key, meta_size=meta, size_note=note, own_tests=own_tests, pyc_files=pyc)
        if entry is not None:
            row.imports = list(entry.get("imports") or [])
            got = checked.get(entry.get("sha256", ""))
            if got is not None:
                row.imports_in_pyodide, row.import_error = bool(got["ok"]), got.get("error")
            row.repl = f"{REPL_HTML}?package={quote(key)}"
        report.packages.append(row)
    return report


# -- import checks in unmodified Pyodide ----------------------------------------------------

_CHECK = """
import importlib, json, pyodide_js
results = {}
for key, mods in %s:
    try:
        await pyodide_js.loadPackage(key)
        for m in mods:
            importlib.import_module(m)
        results[key] = {"ok": True}
    except BaseException as e:
        results[key] = {"ok": False, "error": (type(e).__name__ + ": " + str(e))[:300]}
json.dumps(results)
"""


def check_imports(channel_dir: Path, cache_dir: Path | None = None) -> dict[str, dict]:
    """Load every package of the view in npm Pyodide (node) and import what its lock entry
    names; the answers by lock sha256, merged into the kept ones (packages not re-checked)."""
    from .toolchain.pyodide_node import PyodideRunError, run_in_pyodide  # noqa: PLC0415

    view = Path(channel_dir) / VIEW_DIR
    lock = _read_json(view / LOCK_FILE).get("packages", {})
    if not lock:
        raise ForgeError(f"the channel {channel_dir} has no Pyodide view to check ({view / LOCK_FILE} is missing)",
                         fix="make it first: forge pyodide view")
    # a shared library is checked by loading it (loadPackage installs it and loads its libraries)
    todo = [(k, list(e.get("imports") or []) if e.get("package_type") == "package" else [])
            for k, e in sorted(lock.items())]
    try:
        run = run_in_pyodide(_CHECK % json.dumps(todo), view_dir=view, cache_dir=cache_dir)
    except PyodideRunError as exc:
        raise ForgeError(f"Pyodide could not start from the view {view}: {str(exc.detail).splitlines()[-1][:300]}",
                         fix="check the view with `forge pyodide check`") from None
    found = json.loads(run.result)
    return {lock[k]["sha256"]: v for k, v in found.items()}


# -- writing ------------------------------------------------------------------------------------

def write_report(channel_dir: Path, *, check: bool = False, cache_dir: Path | None = None) -> Report:
    """Write `<channel>/index.html`, `index.json` and `repl.html` (with `check`: first load every
    view package in npm Pyodide and record whether its imports work)."""
    start = time.monotonic()
    channel = Channel(Path(channel_dir))
    results = check_imports(channel.path, cache_dir) if check else {}

    def write() -> Report:
        view = channel.path / VIEW_DIR
        if results:
            kept = _read_json(view / IMPORTS_FILE).get("results", {})
            _write_atomic(view / IMPORTS_FILE, json.dumps({"format": FORMAT, "results": {**kept, **results}},
                                                          indent=1, sort_keys=True) + "\n")
        report = collect(channel.path)
        _write_atomic(channel.path / INDEX_JSON, json.dumps(report.to_dict(), indent=1) + "\n")
        _write_atomic(channel.path / INDEX_HTML, render_html(report))
        _write_atomic(channel.path / REPL_HTML, REPL_PAGE)
        return report

    report = channel.refresh_view(write)
    report.seconds = time.monotonic() - start
    return report


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def _verdict(p: PackageRow) -> str:
    """The size column's words: within the target, over only by conda's metadata, the recipe's reason."""
    return {"ok": "ok", "-": "-", "over": f"over ({p.payload_ratio}x without metadata)",
            "metadata": f"conda metadata ({p.payload_ratio}x without it)",
            "explained": f"recipe: {p.size_note}"}[p.size_verdict]


def render_html(report: Report) -> str:
    """The breadth page: a sortable-by-eye static table, no script, no outside resources."""
    counts, total = report.to_dict()["counts"], report.totals()
    over = report.to_dict()["size_target"]["over"]
    e = html.escape
    rows = []
    for p in report.packages:
        tests = "-" if p.upstream_tests_passed is None else str(p.upstream_tests_passed)
        if p.wasm_checks is None:
            tests += " <small>(no record)</small>"
        if not p.in_pyodide_view:
            pyo = '<span class="na">not in the view</span>'
        elif p.imports_in_pyodide is None:
            pyo = '<span class="na">in the view, not checked</span>'
        elif p.imports_in_pyodide:
            pyo = '<span class="ok">yes</span>'
        else:
            pyo = f'<span class="bad" title="{e(p.import_error or "")}">no</span>'
        link = f'<a href="{e(p.repl)}">open in Pyodide</a>' if p.repl else ""
        rows.append(
            f'<tr data-name="{e(p.name)}" data-kind="{e(p.kind)}"><td class="name">{e(p.name)}</td>'
            f"<td>{e(p.version)}</td><td>{e(p.kind)}</td><td>{e(p.subdir)}</td><td class='num'>{_size(p.size)}</td>"
            f"<td class='num view'>{'-' if p.view_size is None else _size(p.view_size)}</td>"
            f"<td class='num ratio'>{'-' if p.ratio is None else p.ratio}</td>"
            f"<td class='verdict' title=\"{e(p.size_note or '')}\">{e(_verdict(p))}</td>"
            f"<td class='num payload'>{_size(p.test_payload)}</td>"
            f"<td class='num tests'>{tests}</td><td class='pyodide'>{pyo}</td><td>{link}</td></tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wasm-forge channel: {counts['packages']} packages</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: left; }}
th {{ background: #f3f3f3; position: sticky; top: 0; }} td.num {{ text-align: right; }}
.ok {{ color: #176f2c; font-weight: 600; }} .bad {{ color: #b00020; font-weight: 600; }} .na {{ color: #777; }}
</style></head><body>
<h1>wasm-forge channel</h1>
<p id="counts">{counts['packages']} packages: {counts['noarch']} noarch, {counts['compiled']} compiled,
{counts['shared library']} shared libraries, {counts['other']} other;
{counts['upstream_tests_passed']} upstream tests passed in WebAssembly. Generated {e(report.generated)}.</p>
<p id="bytes">{_size(total['conda'])} of <code>.conda</code> files ({_size(total['test_payload'])} of packed test files
unpacked); their wheels in the Pyodide view: {_size(total['view'])}. Over {RATIO_TARGET}x their wheel with no reason given:
{len(over)}{(' (' + e(', '.join(over)) + ')') if over else ''}.
Machine-readable: <a href="{INDEX_JSON}">{INDEX_JSON}</a>; Pyodide view: <a href="{VIEW_DIR}/{LOCK_FILE}">{LOCK_FILE}</a>.</p>
<table id="packages"><thead><tr><th>package</th><th>version</th><th>kind</th><th>subdir</th><th>size</th>
<th>wheel in the view</th><th>.conda / wheel</th><th>size (target {RATIO_TARGET}x)</th><th>test files (unpacked)</th>
<th>upstream tests passed in wasm</th><th>imports in Pyodide</th><th>try it</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""


def render_markdown(report: Report) -> str:
    """The same rows as a GitHub-flavoured markdown table (CI's $GITHUB_STEP_SUMMARY)."""
    c, t = report.to_dict()["counts"], report.totals()
    lines = [f"{c['packages']} packages ({c['noarch']} noarch, {c['compiled']} compiled, "
             f"{c['shared library']} shared libraries), {c['upstream_tests_passed']} upstream tests passed in wasm; "
             f"{_size(t['conda'])} of .conda ({_size(t['test_payload'])} test files unpacked), {_size(t['view'])} of view wheels", "",
             "| package | version | kind | size | wheel | .conda / wheel | size verdict | test files "
             "| upstream tests passed in wasm | imports in Pyodide |",
             "|---|---|---|---:|---:|---:|---|---:|---:|---|"]
    for p in report.packages:
        pyo = ("not in the view" if not p.in_pyodide_view else "not checked" if p.imports_in_pyodide is None
               else "yes" if p.imports_in_pyodide else "**no**")
        tests = "-" if p.upstream_tests_passed is None else str(p.upstream_tests_passed)
        wheel = "-" if p.view_size is None else _size(p.view_size)
        ratio = "-" if p.ratio is None else f"{p.ratio}"
        lines.append(f"| {p.name} | {p.version} | {p.kind} | {_size(p.size)} | {wheel} | {ratio} | {_verdict(p)} "
                     f"| {_size(p.test_payload)} "
                     f"| {tests} | {pyo} |")
    return "\n".join(lines) + "\n"


#: A Pyodide REPL from the channel itself: `repl.html?package=NAME` loads NAME (and its
#: depends) from the view's lock and files, imports what the lock says it provides, then runs
#: what is typed. Nothing is fetched from outside the channel.
REPL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pyodide REPL (wasm-forge channel)</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; } textarea { width: 100%; font: 13px monospace; }
pre#out { background: #111; color: #eee; padding: 1em; min-height: 8em; white-space: pre-wrap; }
</style></head><body>
<h1>Pyodide REPL <small id="pkg"></small></h1>
<p id="status">loading Pyodide from this channel...</p>
<textarea id="code" rows="6"></textarea><br><button id="run" disabled>Run (Ctrl+Enter)</button>
<pre id="out"></pre>
<script type="module">
const out = document.getElementById("out");
const status = document.getElementById("status");
const code = document.getElementById("code");
const button = document.getElementById("run");
const write = (s) => { out.textContent += s + "\\n"; };
const name = new URLSearchParams(location.search).get("package");
const base = new URL("./pyodide/", location.href).href;
try {
  const { loadPyodide } = await import(base + "pyodide.mjs");
  const lock = await (await fetch(base + "pyodide-lock.json")).json();
  const py = await loadPyodide({ indexURL: base, lockFileURL: base + "pyodide-lock.json",
                                 packageBaseUrl: base, stdout: write, stderr: write });
  let imports = [];
  if (name) {
    document.getElementById("pkg").textContent = name;
    if (!lock.packages[name]) throw new Error(`the channel's Pyodide view has no package ${name}`);
    await py.loadPackage(name, { messageCallback: () => {}, errorCallback: write });
    imports = lock.packages[name].imports || [];
  }
  const first = imports.map((m) => `import ${m}`).join("\\n");
  if (first) await py.runPythonAsync(first);
  code.value = first ? first + "\\nprint(" + imports[0] + ")" : "import sys\\nprint(sys.version)";
  status.textContent = name ? `ready: ${name} imported (${imports.join(", ") || "no imports"})` : "ready";
  status.dataset.state = "ready";
  const run = async () => {
    button.disabled = true;
    try { const r = await py.runPythonAsync(code.value); if (r !== undefined) write(String(r)); }
    catch (e) { write(String(e)); }
    button.disabled = false;
  };
  button.onclick = run;
  code.onkeydown = (ev) => { if (ev.key === "Enter" && ev.ctrlKey) run(); };
  button.disabled = false;
} catch (e) {
  status.textContent = "failed: " + e;
  status.dataset.state = "failed";
}
</script></body></html>
"""

__all__ = ["INDEX_HTML", "INDEX_JSON", "REPL_HTML", "TESTS_SUFFIX", "PackageRow", "Report", "check_imports",
           "collect", "package_kind", "render_html", "render_markdown", "write_report"]

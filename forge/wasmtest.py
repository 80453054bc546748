"""Run a package's tests in WebAssembly: python-wasm (Pyodide under node) in an
emscripten-wasm32 prefix solved from the staging output and the channel.

rattler-build cannot run an emscripten-wasm32 package's tests on a linux-64 host, so the
builder skips them there and calls `run_package_tests`; `forge test NAME` calls it for a
published package. The recipe's `tests:` (stored in the package as info/tests/tests.yaml)
mean here:

- `python: imports: [...]`: one `python-wasm -c "import ..."` in the test prefix;
- `script:` (+ `requirements.run`, `files.source` / `files.recipe`): the lines run in bash
  with the prefix's bin/ first on PATH, where `python` and `python3` also mean python-wasm,
  in a copy of the test files (which python-wasm mounts with NODEFS);
- `package_contents: files/site_packages/lib/include/bin`: globs over the package.

Before any test, every `.so` in the package is checked with forge.toolchain.wasmcheck (a
side module, Pyodide's exception ABI, the right EXT_SUFFIX) and every library it needs must
be in the prefix. Any failure makes the report not ok, so the package is not published.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import ForgeError

PLATFORM = "emscripten-wasm32"
TEST_TIMEOUT = float(os.environ.get("FORGE_WASM_TEST_TIMEOUT", "900"))


@dataclass
class TestReport:
    package: str
    ok: bool = True
    error: str = ""
    passed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log_path: str = ""
    #: upstream tests passed in wasm: the sum of pytest's "N passed" over the script tests
    #: (None: no test printed a pytest summary)
    upstream_passed: int | None = None

    def fail(self, msg: str) -> TestReport:
        if self.ok:
            self.ok, self.error = False, msg
        return self


def _extract(pkg: Path, dest: Path) -> Path:
    from rattler.package_streaming import extract  # noqa: PLC0415

    extract(pkg, dest)
    return dest


#: rattler-build's typed tests that are not stored under their recipe key in to_dict()
_TEST_KIND = {"PythonTest": "python", "PackageContentsTest": "package_contents"}


def read_tests(pkg: Path) -> list[dict[str, Any]]:
    """The tests a built package carries, read by rattler-build itself (its `Package`), as
    `{kind: spec}` dicts in the recipe's own shape."""
    from rattler_build import Package  # noqa: PLC0415

    out: list[dict[str, Any]] = []
    for test in Package.from_file(pkg).tests:
        spec = test.to_dict()
        kind = _TEST_KIND.get(type(test).__name__)
        out.append({kind: spec} if kind else spec)
    return out


def _index(pkg_dir: Path) -> dict[str, Any]:
    return json.loads((pkg_dir / "info" / "index.json").read_text())


def abi_problems(pkg_dir: Path, prefix: Path | None = None) -> list[str]:
    """Problems with the package's .so files: the wasm ABI and libraries nobody provides."""
    from auditwheel_emscripten.module import parse_dylink_section  # noqa: PLC0415

    from .toolchain.wasmcheck import check_so  # noqa: PLC0415

    problems: list[str] = []
    for so in sorted(p for p in pkg_dir.rglob("*.so") if p.is_file() and "info" not in p.relative_to(pkg_dir).parts[:1]):
        rel = str(so.relative_to(pkg_dir))
        found = check_so(so, rel)
        problems += found
        if found or prefix is None:
            continue
        for lib in parse_dylink_section(so).needed:
            where = [prefix / "lib" / lib, prefix / rel.rsplit("/", 1)[0] / lib if "/" in rel else prefix / lib]
            if not any(w.exists() for w in where):
                problems.append(f"{rel} needs {lib}, which no package in the test prefix provides in lib/ "
                                "(add the library's package to requirements.run/host)")
    return problems


def _python_shims(bindir: Path, prefix: Path) -> None:
    """`python`/`python3` that mean python-wasm, for test scripts written for any platform."""
    bindir.mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3"):
        shim = bindir / name
        shim.write_text(f'#!/bin/sh\nexec "{prefix}/bin/python-wasm" "$@"\n')
        shim.chmod(0o755)


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], log: IO[str], timeout: float = TEST_TIMEOUT) -> int | None:
    """The test command's exit status, or None when it ran past `timeout` (then it and every
    process it started, node included, are killed: a timed-out test must not keep a core)."""
    log.write(f"$ {' '.join(cmd)}  (in {cwd})\n")
    log.flush()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.write(f"!!! timed out after {timeout:.0f}s\n")
        return None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # what is left of its session: bash, node, children
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def _status(rc: int | None) -> str:
    """How a test command ended, for the one-sentence cause."""
    if rc is None:
        return (f"did not finish within {TEST_TIMEOUT:.0f} s (FORGE_WASM_TEST_TIMEOUT; raise it on a slow "
                "or loaded machine)")
    return f"exited {rc}"


#: pytest's closing summary: "==== 160 passed, 2 skipped in 3.10s ====" (or -q's bare form)
_PYTEST_SUMMARY = re.compile(r"^=*\s*(?:\d+ \w+, )*(\d+) passed\b.*\bin [\d.]+s\b")


def pytest_passed(text: str) -> int | None:
    """The number in pytest's last summary line ("N passed ... in Xs"), None without one."""
    found = None
    for line in text.splitlines():
        m = _PYTEST_SUMMARY.match(line.strip())
        if m:
            found = int(m.group(1))
    return found


def _log_since(log_path: Path | None, since: int) -> str:
    if log_path is None or not log_path.exists():
        return ""
    return log_path.read_bytes()[since:].decode(errors="replace")


def _tail_cause(log_path: Path | None, since: int) -> str:
    """The most telling line the last command wrote to the log."""
    if log_path is None:
        return ""
    text = log_path.read_bytes()[since:].decode(errors="replace").splitlines()
    lines = [t.strip() for t in text if t.strip() and not t.startswith("$ ")]
    for line in reversed(lines):
        if line.startswith(("FAILED ", "ERROR ", "E   ")) or ("Error" in line.split(":")[0] and ":" in line):
            return line[:240]
    for line in reversed(lines):
        if " failed" in line or "error" in line.lower():
            return line[:240]
    return lines[-1][:240] if lines else ""


def _contents_ok(pkg_dir: Path, spec: dict[str, Any], site_packages: str) -> list[str]:
    paths = [str(p.relative_to(pkg_dir)) for p in pkg_dir.rglob("*") if p.is_file()
             and p.relative_to(pkg_dir).parts[0] != "info"]
    missing: list[str] = []

    def want(globs: list[str], prefix: str = "", transform=lambda g: g) -> None:  # noqa: ANN001
        for g in globs or []:
            pat = prefix + transform(g)
            if not any(fnmatch.fnmatch(p, pat) or p.startswith(pat.rstrip("/") + "/") for p in paths):
                missing.append(pat)

    files = spec.get("files")
    if isinstance(files, dict):
        want(files.get("exists", []))
    else:
        want(files or [])
    want(spec.get("site_packages") or [], site_packages, lambda g: g.replace(".", "/"))
    want(spec.get("include") or [], "include/")
    want(spec.get("bin") or [], "bin/")
    want([f"lib{x}.so" if "." not in x and "*" not in x else x for x in spec.get("lib") or []], "lib/")
    return missing


def run_package_tests(pkg: Path, channels: list[str], *, log: IO[str], work_dir: Path | None = None,
                      log_path: Path | None = None) -> TestReport:
    """ABI checks plus every test the package carries, in python-wasm; never raises."""
    start = time.monotonic()
    report = TestReport(package=pkg.name)
    own_tmp = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="forge-wasm-")) if own_tmp else work_dir
    work.mkdir(parents=True, exist_ok=True)
    lp = log_path or (Path(log.name) if hasattr(log, "name") and os.path.exists(str(log.name)) else None)
    try:
        _run_tests(pkg, channels, log, work, report, lp)
    except ForgeError as exc:
        report.fail(str(exc))
    except Exception as exc:  # noqa: BLE001 — an env that cannot be solved or installed, a broken package
        report.fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    finally:
        report.seconds = time.monotonic() - start
        log.write(f"== wasm tests of {pkg.name}: {'ok' if report.ok else 'FAILED: ' + report.error} "
                  f"({report.seconds:.1f}s; passed: {', '.join(report.passed) or '-'})\n")
        log.flush()
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)
    return report


def _run_tests(pkg: Path, channels: list[str], log: IO[str], work: Path, report: TestReport,
               log_path: Path | None) -> None:
    from .envs import create_env  # noqa: PLC0415

    pkg_dir = _extract(pkg, work / "package")
    index = _index(pkg_dir)
    name, version, build = index["name"], index["version"], index["build"]
    problems = abi_problems(pkg_dir)
    if problems:
        report.fail(f"{problems[0]}" + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""))
        for p in problems:
            log.write(f"ABI: {p}\n")
        return
    tests = read_tests(pkg)
    log.write(f"== wasm tests of {pkg.name}: {len(tests)} test(s), channels {channels}\n")
    base_spec = f"{name} =={version} {build}"
    envs: dict[tuple[str, ...], Path] = {}

    # a package of the Python world is tested with the target's python; a generic one (a
    # shared library, a data package) only with what it and its test ask for
    pythonic = name == "python" or any(d.split()[0] == "python" for d in index.get("depends", []))

    def env_for(extra: list[str], python: bool = True) -> Path:
        key = tuple(sorted(set(extra)))
        if key not in envs:
            prefix = work / f"prefix-{len(envs)}"
            shutil.rmtree(prefix, ignore_errors=True)
            wants_python = python and name != "python" and not any(s.split()[0] == "python" for s in key)
            specs = [base_spec, *key] + (["python"] if wants_python else [])
            t0 = time.monotonic()
            recs = create_env(prefix, channels, specs, PLATFORM)
            log.write(f"   created {prefix} in {time.monotonic() - t0:.1f}s: {' '.join(recs)}\n")
            if python and not (prefix / "bin" / "python-wasm").exists():
                raise ForgeError(f"the test prefix for {name} has no bin/python-wasm (the emscripten "
                                 "`python` package is missing from the channel)")
            more = abi_problems(pkg_dir, prefix)
            if more:
                raise ForgeError(more[0])
            envs[key] = prefix
        return envs[key]

    def environ(prefix: Path, shims: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA_", "PYTHON", "PIP_"))}
        env.update(PREFIX=str(prefix), CONDA_PREFIX=str(prefix), PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1",
                   PATH=os.pathsep.join([str(prefix / "bin"), str(shims), env.get("PATH", "")]))
        return env

    for i, test in enumerate(tests):
        if "package_contents" in test:
            spec = test["package_contents"] or {}
            site = "site-packages/" if index.get("noarch") == "python" else ""
            if not site and spec.get("site_packages"):
                site = f"lib/python{_python_xy(env_for([]))}/site-packages/"
            missing = _contents_ok(pkg_dir, spec, site)
            if missing:
                report.fail(f"test {i} (package_contents): no file matches {missing[0]}")
                return
            report.passed.append(f"{i}:package_contents")
        elif "python" in test:
            imports = (test["python"] or {}).get("imports") or []
            if not imports:
                continue
            prefix = env_for([])
            shims = work / "shims"
            _python_shims(shims, prefix)
            code = "; ".join(f"import {m}" for m in imports) + "; print('imported: " + ", ".join(imports) + "')"
            since = _log_size(log, log_path)
            rc = _run([str(prefix / "bin" / "python-wasm"), "-c", code], cwd=work, env=environ(prefix, shims), log=log)
            if rc != 0:
                report.fail(f"test {i} (python imports {', '.join(imports)}) failed in python-wasm: "
                            f"{_status(rc) if rc is None else _tail_cause(log_path, since) or _status(rc)}")
                return
            report.passed.append(f"{i}:imports")
        elif "script" in test:
            reqs = ((test.get("requirements") or {}).get("run")) or []
            prefix = env_for(list(reqs), python=pythonic or any("python" in str(x) for x in _script_lines(test)))
            shims = work / "shims"
            _python_shims(shims, prefix)
            cwd = work / f"test-{i}"
            shutil.rmtree(cwd, ignore_errors=True)
            cwd.mkdir(parents=True)
            script = test["script"]
            # rattler-build keeps a test's `files:` in the package under script.cwd
            stored = pkg_dir / script["cwd"] if isinstance(script, dict) and script.get("cwd") else None
            if stored is not None and stored.is_dir():
                shutil.copytree(stored, cwd, dirs_exist_ok=True)
            lines = _script_lines(test)
            body = "set -e\n" + "\n".join(str(x) for x in lines) + "\n"
            (cwd / "forge-wasm-test.sh").write_text(body)
            since = _log_size(log, log_path)
            rc = _run(["bash", "forge-wasm-test.sh"], cwd=cwd, env=environ(prefix, shims), log=log)
            if rc != 0:
                report.fail(f"test {i} (script) failed in python-wasm: it {_status(rc)}: {_tail_cause(log_path, since)}")
                return
            report.passed.append(f"{i}:script")
            n = pytest_passed(_log_since(log_path, since))
            if n is not None:
                report.upstream_passed = (report.upstream_passed or 0) + n


def _script_lines(test: dict[str, Any]) -> list[str]:
    script = test.get("script")
    lines = script.get("content", []) if isinstance(script, dict) else script
    return [lines] if isinstance(lines, str) else [str(x) for x in lines or []]


def _log_size(log: IO[str], log_path: Path | None) -> int:
    log.flush()
    return log_path.stat().st_size if log_path and log_path.exists() else 0


def _python_xy(prefix: Path) -> str:
    for d in sorted((prefix / "lib").glob("python3.*")):
        if d.is_dir():
            return d.name[len("python"):]
    return "3"


# -- `forge run` and `forge test` ------------------------------------------------------------

def run_python_wasm(prefix: Path, args: list[str]) -> int:
    """`python-wasm ARGS` against `prefix`, output passed through; returns its exit code."""
    launcher = prefix / "bin" / "python-wasm"
    if not launcher.exists():
        raise ForgeError(f"{prefix} has no bin/python-wasm", fix=f"create it with `forge env create {prefix} python`")
    if not shutil.which("node"):
        raise ForgeError("node is not on PATH, so python-wasm cannot run", fix="install nodejs (>= 18)")
    sys.stdout.flush()
    sys.stderr.flush()
    return subprocess.call([str(launcher), *args])


def recipe_packages(name: str, cfg) -> list[Path]:  # noqa: ANN001
    """The channel's packages of recipe NAME for emscripten-wasm32 (native or noarch)."""
    from .workspace import Workspace  # noqa: PLC0415

    ws = Workspace(cfg)
    recipe = ws.recipe(name)
    outs = recipe.platforms.get(PLATFORM)
    if outs is None:
        raise ForgeError(f"it is not rendered for {PLATFORM}", recipe=name)
    if not outs:
        raise ForgeError(f"it is skipped on {PLATFORM} (its build.skip excludes the target), so "
                         "there is nothing to test in wasm", recipe=name, file=ws.display(recipe.file),
                         fix="test it natively (forge build) or remove the skip if it can run in Pyodide")
    pkgs = [cfg.channel_dir / o.subdir / o.filename for o in outs]
    missing = [p for p in pkgs if not p.exists()]
    if missing:
        raise ForgeError(f"the channel {cfg.channel_dir} does not hold {missing[0].parent.name}/{missing[0].name}",
                         recipe=name, fix=f"build it first: forge build {name}")
    return pkgs


def test_recipe(name: str, cfg, log_path: Path | None = None) -> list[TestReport]:  # noqa: ANN001
    """`forge test NAME`: the published package's tests in python-wasm against the channel."""
    pkgs = recipe_packages(name, cfg)
    log_path = log_path or cfg.logs_dir / name / f"{time.strftime('%Y%m%d-%H%M%S')}-wasm-test.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    reports = []
    with open(log_path, "a", encoding="utf-8") as log, tempfile.TemporaryDirectory(prefix=f"forge-test-{name}-") as tmp:
        for pkg in pkgs:
            reports.append(run_package_tests(pkg, [cfg.channel_dir.resolve().as_uri()], log=log,
                                             work_dir=Path(tmp) / pkg.stem, log_path=log_path))
    for r in reports:
        r.log_path = str(log_path)
    return reports


def default_prefix(cfg) -> Path:  # noqa: ANN001
    """.forge/envs/default: python (and pytest when the channel has it), created on first use."""
    prefix = cfg.state_dir / "envs" / "default"
    if (prefix / "bin" / "python-wasm").exists():
        return prefix
    from .envs import create_env  # noqa: PLC0415

    channel = str(cfg.channel_dir)
    try:
        create_env(prefix, [channel], ["python", "pytest"], PLATFORM)
    except ForgeError:
        create_env(prefix, [channel], ["python"], PLATFORM)
    return prefix

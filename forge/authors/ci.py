"""Test an author's wheel in wasm, and `forge ci`: wheel + venv + install + pytest (+ publish).

`wasm_pytest` is the one-command form of `forge venv` + `pip install dist/*.whl[test]` +
`python -m pytest`; its exit status is pytest's. pytest runs with `-P` (the project folder is not
put on sys.path) so the tests import the installed wheel, not the sources next to them, as
cibuildwheel does by running tests outside the project. `run_ci` adds the build before and the
upload after (only when the tests pass) and writes a markdown summary (GitHub's step summary
when $GITHUB_STEP_SUMMARY is set).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ForgeConfig
from ..errors import ForgeError
from .venv import Venv


@dataclass(frozen=True)
class FailedTest:
    """One failing test as pytest names it (its node id) with the first line of its reason."""

    nodeid: str
    reason: str
    kind: str = "failed"  # or "error" (a fixture or collection error)


@dataclass
class WasmTestOutcome:
    exit_code: int
    venv: Path | None  # None: a temporary venv, already removed
    install_seconds: float
    test_seconds: float
    venv_seconds: float
    output_tail: str = ""
    failures: list[FailedTest] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def read_junit(path: Path) -> tuple[list[FailedTest], dict[str, int]]:
    """Failing tests and counts from the junit XML pytest wrote inside wasm (xunit1: each testcase
    names its file, so the node id is pytest's own)."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415, S405 - pytest's own file, written just now

    try:
        root = ET.parse(path).getroot()  # noqa: S314
    except (OSError, ET.ParseError):
        return [], {}
    failures: list[FailedTest] = []
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
        for key in counts:
            counts[key] += int(suite.get(key, "0") or 0)
    for case in root.iter("testcase"):
        bad = next((c for c in case if c.tag in ("failure", "error")), None)
        if bad is None:
            continue
        file, classname, name = case.get("file", ""), case.get("classname", ""), case.get("name", "")
        module = file[:-3].replace("/", ".") if file.endswith(".py") else ""
        inner = classname[len(module) + 1:] if module and classname.startswith(module + ".") else ""
        nodeid = "::".join(p for p in (file or classname, inner, name) if p)
        reason = (bad.get("message") or (bad.text or "").strip() or bad.tag).strip().splitlines()
        failures.append(FailedTest(nodeid, reason[0][:300] if reason else bad.tag,
                                   "error" if bad.tag == "error" else "failed"))
    return failures, counts


@dataclass
class CiReport:
    project: Path
    wheel: Path | None = None
    pure: bool = False
    phases: dict[str, float] = field(default_factory=dict)
    tests: WasmTestOutcome | None = None
    published: list[str] = field(default_factory=list)
    index: str = ""
    error: str = ""

    @property
    def exit_code(self) -> int:
        if self.error:
            return 1
        return self.tests.exit_code if self.tests else 1

    def markdown(self) -> str:
        """A summary for a CI step (GitHub's $GITHUB_STEP_SUMMARY renders it)."""
        from ..toolchain import target  # noqa: PLC0415

        ok = self.exit_code == 0
        lines = [f"### forge ci: {self.project.name} {'passed' if ok else 'FAILED'}", "",
                 f"Target: CPython {target.PYTHON_VERSION} in WebAssembly (Pyodide {target.PYODIDE_VERSION}, "
                 f"`{target.WHEEL_TAG}`), under node.", "",
                 "| phase | result | seconds |", "| --- | --- | ---: |"]
        results = {
            "build": f"`{self.wheel.name}`" + (" (pure)" if self.pure else "") if self.wheel else "not built",
            "venv": (f"`{self.tests.venv}`" if self.tests.venv else "fresh (temporary)") if self.tests else "-",
            "install": "pip install wheel[test]" if self.tests else "-",
            "tests": (f"pytest exit {self.tests.exit_code}" if self.tests else "not run"),
            "publish": (f"{len(self.published)} file(s) to {self.index}" if self.published else "-"),
        }
        for phase in ("build", "venv", "install", "tests", "publish"):
            if phase in self.phases or phase in ("build", "tests"):
                secs = self.phases.get(phase)
                lines.append(f"| {phase} | {results[phase]} | {'' if secs is None else f'{secs:.1f}'} |")
        if self.error:
            lines += ["", f"**error:** {self.error}"]
        if self.tests and self.tests.failures:
            c = self.tests.counts
            lines += ["", f"**{len(self.tests.failures)} failing** of {c.get('tests', '?')} tests:", "",
                      "| test | reason |", "| --- | --- |"]
            pipe = "\\|"  # a literal | inside a table cell
            lines += [f"| `{f.nodeid}`{' (error)' if f.kind == 'error' else ''} | {f.reason.replace('|', pipe)} |"
                      for f in self.tests.failures]
        if self.tests and self.tests.output_tail:
            lines += ["", "```", self.tests.output_tail, "```"]
        return "\n".join(lines) + "\n"


def _tail(text: str, n: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


def _run_tee(venv: Venv, args: list[str], cwd: Path, echo: bool) -> tuple[int, str]:
    """Run the venv's python; its output is kept (for the summary) and, with ECHO, shown as it comes."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    if not echo:
        proc = venv.run(*args, cwd=cwd)
        return proc.returncode, (proc.stdout or "") + (proc.stderr or "")
    kept: list[str] = []
    with subprocess.Popen([str(venv.python), *args], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            kept.append(line)
            del kept[:-200]
    return proc.returncode, "".join(kept)


def wasm_pytest(wheels: list[Path], project: Path, channels: list[str], *, venv_dir: Path | None = None,
                extras: str = "test", pytest_args: list[str] | None = None, echo: bool = False) -> WasmTestOutcome:
    """The wheels installed with their EXTRAS into a venv (VENV_DIR when it is already a forge venv,
    else a new one), pytest run in PROJECT; the exit code is pytest's."""
    from .node import ensure_node  # noqa: PLC0415
    from .venv import create_venv, is_venv  # noqa: PLC0415

    for w in wheels:
        if not w.is_file():
            raise ForgeError(f"{w} does not exist", fix="build it first with `forge wheel`")
    tmp = None
    kept = venv_dir is not None
    if venv_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="forge-wasm-venv-"))
        venv_dir = tmp / "venv"
    try:
        t0 = time.monotonic()
        reuse = is_venv(venv_dir)
        venv = Venv(venv_dir.resolve(), ensure_node()) if reuse else create_venv(venv_dir, channels)
        t1 = time.monotonic()
        reqs = [f"{w.resolve()}[{extras}]" if extras else str(w.resolve()) for w in wheels]
        # --force-reinstall --no-deps first when reusing: the same version rebuilt must replace the old one
        if reuse:
            venv.run("-m", "pip", "install", "--force-reinstall", "--no-deps", *map(str, wheels), cwd=project)
        pip = venv.run("-m", "pip", "install", *reqs, cwd=project, capture=not echo)
        t2 = time.monotonic()
        if pip.returncode != 0:
            last = _tail((pip.stdout or "") + (pip.stderr or ""), 3).replace("\n", " ")
            raise ForgeError(f"pip in wasm could not install {', '.join(w.name for w in wheels)} (exit {pip.returncode}: "
                             f"{last[:400]})", fix="check the wheel's dependencies: they must exist as pure or "
                                                   "pyemscripten wheels (in the channel's view or on the index)")
        args = pytest_args if pytest_args is not None else []
        with tempfile.TemporaryDirectory(prefix="forge-junit-") as junit_dir:
            junit = Path(junit_dir) / "junit.xml"
            code, output = _run_tee(venv, ["-P", "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}",
                                           "-o", "junit_family=xunit1", *args], project, echo)
            failures, counts = read_junit(junit)
        t3 = time.monotonic()
        return WasmTestOutcome(code, venv.path if kept else None, t2 - t1, t3 - t2, t1 - t0, _tail(output),
                               failures, counts)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def run_ci(project: Path, channels: list[str], config: ForgeConfig, *, outdir: Path | None = None,
           venv_dir: Path | None = None, pytest_args: list[str] | None = None, extras: str = "test",
           publish_url: str | None = None, repository: str | None = None, summary: Path | None = None,
           echo: bool = False) -> CiReport:
    """`forge ci`: build the wheel, test it in wasm, publish it when asked and the tests pass."""
    from .publish import upload  # noqa: PLC0415
    from .wheel import build_wheel  # noqa: PLC0415

    project = project.resolve()
    src_dir = project if project.is_dir() else project.parent
    report = CiReport(project)
    try:
        t0 = time.monotonic()
        built = build_wheel(project, outdir or src_dir / "dist", channels, config)
        report.wheel, report.pure = built.wheel, built.pure
        report.phases["build"] = time.monotonic() - t0
        outcome = wasm_pytest([built.wheel], src_dir, channels, venv_dir=venv_dir, extras=extras,
                              pytest_args=pytest_args, echo=echo)
        report.tests = outcome
        report.phases.update(venv=outcome.venv_seconds, install=outcome.install_seconds, tests=outcome.test_seconds)
        if outcome.exit_code == 0 and (publish_url or repository):
            t1 = time.monotonic()
            pub = upload([built.wheel], repository_url=publish_url, repository=repository)
            report.published, report.index = pub.uploaded, pub.index
            report.phases["publish"] = time.monotonic() - t1
    except ForgeError as exc:
        report.error = str(exc)
    text = report.markdown()
    for target_file in [summary, Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None]:
        if target_file is not None:
            with open(target_file, "a") as fh:
                fh.write(text)
    return report

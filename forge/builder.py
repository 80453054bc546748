"""Build one job with py-rattler-build, in the current process.

The build writes everything (rattler-build's own output, the build script's output, test
output) to the job's log file. On failure the real cause is dug out of rattler-build's
`conda_build.log` and returned as one sentence that names the recipe, its file and the log.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import urllib.parse
from pathlib import Path

from .causes import first_error, plain
from .errors import ForgeError
from .jobs import BuildJob, BuildOutcome
from .sources import link_sources


class _LogCallback:
    """Receives rattler-build progress events and appends them to the job log."""

    def __init__(self, fh) -> None:  # noqa: ANN001
        self.fh = fh
        self.lines: list[str] = []

    def on_download_start(self, event) -> None:  # noqa: ANN001
        pass

    def on_download_progress(self, event) -> None:  # noqa: ANN001
        pass

    def on_download_complete(self, event) -> None:  # noqa: ANN001
        pass

    def on_build_step(self, event) -> None:  # noqa: ANN001
        self.fh.write(f"[step] {event.step_name}: {event.message}\n")
        self.fh.flush()

    def on_log(self, event) -> None:  # noqa: ANN001
        self.fh.write(f"{event.message}\n")
        self.fh.flush()
        self.lines.append(event.message)
        del self.lines[:-200]


_GENERIC = ("subprocess-exited-with-error", "metadata-generation-failed", "Script failed",
            "Script execution failed", "Test failed")
_STATUS = re.compile(r"Script failed with status (-?\d+)")
_ERROR = re.compile(r"^(error|ERROR|Error|fatal error|FAILED)\b|^[A-Za-z_.]*(Error|Exception):|: (fatal )?error: ")


def _cause(lines: list[str], staging: Path, recipe: str) -> str:
    """Why a build failed, from the build script's own output: its exit status and the line
    that says what went wrong (a compiler `error:`, a Python exception), else its last line."""
    text: list[str] = []
    for log in sorted(staging.glob(f"bld/rattler-build_{recipe}_*/work/conda_build.log")):
        text += log.read_text(errors="replace").splitlines()
    for msg in lines:
        text += msg.splitlines()
    status = None
    for i, line in enumerate(text):
        m = _STATUS.search(line)
        if m:
            status, text = m.group(1), text[:i]  # what follows is rattler-build's advice, not output
            break
    text = [plain(t) for t in text]
    out = [t.strip() for t in text if t.strip() and not t.lstrip().startswith("+ ")
           and not any(g in t for g in _GENERIC)]
    errors = [t for t in out if _ERROR.search(t)]
    exceptions = [t for t in errors if re.match(r"^[A-Za-z_.]*(Error|Exception):", t)]
    # the first error a tool printed (compiler, linker, meson, cargo, ...) beats the wrappers'
    # exceptions that follow it (pypa build's BuildBackendException, a traceback's last line)
    kept = [t for t in text if t.strip() and not t.lstrip().startswith("+ ") and not any(g in t for g in _GENERIC)]
    tool = first_error(kept)  # unstripped: CMake's paragraph is its indented lines
    if tool is not None:
        errors = [tool]
        exceptions = []
    line = (exceptions or errors or out[-1:] or ["no output"])[-1 if exceptions else 0][:300]
    if status is None:
        return line
    return f"its build script exited {status}: {line}" if errors or exceptions else \
        f"its build script exited {status} (its last line: {line})"


def _fix(cause: str, channel_url: str) -> str:
    """What to do about a failed build: for a header, library or pkg-config module it missed,
    the channel's package to add to `host` (forge.provides); else fix the recipe."""
    from .provides import missing_file_fix  # noqa: PLC0415

    local = Path(urllib.parse.urlparse(channel_url).path) if channel_url.startswith("file://") else None
    try:
        return missing_file_fix(cause, local) or "fix the recipe"
    except OSError:
        return "fix the recipe"


def _channels(url: str) -> list[str]:
    """The dependency channel, unless it is a local channel not created yet (first publish)."""
    if url.startswith("file://"):
        local = Path(urllib.parse.urlparse(url).path)
        if not (local / "noarch" / "repodata.json").exists():
            return []
    return [url]


WASM_SUBDIR = "emscripten-wasm32"


def _local_fetch(channels: list[str]) -> dict[str, bool]:
    """Local channels have only repodata.json (forge.channel writes no .zst, .bz2 or shards):
    probing for those costs a build ~50 ms of a ~150 ms floor for nothing."""
    if all(c.startswith("file://") for c in channels):
        return {"use_zstd": False, "use_bz2": False, "use_sharded": False}
    return {}


class _RecipeProblem(Exception):
    """A recipe mistake the forge detects itself (reported as the cause, not a traceback)."""


def _wasm_tests(job: BuildJob, packages: list, staging: Path, log, start: float,  # noqa: ANN001
                tests: dict[str, dict]) -> BuildOutcome | None:
    """Run a cross package's tests (and ABI checks) in python-wasm; a failure is the outcome.
    What passed goes into `tests` ("<subdir>/<filename>" -> checks, upstream tests passed)."""
    from .wasmtest import run_package_tests  # noqa: PLC0415

    for pkg in packages:
        report = run_package_tests(Path(pkg), [staging.resolve().as_uri(), *_channels(job.channel_url)],
                                   log=log, work_dir=Path(job.work_dir) / "wasm-tests")
        tests[f"{Path(pkg).parent.name}/{Path(pkg).name}"] = {
            "checks": list(report.passed), "upstream_passed": report.upstream_passed,
            "seconds": round(report.seconds, 3)}
        if not report.ok:
            log.write(f"== FAILED: wasm tests of {Path(pkg).name}: {report.error}\n")
            return BuildOutcome(
                recipe=job.recipe, ok=False, log_path=job.log_path, seconds=time.monotonic() - start,
                error=ForgeError("its wasm tests failed", recipe=job.recipe, file=job.recipe_file,
                                 cause=report.error, log=job.log_path, fix="fix the recipe"),
            )
    return None


def _phase(log, name: str, since: float) -> None:  # noqa: ANN001
    """A `== phase NAME SECONDS` line: where a build's time goes (benchmarks read it)."""
    log.write(f"== phase {name} {time.monotonic() - since:.3f}\n")
    log.flush()


def run_build_job(job: BuildJob) -> BuildOutcome:
    """Render and build the job's recipe into <work_dir>/output; never raises for recipe errors."""
    from rattler_build import (  # noqa: PLC0415
        EnvironmentIsolation,
        PlatformConfig,
        RenderConfig,
        Stage0Recipe,
        ToolConfiguration,
    )

    from .recipes import variant_config  # noqa: PLC0415

    start = time.monotonic()
    work = Path(job.work_dir)
    staging = work / "output"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    sources = link_sources([Path(s) for s in job.sources], work / "sources")
    os.environ["FORGE_SOURCES"] = str(sources)
    if job.wheelhouse:
        os.environ["FORGE_WHEELHOUSE"] = job.wheelhouse
    else:
        os.environ.pop("FORGE_WHEELHOUSE", None)
    if job.crates:  # Debian's crates for a Rust sdist that vendors none (forge.crates)
        os.environ["FORGE_CRATES"] = job.crates
    else:
        os.environ.pop("FORGE_CRATES", None)
    bindir = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(bindir + os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    Path(job.log_path).parent.mkdir(parents=True, exist_ok=True)
    produced: list[str] = []
    tests: dict[str, dict] = {}
    with open(job.log_path, "a", encoding="utf-8") as log:
        log.write(f"== forge build {job.recipe} (attempt {job.attempt}) platforms={job.platforms}\n")
        log.flush()
        cb = _LogCallback(log)
        # rattler-build also prints tables to stdout/stderr: send the file descriptors to the log
        saved = os.dup(1), os.dup(2)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            t0 = time.monotonic()
            stage0 = Stage0Recipe.from_file(Path(job.recipe_dir) / "recipe.yaml")
            for platform in job.platforms:
                variants = stage0.render(
                    variant_config(Path(job.variant_file) if job.variant_file else None, platform),
                    RenderConfig(platform=PlatformConfig(target_platform=platform)),
                )
                _phase(log, "render", t0)
                for variant in variants:
                    st = variant.recipe
                    subdir = "noarch" if st.build.noarch else platform
                    fn = f"{subdir}/{st.package.name}-{st.package.version}-{st.build.string}.conda"
                    if fn not in job.outputs:
                        continue
                    if subdir == WASM_SUBDIR and st.requirements.to_dict().get("host") \
                            and "host_platform" not in variant.variant:
                        raise _RecipeProblem(
                            "a cross-built recipe with host requirements needs `build: variant: use_keys: "
                            "[host_platform]` (else rattler-build solves its host env for the build machine)")
                    t0 = time.monotonic()
                    channels = _channels(job.channel_url)
                    result = variant.run_build(
                        output_dir=staging,
                        channels=channels,
                        env_isolation=EnvironmentIsolation.NONE,
                        # rattler-build would run the tests on the build machine: the forge runs
                        # every package's tests (noarch ones too) in wasm below instead
                        tool_config=ToolConfiguration(test_strategy="skip", **_local_fetch(channels)),
                        progress_callback=cb,
                        no_include_recipe=False,
                    )
                    produced += [str(p) for p in result.packages]
                    _phase(log, "build", t0)
                    t0 = time.monotonic()
                    failure = _wasm_tests(job, result.packages, staging, log, start, tests)
                    _phase(log, "wasm-tests", t0)
                    if failure:
                        return failure
        except Exception as exc:  # noqa: BLE001 — a failed script, a failed test, a solver error
            sys.stdout.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            is_rattler = type(exc).__module__.startswith("rattler_build")
            cause = (_cause(cb.lines, staging, job.recipe) if is_rattler
                     else str(exc) if isinstance(exc, _RecipeProblem) else f"{type(exc).__name__}: {exc}")
            what = "its tests failed" if "Test failed" in str(exc) else "the build failed"
            log.write(f"== FAILED: {exc}\n")
            return BuildOutcome(
                recipe=job.recipe, ok=False, log_path=job.log_path,
                seconds=time.monotonic() - start,
                error=ForgeError(what, recipe=job.recipe, file=job.recipe_file, cause=cause,
                                 log=job.log_path, fix=_fix(cause, job.channel_url)),
            )
        finally:
            sys.stdout.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        log.write(f"== OK: {produced}\n")
    missing = [o for o in job.outputs if not any(p.endswith(o) for p in produced)]
    if missing:
        return BuildOutcome(
            recipe=job.recipe, ok=False, log_path=job.log_path, seconds=time.monotonic() - start,
            error=ForgeError(f"the build did not produce {', '.join(missing)}", recipe=job.recipe,
                             file=job.recipe_file, log=job.log_path),
        )
    bld = staging / "bld"
    shutil.rmtree(bld, ignore_errors=True)
    return BuildOutcome(recipe=job.recipe, ok=True, packages=produced, log_path=job.log_path,
                        seconds=time.monotonic() - start, tests=tests)

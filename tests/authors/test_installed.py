"""The forge as its users run it: installed (non-editable) into a fresh venv outside the checkout,
with a recipe repository of its own or an author's project as the working directory, and no
set-up beyond the machine's (the build root set-up made, node 24 the forge keeps). Each test
module gets a fresh user folder ($FORGE_HOME): the platform's `python`, downloads and state are
made there on first use, by the commands themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from forge.authors.node import node_dir
from forge.locations import buildroot_dir
from tests.authors.conftest import PYPI_PASSWORD, PYPI_USER
from tests.support.samples import cython_project, pure_project
from tests.support.testlib import REPO

#: what the fresh venv's pip must not see of the checkout's own environment
_DROP = ("FORGE_ROOT", "FORGE_STATE", "FORGE_CHANNEL", "FORGE_CACHE", "FORGE_VARIANT_FILE", "FORGE_HOME",
         "PYTHONPATH", "VIRTUAL_ENV", "FORGE_FAULT")


def checkout_files() -> list[str]:
    """What a clone of the checkout holds (tracked, plus new files not ignored), as pip would get it."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [n for n in out.split("\0") if n and (REPO / n).is_file()]


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install <checkout>` (non-editable) into a new venv of the machine's Python: its `forge`."""
    tmp = tmp_path_factory.mktemp("installed-forge")
    src = tmp / "wasm-forge"
    for rel in checkout_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, src / rel)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(tmp / "venv")], check=True)
    pip = subprocess.run([str(tmp / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          str(src)], capture_output=True, text=True, check=False)
    assert pip.returncode == 0, pip.stderr[-3000:]
    shutil.rmtree(src)  # the installed forge must need nothing of the checkout
    forge = tmp / "venv" / "bin" / "forge"
    assert forge.is_file()
    return forge


@pytest.fixture(scope="module")
def user_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh per-user forge folder for this module (the platform's python is built into it)."""
    return tmp_path_factory.mktemp("forge-home")


def user_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP}
    # the two things set-up made on this machine, shared as a user's would be: the build root, node 24
    env.update(FORGE_HOME=str(home), FORGE_BUILDROOT=str(buildroot_dir()), FORGE_NODE_DIR=str(node_dir()),
               COLUMNS="1000", PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                                     if not p.startswith(str(REPO))))
    env.update(extra)
    return env


def run(cmd: list[str], cwd: Path, home: Path, timeout: float = 1500, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=user_env(home, **extra), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, check=False)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (proc.args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout


def entries(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_version_and_help_anywhere(tool: Path, user_home: Path, tmp_path: Path) -> None:
    out = ok(run([str(tool), "--version"], tmp_path, user_home))
    assert out.startswith("wasm-forge 0.1.0 (Pyodide 314.0.7: CPython 3.14.2, cp314-cp314-pyemscripten_2026_0_wasm32)")
    assert all(f" {c} " in ok(run([str(tool), "--help"], tmp_path, user_home)) for c in ("venv", "wheel", "wasm-test", "ci"))
    assert "Usage" in ok(run([str(tool), "ci", "--help"], tmp_path, user_home))
    assert entries(tmp_path) == set()


def _recipe_repo(root: Path) -> Path:
    """A recipe repository of its own: a noarch recipe and a compiled one (ciso8601, tests without
    pytest), its own pins file and constraints, and no python recipe (the forge provides it)."""
    shutil.copytree(REPO / "recipes" / "six", root / "recipes" / "six")
    text = (REPO / "recipes" / "ciso8601" / "recipe.yaml").read_text()
    # the runtime output alone (its upstream suite's ciso8601-tests output left out), with a smoke script
    head, sep, _ = text.partition("\n  - package:\n      name: ${{ name }}-tests\n")
    _, _, about = text.partition("\nabout:\n")
    assert sep and head.rstrip().endswith("pip_check: false"), head[-300:]
    (root / "recipes" / "ciso8601").mkdir(parents=True)
    (root / "recipes" / "ciso8601" / "recipe.yaml").write_text(head.rstrip() + "\n" + textwrap.indent(textwrap.dedent("""\
        - script:
            - python-wasm -c "import ciso8601; assert ciso8601.parse_datetime('2014-12-05T12:30:45').day == 5"
        """), "      ") + "\nabout:\n" + about)
    (root / "conda_build_config.yaml").write_text("# this repository's own pins; the platform's come with the forge\nnumpy:\n  - \"2.5\"\n")
    (root / "constraints").mkdir()
    shutil.copy2(REPO / "forge" / "platform" / "constraints" / "build-tools.txt", root / "constraints" / "build-tools.txt")
    return root


def test_a_recipe_repository_of_its_own(tool: Path, user_home: Path, tmp_path: Path) -> None:
    repo = _recipe_repo(tmp_path / "my-recipes")
    sub = repo / "recipes" / "six"  # any folder inside the repository finds it, as git finds .git
    graph = ok(run([str(tool), "graph", "ciso8601"], sub, user_home))
    assert graph.split()[:6] == ["1.", "pyodide-abi", "2.", "python", "3.", "ciso8601"], graph
    ok(run([str(tool), "lint"], repo, user_home))
    built = run([str(tool), "build", "ciso8601", "six", "--jobs", "2"], sub, user_home, timeout=2400)
    ok(built)
    names = sorted(p.name.rsplit("-", 2)[0] for p in (repo / "channel").glob("*/*.conda"))
    assert names == ["ciso8601", "pyodide-abi", "python", "six"], names
    assert (repo / ".forge" / "logs" / "ciso8601" / "latest.log").is_file()
    again = run([str(tool), "build", "ciso8601", "six"], repo, user_home)
    assert f"ciso8601, six and 2 dependencies are in {repo / 'channel'}" in ok(again) + again.stderr
    status = ok(run([str(tool), "status"], repo, user_home))
    assert "ciso8601" in status and "six" in status
    assert entries(repo) == {"recipes", "conda_build_config.yaml", "constraints", "channel", ".forge"}


def _workflow_steps() -> list[str]:
    """The `run:` steps of docs/ci/github-actions.yml, in order (the `uses:` steps are the runner's)."""
    data = YAML(typ="safe").load((REPO / "docs" / "ci" / "github-actions.yml").read_text())
    (job,) = data["jobs"].values()
    return [step["run"] for step in job["steps"] if "run" in step]


@pytest.mark.parametrize("kind", ["pure", "cython"])
def test_every_documented_command_in_the_authors_project(kind: str, tool: Path, user_home: Path, tmp_path: Path,
                                                         pypi_server_auth: str) -> None:
    """docs/library-authors.md, step by step, with the project as the working directory."""
    project = tmp_path / f"my-{kind}-project"
    make, name, test_file, broken, line = {
        "pure": (pure_project, "purepkg", "tests/test_pure.py", "test_dependency", "assert six.PY3"),
        "cython": (cython_project, "cyfib", "tests/test_fib.py", "test_compiled_in_wasm", "assert cyfib.fib(10) == 55"),
    }[kind]
    make(project, name=name)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("data/\n")
    (project / "data").mkdir()  # a large ignored folder costs the build nothing
    (project / "data" / "big.bin").write_bytes(b"\0" * (64 << 20))
    before = entries(project)
    forge = str(tool)

    wheel_out = ok(run([forge, "wheel"], project, user_home))
    (whl,) = (project / "dist").glob("*.whl")
    tag = "py3-none-any" if kind == "pure" else "cp314-cp314-pyemscripten_2026_0_wasm32"
    assert whl.name.endswith(f"-{tag}.whl") and whl.name in wheel_out
    assert not any("data/" in n for n in zipfile.ZipFile(whl).namelist())

    ok(run([forge, "venv", ".wasm"], project, user_home))
    ok(run([".wasm/bin/python", "-m", "pip", "install", f"dist/{whl.name}[test]"], project, user_home))
    tests = ok(run([".wasm/bin/python", "-P", "-m", "pytest", "-p", "no:cacheprovider", "tests"], project, user_home))
    assert "2 passed" in tests

    ok(run([forge, "wasm-test", f"dist/{whl.name}"], project, user_home))
    summary = tmp_path / "summary.md"
    ci = ok(run([forge, "ci", ".", "--summary", str(summary)], project, user_home))
    assert f"### forge ci: {project.name} passed" in ci and "failing" not in summary.read_text()

    # a broken test: exit 1, the test named (printed and in the summary), with its reason
    test_path = project / test_file
    good = test_path.read_text()
    assert line in good
    test_path.write_text(good.replace(line, "assert 2 + 2 == 5, 'arithmetic broke'"))
    summary.unlink()
    failed = run([forge, "ci", ".", "--summary", str(summary)], project, user_home)
    assert failed.returncode == 1, failed.stdout[-2000:]
    row = f"| `{test_file}::{broken}` | AssertionError: arithmetic broke |"
    assert row in summary.read_text() and "**1 failing** of 2 tests" in summary.read_text(), summary.read_text()[-3000:]
    assert row in failed.stdout
    wt = run([forge, "wasm-test", f"dist/{whl.name}"], project, user_home)
    assert wt.returncode == 1 and f"failing test (in wasm): {test_file}::{broken}: AssertionError: arithmetic broke" in wt.stderr
    test_path.write_text(good)

    # publish as the docs show it (credentials in the environment), then install it back from the index
    no_creds = run([forge, "publish", f"dist/{whl.name}", "--repository-url", f"{pypi_server_auth}/"], project, user_home)
    assert no_creds.returncode == 1 and "twine has no username or password" in no_creds.stderr
    pub = ok(run([forge, "publish", f"dist/{whl.name}", "--repository-url", f"{pypi_server_auth}/"], project, user_home,
                 TWINE_USERNAME=PYPI_USER, TWINE_PASSWORD=PYPI_PASSWORD))
    assert f"uploaded {whl.name}" in pub
    fresh = tmp_path / "fresh"
    ok(run([forge, "venv", str(fresh)], tmp_path, user_home))
    ok(run([str(fresh / "bin" / "python"), "-m", "pip", "install", "--index-url", f"{pypi_server_auth}/simple/",
            "--no-deps", name], tmp_path, user_home))
    call = "platform()" if kind == "pure" else "fib(20), cyfib._fib.__file__.rsplit('.', 2)[-2]"
    probe = f"import sys, {name}; print(sys.platform, {name}.{call})"
    got = ok(run([str(fresh / "bin" / "python"), "-c", probe], tmp_path, user_home))
    assert got.split()[0] == "emscripten" and (kind == "pure" or "6765" in got and "wasm32-emscripten" in got), got

    # nothing but dist/ and the venv the user named lands in the project
    assert entries(project) - before == {"dist", ".wasm"}, entries(project) - before


def test_the_ci_workflow_runs_as_written(tool: Path, user_home: Path, tmp_path: Path) -> None:
    """docs/ci/github-actions.yml's `run:` steps in a runner-like workspace (the checkouts the
    `uses:` steps make: the project, and the forge's source), as root like the hosted runner."""
    workspace = tmp_path / "ws"
    cython_project(workspace / "project")
    for rel in checkout_files():
        (workspace / "wasm-forge" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, workspace / "wasm-forge" / rel)
    summary = tmp_path / "step-summary.md"
    env = user_env(user_home, GITHUB_WORKSPACE=str(workspace), GITHUB_REF="refs/heads/main", RUNNER_TEMP=str(tmp_path / "runner"),
                   GITHUB_STEP_SUMMARY=str(summary), CI="true")
    (tmp_path / "runner").mkdir()
    for script in _workflow_steps():
        proc = subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=workspace, env=env, capture_output=True,
                              text=True, timeout=2400, stdin=subprocess.DEVNULL, check=False)
        assert proc.returncode == 0, (script, proc.stdout[-3000:], proc.stderr[-3000:])
    assert "### forge ci: project passed" in summary.read_text()
    assert list((workspace / "project" / "dist").glob("cyfib-0.1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"))

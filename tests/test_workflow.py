"""The pull-request workflow (.github/workflows/recipes.yml) runs here as the same commands:
its PR job's `run:` steps with an id (lint, changed, build, wasm-tests, summary), word for
word, in bash, on a temp git repository whose PR adds one recipe and changes another."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.support.testlib import REPO, generic_recipe, make_repo

WORKFLOW = REPO / ".github" / "workflows" / "recipes.yml"
PR_STEPS = ["lint", "changed", "build", "wasm-tests", "summary"]


def _workflow() -> dict:
    return YAML(typ="safe").load(WORKFLOW.read_text())


def _expand(text: str, context: dict[str, str]) -> str:
    """GitHub's `${{ expr }}` with the few expressions the steps use; any other one fails."""
    def sub(m: re.Match) -> str:
        expr = m.group(1).strip()
        assert expr in context, f"the workflow uses ${{{{ {expr} }}}}, which this test does not provide"
        return context[expr]
    return re.sub(r"\$\{\{(.*?)\}\}", sub, text)


def test_the_workflow_is_well_formed() -> None:
    wf = _workflow()
    on = wf.get("on") or wf.get(True)  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    pr = wf["jobs"]["pull-request"]
    ids = [s.get("id") for s in pr["steps"] if s.get("id")]
    assert ids == PR_STEPS
    assert pr["if"] == "github.event_name == 'pull_request'"
    run = " ".join(s.get("run", "") for s in pr["steps"])
    assert "$FORGE changed --base" in run and "$FORGE build $(cat changed.txt)" in run
    assert "GITHUB_STEP_SUMMARY" in run
    publish = wf["jobs"]["publish"]
    assert "refs/heads/main" in publish["if"]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in publish["steps"])
    # no registry host is ever named in the repository
    assert not re.search(r"pypi\.org|pythonhosted|npmjs|debian\.org", WORKFLOW.read_text())


def _recipe(name: str, version: str = "1.0", run: list[str] | None = None) -> str:
    """A tiny noarch: generic recipe that passes `forge lint` (a test, a summary, a license)."""
    return generic_recipe(name, version=version, run=run) + (
        f"tests:\n  - package_contents:\n      files:\n        - {name}.txt\n"
        f"about:\n  summary: the workflow test's {name}\n  license: MIT\n")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}).stdout


def test_the_pr_job_runs_here(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    make_repo(root, {"wf-base": _recipe("wf-base"), "wf-user": _recipe("wf-user", run=["wf-base"]),
                     "wf-other": _recipe("wf-other")},
              variants=(REPO / "conda_build_config.yaml").read_text())
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    _git(root, "update-ref", "refs/remotes/origin/main", "HEAD")  # what actions/checkout fetches
    _git(root, "checkout", "-qb", "pr")
    # the PR: a new recipe, and a change to one that another recipe depends on
    (root / "recipes" / "wf-new").mkdir()
    (root / "recipes" / "wf-new" / "recipe.yaml").write_text(_recipe("wf-new"))
    (root / "recipes" / "wf-base" / "recipe.yaml").write_text(_recipe("wf-base", version="1.1"))
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "pr")

    # `$FORGE` is the forge (the workflow's is `sudo -E .venv/bin/forge`)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "forge"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "from forge.cli import main; main()" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    summary = tmp_path / "step-summary.md"
    context = {"github.base_ref": "main", "github.workspace": str(root)}
    wf = _workflow()
    env = {**os.environ, "PYTHONPATH": str(REPO), "GITHUB_STEP_SUMMARY": str(summary), "COLUMNS": "1000",
           "FORGE_ROOT": str(root)}
    env.pop("FORGE_FAULT", None)
    env.update({k: _expand(str(v), context) for k, v in wf["env"].items()})
    env["FORGE"] = str(shim)
    assert env["FORGE_CHANNEL"] == str(root / "channel")
    steps = {s["id"]: s for s in wf["jobs"]["pull-request"]["steps"] if s.get("id")}
    outputs: dict[str, str] = {}
    for sid in PR_STEPS:
        step = steps[sid]
        step_env = {**env, **{k: _expand(str(v), context) for k, v in (step.get("env") or {}).items()}}
        proc = subprocess.run(["bash", "-e", "-c", _expand(step["run"], context)], cwd=root, env=step_env,
                              capture_output=True, text=True, timeout=600, check=False)
        outputs[sid] = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"step {sid} failed:\n{outputs[sid][-3000:]}"

    # changed: the new recipe, the changed one and its dependent, not the untouched one
    assert (root / "changed.txt").read_text().split() == ["wf-base", "wf-new", "wf-user"] or \
        sorted((root / "changed.txt").read_text().split()) == ["wf-base", "wf-new", "wf-user"]
    assert "0 error(s)" in outputs["lint"]
    channel = root / "channel"
    built = sorted(p.name for p in (channel / "noarch").glob("*.conda"))
    assert [b.rsplit("-", 2)[0] for b in built] == ["wf-base", "wf-new", "wf-user"], built
    assert any(b.startswith("wf-base-1.1-") for b in built)
    # every changed recipe was tested against the channel
    assert outputs["wasm-tests"].count("ok ") == 3, outputs["wasm-tests"]
    # the summary: markdown with a row per built package, and the report files in the channel
    text = summary.read_text()
    assert "## Recipes" in text and "| wf-user | 1.0 | noarch |" in text, text
    index = json.loads((channel / "index.json").read_text())
    assert {p["name"] for p in index["packages"]} == {"wf-base", "wf-new", "wf-user"}

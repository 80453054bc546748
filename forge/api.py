"""The library API behind the CLI: build, graph, status. Tests call these directly."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field

from .artifacts import refuse_package
from .channel import Channel
from .config import ForgeConfig
from .errors import ForgeError
from .executors.base import Executor
from .executors.local import LocalExecutor
from .jobs import BuildJob, BuildOutcome
from .planner import Plan, check_outputs, make_plan, prepare_job
from .scheduler import RecipeResult, Reporter, run_graph
from .workspace import Workspace


@dataclass
class BuildReport:
    plan: Plan
    results: dict[str, RecipeResult] = field(default_factory=dict)
    seconds: float = 0.0
    view: object | None = None  # the Pyodide view report, when the view was refreshed
    #: why the view refresh after the builds failed (the packages themselves are published)
    view_error: ForgeError | None = None

    @property
    def ok(self) -> bool:
        return self.view_error is None and all(r.status == "built" for r in self.results.values())

    def by_status(self, status: str) -> list[str]:
        return sorted(n for n, r in self.results.items() if r.status == status)


def publisher(channel: Channel):  # noqa: ANN201
    def publish(job: BuildJob, outcome: BuildOutcome) -> None:
        packages = outcome.package_paths
        check_outputs(job, packages)
        for pkg in packages:  # what the channel is about to hold: native code only where it runs
            refuse_package(pkg, recipe=job.recipe, file=job.recipe_file)
        channel.publish(packages, tests=outcome.tests)
        shutil.rmtree(job.work_dir, ignore_errors=True)

    return publish


def build(
    targets: list[str],
    config: ForgeConfig | None = None,
    *,
    jobs: int | None = None,
    executor: Executor | None = None,
    reporter: Reporter | None = None,
    force: bool = False,
    plan_hook=None,  # noqa: ANN001  (called with the plan before building; the CLI shows it)
    view: bool = True,
) -> BuildReport:
    """Build the targets and whatever they need that the channel lacks, then publish."""
    start = time.monotonic()
    cfg = config or ForgeConfig.load()
    ws = Workspace(cfg)
    plan = make_plan(ws, targets, force=force)
    report = BuildReport(plan=plan)
    if plan_hook:
        plan_hook(plan)
    if not plan.to_build:
        report.seconds = time.monotonic() - start
        return report
    if cfg.sandbox and executor is None:  # a farm's workers probe their own kernel
        from .sandbox import refusal  # noqa: PLC0415

        reason = refusal()
        if reason:
            raise ForgeError(f"builds run in a sandbox, and {reason}",
                             fix="run `forge build --no-sandbox` (or set FORGE_SANDBOX=0) to build unsandboxed on "
                                 "this machine, or give it namespaces (root, or unprivileged user namespaces)")
    own_executor = executor is None
    exe = executor or LocalExecutor(jobs)
    try:
        report.results = run_graph(
            plan.order, plan.deps, lambda name, attempt: prepare_job(ws, name, attempt=attempt),
            exe, publisher(ws.channel), reporter,
        )
    finally:
        if own_executor:
            exe.shutdown()
    if report.by_status("built") and view:
        from .pyodide_view import publish_view  # noqa: PLC0415

        from .report import write_report  # noqa: PLC0415

        # one build, every consumer: keep the Pyodide view (and the breadth page over it) in
        # step with the repodata
        try:
            report.view = publish_view(ws.channel.path)
            write_report(ws.channel.path)
        except ForgeError as exc:  # a toolchain or a refused wheel: said after the summary
            report.view_error = exc
    report.seconds = time.monotonic() - start
    return report


def graph_order(targets: list[str], config: ForgeConfig | None = None) -> tuple[list[str], str]:
    """Build order and Graphviz text for the targets."""
    ws = Workspace(config or ForgeConfig.load())
    g = ws.graph(targets)
    return g.order(), g.to_dot()


@dataclass
class RecipeStatus:
    name: str
    version: str
    outputs: list[str]
    published: bool
    in_channel: list[str]


def status(config: ForgeConfig | None = None) -> list[RecipeStatus]:
    """Every recipe against the channel: declared outputs and whether they are published."""
    ws = Workspace(config or ForgeConfig.load())
    present = ws.channel.filenames()
    rows: list[RecipeStatus] = []
    by_name: dict[str, list[str]] = {}
    for rec in ws.channel.records():
        by_name.setdefault(rec.name, []).append(f"{rec.version}-{rec.build} ({rec.subdir})")
    for name in ws.folders:
        try:
            r = ws.recipe(name)
        except ForgeError as exc:  # one broken recipe must not hide the others
            rows.append(RecipeStatus(name=name, version="-", outputs=[f"error: {exc}"], published=False, in_channel=[]))
            continue
        outs = [f"{o.subdir}/{o.filename}" for o in r.outputs]
        rows.append(RecipeStatus(
            name=name,
            version=r.outputs[0].version if r.outputs else "-",
            outputs=outs,
            published=bool(r.outputs) and all((o.subdir, o.filename) in present for o in r.outputs),
            in_channel=sorted({v for o in r.outputs for v in by_name.get(o.name, [])}),
        ))
    return rows


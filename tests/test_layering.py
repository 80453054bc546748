"""ARCHITECTURE.md's import table is the law: every import inside forge/ and workers/ (lazy
ones in functions included) must be one the importing module's row allows. The table is
parsed from the document itself, so the code and the document cannot drift apart."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.testlib import REPO

TABLE_HEAD = "| layer | modules | job | may import |"


@dataclass
class Row:
    layer: int | None
    names: list[str]  # module names relative to forge ("recipes", "toolchain.*") or "workers.*"
    allows: str
    allowed: set[str] = field(default_factory=set)
    everything: bool = False


def _norm(token: str) -> str:
    token = token.strip().removesuffix(".*")
    return token.removeprefix("forge.") if token != "forge" else token


def parse_table(text: str) -> list[Row]:
    lines = text.splitlines()
    start = lines.index(TABLE_HEAD) + 2
    rows: list[Row] = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        layer = int(cells[0]) if cells[0].isdigit() else None
        rows.append(Row(layer, [_norm(n) for n in re.findall(r"`([^`]+)`", cells[1])], cells[3]))
    for row in rows:
        for lo, hi in re.findall(r"layers? (\d)(?:[–-](\d))?", row.allows):
            span = range(int(lo), int(hi or lo) + 1)
            row.allowed |= {n for r in rows if r.layer in span for n in r.names}
        row.allowed |= {_norm(t) for t in re.findall(r"`([^`]+)`", row.allows)}
        row.everything = "everything above" in row.allows
    return rows


def module_names() -> dict[str, Path]:
    """'recipes' / 'toolchain.wasmcheck' / 'workers.tasks' -> file, for forge/ and workers/."""
    out: dict[str, Path] = {}
    for top in ("forge", "workers"):
        for path in sorted((REPO / top).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            out[name.removeprefix("forge.") if name != "forge" else name] = path
    return out


def _covers(token: str, module: str) -> bool:
    return module == token or module.startswith(token + ".")


def row_of(rows: list[Row], module: str) -> Row | None:
    best: tuple[int, Row] | None = None
    for row in rows:
        for n in row.names:
            # an attribute-style name (`recipes.SourceFile`) never names a row
            if _covers(n, module) and (best is None or len(n) > best[0]):
                best = (len(n), row)
    return best[1] if best else None


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """Forge/workers modules `path` imports, anywhere in the file."""
    pkg = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    if module.startswith("workers"):
        pkg = ["<workers>", *pkg[1:]]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1] if node.level > 1 else pkg
                base_name = ".".join(base)
                if base_name.startswith("<workers>"):
                    base_name = "workers" + base_name[len("<workers>"):]
                mod = ".".join(x for x in [base_name, node.module or ""] if x)
                if module.startswith("workers"):
                    names = [mod] + [f"{mod}.{a.name}" for a in node.names]
                else:
                    names = ["forge." + mod if mod else "forge"] + [f"forge.{mod}.{a.name}" if mod
                                                                     else f"forge.{a.name}" for a in node.names]
            else:
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            short = n.removeprefix("forge.") if n.startswith("forge.") else n
            if short in known:
                found.add(short)
    found.discard(module)
    return found


def test_every_module_has_a_row_and_imports_only_what_it_allows() -> None:
    rows = parse_table((REPO / "ARCHITECTURE.md").read_text())
    modules = module_names()
    known = set(modules)
    for row in rows:  # `recipes.SourceFile` allows the module recipes
        row.allowed = {a if a in known or "." not in a else a.rsplit(".", 1)[0] for a in row.allowed}
    problems: list[str] = []
    for module, path in modules.items():
        if module in ("forge", "workers"):
            continue
        row = row_of(rows, module)
        if row is None:
            problems.append(f"{path.relative_to(REPO)} ({module}) has no row in ARCHITECTURE.md's import table")
            continue
        for target in sorted(imports_of(path, module, known)):
            if target in ("forge",):
                continue
            own = any(_covers(n, target) for n in row.names)
            if row.everything and not target.startswith("workers") or own:
                continue
            # a module allowed means its package's __init__ (which importing it runs) is too
            if not any(_covers(a, target) or a.startswith(target + ".") for a in row.allowed):
                problems.append(f"{path.relative_to(REPO)} ({module}) imports {target}, which its row "
                                f"({', '.join(row.names)}: {row.allows}) does not allow")
    assert not problems, "\n".join(problems)


def test_the_core_never_imports_workers() -> None:
    modules = module_names()
    offenders = [f"{p.relative_to(REPO)} imports {t}" for m, p in modules.items() if not m.startswith("workers")
                 for t in imports_of(p, m, set(modules)) if t.startswith("workers")]
    assert not offenders, "\n".join(offenders)


def test_the_checker_catches_a_wrong_import(tmp_path: Path) -> None:
    """The walk sees lazy imports inside functions, and the table refuses an upward import."""
    rows = parse_table((REPO / "ARCHITECTURE.md").read_text())
    fake = tmp_path / "recipes.py"
    fake.write_text("def f():\n    from .scheduler import run_graph  # noqa\n    return run_graph\n")
    known = set(module_names())
    assert imports_of(fake, "recipes", known) == {"scheduler"}
    row = row_of(rows, "recipes")
    assert row is not None and not any(_covers(a, "scheduler") for a in row.allowed)

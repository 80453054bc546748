"""Write docs/recipes.md: every recipe's kind and version, and, from build logs, the seconds its
build phase took and how many upstream tests passed in wasm (pytest's summary lines).

Usage: python scripts/recipes_table.py [--logs STATE/logs ...] [--out docs/recipes.md] [--keep]

Numbers come only from the logs given (the newest log of each recipe that reached its wasm tests
with `ok`); a recipe without such a log gets `-`, never a guess, or with --keep the numbers the
existing table already had for it (measured by an earlier run of this script on its logs).
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SUMMARY = re.compile(r"^=*\s*(?:.*?\b)?(\d+) passed\b.*\bin [\d.]+s")
_PHASE = re.compile(r"^== phase build ([\d.]+)")
_OK = re.compile(r"^== wasm tests of .*: ok ")


KINDS = ("compiled", "shared library", "static library", "noarch", "platform")


def recipe_facts(recipe: Path) -> tuple[str, str]:
    """(kind, version) read from the recipe folder's text, with the kinds `forge report` uses:
    noarch; a shared library (a cross build that exports itself to its users, `run_exports`, and
    does not depend on python at run time: `ignore_run_exports` names it); a static library (the
    same without `run_exports`: its users link it in and need nothing at run time);
    compiled (a cross-built Python extension: forge-pyodide-build); platform (the runtime's
    own packages, nothing compiled)."""
    text = recipe.read_text()
    scripts = text + "".join(p.read_text() for p in recipe.parent.glob("*.sh"))
    ignored = re.search(r"^\s*ignore_run_exports:\n(?:\s+.*\n)*?\s+- python\s*$", text, re.M)
    if re.search(r"^\s*noarch:\s*(python|generic)", text, re.M):
        kind = "noarch"
    elif "forge-pyodide-build" not in scripts:
        kind = "platform"
    elif re.search(r"^\s*run_exports:", text, re.M) and ignored:
        kind = "shared library"
    elif ignored:  # no python at run time and nothing exported: linked into its users (libf2c)
        kind = "static library"
    else:
        kind = "compiled"
    m = re.search(r'^\s*version:\s*"?([^"\n$]+)"?\s*$', text, re.M)
    return kind, (m.group(1).strip() if m else "-")


def previous_numbers(table: Path) -> dict[str, tuple[str, str]]:
    """recipe -> (build seconds, tests passed) as an existing table has them."""
    if not table.is_file():
        return {}
    out: dict[str, tuple[str, str]] = {}
    for line in table.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] != "recipe":
            out[cells[0]] = (cells[3], cells[4])
    return out


def table_rows(logs: list[Path], keep: dict[str, tuple[str, str]] | None = None) -> tuple[list[str], dict[str, int], int]:
    """The table's rows (one per recipe folder), the count per kind and the tests passed."""
    rows: list[str] = []
    counts = dict.fromkeys(KINDS, 0)
    passed_total = 0
    # the repository's recipes and the platform recipes the forge ships (forge/platform/recipes)
    folders = [*(ROOT / "recipes").glob("*/recipe.yaml"), *(ROOT / "forge" / "platform" / "recipes").glob("*/recipe.yaml")]
    for recipe in sorted(folders, key=lambda r: r.parent.name):
        name = recipe.parent.name
        kind, version = recipe_facts(recipe)
        secs, passed = log_facts(logs, name)
        if (secs, passed) == ("-", "-") and keep and name in keep:
            secs, passed = keep[name]
        counts[kind] += 1
        passed_total += int(passed) if passed.isdigit() else 0
        rows.append(f"| {name} | {kind} | {version} | {secs} | {passed} |")
    return rows, counts, passed_total


def log_facts(logs: list[Path], name: str) -> tuple[str, str]:
    """(build seconds, upstream tests passed) from the newest passing log of `name`."""
    candidates = [p for d in logs for p in (d / name).glob("*.log") if p.name != "latest.log"]
    for log in sorted(candidates, key=lambda p: p.stat().st_mtime, reverse=True):
        lines = log.read_text(errors="replace").splitlines()
        if not any(_OK.match(ln) for ln in lines):
            continue
        build = next((m.group(1) for ln in lines if (m := _PHASE.match(ln))), "-")
        passed = sum(int(m.group(1)) for ln in lines if (m := _SUMMARY.match(ln.strip())))
        return (f"{float(build):.0f}" if build != "-" else "-"), str(passed)
    return "-", "-"


def summary_line(n: int, counts: dict[str, int], passed: int) -> str:
    """The count line under the heading (a test holds it to the recipes folder)."""
    return (f"{n} recipes: {counts['compiled']} compiled extensions, {counts['shared library']} shared libraries, "
            f"{counts['static library']} static libraries, "
            f"{counts['noarch']} noarch, {counts['platform']} platform; {passed} upstream tests passed in wasm.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--logs", type=Path, action="append", default=[])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "recipes.md")
    ap.add_argument("--keep", action="store_true", help="recipes without a log keep the table's numbers")
    ns = ap.parse_args()
    rows, counts, passed = table_rows(ns.logs, previous_numbers(ns.out) if ns.keep else None)
    head = [
        "# Recipes",
        "",
        "Generated by `python scripts/recipes_table.py --logs <FORGE_STATE>/logs` from the build logs",
        "of one machine (build seconds: the `build` phase; tests: the sum of pytest's `N passed` in the",
        "recipe's wasm tests, 0 when a recipe's tests are an import and a smoke script). `-`: no",
        "passing build log was given for it; with `--keep`, a recipe not rebuilt keeps the numbers an",
        "earlier run of the script measured.",
        "",
        summary_line(len(rows), counts, passed),
        "",
        "| recipe | kind | version | build s | upstream tests passed (wasm) |",
        "|---|---|---|---:|---:|",
    ]
    ns.out.write_text("\n".join(head + rows) + "\n")
    print(f"wrote {ns.out}: {summary_line(len(rows), counts, passed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

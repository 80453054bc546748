"""The dependency graph across recipes: which recipe must be published before which.

Every build/host/run requirement of a rendered output is mapped to the recipe that produces
it. Requirements the channel already satisfies need no edge; requirements nobody provides
and cycles are errors that name the recipe, the requirement and the file.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rattler import MatchSpec, Version, VersionSpec

from .config import TARGET_PLATFORM
from .errors import ForgeError
from .recipes import Output, Recipe

#: noarch outputs are tested (and so resolved) on the target, like everything else.
NOARCH_TEST_PLATFORM = TARGET_PLATFORM


def spec_name(spec: str) -> str:
    return MatchSpec(spec).name.normalized


def version_matches(spec: str, version: str) -> bool:
    vs = MatchSpec(spec).version
    return vs is None or VersionSpec(str(vs)).matches(Version(version))


@dataclass
class Graph:
    """Recipes (rendered) and their dependency edges, restricted to what a target needs."""

    recipes: dict[str, Recipe]
    deps: dict[str, set[str]] = field(default_factory=dict)

    def order(self) -> list[str]:
        """Build order: dependencies first; raises ForgeError naming a cycle."""
        sorter = graphlib.TopologicalSorter({r: sorted(d) for r, d in self.deps.items()})
        try:
            return list(sorter.static_order())
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            first = cycle[0]
            raise ForgeError(
                "the recipes form a dependency cycle " + " -> ".join(cycle),
                recipe=first, file=self.recipes[first].file,
                fix="break the cycle by removing one of these requirements",
            ) from None

    def to_dot(self) -> str:
        lines = ["digraph forge {", "  rankdir=LR;"]
        for r in sorted(self.deps):
            lines.append(f'  "{r}";')
            for d in sorted(self.deps[r]):
                lines.append(f'  "{r}" -> "{d}";')
        lines.append("}")
        return "\n".join(lines)


def contexts(recipe: Recipe) -> list[tuple[str, Output]]:
    """(platform, output) pairs whose requirements count: native outputs on their platform,
    noarch outputs on the platform their tests run on."""
    pairs: list[tuple[str, Output]] = []
    for platform, outs in recipe.platforms.items():
        for o in outs:
            if o.subdir == platform or (o.subdir == "noarch" and platform == NOARCH_TEST_PLATFORM):
                pairs.append((platform, o))
    return pairs


def build_graph(
    targets: list[str],
    load: Callable[[str], Recipe],
    providers: Callable[[str], list[str]],
    channel_has: Callable[[str, str, str], bool],
    root: Path,
) -> Graph:
    """Walk from the targets through requirements, rendering recipes as they are reached.

    `load(name)` renders a recipe, `providers(pkg)` names recipes that may output package
    `pkg`, and `channel_has(spec, platform, pkg)` says whether the channel satisfies a spec.
    """
    graph = Graph(recipes={})
    todo = list(targets)
    while todo:
        name = todo.pop()
        if name in graph.deps:
            continue
        recipe = graph.recipes.get(name) or load(name)
        graph.recipes[name] = recipe
        edges: set[str] = set()
        own = {o.name for o in recipe.outputs}
        for platform, out in contexts(recipe):
            for spec in out.requirements:
                pkg = spec_name(spec)
                if pkg.startswith("__") or pkg in own:
                    continue
                matched = None
                offered: list[str] = []
                for cand in providers(pkg):
                    prov = graph.recipes.get(cand) or load(cand)
                    graph.recipes.setdefault(cand, prov)
                    for o in prov.platforms.get(platform, []):
                        if o.name == pkg and o.subdir in (platform, "noarch"):
                            offered.append(o.version)
                            if version_matches(spec, o.version):
                                matched = cand
                if matched:
                    edges.add(matched)
                    continue
                if channel_has(spec, platform, pkg):
                    continue
                skipping = [c for c in providers(pkg) if not graph.recipes[c].platforms.get(platform)]
                if offered:
                    where = f"recipe {', '.join(providers(pkg))} produces {pkg} {', '.join(sorted(set(offered)))}"
                elif skipping:
                    where = f"recipe {', '.join(skipping)} skips {platform} (its build.skip)"
                else:
                    where = "no recipe produces it"
                raise ForgeError(
                    f"requirement '{spec}' ({platform}) cannot be satisfied: {where} and the channel does not hold it",
                    recipe=name, file=recipe.display_file(root),
                    fix=f"add or update recipes/{pkg}/recipe.yaml, or change the requirement",
                )
        graph.deps[name] = edges
        # recipes loaded only as candidates are walked too, so their edges are known
        todo.extend(c for c in graph.recipes if c not in graph.deps and c not in todo)
    # keep only what the targets reach
    reach: set[str] = set()
    frontier = list(targets)
    while frontier:
        cur = frontier.pop()
        if cur in reach:
            continue
        reach.add(cur)
        frontier.extend(graph.deps.get(cur, ()))
    graph.recipes = {k: v for k, v in graph.recipes.items() if k in reach}
    graph.deps = {k: v for k, v in graph.deps.items() if k in reach}
    return graph

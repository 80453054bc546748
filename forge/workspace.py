"""The forge's view of a repository: its recipes (rendered on demand) and its channel."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .channel import Channel
from .config import ForgeConfig
from .errors import ForgeError
from .graph import Graph, build_graph, spec_name, version_matches
from .recipes import Recipe, recipe_folders, render


class Workspace:
    """Renders recipes lazily and answers what the channel already satisfies."""

    def __init__(self, config: ForgeConfig) -> None:
        self.config = config
        self.channel = Channel(config.channel_dir)
        self._rendered: dict[str, Recipe] = {}
        self._by_output: dict[str, list[str]] | None = None
        self._broken: dict[str, ForgeError] = {}

    @cached_property
    def folders(self) -> dict[str, Path]:
        return recipe_folders(self.config.recipes_dir)

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.config.root))
        except ValueError:
            return str(path)

    def recipe(self, name: str) -> Recipe:
        """Render one recipe (cached); an unknown name is a ForgeError listing close matches."""
        if name not in self._rendered:
            if name not in self.folders:
                import difflib  # noqa: PLC0415

                close = difflib.get_close_matches(name, list(self.folders), n=3)
                hint = f"did you mean {', '.join(close)}?" if close else "run `forge list` to see the recipes"
                raise ForgeError(
                    f"there is no recipe named '{name}' in {self.display(self.config.recipes_dir)}",
                    fix=hint,
                )
            path = self.folders[name]
            self._rendered[name] = render(
                name, path, platforms=self.config.platforms, variant_file=self.config.variant_file,
                display=self.display(path / "recipe.yaml"),
            )
        return self._rendered[name]

    def providers(self, package: str) -> list[str]:
        """Recipes that output `package` on any platform (renders every recipe once)."""
        if self._by_output is None:
            self._by_output = {}
            for name in self.folders:
                try:
                    outputs = self.recipe(name).outputs
                except ForgeError as exc:  # a broken recipe only matters to what needs it
                    self._broken[name] = exc
                    continue
                for o in outputs:
                    names = self._by_output.setdefault(o.name, [])
                    if name not in names:
                        names.append(name)
        found = self._by_output.get(package, [])
        if not found and package in self._broken:
            raise self._broken[package]
        return found

    @cached_property
    def _channel_index(self) -> dict[tuple[str, str], list[str]]:
        index: dict[tuple[str, str], list[str]] = {}
        for rec in self.channel.records():
            index.setdefault((rec.subdir, rec.name), []).append(rec.version)
        return index

    def channel_has(self, spec: str, platform: str, package: str | None = None) -> bool:
        pkg = package or spec_name(spec)
        versions = self._channel_index.get((platform, pkg), []) + self._channel_index.get(("noarch", pkg), [])
        return any(version_matches(spec, v) for v in versions)

    def graph(self, targets: list[str]) -> Graph:
        return build_graph(targets, self.recipe, self.providers, self.channel_has, self.config.root)

    @cached_property
    def _present(self) -> set[tuple[str, str]]:
        return self.channel.filenames()

    def published(self, recipe: Recipe) -> bool:
        """True when every output of the recipe (same build string) was in the channel when
        planning started (what the scheduler publishes later does not change the plan)."""
        return all((o.subdir, o.filename) in self._present for o in recipe.outputs)

"""A build outcome carries the ForgeError itself: its fields survive JSON (the embedded pool's
and the farm's wire format) and pickling, and errors.ForgeError renders the one sentence."""

from __future__ import annotations

import json
import pickle

from forge.errors import ForgeError
from forge.jobs import BuildOutcome
from forge.toolchain.errors import ToolchainError


def test_sentence_has_every_known_part() -> None:
    err = ForgeError("the build failed", recipe="lz4", file="recipes/lz4/recipe.yaml", line=7,
                     cause="its build script exited 1: error: no lz4.h", log="/l/1.log", fix="fix the recipe")
    assert str(err) == ("recipe 'lz4' (recipes/lz4/recipe.yaml:7): the build failed: its build script exited 1: "
                        "error: no lz4.h; see the log /l/1.log and fix the recipe.")
    assert str(ForgeError("node is not on PATH", fix="install nodejs.")) == "node is not on PATH; install nodejs."
    assert str(ForgeError("it died", recipe="x", log="/l")) == "recipe 'x': it died; see the log /l."


def test_outcome_round_trips_the_error_as_fields() -> None:
    err = ForgeError("its wasm tests failed", recipe="p", file="recipes/p/recipe.yaml", cause="test 0 failed",
                     log="/logs/p.log", fix="fix the recipe")
    out = BuildOutcome(recipe="p", ok=False, error=err, log_path="/logs/p.log", transient=True)
    wire = json.loads(out.to_json())
    assert wire["error"] == {"message": "its wasm tests failed", "recipe": "p", "file": "recipes/p/recipe.yaml",
                             "cause": "test 0 failed", "log": "/logs/p.log", "fix": "fix the recipe"}
    back = BuildOutcome.from_json(out.to_json())
    assert isinstance(back.error, ForgeError) and back.error.to_dict() == err.to_dict()
    assert back.error_text == str(err) and back.transient and back.log_path == "/logs/p.log"
    ok = BuildOutcome.from_json(BuildOutcome(recipe="p", ok=True, packages=["noarch/p.conda"]).to_json())
    assert ok.error is None and ok.error_text is None and ok.packages == ["noarch/p.conda"]


def test_a_plain_sentence_from_an_older_peer_is_kept() -> None:
    back = BuildOutcome.from_dict({"recipe": "p", "ok": False, "error": "recipe 'p': it broke."})
    assert back.error_text == "recipe 'p': it broke."


def test_errors_pickle_with_their_fields() -> None:
    err = pickle.loads(pickle.dumps(ForgeError("x failed", recipe="r", cause="c", log="/l")))
    assert (err.recipe, err.cause, err.log, str(err)) == ("r", "c", "/l", "recipe 'r': x failed: c; see the log /l.")
    tool = pickle.loads(pickle.dumps(ToolchainError("debootstrap failed", log_path=None)))
    assert isinstance(tool, ToolchainError) and str(tool) == "debootstrap failed."

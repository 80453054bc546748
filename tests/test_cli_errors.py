"""Every command meets a broken channel and a failing toolchain with one sentence and exit 1:
never a traceback, never "internal error" (that is kept for real bugs), nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.testlib import forge_cli, generic_recipe, make_repo, snapshot

#: (arguments, a fragment the one error sentence must hold); CHANNEL is the broken channel
BROKEN_CHANNEL = [
    (["build", "a"], "repodata.json is not valid JSON"),
    (["status"], "repodata.json is not valid JSON"),
    (["list"], "repodata.json is not valid JSON"),
    (["test", "a"], "does not hold noarch/a-1.0"),
    (["pyodide", "view"], "repodata.json is not valid JSON"),
    (["pyodide", "check"], "has no pyodide-lock.json"),
    (["env", "create", "PREFIX", "a"], "cannot be solved"),
    (["lite", "-o", "SITE"], "repodata.json is not valid JSON"),
]


@pytest.mark.parametrize(("args", "fragment"), BROKEN_CHANNEL, ids=[" ".join(a[:2]) for a, _ in BROKEN_CHANNEL])
def test_a_broken_channel_is_one_sentence(args: list[str], fragment: str, tmp_path: Path) -> None:
    make_repo(tmp_path, {"a": generic_recipe("a")})
    channel = tmp_path / "channel"
    (channel / "noarch").mkdir(parents=True)
    (channel / "noarch" / "repodata.json").write_text("{not json")
    before = snapshot(channel)
    argv = [x.replace("PREFIX", str(tmp_path / "env")).replace("SITE", str(tmp_path / "site")) for x in args]
    flag = ["-c", str(channel)] if args[0] in ("pyodide", "env", "lite") else ["--channel", str(channel)]
    proc = forge_cli(*argv, *flag, root=tmp_path)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], text
    assert snapshot(channel) == before, "a failed command must leave the channel as it was"


def test_a_failing_toolchain_is_one_sentence(tmp_path: Path) -> None:
    """The build root exists but is broken (no emcc): commands that need it say so in one sentence."""
    root = tmp_path / "root"
    (root / "usr" / "bin").mkdir(parents=True)
    (root / ".forge-buildroot.json").write_text("{}")
    for args in (["toolchain", "info"], ["toolchain", "run", "--", "true"]):
        proc = forge_cli(*args, root=tmp_path, FORGE_BUILDROOT=str(root))
        text = proc.stdout + proc.stderr
        assert proc.returncode == 1, text
        assert "Traceback" not in text and "internal error" not in text, text
        assert sum(ln.startswith("error") for ln in text.splitlines()) == 1, text


def test_a_usage_error_is_clicks_message_not_a_bug(tmp_path: Path) -> None:
    proc = forge_cli("toolchain", "info", "--no-such-option", root=tmp_path)
    assert proc.returncode == 2
    assert "No such option: --no-such-option" in proc.stderr and "internal error" not in proc.stderr

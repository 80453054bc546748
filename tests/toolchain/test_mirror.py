from pathlib import Path

import pytest

from forge.toolchain.errors import ToolchainError
from forge.toolchain.mirror import debian_mirror, parse_deb822, parse_one_line, pick_mirror

# Made-up hosts: the tests never name a real registry.
DEB822 = """\
Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_parse_deb822() -> None:
    st = parse_deb822(DEB822)
    assert len(st) == 2
    assert st[0]["uris"] == "http://mirror.example/debian/"
    assert st[1]["suites"] == "bookworm-security"


def test_security_first_is_skipped() -> None:
    text = "\n\n".join(reversed(DEB822.split("\n\n")))
    assert pick_mirror(parse_deb822(text)) == "http://mirror.example/debian"


def test_one_line_format() -> None:
    text = "# comment\ndeb-src http://src.example/debian bookworm main\n" \
           "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main contrib\n"
    assert pick_mirror(parse_one_line(text)) == "http://one.example/debian"


def test_reads_apt_dir(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_no_mirror_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match="No Debian archive mirror"):
        debian_mirror(tmp_path)


def test_this_machine_has_a_mirror() -> None:
    if not Path("/etc/apt").is_dir():
        pytest.skip("not a Debian host")
    assert debian_mirror().startswith(("http://", "https://"))

"""Rust crates in forge-pyodide-build: the vendored-crates source and std's crates beside it."""

from pathlib import Path

import pytest

from forge.helpers.pyodide_build import RUST_STD_VENDOR, BuildError, cargo_vendor_dir, rust_env


def _crate(src: Path, config: str | None) -> Path:
    src.mkdir()
    (src / "Cargo.toml").write_text('[package]\nname = "x"\nversion = "0.1.0"\n')
    if config is not None:
        (src / ".cargo").mkdir()
        (src / ".cargo" / "config.toml").write_text(config)
    return src


VENDORED = '[source.crates-io]\nreplace-with = "v"\n[source.v]\ndirectory = "include/cargo"\n'


def test_vendor_dir_read_from_cargo_config(tmp_path: Path) -> None:
    src = _crate(tmp_path / "orjson", VENDORED)
    assert cargo_vendor_dir(src) == (src / "include/cargo").resolve()
    # pydantic-core's config holds only rustflags: no vendored crates
    assert cargo_vendor_dir(_crate(tmp_path / "pc", "[build]\nrustflags = []\n")) is None


def test_unvendored_crate_is_refused_in_one_sentence(tmp_path: Path) -> None:
    src = _crate(tmp_path / "jiter", None)
    with pytest.raises(BuildError, match="does not vendor its crates") as e:
        rust_env(src, tmp_path / "root", tmp_path / "cargo-home")
    assert "the crates registry cannot be reached" in str(e.value)


def test_std_crates_linked_beside_the_sdists(tmp_path: Path) -> None:
    src = _crate(tmp_path / "orjson", VENDORED)
    (src / "include/cargo/libc-0.2.190").mkdir(parents=True)
    root = tmp_path / "root"
    std = root / RUST_STD_VENDOR.lstrip("/")
    for name in ("libc-0.2.185", "hashbrown-0.17.1", "libc-0.2.190"):
        (std / name).mkdir(parents=True)
    env = rust_env(src, root, tmp_path / "cargo-home")
    vendor = src / "include/cargo"
    assert (vendor / "hashbrown-0.17.1").is_symlink()
    assert str((vendor / "libc-0.2.185").readlink()) == f"{RUST_STD_VENDOR}/libc-0.2.185"
    assert not (vendor / "libc-0.2.190").is_symlink()  # the sdist's own copy wins
    assert env["CARGO_UNSTABLE_BUILD_STD"].split(",")[:2] == ["std", "panic_unwind"]
    assert "-Z emscripten-wasm-eh" in env["CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_RUSTFLAGS"]
    # a second build of the same tree (rattler-build retry) does not trip over its own links
    assert rust_env(src, root, tmp_path / "cargo-home") == env


def test_no_rust_src_in_root_is_refused(tmp_path: Path) -> None:
    src = _crate(tmp_path / "orjson", VENDORED)
    (src / "include/cargo").mkdir(parents=True)
    with pytest.raises(BuildError, match="rust-src"):
        rust_env(src, tmp_path / "root", tmp_path / "cargo-home")


def test_not_a_crate_gets_no_cargo_settings(tmp_path: Path) -> None:
    assert rust_env(tmp_path, tmp_path / "root", tmp_path / "cargo-home") == {}

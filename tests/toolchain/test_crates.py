"""Crates from Debian (forge.cargoreqs, forge.crates): Cargo.toml -> librust-*-dev packages,
cargo's semver, the one sentence for a crate Debian cannot serve, the build's directory source
and the offline Cargo.lock regeneration (no network: a made-up archive index)."""

from pathlib import Path

import pytest

from forge.cargoreqs import drop_dev_dependencies, matches, read_lock, read_manifests
from forge.crates import cargo_failure, crates_key, debian_package, parse_index, resolve, upstream_version
from forge.errors import ForgeError
from forge.helpers.pyodide_build import RUST_STD_VENDOR, relock_for, rust_env

INDEX = """\
Package: librust-pyo3-dev
Version: 0.28.2-2
Provides: librust-pyo3+default-dev (= 0.28.2-2), librust-pyo3+extension-module-dev (= 0.28.2-2),
 librust-pyo3-0.28-dev (= 0.28.2-2)
Depends: librust-pyo3-ffi-0.28+default-dev (>= 0.28.2), librust-chrono-0.4-dev (>= 0.4.25), libc6
Filename: pool/main/r/rust-pyo3/librust-pyo3-dev_0.28.2-2_amd64.deb
SHA256: 3586d2fa8004333ccf815dcb6557126649fcef45c766ec41675f2c2a1dfc5b82

Package: librust-pyo3-ffi-dev
Version: 0.28.2-1
Provides: librust-pyo3-ffi+default-dev (= 0.28.2-1), librust-pyo3-ffi-0.28+default-dev (= 0.28.2-1)
Depends: librust-libc-0.2+default-dev

Package: librust-libc-dev
Version: 0.2.186-1
Provides: librust-libc+default-dev (= 0.2.186-1), librust-libc-0.2+default-dev (= 0.2.186-1)

Package: librust-chrono-dev
Version: 0.4.42-1
Provides: librust-chrono-0.4-dev (= 0.4.42-1)

Package: librust-rpds-dev
Version: 1.2.1-1
Provides: librust-rpds-1+default-dev (= 1.2.1-1)
Depends: librust-archery-1+default-dev (>= 1.2.2)

Package: librust-archery-dev
Version: 1.2.3-1
Provides: librust-archery-1+default-dev (= 1.2.3-1)

Package: librust-syn-1-dev
Version: 1.0.109-3

Package: librust-heck-dev
Version: 0.5.0-1+really0.5.0-1

Package: python3-foo
Version: 1.0-1
"""

RPDS_PY = """\
[package]
name = "rpds-py"
version = "2026.9.1"

[dependencies]
rpds = "1.2.1"
archery = "1.2.2"

[dependencies.pyo3]
version = "0.29.0"
features = ["extension-module"]

[dev-dependencies]
criterion = "0.5"

[target.'cfg(windows)'.dependencies]
windows-sys = "0.59"
"""


def _tree(tmp_path: Path, cargo_toml: str, lock: str = "") -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "Cargo.toml").write_text(cargo_toml)
    (src / "pyproject.toml").write_text('[build-system]\nrequires = ["maturin>=1.9"]\nbuild-backend = "maturin"\n')
    if lock:
        (src / "Cargo.lock").write_text(lock)
    return src


def test_debian_names_crates_lowercase_with_dashes() -> None:
    assert debian_package("pyo3") == "librust-pyo3-dev"
    assert debian_package("once_cell") == "librust-once-cell-dev"
    assert debian_package("Inflector") == "librust-inflector-dev"
    assert upstream_version("0.28.2-2") == "0.28.2"
    assert upstream_version("1:1.0.0~beta.3-1") == "1.0.0-beta.3"
    assert upstream_version("0.5.0-1+really0.5.0-1") == "0.5.0"
    assert upstream_version("4.7.0+dfsg-1") == "4.7.0"


@pytest.mark.parametrize(("req", "version", "ok"), [
    ("0.28.3", "0.28.2", False), ("0.28.2", "0.28.9", True), ("0.28.2", "0.29.0", False),
    ("1.2.1", "1.9.0", True), ("1.2.1", "2.0.0", False), ("^0.0.3", "0.0.4", False), ("~1.2", "1.2.9", True),
    ("~1.2", "1.3.0", False), (">=1, <3", "2.5.0", True), ("1.*", "2.0.0", False), ("=1.2.3", "1.2.4", False),
    ("*", "9.0.0", True), ("1.0", "1.0.0-beta.1", False),
])
def test_cargo_semver(req: str, version: str, ok: bool) -> None:
    assert matches(req, version) is ok


def test_manifests_read_registry_deps_of_workspace_and_path_crates(tmp_path: Path) -> None:
    src = _tree(tmp_path, '[workspace]\nmembers = ["crates/*"]\n[workspace.dependencies]\npyo3 = "0.28.2"\n')
    for name, body in {"jiter": '[dependencies]\nahash = "0.8"\n',
                       "jiter-python": '[dependencies]\npyo3 = { workspace = true, features = ["num-bigint"] }\n'
                                       'jiter = { path = "../jiter" }\n'}.items():
        (src / "crates" / name).mkdir(parents=True)
        (src / "crates" / name / "Cargo.toml").write_text(f'[package]\nname = "{name}"\nversion = "0.1.0"\n{body}')
    m = read_manifests(src)
    assert sorted((r.name, r.req, r.features) for r in m.reqs) == [
        ("ahash", "0.8", ()), ("pyo3", "0.28.2", ("num-bigint",))]
    assert m.local == {"jiter", "jiter-python"}


def test_rpds_py_requirements_map_to_debian_and_their_closure(tmp_path: Path) -> None:
    src = _tree(tmp_path, RPDS_PY.replace('"0.29.0"', '"0.28.2"'))
    reg = 'source = "registry+https://example.invalid/index"'
    (src / "Cargo.lock").write_text(f'[[package]]\nname = "libc"\nversion = "0.2.177"\n{reg}\n\n'
                                    f'[[package]]\nname = "pyo3-ffi"\nversion = "0.28.3"\n{reg}\n')
    m = read_manifests(src)
    assert [r.name for r in m.reqs] == ["rpds", "archery", "pyo3"]  # no dev, no windows-only crate
    debs = resolve(m, parse_index(INDEX), read_lock(src), recipe="rpds-py", file="recipes/rpds-py/recipe.yaml")
    # chrono: an optional crate pyo3's collapsed package depends on, which the lock does not name
    assert [d.package for d in debs] == ["librust-archery-dev", "librust-libc-dev", "librust-pyo3-dev",
                                         "librust-pyo3-ffi-dev", "librust-rpds-dev"]
    assert crates_key(debs) == crates_key(list(reversed(debs)))


def test_missing_version_is_one_sentence_before_any_build(tmp_path: Path) -> None:
    src = _tree(tmp_path, RPDS_PY)
    with pytest.raises(ForgeError) as e:
        resolve(read_manifests(src), parse_index(INDEX), recipe="rpds-py", file="recipes/rpds-py/recipe.yaml")
    assert str(e.value) == (
        "recipe 'rpds-py' (recipes/rpds-py/recipe.yaml): the crate pyo3 is required as 0.29.0 by the sdist's "
        "Cargo.toml, but Debian's archive has 0.28.2 (librust-pyo3-dev); pin a release of the project whose "
        "Cargo.toml accepts Debian's pyo3, or patch its requirement to \"0.28.2\" in the recipe (or vendor the "
        "crates into the recipe's sources with `cargo vendor`).")


def test_crate_debian_lacks_is_named(tmp_path: Path) -> None:
    src = _tree(tmp_path, '[package]\nname = "x"\nversion = "0.1.0"\n[dependencies]\nspeedate = "0.18.0"\n')
    with pytest.raises(ForgeError) as e:
        resolve(read_manifests(src), parse_index(INDEX), recipe="x", file="recipes/x/recipe.yaml")
    assert "the crate speedate is required as 0.18.0 by the sdist's Cargo.toml, but Debian's archive has no " \
           "librust-speedate-dev" in str(e.value)


def test_semver_suffixed_package_serves_the_older_series(tmp_path: Path) -> None:
    src = _tree(tmp_path, '[package]\nname = "x"\nversion = "0.1.0"\n[dependencies]\nsyn = "1.0.100"\n')
    debs = resolve(read_manifests(src), parse_index(INDEX), recipe="x", file="f")
    assert [(d.package, d.crate, d.crate_version) for d in debs] == [("librust-syn-1-dev", "syn", "1.0.109")]


def test_build_points_cargo_at_debian_crates_beside_std(tmp_path: Path) -> None:
    src = _tree(tmp_path, RPDS_PY)
    crates = tmp_path / "cache" / "crates" / "k"
    (crates / "pyo3-0.28.2").mkdir(parents=True)
    (crates / "libc-0.2.185").mkdir()
    root = tmp_path / "root"
    std = root / RUST_STD_VENDOR.lstrip("/")
    (std / "libc-0.2.185").mkdir(parents=True)
    (std / "cfg-if-1.0.4").mkdir()
    env = rust_env(src, root, tmp_path / "out" / "cargo-home", crates)
    vendor = tmp_path / "out" / "crates-src"
    assert env["CARGO_NET_OFFLINE"] == "true"
    assert f'directory = "{vendor}"' in (tmp_path / "out" / "cargo-home" / "config.toml").read_text()
    assert sorted(p.name for p in vendor.iterdir()) == ["cfg-if-1.0.4", "libc-0.2.185", "pyo3-0.28.2"]
    assert (vendor / "pyo3-0.28.2").readlink() == crates / "pyo3-0.28.2"
    assert str((vendor / "libc-0.2.185").readlink()) == f"{RUST_STD_VENDOR}/libc-0.2.185"  # std's copy wins


def test_lock_regenerated_only_when_a_pin_is_missing(tmp_path: Path) -> None:
    reg = 'source = "registry+https://example.invalid/index"'
    src = _tree(tmp_path, RPDS_PY, f'[[package]]\nname = "pyo3"\nversion = "0.28.3"\n{reg}\n')
    vendor = tmp_path / "v"
    (vendor / "pyo3-0.28.2").mkdir(parents=True)
    (vendor / "pyo3-0.28.2" / "Cargo.toml").write_text('[package]\nname = "pyo3"\nversion = "0.28.2"\n')
    (vendor / "pyo3-0.28.2" / ".cargo-checksum.json").write_text('{"package":"Could not get crate checksum","files":{}}')
    ran = []

    def cargo(argv: list[str]) -> int:
        ran.append(argv)
        (src / "Cargo.lock").write_text(f'[[package]]\nname = "pyo3"\nversion = "0.28.2"\n{reg}\n')
        return 0

    assert relock_for(src, vendor, cargo) == ["pyo3 0.28.3 -> 0.28.2"]
    assert ran == [["cargo", "generate-lockfile", "--offline"]]
    assert relock_for(src, vendor, cargo) == []  # every pin is there now: the lock is kept
    assert len(ran) == 1
    # the same version with the registry's checksum: Debian's copy has none, so cargo must relock
    (src / "Cargo.lock").write_text(f'[[package]]\nname = "pyo3"\nversion = "0.28.2"\n{reg}\nchecksum = "ab12"\n')
    assert relock_for(src, vendor, cargo) == []  # relocked, no version changed
    assert len(ran) == 2


def test_feature_debian_dropped_is_one_sentence(tmp_path: Path) -> None:
    src = _tree(tmp_path, RPDS_PY.replace('"0.29.0"', '"0.28.2"').replace(
        '"extension-module"]', '"extension-module", "generate-import-lib"]'))
    with pytest.raises(ForgeError) as e:
        resolve(read_manifests(src), parse_index(INDEX), recipe="rpds-py", file="recipes/rpds-py/recipe.yaml")
    assert str(e.value) == (
        "recipe 'rpds-py' (recipes/rpds-py/recipe.yaml): the crate pyo3 is required with the feature "
        "generate-import-lib by the sdist's Cargo.toml, but Debian's pyo3 0.28.2 (librust-pyo3-dev) does not have "
        "it; patch the feature out of Cargo.toml in the recipe if the wasm build does not need it (Debian drops "
        "other platforms' features, such as Windows' generate-import-lib).")


def test_every_crate_debian_cannot_serve_in_one_sentence(tmp_path: Path) -> None:
    src = _tree(tmp_path, RPDS_PY + 'speedate = "0.18.0"\n'.replace("speedate", "[dependencies.speedate]\nversion"))
    with pytest.raises(ForgeError) as e:
        resolve(read_manifests(src), parse_index(INDEX), recipe="x", file="recipes/x/recipe.yaml")
    assert str(e.value).startswith(
        "recipe 'x' (recipes/x/recipe.yaml): 2 crates cannot come from Debian's archive: pyo3 is required as 0.29.0 "
        "by the sdist's Cargo.toml, but Debian's archive has 0.28.2 (librust-pyo3-dev); speedate is required as "
        "0.18.0 by the sdist's Cargo.toml, but Debian's archive has no librust-speedate-dev; pin a release")


def test_cargo_names_what_debian_s_crates_still_need(tmp_path: Path) -> None:
    missing = ("error: no matching package named `pyo3-ffi` found\nlocation searched: directory source `/c` "
               "(which is replacing registry `crates-io`)\nrequired by package `pyo3 v0.28.2`\n")
    assert cargo_failure(missing, tmp_path, recipe="x", file="f") == [("pyo3-ffi", "pyo3 0.28.2")]
    version = ('error: failed to select a version for the requirement `strum = "^0.27"`\n'
               "candidate versions found which didn't match: 0.28.0\nlocation searched: directory source `/c`\n"
               "required by package `pydantic-core v2.45.0 (/src)`\n")
    with pytest.raises(ForgeError) as e:
        cargo_failure(version, tmp_path, recipe="x", file="f")
    assert e.value.message == ("the crate strum is required as ^0.27 by pydantic-core 2.45.0 (from Debian's archive "
                               "or the sdist), but Debian's archive has 0.28.0")


def test_dev_dependencies_dropped_before_the_lock_is_resolved(tmp_path: Path) -> None:
    src = _tree(tmp_path, '[workspace]\nmembers = ["crates/jiter"]\n')
    member = src / "crates" / "jiter"
    member.mkdir(parents=True)
    (member / "Cargo.toml").write_text(
        '[package]\nname = "jiter"\nversion = "0.15.0"\n\n[dependencies]\nahash = "0.8"\n\n'
        '[dev-dependencies]\ncodspeed-criterion-compat = "2.6"\n\n'
        "[target.'cfg(unix)'.dev-dependencies]\npaste = \"1\"\n\n[features]\npython = []\n")
    assert drop_dev_dependencies(src) == ["crates/jiter/Cargo.toml"]
    assert (member / "Cargo.toml").read_text() == (
        '[package]\nname = "jiter"\nversion = "0.15.0"\n\n[dependencies]\nahash = "0.8"\n\n[features]\npython = []\n')
    assert drop_dev_dependencies(src) == []


def test_feature_enabled_from_a_features_table_is_checked_too(tmp_path: Path) -> None:
    src = _tree(tmp_path, RPDS_PY.replace('"0.29.0"', '"0.28.2"')
                + '\n[features]\nextension-module = ["pyo3/generate-import-lib", "dep:rpds", "archery?/default"]\n')
    m = read_manifests(src)
    assert m.feature_refs == [("pyo3", "generate-import-lib", "Cargo.toml"), ("archery", "default", "Cargo.toml")]
    with pytest.raises(ForgeError) as e:
        resolve(m, parse_index(INDEX), recipe="x", file="f")
    assert "the crate pyo3 is required with the feature generate-import-lib by the sdist's Cargo.toml" in str(e.value)


def test_feature_maturin_passes_from_pyproject_is_checked(tmp_path: Path) -> None:
    src = _tree(tmp_path, RPDS_PY.replace('"0.29.0"', '"0.28.2"'))
    with (src / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.maturin]\nfeatures = ["pyo3/generate-import-lib"]\n')
    with pytest.raises(ForgeError) as e:
        resolve(read_manifests(src), parse_index(INDEX), recipe="jiter", file="f")
    assert e.value.message == ("the crate pyo3 is required with the feature generate-import-lib by the sdist's "
                               "pyproject.toml, but Debian's pyo3 0.28.2 (librust-pyo3-dev) does not have it")


def _sdist(tmp_path: Path, files: dict[str, str]) -> Path:
    import tarfile

    top = tmp_path / "pkg-1.0"
    for rel, text in files.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text)
    out = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(top, arcname="pkg-1.0")
    return out


def test_sdists_without_crates_to_fetch_need_no_archive(tmp_path: Path) -> None:
    from forge.crates import fetch_crates

    cache = tmp_path / "cache"
    plain = _sdist(tmp_path / "a", {"pyproject.toml": "[build-system]\nrequires = ['setuptools']\n"})
    assert fetch_crates(plain, cache, [], recipe="x", file="f") is None
    vendored = _sdist(tmp_path / "b", {
        "pyproject.toml": '[build-system]\nrequires = ["maturin"]\nbuild-backend = "maturin"\n',
        "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n',
        ".cargo/config.toml": '[source.crates-io]\nreplace-with = "v"\n[source.v]\ndirectory = "vendor"\n'})
    assert fetch_crates(vendored, cache, [], recipe="x", file="f") is None
    assert not cache.exists()  # no apt state, no crates folder

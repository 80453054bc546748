"""Security: loopback by default, passwords honoured, tasks confined to the worker's work
directory, and packages verified by sha256 on their way to the channel."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import redis

from forge import api
from forge.jobs import BuildJob
from workers import settings
from workers.app import make_app
from workers.blobs import BlobError, BlobStore, sha256_bytes
from workers.executor import CeleryExecutor
from workers.payload import check_payload, make_payload
from workers.safety import UnsafePath, check_package, check_relpath, safe_join
from workers.worker import result_key

from .conftest import Synth, wait_for
from tests.support.farm import RedisServer, Workers


def test_default_farm_is_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FORGE_FARM", "CELERY_BROKER_URL"):
        monkeypatch.delenv(var, raising=False)
    assert settings.farm_url() == "redis://127.0.0.1:6379/0"
    assert make_app().conf.broker_url.startswith("redis://127.0.0.1:")


@pytest.mark.parametrize("rel", ["../x", "a/../../x", "/etc/passwd", "", "a\\..\\b", ".hidden/x"])
def test_relative_paths_that_escape_are_refused(rel: str) -> None:
    with pytest.raises(UnsafePath):
        check_relpath(rel, "file")


def test_symlink_escape_is_refused(tmp_path: Path) -> None:
    (tmp_path / "task").mkdir()
    (tmp_path / "task" / "recipe").symlink_to(tmp_path)
    with pytest.raises(UnsafePath):
        safe_join(tmp_path / "task", "recipe/../../x", "file")
    with pytest.raises(UnsafePath, match="resolves outside"):
        safe_join(tmp_path / "task", "recipe/x", "file")
    assert safe_join(tmp_path / "task", "sources/a.tar.gz", "file") == (tmp_path / "task/sources/a.tar.gz").resolve()


@pytest.mark.parametrize("rel", ["noarch/../x.conda", "../noarch/x.conda", "noarch/x.txt", "x.conda", "a/b/x.conda"])
def test_package_paths_must_be_subdir_and_file(rel: str) -> None:
    with pytest.raises(UnsafePath):
        check_package(rel)


def _job(**over: object) -> BuildJob:
    base = dict(recipe="evil", recipe_dir="/nowhere", recipe_file="recipes/evil/recipe.yaml",
                platforms=["linux-64"], outputs=["noarch/evil-1.0-h0_0.conda"], channel_url="file:///nowhere",
                variant_file=None, sources=[], wheelhouse=None, work_dir="/nowhere/work", log_path="/nowhere/x.log")
    base.update(over)
    return BuildJob(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("job, files, why", [
    (_job(), {"recipe/recipe.yaml": "0" * 64, "../../escape.txt": "0" * 64}, "leaves its directory"),
    (_job(recipe="../../evil"), {"recipe/recipe.yaml": "0" * 64}, "recipe name"),
    (_job(outputs=["../../../tmp/x.conda"]), {"recipe/recipe.yaml": "0" * 64}, "package path"),
    (_job(), {"recipe/recipe.yaml": "0" * 64, "home/user/bashrc": "0" * 64}, "outside the recipe"),
])
def test_payload_checks(job: BuildJob, files: dict[str, str], why: str) -> None:
    with pytest.raises(UnsafePath, match=why):
        check_payload(make_payload(job, files, "run"))


def test_worker_refuses_a_task_escaping_its_work_dir(tmp_path: Path, workers: Workers, redis_server: RedisServer) -> None:
    """A real worker gets a crafted task: it answers 'refused' and writes nothing outside."""
    workers.start("w1")
    client = redis_server.client()
    store = BlobStore(client)
    recipe = store.put(b"package: {name: evil, version: '1'}\n")
    bad = store.put(b"pwned\n")
    target = tmp_path / "escape.txt"
    depth = len((workers.base / "w1" / "tasks" / "x").parts)
    rel = "/".join([".."] * depth) + str(target)
    payload = make_payload(_job(), {"recipe/recipe.yaml": recipe, f"recipe/{rel}": bad}, "sec")
    tid = f"evil-{uuid.uuid4().hex[:8]}"
    app = make_app(redis_server.url)
    app.send_task(settings.TASK, args=[payload], task_id=tid, queue=settings.QUEUE)
    wait_for(lambda: client.get(result_key(tid)) is not None, timeout=30, what="the worker's answer")
    res = json.loads(client.get(result_key(tid)))
    assert "leaves its directory" in res["refused"]
    assert client.lrange(settings.key("done", "sec"), 0, -1) == [tid.encode()]
    assert not target.exists()
    assert not list((workers.base / "w1").rglob("escape.txt"))
    assert client.hget(f"forge:build:{tid}", "state") == b"refused"


def test_tampered_package_is_not_staged(tmp_path: Path, synth: Synth, redis_server: RedisServer) -> None:
    """The coordinator recomputes the sha256 of every package before it goes near the channel."""
    cfg = synth.config()
    client = redis_server.client()
    good = b"a real package"
    sha = sha256_bytes(good)
    client.set(BlobStore.key(sha), b"something else")
    with CeleryExecutor(redis_server.url, cfg) as ex:
        with pytest.raises(BlobError, match="fails verification"):
            ex._stage("t1", {"path": "noarch/x-1-0.conda", "sha256": sha})
        with pytest.raises(UnsafePath):
            ex._stage("t1", {"path": "../../x.conda", "sha256": sha})
        client.set(BlobStore.key(sha), good)
        staged = Path(ex._stage("t1", {"path": "noarch/x-1-0.conda", "sha256": sha}))
    assert staged.read_bytes() == good and staged.parent.name == "noarch"
    assert not list(cfg.state_dir.rglob("x.conda"))


def test_password_protected_farm(tmp_path: Path, synth: Synth, monkeypatch: pytest.MonkeyPatch) -> None:
    """A redis://:PASSWORD@host URL is passed straight to Celery and redis-py, on both sides."""
    from .conftest import TEST_ENV
    from tests.support.farm import Workers

    server = RedisServer(tmp_path / "redis-auth", password="s3cret-" + uuid.uuid4().hex[:6])
    server.start()
    pool = Workers(tmp_path / "workers", server.url, dict(TEST_ENV))
    try:
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=server.port).set("x", "1")
        pool.start("w1")
        synth.add("secret", 0.1)
        cfg = synth.config()
        with CeleryExecutor(server.url, cfg) as ex:
            report = api.build(["secret"], cfg, executor=ex)
        assert report.ok, {n: r.error for n, r in report.results.items()}
        assert "s3cret" not in pool.log("w1")  # the worker never prints the password
    finally:
        pool.stop_all()
        server.stop()

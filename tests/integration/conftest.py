"""Fixtures for multi-process tests: real daphne processes on the real PostgreSQL and Redis.

Each test gets its own database (copied from a template migrated once per session), its own
channel-layer prefix and data directory; every process started here is killed in teardown and
every database dropped. Daphne's log tails are printed at teardown (pytest shows them for
failing tests).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.cluster import Cluster, RedisServer, TemplateDatabase, raise_nofile
from tests.conftest import require_binary, require_postgres, require_redis


@pytest.fixture(scope="session")
def template_db() -> Iterator[TemplateDatabase]:
    admin_url = require_postgres()
    require_binary("daphne", str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "daphne"))
    raise_nofile()
    template = TemplateDatabase(admin_url)
    try:
        template.create()
        yield template
    finally:
        template.drop()


@pytest.fixture
def make_cluster(template_db: TemplateDatabase) -> Iterator[Callable[..., Cluster]]:
    """``make_cluster(procs=2, people=8, redis_url=...)`` → a started :class:`Cluster`."""
    clusters: list[Cluster] = []

    def factory(**kwargs: Any) -> Cluster:
        kwargs.setdefault("redis_url", require_redis())
        cluster = Cluster(admin_url=template_db.admin_url, template=template_db, **kwargs)
        clusters.append(cluster)
        return cluster.start()

    yield factory
    for cluster in clusters:
        print(cluster.logs())
        cluster.close()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of our own on a free port, for tests that kill or pause it."""
    require_binary("redis-server", "redis-server")
    server = RedisServer(Path(tempfile.mkdtemp(prefix="hub-redis-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()

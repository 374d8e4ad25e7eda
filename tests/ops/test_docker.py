"""Static checks of docker/: no Docker engine runs here, so the files are held to the
topology they promise (``make cluster`` runs the same topology for real, tests/ops/test_cluster.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment must be a mapping"
    return {str(k): str(v) for k, v in env.items()}


# --- Dockerfile ------------------------------------------------------------------------------


def _dockerfile() -> list[str]:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    # Join continuation lines, drop comments.
    text = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_dockerfile_is_multi_stage_node_then_slim_python() -> None:
    lines = _dockerfile()
    stages = [line for line in lines if line.upper().startswith("FROM ")]
    assert len(stages) == 2, stages
    assert re.match(r"FROM node:\d+[\w.-]* AS frontend", stages[0], re.I)
    assert re.match(r"FROM python:3\.11-slim[\w.-]* AS runtime", stages[1], re.I)
    build = [line for line in lines if line.startswith("RUN") and "npm" in line]
    assert any("npm ci" in line for line in build) and any("npm run build" in line for line in build)
    assert any(line.startswith("COPY --from=frontend") and "static/app" in line for line in lines)
    pip = [line for line in lines if line.startswith("RUN") and "pip install" in line]
    assert pip and all("-c requirements/constraints.txt" in line for line in pip)


def test_dockerfile_runs_as_non_root_with_healthcheck_and_data_volume() -> None:
    lines = _dockerfile()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0", "0:0")
    # The last USER comes after everything that needs root (apt, pip, chown).
    last_user = max(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert not any(line.startswith("RUN") for line in lines[last_user:])
    health = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert len(health) == 1 and "/healthz" in health[0]
    assert any(line.startswith("VOLUME") and "/data" in line for line in lines)
    assert any(line.startswith("ENV") and "HUB_DATA_DIR=/data" in line for line in lines)
    cmd = next(line for line in lines if line.startswith("CMD"))
    assert "daphne" in cmd and "hub.asgi:application" in cmd


def test_dockerfile_copies_every_app_and_dockerignore_keeps_state_out() -> None:
    lines = _dockerfile()
    copied = " ".join(line for line in lines if line.startswith("COPY"))
    for app in ("hub/", "messaging/", "docs_collab/", "manage.py", "requirements/"):
        assert app in copied, f"{app} is not copied into the image"
    for app_dir in ("crm_bridge",):
        if (ROOT / app_dir).is_dir():
            assert f"{app_dir}/" in copied
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "var", "frontend/node_modules", "secret_key"):
        assert entry in ignored


# --- compose ---------------------------------------------------------------------------------


def test_compose_has_the_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"db", "redis", "migrate", "hub", "worker", "indexer", "nginx"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["nginx"]["image"].startswith("nginx:")
    # N hub processes.
    replicas = str(services["hub"]["deploy"]["replicas"])
    assert re.fullmatch(r"\$\{HUB_REPLICAS:-([2-9]|\d\d+)\}|[2-9]|\d\d+", replicas), replicas
    assert services["worker"]["command"][-1] == "worker"
    assert services["indexer"]["command"][-1] == "search_worker"


def test_compose_services_have_healthchecks_and_wait_for_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("db", "redis", "hub", "worker", "indexer", "nginx"):
        assert "test" in services[name].get("healthcheck", {}), f"{name} has no healthcheck"
    assert "/healthz" in " ".join(services["hub"]["healthcheck"]["test"])
    for name in ("hub", "worker", "indexer"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["nginx"]["depends_on"]["hub"]["condition"] == "service_healthy"


def test_compose_environment_is_shared_and_documented(compose: dict[str, Any]) -> None:
    services = compose["services"]
    envs = {name: _env(services[name]) for name in ("migrate", "hub", "worker", "indexer")}
    first = envs["hub"]
    assert all(env == first for env in envs.values()), "hub containers disagree on their environment"
    assert first["DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in first["DATABASE_URL"]
    assert first["REDIS_URL"].startswith("redis://redis:6379")
    assert first["SECRET_KEY"].startswith("${SECRET_KEY:?"), "the signing key must be required, never defaulted"
    assert first["HUB_SEARCH_INDEXING"] == "worker"
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in first:
        assert f"`{name}`" in documented, f"{name} is used in compose.yaml but not in docs/configuration.md"


def test_compose_volumes_are_shared_by_every_hub_container(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"pgdata", "hubdata", "static"} <= set(compose["volumes"])
    for name in ("migrate", "hub", "worker", "indexer"):
        assert "hubdata:/data" in services[name]["volumes"], name
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    # collectstatic writes where nginx serves from.
    assert "static:/data/staticfiles" in services["migrate"]["volumes"]
    assert "static:/srv/static:ro" in services["nginx"]["volumes"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    # Only nginx is published.
    published = [name for name, svc in services.items() if svc.get("ports")]
    assert published == ["nginx"]


# --- nginx -----------------------------------------------------------------------------------


def _nginx_blocks(text: str) -> dict[str, str]:
    """``location`` blocks by their argument, from a config without nested braces inside them."""
    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"location\s+([^{]+)\{([^}]*)\}", text)}


def test_nginx_config_structure(compose: dict[str, Any]) -> None:
    text = re.sub(r"#[^\n]*", "", (DOCKER / "nginx.conf").read_text(encoding="utf-8"))
    assert text.count("{") == text.count("}")
    assert re.search(r"upstream\s+hub\s*\{[^}]*server\s+hub:8000", text)
    # Round-robin (the default): no stickiness directives.
    assert not re.search(r"\b(ip_hash|hash|sticky)\b", text)
    locations = _nginx_blocks(text)
    ws = locations["/ws/"]
    assert "proxy_pass http://hub;" in ws and "proxy_http_version 1.1;" in ws
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert re.search(r"map \$http_upgrade \$connection_upgrade", text)
    assert "alias /srv/static/;" in locations["/static/"]
    assert "return 404;" in locations["= /metrics"]
    assert "proxy_pass http://hub;" in locations["/"]
    # The body limit matches the upload limit: at least the limit, with < 10 % envelope on top.
    size = re.search(r"client_max_body_size\s+(\d+)m;", text)
    assert size is not None
    nginx_bytes = int(size.group(1)) * 1024 * 1024
    upload = int(_env(compose["services"]["hub"])["HUB_UPLOAD_MAX_BYTES"])
    assert upload == settings.HUB_UPLOAD_MAX_BYTES  # the hub's default, which the docs state
    assert upload <= nginx_bytes < upload * 1.1


def test_nginx_accepts_the_config_when_installed(tmp_path: Path) -> None:
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx is not installed: the structural check above stands in for `nginx -t`")
    text = (DOCKER / "nginx.conf").read_text(encoding="utf-8")
    # The container names do not resolve here: point the upstream at loopback, and keep
    # everything nginx writes inside tmp_path.
    text = text.replace("server hub:8000", "server 127.0.0.1:8000").replace("/dev/stdout", str(tmp_path / "a.log"))
    mime = Path("/etc/nginx/mime.types")
    if not mime.exists():
        text = text.replace("include /etc/nginx/mime.types;", "")
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n" + text, encoding="utf-8")
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr

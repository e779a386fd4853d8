"""docker-compose.yml describes production: PostgreSQL, Redis with AOF, two app nodes behind
a proxy that passes websockets, one worker, and a one-shot migration that runs first."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_describes_the_production_topology() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "app-1", "app-2", "worker", "proxy"} <= set(services)
    assert "--appendonly" in services["redis"]["command"]
    assert services["migrate"]["command"] == ["storecast", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for app in ("app-1", "app-2", "worker"):
        assert services[app]["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert services[app]["environment"]["REDIS_URL"].startswith("redis://redis")
    for app in ("app-1", "app-2"):
        assert services[app]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_proxy_passes_room_sockets_to_both_nodes() -> None:
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade" in nginx
    for upstream in ("app-1:8000", "app-2:8000", "app-1:8001", "app-2:8001"):
        assert upstream in nginx

"""Production configuration: check --deploy, .env.example, docker compose, Dockerfile.

There is no Docker engine on the CI machines, so the compose file and the
Dockerfile are checked by reading them.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_check_deploy_is_clean_with_the_production_environment():
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **_env_example()}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_example_holds_every_variable_the_code_reads():
    read = set()
    apps = ("project", "catalog", "movements", "reports")
    for path in (p for app in apps for p in (ROOT / app).rglob("*.py") if "tests" not in p.parts):
        read |= set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', path.read_text()))
    # Read from the environment by other programs, documented in the README.
    read -= {"VAR_DIR"}
    missing = read - set(_env_example())
    assert not missing, f".env.example lacks {sorted(missing)}"


EXPECTED = {
    "nginx": ("inventory_nginx", "nginx:alpine"),
    "web": ("inventory_web", "inventory:latest"),
    "worker": ("inventory_worker", "inventory:latest"),
    "beat": ("inventory_beat", "inventory:latest"),
    "flower": ("inventory_flower", "inventory:latest"),
    "db": ("inventory_db", "postgres:17-alpine"),
    "redis": ("inventory_redis", "redis:7-alpine"),
}


def test_compose_has_the_seven_services_with_names_and_images():
    assert set(SERVICES) == set(EXPECTED)
    for name, (container, image) in EXPECTED.items():
        assert SERVICES[name]["container_name"] == container
        assert SERVICES[name]["image"] == image


def test_compose_ports_network_and_volumes():
    assert SERVICES["nginx"]["ports"] == ["80:80"]
    assert SERVICES["web"]["ports"] == ["8000:8000"]
    assert SERVICES["flower"]["ports"] == ["5555:5555"]
    assert "inventory_network" in COMPOSE["networks"]
    for name, service in SERVICES.items():
        assert service["networks"] == ["inventory_network"], name
    assert {"postgres_data", "redis_data", "media_volume", "static_volume"} <= set(
        COMPOSE["volumes"]
    )
    assert "postgres_data:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert "redis_data:/data" in SERVICES["redis"]["volumes"]
    for name in ("web", "worker"):
        assert "media_volume:/app/media" in SERVICES[name]["volumes"], name


def test_every_service_has_a_healthcheck():
    for name, service in SERVICES.items():
        check = service["healthcheck"]
        assert check["test"] and check["interval"] and check["retries"], name
    assert SERVICES["web"]["healthcheck"] == {
        "test": ["CMD", "curl", "-f", "http://localhost:8000/health/"],
        "interval": "30s",
        "timeout": "10s",
        "retries": 3,
        "start_period": "40s",
    }
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "inspect ping" in " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert "beat-heartbeat" in " ".join(SERVICES["beat"]["healthcheck"]["test"])


def test_depends_on_waits_for_healthy_services():
    for name, service in SERVICES.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in SERVICES[dependency]
    assert set(SERVICES["web"]["depends_on"]) == {"db", "redis"}
    # Worker and beat start after web, which has run the migrations.
    assert "web" in SERVICES["worker"]["depends_on"]
    assert "web" in SERVICES["beat"]["depends_on"]


def test_only_web_runs_migrations_and_under_a_lock():
    entrypoint = (ROOT / "docker/entrypoint.sh").read_text()
    web_block = entrypoint.split("  web)")[1].split(";;")[0]
    assert "migrate_locked" in web_block
    for role in ("worker", "beat", "flower"):
        block = entrypoint.split(f"  {role})")[1].split(";;")[0]
        assert "migrate" not in block, role


def _referenced_files() -> set[str]:
    files = {"docker-compose.yml"}
    for service in SERVICES.values():
        build = service.get("build")
        if build:
            files.add(build["dockerfile"])
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                files.add(source[2:])
        env_file = service.get("env_file")
        if env_file:
            files.add(".env.example" if env_file == ".env" else env_file)
    dockerfile = (ROOT / "docker/Dockerfile").read_text()
    for sources in re.findall(r"^COPY (?!--from)(?:--\S+ )*(.+) \S+$", dockerfile, re.M):
        files |= {source for source in sources.split() if source != "."}
    files |= set(re.findall(r'ENTRYPOINT \["([^"]+)"\]', dockerfile))
    files |= set(re.findall(r"(docker/\S+\.(?:py|sh|template))", dockerfile))
    entrypoint = (ROOT / "docker/entrypoint.sh").read_text()
    files |= set(re.findall(r"(docker/\S+\.py)", entrypoint))
    return files


@pytest.mark.parametrize("path", sorted(_referenced_files()))
def test_every_file_compose_and_the_dockerfile_refer_to_exists(path):
    assert (ROOT / path).exists(), path


def test_dockerfile_is_multi_stage_slim_non_root_and_builds_static_and_docs():
    dockerfile = (ROOT / "docker/Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert len(stages) >= 2 and all(s == "python:3.13-slim" for s in stages)
    final = dockerfile.split("\nFROM ")[-1]
    assert "build-essential" not in final  # no compiler in the final image
    assert re.search(r"^USER app$", final, re.M)
    assert "collectstatic" in final
    assert "mkdocs build --strict" in dockerfile


def test_nginx_template_serves_static_docs_and_only_internal_private_files():
    conf = (ROOT / "docker/nginx/inventory.conf.template").read_text()
    assert "location /static/" in conf and "expires 1y" in conf
    assert "location /docs/" in conf
    protected = conf.split("location /protected/")[1].split("}")[0]
    assert "internal;" in protected
    assert "location /media/" in conf and "return 404" in conf
    assert "client_max_body_size" in conf and "gzip on" in conf
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "Host"):
        assert f"proxy_set_header {header}" in conf

"""Production configuration: check --deploy, .env.example, docker compose, Dockerfile.

There is no Docker engine on the CI machines, so the compose file and the
Dockerfile are checked by reading them.
"""

import http.client
import http.server
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from project.tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
NGINX_MODES = ("tls", "proxied")


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
    apps = ("project", "dataio", "catalog", "movements", "dashboard", "backoffice")
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


def test_compose_publishes_only_nginx_on_80_and_443():
    published = {name: service["ports"] for name, service in SERVICES.items() if "ports" in service}
    assert published == {"nginx": ["80:80", "443:443"]}
    # gunicorn and Flower are reached only through nginx, on the private network.
    for name in ("web", "flower"):
        assert "ports" not in SERVICES[name] and "expose" not in SERVICES[name], name
    assert "--url_prefix=flower" in (ROOT / "docker/entrypoint.sh").read_text()


def test_compose_network_and_volumes():
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


def test_gunicorn_trusts_forwarded_headers_only_from_nginx():
    conf = (ROOT / "docker/gunicorn.conf.py").read_text()
    default = re.search(
        r'forwarded_allow_ips = os.environ.get\("FORWARDED_ALLOW_IPS", "([^"]+)"\)', conf
    )
    assert default and "*" not in default.group(1), default
    subnet = COMPOSE["networks"]["inventory_network"]["ipam"]["config"][0]["subnet"]
    assert SERVICES["web"]["environment"]["FORWARDED_ALLOW_IPS"] == subnet


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
    # Flower serves under its prefix; its health check stays inside the container.
    assert SERVICES["flower"]["healthcheck"]["test"] == [
        "CMD",
        "curl",
        "-f",
        "http://localhost:5555/flower/healthcheck",
    ]
    assert "/nginx-health" in " ".join(SERVICES["nginx"]["healthcheck"]["test"])


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
            # The nginx mode picks one of the two templates; both must exist.
            for mode in NGINX_MODES if "${NGINX_MODE:-tls}" in volume else ("",):
                source = volume.replace("${NGINX_MODE:-tls}", mode).split(":")[0]
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


LOCATIONS = ROOT / "docker/nginx/snippets/inventory-locations.conf.template"


def test_nginx_template_serves_static_docs_and_only_internal_private_files():
    conf = LOCATIONS.read_text()
    assert "location /static/" in conf and "expires 1y" in conf
    assert "location /docs/" in conf
    protected = conf.split("location /protected/")[1].split("}")[0]
    assert "internal;" in protected
    assert "location /media/" in conf and "return 404" in conf
    assert "client_max_body_size" in conf and "gzip on" in conf
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "Host"):
        assert f"proxy_set_header {header}" in conf


def _location(conf: str, name: str) -> str:
    return conf.split(f"location {name} {{")[1].split("\n}")[0]


def test_nginx_owns_security_headers_only_where_it_answers_itself():
    conf = LOCATIONS.read_text()
    django_headers = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")
    # Proxied to Django, which sends these itself: nginx adding them doubles them.
    proxied = _location(conf, "/")
    for header in (*django_headers, "Strict-Transport-Security", "Content-Security-Policy"):
        assert header not in proxied, header
    # Where nginx answers, every location sets them (a location's add_header
    # drops the server-level ones, so none may live at the server level).
    for name in ("/static/", "/docs/", "/protected/", "/flower/"):
        block = _location(conf, name)
        for header in (*django_headers, "Permissions-Policy"):
            assert f"add_header {header} " in block, (name, header)
    outside = "\n".join(line for line in conf.splitlines() if not line.startswith("#"))
    for name in ("/static/", "/docs/", "/protected/", "/flower/", "/"):
        outside = outside.replace(_location(conf, name), "")
    assert "add_header" not in outside


def test_nginx_never_forwards_its_own_scheme_blindly():
    for path in (LOCATIONS, *(ROOT / f"docker/nginx/{m}.conf.template" for m in NGINX_MODES)):
        assert "X-Forwarded-Proto $scheme" not in path.read_text(), path
    proxied = (ROOT / "docker/nginx/proxied.conf.template").read_text()
    assert "geo $realip_remote_addr $inventory_from_trusted_proxy" in proxied
    assert "set_real_ip_from ${NGINX_TRUSTED_PROXIES}" in proxied


def test_flower_is_behind_the_superuser_check_on_every_path():
    conf = LOCATIONS.read_text()
    assert "auth_request /_flower-auth;" in _location(conf, "/flower/")
    # No other location reaches the Flower upstream.
    assert conf.count("proxy_pass http://inventory_flower") == 1


def _load_e2e():
    spec = importlib.util.spec_from_file_location("e2e_script", ROOT / "scripts/e2e.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("mode", NGINX_MODES)
def test_nginx_config_of_each_mode_passes_nginx_t(mode, tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    e2e = _load_e2e()
    e2e.make_certificate(tmp_path / "tls")
    logs = tmp_path / "logs"
    logs.mkdir()
    conf = e2e.render_nginx(
        mode,
        tmp_path / "nginx",
        logs,
        NGINX_PORT="127.0.0.1:18080",
        NGINX_TLS_PORT="127.0.0.1:18443",
        NGINX_HTTPS_PORT_SUFFIX="",
        NGINX_TLS_CERTIFICATE=str(tmp_path / "tls" / "cert.pem"),
        NGINX_TLS_CERTIFICATE_KEY=str(tmp_path / "tls" / "key.pem"),
        NGINX_TRUSTED_PROXIES="10.0.0.0/8",
        NGINX_UPSTREAM="127.0.0.1:18000",
        NGINX_FLOWER_UPSTREAM="127.0.0.1:15555",
        NGINX_STATIC_ROOT=str(tmp_path),
        NGINX_DOCS_ROOT=str(tmp_path),
        NGINX_MEDIA_ROOT=str(tmp_path),
        NGINX_MAX_BODY_SIZE="60m",
    )
    rendered = "".join(p.read_text() for p in (tmp_path / "nginx").rglob("*.conf"))
    assert "${" not in rendered  # every variable of the templates was given
    result = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-e", str(logs / "test-error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


# --- nginx's behaviour, with a stand-in upstream ------------------------------
# One small HTTP server plays gunicorn and Flower: it echoes the headers it
# received and answers like Django would (its own security headers, the
# X-Accel-Redirect of a private download, the Flower gate's verdict).


class _Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True
    flower_verdict = 401
    flower_hits = 0


class _UpstreamHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        django = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
        }
        if self.path.startswith("/flower-auth/"):
            self._send(self.server.flower_verdict)
        elif self.path.startswith("/flower/"):
            self.server.flower_hits += 1
            self._send(200, b"flower")
        elif self.path == "/download/":
            self._send(200, headers={**django, "X-Accel-Redirect": "/protected/export.csv"})
        else:
            body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
            self._send(200, body, {**django, "Content-Type": "application/json"})


@pytest.fixture
def upstream():
    server = _Upstream(("127.0.0.1", 0), _UpstreamHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def run_nginx(tmp_path, upstream):
    """Start nginx in a mode against the stand-in upstream; returns its ports."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    e2e = _load_e2e()
    e2e.make_certificate(tmp_path / "tls")
    # nginx's workers (user nobody) read the private file: outside pytest's
    # private tmp_path tree.
    media = Path(tempfile.mkdtemp(prefix="inventory-nginx-media-"))
    media.chmod(0o755)
    (media / "export.csv").write_text("id\n1\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = []

    def start(mode: str, trusted: str = "127.0.0.1/32") -> dict:
        ports = {"http": free_port(), "tls": free_port()}
        address = f"127.0.0.1:{upstream.server_address[1]}"
        conf = e2e.render_nginx(
            mode,
            tmp_path / f"nginx-{mode}",
            logs,
            NGINX_PORT=f"127.0.0.1:{ports['http']}",
            NGINX_TLS_PORT=f"127.0.0.1:{ports['tls']}",
            NGINX_HTTPS_PORT_SUFFIX=f":{ports['tls']}",
            NGINX_TLS_CERTIFICATE=str(tmp_path / "tls" / "cert.pem"),
            NGINX_TLS_CERTIFICATE_KEY=str(tmp_path / "tls" / "key.pem"),
            NGINX_TRUSTED_PROXIES=trusted,
            NGINX_UPSTREAM=address,
            NGINX_FLOWER_UPSTREAM=address,
            NGINX_STATIC_ROOT=str(tmp_path),
            NGINX_DOCS_ROOT=str(tmp_path),
            NGINX_MEDIA_ROOT=str(media),
            NGINX_MAX_BODY_SIZE="1m",
        )
        process = subprocess.Popen(
            [nginx, "-c", str(conf), "-e", str(logs / f"{mode}-error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", ports["http"]), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError((logs / f"{mode}-error.log").read_text())
        ports["ca"] = str(tmp_path / "tls" / "cert.pem")
        return ports

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
    shutil.rmtree(media, ignore_errors=True)


def _get(port: int, path: str, headers: dict | None = None, source: str = "127.0.0.1"):
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _received(body: bytes) -> dict:
    return json.loads(body)


def test_tls_mode_redirects_http_and_tells_django_the_real_scheme(run_nginx):
    ports = run_nginx("tls")
    status, headers, _ = _get(ports["http"], "/admin/?q=1", {"X-Forwarded-Proto": "https"})
    assert status == 301
    assert dict(headers)["Location"] == f"https://127.0.0.1:{ports['tls']}/admin/?q=1"
    # Health probes stay on plain HTTP, and Django hears "http", not a client's claim.
    status, _, body = _get(ports["http"], "/health/", {"X-Forwarded-Proto": "https"})
    assert status == 200 and _received(body)["x-forwarded-proto"] == "http"
    response = requests.get(
        f"https://127.0.0.1:{ports['tls']}/admin/",
        headers={"X-Forwarded-Proto": "http"},
        verify=ports["ca"],
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["x-forwarded-proto"] == "https"


def test_proxied_mode_believes_the_forwarded_scheme_only_from_the_trusted_proxy(run_nginx):
    ports = run_nginx("proxied", trusted="127.0.0.1/32")
    claim = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    # From the balancer: its "https" reaches Django unchanged, never nginx's http.
    status, _, body = _get(ports["http"], "/admin/", claim, source="127.0.0.1")
    seen = _received(body)
    assert status == 200 and seen["x-forwarded-proto"] == "https"
    assert seen["x-forwarded-for"].split(", ")[-1] == "203.0.113.7"  # the client, via realip
    # From anyone else: the same headers are not believed.
    status, _, body = _get(ports["http"], "/admin/", claim, source="127.0.0.2")
    seen = _received(body)
    assert status == 200 and seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-for"].split(", ")[-1] == "127.0.0.2"


def test_each_security_header_is_sent_once_and_private_files_keep_them(run_nginx):
    ports = run_nginx("proxied")
    for path in ("/admin/", "/download/"):
        status, headers, body = _get(ports["http"], path)
        assert status == 200, (path, status)
        names = [name.lower() for name, _ in headers]
        for header in (
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "permissions-policy",
        ):
            assert names.count(header) == 1, (path, header, headers)
    assert body == b"id\n1\n"  # the X-Accel-Redirect'ed private file
    assert dict(headers)["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "path", ["/flower/", "/flower/metrics", "/flower/healthcheck", "/flower/api/workers"]
)
def test_nothing_of_flower_is_reached_without_the_gate(run_nginx, upstream, path):
    ports = run_nginx("proxied")
    upstream.flower_verdict = 401
    status, headers, _ = _get(ports["http"], path)
    assert status == 302 and "/admin/login/" in dict(headers)["Location"]
    upstream.flower_verdict = 403
    assert _get(ports["http"], path)[0] == 403
    assert upstream.flower_hits == 0
    upstream.flower_verdict = 204
    status, _, body = _get(ports["http"], path)
    assert status == 200 and body == b"flower" and upstream.flower_hits == 1


# --- the gate itself ----------------------------------------------------------


@pytest.mark.django_db
def test_flower_gate_lets_only_an_active_superuser_through(client, django_user_model):
    url = "/flower-auth/"
    assert client.get(url, secure=True).status_code == 401
    staff = django_user_model.objects.create_user("staff", password="x-pass-12345", is_staff=True)
    client.force_login(staff)
    assert client.get(url, secure=True).status_code == 403
    boss = django_user_model.objects.create_superuser("boss", "b@example.com", "x-pass-12345")
    client.force_login(boss)
    response = client.get(url, secure=True)
    assert response.status_code == 204
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]

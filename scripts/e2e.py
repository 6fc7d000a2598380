"""`make e2e`: the production topology, natively on loopback, checked through nginx.

Boots nginx (Debian's, with docker/nginx/ in both modes: terminating TLS with
a self-signed certificate made here, and behind a TLS load balancer), gunicorn,
a Celery worker, Celery beat and Flower against the local PostgreSQL (a fresh
database) and a Redis of its own (so that stopping or freezing it harms
nothing else), with the production SECURE_* defaults, then exercises the
stack only through nginx. Everything it started is stopped at the end, also
on failure.
"""

import http.client
import os
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import psycopg
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
NGINX_PORT = int(os.environ.get("E2E_NGINX_PORT", "8088"))
TLS_PORT = int(os.environ.get("E2E_TLS_PORT", "8443"))
PROXIED_PORT = int(os.environ.get("E2E_PROXIED_PORT", "8087"))
WEB_PORT = int(os.environ.get("E2E_WEB_PORT", "8089"))
FLOWER_PORT = int(os.environ.get("E2E_FLOWER_PORT", "5566"))
REDIS_PORT = int(os.environ.get("E2E_REDIS_PORT", "6391"))
PG_ADMIN_URL = os.environ.get("E2E_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DB_NAME = "inventory_e2e"
# Every check goes through nginx over HTTPS; HTTP only redirects there.
BASE = f"https://127.0.0.1:{TLS_PORT}"
HTTP = f"http://127.0.0.1:{NGINX_PORT}"
# nginx in its "behind a TLS load balancer" mode.
PROXIED = f"http://127.0.0.1:{PROXIED_PORT}"
ADMIN = ("e2e_admin", "e2e-admin-pass-1234")
OTHER = ("e2e_other", "e2e-other-pass-1234")

checks: list[str] = []


def step(message: str) -> None:
    checks.append(message)
    print(f"  ok  {message}", flush=True)


def wait_for(what: str, probe, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except Exception as error:  # the service is still starting
            last = error
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s ({last})")


def make_certificate(folder: Path) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost, made with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )


def render_nginx(mode: str, folder: Path, logs: Path, **values: str) -> Path:
    """Render docker/nginx/ as nginx:alpine's envsubst does; return nginx.conf.

    The mode file becomes conf.d/default.conf and the snippets conf.d/snippets/,
    the layout of the container, so its relative includes resolve the same.
    """
    source = ROOT / "docker" / "nginx"
    snippets = folder / "conf.d" / "snippets"
    snippets.mkdir(parents=True)
    for template in (source / "snippets").glob("*.conf.template"):
        text = string.Template(template.read_text()).safe_substitute(values)
        (snippets / template.name.removesuffix(".template")).write_text(text)
    text = string.Template((source / f"{mode}.conf.template").read_text()).safe_substitute(values)
    (folder / "conf.d" / "default.conf").write_text(text)
    temp = folder / "temp"
    temp.mkdir()
    (folder / "nginx.conf").write_text(
        f"""
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {logs}/{folder.name}-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {logs}/{folder.name}-access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include conf.d/default.conf;
}}
"""
    )
    return folder / "nginx.conf"


class Stack:
    def __init__(self, stack: ExitStack, tmp: Path):
        self.stack = stack
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir()
        # The SECURE_* settings keep their production defaults whatever the
        # calling shell exports.
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("SECURE_") and not name.endswith("_COOKIE_SECURE")
        }
        self.env = {
            **inherited,
            "DEBUG": "0",
            "SECRET_KEY": "e2e-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}",
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": BASE,
            "STATIC_ROOT": str(tmp / "static"),
            "MEDIA_ROOT": str(tmp / "media"),
            "VAR_DIR": str(tmp / "var"),
            "PRIVATE_FILES_ACCEL_PREFIX": "/protected/",
            "CACHE_KEY_PREFIX": "e2e",
            # One proxy (nginx) in front, as in production.
            "TRUSTED_PROXY_COUNT": "1",
        }
        self.redis: subprocess.Popen | None = None

    def spawn(self, name: str, *command: str, env=None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed at exit
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def stop():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            log.close()

        self.stack.callback(stop)
        return process

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    # --- services -----------------------------------------------------------
    def fresh_database(self) -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))

        def drop():
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(DB_NAME)
                    )
                )

        self.stack.callback(drop)

    def start_redis(self) -> None:
        self.redis = self.spawn(
            "redis",
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.tmp),
        )
        wait_for(
            "redis",
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ),
            20,
        )

    def stop_redis(self) -> None:
        os.killpg(self.redis.pid, signal.SIGTERM)
        self.redis.wait(timeout=15)

    def start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        make_certificate(self.tmp / "tls")
        # Every request of the checks verifies nginx's certificate against it.
        os.environ["REQUESTS_CA_BUNDLE"] = self.ca
        common = {
            "NGINX_UPSTREAM": f"127.0.0.1:{WEB_PORT}",
            "NGINX_FLOWER_UPSTREAM": f"127.0.0.1:{FLOWER_PORT}",
            "NGINX_STATIC_ROOT": self.env["STATIC_ROOT"],
            "NGINX_DOCS_ROOT": str(self.tmp / "site"),
            "NGINX_MEDIA_ROOT": self.env["MEDIA_ROOT"],
            "NGINX_MAX_BODY_SIZE": "210m",
        }
        # nginx terminating TLS: the production mode the checks go through.
        tls = render_nginx(
            "tls",
            self.tmp / "nginx-tls",
            self.logs,
            NGINX_PORT=f"127.0.0.1:{NGINX_PORT}",
            NGINX_TLS_PORT=f"127.0.0.1:{TLS_PORT}",
            NGINX_HTTPS_PORT_SUFFIX=f":{TLS_PORT}",
            NGINX_TLS_CERTIFICATE=str(self.tmp / "tls" / "cert.pem"),
            NGINX_TLS_CERTIFICATE_KEY=str(self.tmp / "tls" / "key.pem"),
            **common,
        )
        # nginx behind a TLS load balancer that connects from 127.0.0.1 only;
        # a client connecting from 127.0.0.2 is untrusted.
        proxied = render_nginx(
            "proxied",
            self.tmp / "nginx-proxied",
            self.logs,
            NGINX_PORT=f"127.0.0.1:{PROXIED_PORT}",
            NGINX_TRUSTED_PROXIES="127.0.0.1/32",
            **common,
        )
        for name, conf in (("nginx-tls", tls), ("nginx-proxied", proxied)):
            self.spawn(name, nginx, "-c", str(conf), "-e", str(self.logs / f"{name}-error.log"))
        wait_for("nginx", lambda: requests.get(f"{HTTP}/nginx-health", timeout=2).ok, 20)
        wait_for(
            "nginx (TLS)",
            lambda: requests.get(f"{BASE}/nginx-health", timeout=2, verify=self.ca).ok,
            20,
        )
        wait_for("nginx (proxied)", lambda: requests.get(f"{PROXIED}/nginx-health", timeout=2).ok)

    @property
    def ca(self) -> str:
        return str(self.tmp / "tls" / "cert.pem")

    def start_worker(self) -> None:
        self.worker = self.spawn(
            "worker",
            str(VENV_BIN / "celery"),
            "-A",
            "project",
            "worker",
            "-l",
            "INFO",
            "--concurrency",
            "2",
        )

    def start_app(self) -> None:
        bin_ = VENV_BIN
        self.spawn(
            "gunicorn",
            str(bin_ / "gunicorn"),
            "project.wsgi",
            "-c",
            "docker/gunicorn.conf.py",
            env={**self.env, "GUNICORN_BIND": f"127.0.0.1:{WEB_PORT}", "GUNICORN_WORKERS": "2"},
        )
        self.start_worker()
        self.spawn(
            "beat",
            str(bin_ / "celery"),
            "-A",
            "project",
            "beat",
            "-l",
            "INFO",
            "--schedule",
            str(self.tmp / "celerybeat-schedule"),
        )
        self.spawn(
            "flower",
            str(bin_ / "celery"),
            "-A",
            "project",
            "flower",
            f"--port={FLOWER_PORT}",
            "--address=127.0.0.1",
            "--url_prefix=flower",
        )
        wait_for(
            "gunicorn behind nginx",
            lambda: requests.get(f"{BASE}/health/", timeout=5).status_code == 200,
            60,
        )
        wait_for("beat heartbeat", lambda: (self.tmp / "var" / "beat-heartbeat").exists(), 60)
        wait_for(
            "flower",
            lambda: (
                requests.get(f"http://127.0.0.1:{FLOWER_PORT}/flower/healthcheck", timeout=2).ok
            ),
            60,
        )


def login(username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{BASE}/admin/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{BASE}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Referer": f"{BASE}/admin/login/"},
        timeout=20,
    )
    assert response.status_code == 200 and "/admin/logout/" in response.text, (
        f"login of {username} failed ({response.status_code})"
    )
    # One redirect (to /admin/), never a loop between HTTP and HTTPS.
    assert len(response.history) == 1, [r.status_code for r in response.history]
    return session


def header_once(response: requests.Response, name: str, value: str) -> None:
    # requests joins repeated headers with ", ": a duplicate shows as "X, X".
    assert response.headers.get(name) == value, (response.url, name, response.headers.get(name))


def source_request(port: int, path: str, source: str, headers: dict) -> tuple[int, dict]:
    """A plain HTTP request to nginx from a chosen loopback address."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def tls_checks(stack: Stack) -> requests.Session:
    response = requests.get(f"{HTTP}/admin/", timeout=5, allow_redirects=False)
    assert response.status_code == 301, response.status_code
    assert response.headers["Location"] == f"{BASE}/admin/", response.headers["Location"]
    assert requests.get(f"{HTTP}/health/", timeout=5, allow_redirects=False).status_code == 200
    step("HTTP redirects to HTTPS (301); /health/ and /nginx-health stay on HTTP for probes")

    response = requests.get(f"{BASE}/admin/login/", timeout=10, allow_redirects=False)
    assert response.status_code == 200, response.status_code
    hsts = response.headers.get("Strict-Transport-Security", "")
    assert hsts.startswith("max-age=31536000"), response.headers
    for name, value in (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ):
        header_once(response, name, value)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy and "," not in policy, policy
    step(f"over HTTPS: HSTS ({hsts}), CSP and each security header exactly once")

    admin = login(*ADMIN)
    cookies = {cookie.name: cookie for cookie in admin.cookies}
    assert cookies["sessionid"].secure and cookies["sessionid"].has_nonstandard_attr("HttpOnly")
    assert cookies["csrftoken"].secure
    step("admin login over HTTPS: session cookie Secure and HttpOnly, CSRF cookie Secure")

    # nginx behind a TLS load balancer (trusted: 127.0.0.1; untrusted: 127.0.0.2).
    status, headers = source_request(
        PROXIED_PORT, "/admin/login/", "127.0.0.1", {"X-Forwarded-Proto": "https"}
    )
    assert status == 200, (status, headers)
    assert headers.get("Strict-Transport-Security", "").startswith("max-age="), headers
    step("proxied mode: X-Forwarded-Proto https from the trusted balancer is served (200, HSTS)")
    status, headers = source_request(PROXIED_PORT, "/admin/login/", "127.0.0.1", {})
    assert status == 301 and headers["Location"].startswith("https://"), (status, headers)
    status, headers = source_request(
        PROXIED_PORT, "/admin/login/", "127.0.0.2", {"X-Forwarded-Proto": "https"}
    )
    assert status == 301 and headers["Location"].startswith("https://"), (status, headers)
    assert "Strict-Transport-Security" not in headers, headers
    step("proxied mode: the same header from an untrusted address is not believed (301 to HTTPS)")
    return admin


def flower_checks(admin: requests.Session, other: requests.Session) -> None:
    for path in ("/flower/", "/flower/metrics", "/flower/healthcheck", "/flower/api/workers"):
        response = requests.get(f"{BASE}{path}", timeout=10, allow_redirects=False)
        assert response.status_code == 302, (path, response.status_code)
        assert "/admin/login/" in response.headers["Location"], response.headers
    step("Flower through nginx: nothing anonymous (/flower/, /metrics, /healthcheck, API -> login)")
    response = other.get(f"{BASE}/flower/metrics", timeout=10, allow_redirects=False)
    assert response.status_code == 403, response.status_code
    response = admin.get(f"{BASE}/flower/metrics", timeout=10)
    assert response.status_code == 200 and "flower_" in response.text, response.status_code
    response = admin.get(f"{BASE}/flower/", timeout=10)
    assert response.status_code == 200 and "Flower" in response.text, response.status_code
    header_once(response, "X-Frame-Options", "DENY")
    step("Flower: a staff non-superuser gets 403, a superuser sees the dashboard and metrics")


def run_checks(stack: Stack) -> None:
    response = requests.get(f"{BASE}/health/", timeout=5)
    assert response.status_code == 200 and response.json()["status"] == "ok", response.text
    step("/health/ is 200 through nginx with database, cache and broker ok")

    response = requests.get(f"{BASE}/static/admin/css/base.css", timeout=5)
    assert response.status_code == 200 and "text/css" in response.headers["Content-Type"]
    assert "max-age=31536000" in response.headers.get("Cache-Control", ""), response.headers
    assert response.headers.get("Server", "").startswith("nginx")
    header_once(response, "X-Frame-Options", "DENY")
    header_once(response, "X-Content-Type-Options", "nosniff")
    step("a static file is served by nginx itself, with long cache headers and its own headers")

    response = requests.get(f"{BASE}/docs/", timeout=5)
    assert response.status_code == 200 and "Inventory back office" in response.text
    assert requests.get(f"{BASE}/docs/architecture/", timeout=5).status_code == 200
    step("/docs/ serves the MkDocs site")

    heartbeat = stack.tmp / "var" / "beat-heartbeat"
    assert time.time() - heartbeat.stat().st_mtime < 30
    step("beat keeps its heartbeat file fresh")

    admin = tls_checks(stack)
    products = admin.get(f"{BASE}/admin/catalog/product/", timeout=20)
    assert products.status_code == 200 and re.search(r"[A-Z0-9]{2,4}-\d{7}", products.text)
    step("log in to the admin and open the product list")

    from e2e_flows import api_flow, export_flow, hung_redis_flow, killed_worker_flow

    other = login(*OTHER)
    flower_checks(admin, other)
    export_flow(BASE, admin, other, step, stack.manage)
    api_flow(BASE, ADMIN, step)

    stack.stop_redis()
    wait_for(
        "health 503", lambda: requests.get(f"{BASE}/health/", timeout=10).status_code == 503, 30
    )
    body = requests.get(f"{BASE}/health/", timeout=10).json()
    assert body["components"]["cache"] == "down", body
    step("stopping Redis turns /health/ to 503 (cache and broker down)")
    stack.start_redis()
    wait_for(
        "health 200", lambda: requests.get(f"{BASE}/health/", timeout=10).status_code == 200, 60
    )
    step("starting Redis again turns /health/ back to 200")

    # The fault runs of issue 10, last.
    hung_redis_flow(BASE, admin, ADMIN, step, stack.redis.pid)
    killed_worker_flow(stack, step)


def main() -> int:
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="inventory-e2e-"))
    # nginx's workers (user nobody) read static, docs and private files here.
    tmp.chmod(0o755)
    ok = False
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        try:
            topology = Stack(stack, tmp)
            print("e2e: fresh database, own Redis, migrate, collectstatic, docs", flush=True)
            topology.fresh_database()
            topology.start_redis()
            topology.manage("migrate", "--noinput", "-v0")
            topology.manage("collectstatic", "--noinput", "-v0")
            subprocess.run(
                [
                    str(VENV_BIN / "mkdocs"),
                    "build",
                    "--strict",
                    "--quiet",
                    "--site-dir",
                    str(tmp / "site"),
                ],
                cwd=ROOT,
                check=True,
                env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            )
            topology.manage("seed_demo", "--products", "40", "--movements", "300")
            # A superuser, and an Analyst who may export but not read others' files.
            topology.manage(
                "shell",
                "-c",
                (
                    "from django.contrib.auth.models import User, Group;"
                    f"User.objects.create_superuser('{ADMIN[0]}', 'a@example.com', '{ADMIN[1]}');"
                    f"u = User.objects.create_user('{OTHER[0]}', 'o@example.com', '{OTHER[1]}',"
                    " is_staff=True);"
                    "u.groups.add(Group.objects.get(name='Analyst'))"
                ),
            )
            print("e2e: starting nginx, gunicorn, worker, beat, flower", flush=True)
            topology.start_nginx()
            topology.start_app()
            run_checks(topology)
            ok = True
        except Exception as error:
            print(f"e2e FAILED: {error}", file=sys.stderr, flush=True)
            for log in sorted((tmp / "logs").glob("*.log")):
                lines = log.read_text(errors="replace").splitlines()[-25:]
                print(f"--- {log.name} (last lines)", file=sys.stderr)
                print("\n".join(lines), file=sys.stderr)
        finally:
            print("e2e: tearing everything down", flush=True)
    duration = time.monotonic() - started
    print(f"e2e: {len(checks)} checks passed in {duration:.0f} s" if ok else "e2e: failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Object storage settings, and the compose file that turns MinIO on, agree with each other.

There is no Docker engine on the CI machines (see test_deploy): the compose
files are read as YAML, and the settings are built in a child process from
the environment compose would give the app.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from project import objectstorage

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
MINIO = yaml.safe_load((ROOT / "docker-compose.minio.yml").read_text())
APP_SERVICES = [name for name, service in BASE["services"].items() if "env_file" in service]


def _defaults(value: str) -> str:
    """``${NAME:-default}`` as compose reads it with NAME unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_storage_url_gives_bucket_endpoint_keys_prefix_and_region():
    options = objectstorage.parse_storage_url(
        "s3://AKIA%2Fkey:se%40cret@s3.sa-east-1.amazonaws.com/shop-files/inventory?region=sa-east-1"
    )
    assert options == {
        "bucket_name": "shop-files",
        "location": "inventory",
        "endpoint_url": "https://s3.sa-east-1.amazonaws.com",
        "region_name": "sa-east-1",
        "access_key": "AKIA/key",
        "secret_key": "se@cret",
    }
    plain = objectstorage.parse_storage_url("s3+http://minio:9000/private")
    assert plain["endpoint_url"] == "http://minio:9000" and "access_key" not in plain


@pytest.mark.parametrize(
    "url", ["http://minio:9000/bucket", "s3://minio:9000", "s3:///bucket", "ftp://x/y"]
)
def test_a_storage_url_without_scheme_host_or_bucket_is_refused(url):
    with pytest.raises(ImproperlyConfigured):
        objectstorage.parse_storage_url(url)


def test_the_bucket_is_private_signed_and_bounded_in_time():
    entry = objectstorage.s3_storage(
        {"bucket_name": "b", "endpoint_url": "http://minio:9000"},
        connect_timeout=1,
        read_timeout=2,
        max_attempts=1,
        expiry=60,
    )
    options = entry["OPTIONS"]
    assert entry["BACKEND"] == "storages.backends.s3.S3Storage"
    assert options["querystring_auth"] is True and options["querystring_expire"] == 60
    assert options["default_acl"] is None
    config = options["client_config"]
    assert (config.connect_timeout, config.read_timeout) == (1, 2)
    assert config.retries["max_attempts"] == 1
    assert config.s3 == {"addressing_style": "path"}


def _settings_storage(env: dict) -> str:
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        **env,
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.STORAGES['default']; o = d.get('OPTIONS', {}); "
        "print(d['BACKEND'], o.get('bucket_name'), o.get('endpoint_url'), s.STORAGE_DOWNLOAD)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_storage_variables_files_stay_on_the_local_disk():
    assert _settings_storage({}).startswith("django.core.files.storage.FileSystemStorage")


def test_django_storages_own_variables_turn_the_bucket_on():
    env = {"AWS_STORAGE_BUCKET_NAME": "files", "AWS_S3_ENDPOINT_URL": "https://s3.example.com"}
    assert _settings_storage(env) == (
        "storages.backends.s3.S3Storage files https://s3.example.com redirect"
    )


def test_minio_override_gives_every_app_service_the_bucket_minio_creates():
    minio = MINIO["services"]["minio"]
    environment = {key: _defaults(value) for key, value in minio["environment"].items()}
    for name in APP_SERVICES:
        override = MINIO["services"].get(name, {}).get("environment", {})
        assert "STORAGE_URL" in override, name
        options = objectstorage.parse_storage_url(_defaults(override["STORAGE_URL"]))
        assert options["bucket_name"] == environment["MINIO_BUCKET"], name
        assert options["access_key"] == environment["MINIO_ROOT_USER"], name
        # MinIO listens on 9000 (its entrypoint) under its service name.
        assert options["endpoint_url"] == "http://minio:9000", name
        # MinIO is not published: a browser could not follow a signed URL to it.
        assert override["STORAGE_DOWNLOAD"] == "stream", name
    script = (ROOT / "docker/minio/entrypoint.sh").read_text()
    assert "--address :9000" in script and 'mc mb --ignore-existing "local/$MINIO_BUCKET"' in script
    assert "ports" not in minio and "expose" not in minio
    assert minio["networks"] == ["inventory_network"]
    assert minio["healthcheck"]["test"] and minio["healthcheck"]["retries"]
    assert not minio["image"].endswith(":latest") and ":" in minio["image"]
    assert "minio_data" in MINIO["volumes"]
    for volume in minio["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source
    # Web waits for MinIO (and the bucket it makes) before it starts.
    assert MINIO["services"]["web"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    # What compose hands the app builds the S3 storage in settings.
    override = MINIO["services"]["web"]["environment"]
    env = {key: _defaults(value) for key, value in override.items()}
    assert _settings_storage(env) == (
        "storages.backends.s3.S3Storage inventory-private http://minio:9000 stream"
    )


def test_env_example_says_how_to_add_minio_to_the_stack():
    text = (ROOT / ".env.example").read_text()
    assert "# COMPOSE_FILE=docker-compose.yml:docker-compose.minio.yml" in text
    for name in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_BUCKET"):
        assert f"# {name}=" in text, name
    assert "docker-compose.minio.yml" in (ROOT / "docs/operations.md").read_text()

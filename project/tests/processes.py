"""What tests that start real processes (gunicorn, workers, nginx, chromium) share."""

import socket

from django.db import connection


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_database_url() -> str:
    """The URL of the test database, for a server started in another process."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


CHROMIUM = "/usr/bin/chromium"  # Debian's; never a downloaded browser


def launch_chromium(playwright):
    """Debian's chromium, headless, with the flags a sandboxed CI machine needs."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ],
    )

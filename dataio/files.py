"""Private files: uploads, exports and error reports under MEDIA_ROOT.

MEDIA_ROOT is served by no URL (MEDIA_URL is deliberately not routed, and
nginx only has an ``internal`` location for it). Names are random, so even a
leaked path does not lead to another file.
"""

import contextlib
import secrets
from pathlib import Path

from django.conf import settings

EXPORTS = "exports"
UPLOADS = "uploads"
ERRORS = "import-errors"


def root() -> Path:
    return Path(settings.MEDIA_ROOT)


def new_name(folder: str, extension: str) -> str:
    """A fresh, unguessable path relative to MEDIA_ROOT (the folder is created)."""
    (root() / folder).mkdir(parents=True, exist_ok=True)
    return f"{folder}/{secrets.token_urlsafe(24)}.{extension.lstrip('.')}"


def absolute(relative: str) -> Path:
    """The absolute path of a stored name, refusing anything outside MEDIA_ROOT."""
    base = root().resolve()
    path = (base / relative).resolve()
    if not relative or not path.is_relative_to(base) or path == base:
        raise ValueError("Not a private file path.")
    return path


def delete(relative: str) -> None:
    if relative:
        with contextlib.suppress(ValueError):
            absolute(relative).unlink(missing_ok=True)

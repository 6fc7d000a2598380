"""Private files: uploads, exports and error reports, kept in Django's default storage.

On one machine the default storage is the local disk under MEDIA_ROOT; with
``STORAGE_URL`` (or django-storages' ``AWS_*`` variables) it is an
S3-compatible bucket, so every web and worker host sees the same files (see
project/objectstorage.py). Either way no URL serves them: MEDIA_URL is not
routed, nginx only has an ``internal`` location for the disk, and the bucket
stays private; the download view checks ownership first. Names are random, so
even a leaked name does not lead to another file.

Nothing here assumes a local path. Code that needs one (the readers parse in
a child process, the XLSX writer seeks in its zip) asks for it with
``local_copy`` or ``writing``: on the local disk they hand over the stored file
itself, as before; on a bucket a temporary copy that is downloaded first, or
uploaded when the block ends.
"""

import contextlib
import logging
import os
import posixpath
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.translation import gettext as _

from project.errors import UserFacingError

logger = logging.getLogger(__name__)

EXPORTS = "exports"
UPLOADS = "uploads"
ERRORS = "import-errors"
FOLDERS = (EXPORTS, UPLOADS, ERRORS)

# Chunk size when copying between a bucket and a temporary file or a response.
CHUNK = 1024 * 1024


class StorageUnavailable(UserFacingError):
    """The object storage did not answer (down, hung past its timeouts, refused our keys)."""

    def __init__(self):
        super().__init__(
            _(
                "The file storage did not answer, so the file could not be read or saved. "
                "Nothing was changed; retry in a few minutes."
            )
        )


class NotLocal(RuntimeError):
    """A local path was asked of a storage that keeps no files on this machine."""


def storage() -> Storage:
    # Looked up each time: tests switch STORAGES, and Django resets the
    # handler on that setting's change.
    return storages["default"]


def is_local() -> bool:
    return isinstance(storage(), FileSystemStorage)


def _transient_errors() -> tuple[type[Exception], ...]:
    """What a storage raises when it is down or hung, as opposed to a missing file."""
    errors: list[type[Exception]] = []
    with contextlib.suppress(ImportError):  # botocore is only needed with a bucket
        from botocore.exceptions import BotoCoreError, ClientError

        errors += [BotoCoreError, ClientError]
    return tuple(errors)


@contextlib.contextmanager
def _answering() -> Iterator[None]:
    """Turn a storage that does not answer into StorageUnavailable (the cause is logged)."""
    try:
        yield
    except _transient_errors() as error:
        logger.warning("File storage error: %s", error)
        raise StorageUnavailable from error


def _checked(name: str) -> str:
    """Only names this module makes: one of our folders, a plain file name under it."""
    folder, _sep, base = (name or "").partition("/")
    if folder not in FOLDERS or not base or "/" in base or base.startswith("."):
        raise ValueError("Not a private file name.")
    return name


def new_name(folder: str, extension: str) -> str:
    """A fresh, unguessable name in ``folder`` (relative to the storage's root)."""
    if folder not in FOLDERS:
        raise ValueError(f"Unknown folder {folder!r}.")
    return f"{folder}/{secrets.token_urlsafe(24)}.{extension.lstrip('.')}"


def root() -> Path:
    """MEDIA_ROOT: the local disk's folder (no meaning with a bucket)."""
    return Path(settings.MEDIA_ROOT)


def absolute(relative: str) -> Path:
    """The local path of a stored name, refusing anything outside MEDIA_ROOT.

    Only the local disk has one: with a bucket this raises NotLocal; use
    ``local_copy`` or ``writing`` instead. The folder is created.
    """
    if not is_local():
        raise NotLocal("Private files are in object storage: use files.local_copy/writing.")
    base = root().resolve()
    path = (base / relative).resolve()
    if not relative or not path.is_relative_to(base) or path == base:
        raise ValueError("Not a private file path.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save(name: str, content: File | Iterable[bytes]) -> str:
    """Store ``content`` (a File such as an upload, or chunks of bytes) under ``name``."""
    with writing(name) as path, open(path, "wb") as handle:
        for chunk in content.chunks() if isinstance(content, File) else content:
            handle.write(chunk)
    return name


def save_upload(folder: str, extension: str, upload: File) -> str:
    """An uploaded file stored under a fresh name; returns the name."""
    return save(new_name(folder, extension), upload)


@contextlib.contextmanager
def writing(name: str) -> Iterator[Path]:
    """A local path to write ``name`` to; stored when the block ends without error.

    On the local disk it is the stored file itself (removed again if the block
    fails); on a bucket a temporary file, uploaded at the end, then removed.
    """
    _checked(name)
    if not is_local():
        with _writing_remote(name) as path:
            yield path
        return
    path = absolute(name)
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)  # a failed write leaves no half-written file
        raise


@contextlib.contextmanager
def _writing_remote(name: str) -> Iterator[Path]:
    with _scratch(name) as path:
        yield path
        with _answering(), open(path, "rb") as handle:
            stored = storage().save(name, File(handle))
        # The storage may not rename (random names, overwrite allowed); if it
        # ever did, the notification would point at nothing.
        if stored != name:
            delete(stored)
            raise RuntimeError(f"The storage renamed {name!r} to {stored!r}.")


@contextlib.contextmanager
def _scratch(name: str) -> Iterator[Path]:
    """A temporary local file with ``name``'s extension, removed afterwards."""
    handle, raw = tempfile.mkstemp(
        suffix=Path(name).suffix, prefix="private-", dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    os.close(handle)
    path = Path(raw)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local path holding the stored ``name``, for code that reads by path.

    On the local disk it is the stored file itself; on a bucket a temporary
    copy, downloaded first and removed when the block ends. A missing file
    raises FileNotFoundError.
    """
    _checked(name)
    if is_local():
        path = absolute(name)
        if not path.is_file():
            raise FileNotFoundError(name)
        yield path
        return
    with _scratch(name) as path:
        with _answering(), storage().open(name, "rb") as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
        yield path


def stream(name: str) -> tuple[Iterator[bytes], int]:
    """A bucket object's bytes in chunks, and its size, without a local copy.

    (django-storages' file object would download the whole object into memory
    before the first byte; a multi-gigabyte export must not.) A missing object
    raises FileNotFoundError.
    """
    from botocore.exceptions import ClientError

    _checked(name)
    store = storage()
    key = posixpath.join(store.location, name) if store.location else name
    with _answering():
        try:
            reply = store.connection.meta.client.get_object(Bucket=store.bucket_name, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(name) from None
            raise
    body = reply["Body"]

    def chunks() -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    return chunks(), reply["ContentLength"]


def signed_url(name: str, *, filename: str, content_type: str) -> str:
    """A short-lived URL of the bucket's object, signed (querystring auth).

    The bucket names the download and its type, so the browser saves it
    under the name the view would have used. Only for a bucket.
    """
    _checked(name)
    with _answering():
        if not storage().exists(name):
            raise FileNotFoundError(name)
        return storage().url(
            name,
            parameters={
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": content_type,
            },
            expire=settings.STORAGE_URL_EXPIRY_SECONDS,
        )


def delete(name: str) -> None:
    """Delete a stored file; a missing one or a foreign name is not an error."""
    if not name:
        return
    try:
        _checked(name)
    except ValueError:
        return
    with _answering():
        storage().delete(name)


def purge_older_than(cutoff: datetime) -> int:
    """Delete files in our folders last modified before ``cutoff``; returns how many.

    The sweep for files no notification points to any more (a crash between
    writing a file and saving its name).
    """
    deleted = 0
    store = storage()
    for folder in FOLDERS:
        with _answering():
            try:
                _dirs, names = store.listdir(folder)
            except FileNotFoundError:  # the local folder was never made
                continue
            for base in names:
                name = f"{folder}/{base}"
                if store.get_modified_time(name) < cutoff:
                    store.delete(name)
                    deleted += 1
    return deleted

"""Where private files live: the local disk, or an S3-compatible bucket.

Read once by settings. With neither ``STORAGE_URL`` nor
``AWS_STORAGE_BUCKET_NAME`` set, the default storage is the local disk under
MEDIA_ROOT (one machine, or a disk every host mounts). With either, it is
django-storages' S3 backend (AWS S3, MinIO, any S3-compatible service), so web
and worker hosts need no shared disk:

    STORAGE_URL=s3://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET[/PREFIX][?region=REGION]

``s3://`` reaches the endpoint over HTTPS, ``s3+http://`` over plain HTTP (a
MinIO on the private network). Without STORAGE_URL, django-storages' own
variables are read: AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL (empty: AWS),
AWS_S3_REGION_NAME, AWS_LOCATION, and the keys AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY (or the machine's role when they are unset).
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3 = "storages.backends.s3.S3Storage"
SCHEMES = {"s3": "https", "s3+https": "https", "s3+http": "http"}


def parse_storage_url(url: str) -> dict:
    """django-storages S3 options from a STORAGE_URL (bucket, endpoint, keys, prefix, region)."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ImproperlyConfigured(
            f"STORAGE_URL must start with one of {', '.join(sorted(SCHEMES))}://"
        )
    path = parts.path.strip("/")
    bucket, _sep, location = path.partition("/")
    if not parts.hostname or not bucket:
        raise ImproperlyConfigured("STORAGE_URL needs a host and a bucket: s3://HOST/BUCKET")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    options = {
        "bucket_name": bucket,
        "location": location,
        "endpoint_url": f"{SCHEMES[parts.scheme]}://{host}",
        "region_name": parse_qs(parts.query).get("region", [""])[0],
    }
    if parts.username:
        options["access_key"] = unquote(parts.username)
        options["secret_key"] = unquote(parts.password or "")
    return options


def s3_storage(
    options: dict, *, connect_timeout: float, read_timeout: float, max_attempts: int, expiry: int
) -> dict:
    """The STORAGES entry for a private bucket with bounded waits."""
    from botocore.config import Config

    endpoint = options.get("endpoint_url") or None
    return {
        "BACKEND": S3,
        "OPTIONS": {
            **options,
            "endpoint_url": endpoint,
            "region_name": options.get("region_name") or "us-east-1",
            # Private objects; a download is a signed URL that expires soon.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": expiry,
            # Names are random: no existence check (a round trip) before a write.
            "file_overwrite": True,
            # A storage that is down or hung fails the job within seconds
            # instead of holding a worker or a request. (With client_config,
            # django-storages takes the signature and addressing from it.)
            "client_config": Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": max_attempts, "mode": "standard"},
                signature_version="s3v4",
                # MinIO and most S3-compatible servers want path-style URLs.
                s3={"addressing_style": "path" if endpoint else "auto"},
            ),
        },
    }


def default_storage(
    options: dict, *, connect_timeout: float, read_timeout: float, max_attempts: int, expiry: int
) -> dict:
    """The default storage: a private bucket when ``options`` name one, else the local disk.

    ``options`` come from ``STORAGE_URL`` (``parse_storage_url``) or from
    django-storages' own ``AWS_*`` variables, read in settings.py.
    """
    if not options.get("bucket_name"):
        return LOCAL
    return s3_storage(
        options,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_attempts=max_attempts,
        expiry=expiry,
    )

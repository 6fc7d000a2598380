"""Sentry, on only when SENTRY_DSN is set; no personal data unless asked for.

Called from the end of ``project/settings.py`` (before Django is set up, so
that errors of the start-up itself are reported), which passes its SENTRY_*
settings: this module reads no environment variable.
"""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration


def init_sentry(
    *,
    dsn: str,
    environment: str,
    release: str,
    traces_sample_rate: float,
    send_default_pii: bool,
    **options,
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=environment,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=send_default_pii,
        **options,
    )

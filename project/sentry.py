"""Sentry, on only when SENTRY_DSN is set; no personal data unless asked for."""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from project.env import env_bool, env_str


def init_sentry(dsn: str, **options) -> None:
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        release=env_str("SENTRY_RELEASE", "") or None,
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0.0") or 0),
        send_default_pii=env_bool("SENTRY_SEND_DEFAULT_PII", False),
        **options,
    )

"""API clients: one per external system, with scopes, a secret and its own limits."""

import ipaddress
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.scopes import SCOPES

RATE_RE = re.compile(r"^\d{1,7}/(second|minute|hour|day)$")


def new_client_id() -> str:
    return f"cli_{secrets.token_hex(10)}"


def validate_rate(value: str) -> None:
    if not RATE_RE.match(value or ""):
        raise ValidationError(
            _("Write it as a number of requests per second, minute, hour or day: 600/minute.")
        )


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """One address or network per line (203.0.113.7, 10.0.0.0/8); blank lines ignored."""
    networks = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            raise ValidationError(
                _("“%(line)s” is not an address or a network such as 10.0.0.0/8.") % {"line": line}
            ) from None
    return networks


def validate_networks(text: str) -> None:
    parse_networks(text)


def validate_scopes(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one scope."))
    unknown = [scope for scope in value if scope not in SCOPES]
    if unknown:
        raise ValidationError(_("Unknown scope(s): %(scopes)s.") % {"scopes": ", ".join(unknown)})


class ApiClient(models.Model):
    """An external system that calls the API with its own secret and scopes.

    It acts through a service user of its own (``user``): movements it records
    name it as their author, and the user holds exactly its scopes'
    permissions. The secret is stored hashed and shown once.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    client_id = models.CharField(
        _("client id"), max_length=40, unique=True, default=new_client_id, editable=False
    )
    secret_hash = models.CharField(max_length=128, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client",
        editable=False,
        verbose_name=_("service user"),
    )
    scopes = models.JSONField(_("scopes"), default=list, validators=[validate_scopes])
    rate_limit = models.CharField(
        _("rate limit"),
        max_length=20,
        default="600/minute",
        validators=[validate_rate],
        help_text=_("Requests allowed per second, minute, hour or day, e.g. 600/minute."),
    )
    allowed_addresses = models.TextField(
        _("allowed addresses"),
        blank=True,
        validators=[validate_networks],
        help_text=_("One address or network per line (10.0.0.0/8). Empty: any address."),
    )
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: never expires.")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    request_count = models.BigIntegerField(_("requests"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(request_count__gte=0), name="integrations_client_count_gte_0"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def refusal(self, now=None) -> str | None:
        """Why this client may not call the API now, or None."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return str(_("This API client was revoked."))
        if self.expires_at is not None and self.expires_at <= now:
            return str(_("This API client expired."))
        return None

    def allows_address(self, address: str | None) -> bool:
        networks = parse_networks(self.allowed_addresses)
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in networks)


class Change(models.Model):
    """One changed row of the change feed, written by triggers (integrations/changefeed.py)."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("product")
        INFLOW = "inflow", _("inflow")
        OUTFLOW = "outflow", _("outflow")
        PURCHASE_ORDER = "purchase_order", _("purchase order")

    class Op(models.TextChoices):
        UPSERT = "upsert", _("created or changed")
        DELETE = "delete", _("deleted")

    id = models.BigAutoField(primary_key=True)
    # The writing transaction's id on PostgreSQL (0 on SQLite): the feed's
    # order is (txid, id), readable only below the oldest running transaction.
    txid = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.BigIntegerField()
    op = models.CharField(max_length=10, choices=Op.choices)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [models.Index(fields=["txid", "id"], name="integrations_change_order")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.op} ({self.txid}.{self.id})"


class FeedPurge(models.Model):
    """Where the last purge of old changes stopped: a cursor behind it may have missed some."""

    txid = models.BigIntegerField(default=0)
    change_id = models.BigIntegerField(default=0)
    purged_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"purged up to {self.txid}.{self.change_id}"

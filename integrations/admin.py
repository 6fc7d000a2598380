"""API clients in the admin: create one per external system, see its use, revoke it."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from integrations import services
from integrations.models import ApiClient
from integrations.scopes import SCOPES
from project.formats import integer

FORM_FIELDS = ("name", "scopes", "rate_limit", "allowed_addresses", "expires_at")


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=list(SCOPES.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the client may read or change; nothing else is reachable."),
    )

    class Meta:
        model = ApiClient
        fields = FORM_FIELDS


def _show_secret(model_admin, request, client, secret) -> None:
    model_admin.message_user(
        request,
        format_html(
            "{} <code>{}</code> &nbsp; {} <code>{}</code><br>{}",
            _("Client id:"),
            client.client_id,
            _("Secret:"),
            secret,
            _("Copy the secret now: it is stored hashed and will not be shown again."),
        ),
        messages.WARNING,
    )


@admin.register(ApiClient)
class ApiClientAdmin(ModelAdmin):
    form = ApiClientForm
    list_display = ("name", "client_id", "scope_list", "status", "last_used_at", "requests")
    search_fields = ("name", "client_id")
    readonly_fields = (
        "client_id",
        "user",
        "revoked_at",
        "last_used_at",
        "request_count",
        "created_at",
        "created_by",
    )
    actions = ("revoke", "rotate_secret")

    @display(description=_("scopes"))
    def scope_list(self, client):
        return ", ".join(client.scopes)

    @display(description=_("status"), label=True)
    def status(self, client):
        return client.refusal() or _("Active")

    @display(description=_("requests"), ordering="request_count")
    def requests(self, client):
        return integer(client.request_count)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in FORM_FIELDS}
        if change:
            services.api_client_update(client=obj, **data)
            return
        client, secret = services.api_client_create(created_by=request.user, **data)
        obj.pk = client.pk
        obj.__dict__.update(client.__dict__)
        _show_secret(self, request, client, secret)

    def has_delete_permission(self, request, obj=None):
        # Movements name the client's service user: revoke, never delete.
        return False

    @action(description=_("Revoke selected clients"), permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for client in queryset.filter(revoked_at__isnull=True):
            services.api_client_revoke(client=client)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d client revoked.", "%(count)d clients revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @action(description=_("Give the selected client a new secret"), permissions=["change"])
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one client."), messages.ERROR)
            return
        client = queryset.get()
        _show_secret(self, request, client, services.api_client_rotate_secret(client=client))

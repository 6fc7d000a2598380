"""The admin sidebar: Catalog / Movements / Purchasing / Reports / Administration.

Each link shows only to users whose role lets them view the model.
"""

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


def _item(title, icon: str, app_label: str, model_name: str) -> dict:
    def can_view(request) -> bool:
        return request.user.has_perm(f"{app_label}.view_{model_name}")

    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(f"admin:{app_label}_{model_name}_changelist"),
        "permission": can_view,
    }


def _orders_but_not_suggestions(request) -> bool:
    orders = str(reverse_lazy("admin:purchasing_purchaseorder_changelist"))
    suggestions = str(reverse_lazy("admin:purchasing_purchaseorder_suggestions"))
    return request.path.startswith(orders) and not request.path.startswith(suggestions)


def sidebar_navigation(request) -> list[dict]:
    return [
        {
            "title": _("Catalog"),
            "separator": True,
            "items": [
                _item(_("Products"), "inventory_2", "catalog", "product"),
                _item(_("Product models"), "category", "catalog", "productmodel"),
                _item(_("Brands"), "sell", "catalog", "brand"),
                _item(_("Categories"), "folder", "catalog", "category"),
                _item(_("Suppliers"), "local_shipping", "catalog", "supplier"),
            ],
        },
        {
            "title": _("Movements"),
            "separator": True,
            "items": [
                _item(_("Inflows"), "input", "movements", "inflow"),
                _item(_("Outflows"), "output", "movements", "outflow"),
            ],
        },
        {
            "title": _("Purchasing"),
            "separator": True,
            "items": [
                {
                    # Where a low stock turns into an order (the morning notice points here).
                    **_item(_("Reorder suggestions"), "lightbulb", "purchasing", "purchaseorder"),
                    "link": reverse_lazy("admin:purchasing_purchaseorder_suggestions"),
                },
                {
                    **_item(_("Purchase orders"), "shopping_cart", "purchasing", "purchaseorder"),
                    # Not lit up on the suggestions page, whose address is under the orders'.
                    "active": _orders_but_not_suggestions,
                },
                _item(_("Receipts"), "inventory", "purchasing", "receipt"),
                # Its list's "Import NF-e XML" button receives the supplier's notes.
                _item(_("NF-e receipts"), "receipt_long", "purchasing", "nfereceipt"),
                _item(_("Supplier products"), "handshake", "purchasing", "supplierproduct"),
            ],
        },
        {
            "title": _("Reports"),
            "separator": True,
            "items": [
                {
                    "title": _("Dashboard"),
                    "icon": "dashboard",
                    "link": reverse_lazy("admin:index"),
                },
                {
                    # Every staff user's own imports/exports; badge = unread count.
                    "title": _("Notifications"),
                    "icon": "notifications",
                    "link": reverse_lazy("admin:dataio_tasknotification_changelist"),
                    "badge": "dataio.notifications.unread_badge",
                    "permission": lambda request: request.user.is_staff,
                },
                _item(_("Task results"), "task_alt", "django_celery_results", "taskresult"),
            ],
        },
        {
            "title": _("Administration"),
            "separator": True,
            "items": [
                _item(_("Users"), "person", "auth", "user"),
                # External systems' API access (integrations/admin.py).
                _item(_("API clients"), "key", "integrations", "apiclient"),
                _item(_("Roles (groups)"), "group", "auth", "group"),
                # Locked logins (django-axes); a superuser unlocks them here.
                _item(_("Login lockouts"), "lock", "axes", "accessattempt"),
                _item(_("Periodic tasks"), "schedule", "django_celery_beat", "periodictask"),
                _item(_("Intervals"), "timer", "django_celery_beat", "intervalschedule"),
                _item(_("Crontabs"), "update", "django_celery_beat", "crontabschedule"),
            ],
        },
    ]

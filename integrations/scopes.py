"""What an API client may do: scopes, and the model permissions each one stands for.

A view names its area in ``api_scope`` ("catalog", "movements", "metrics",
"purchasing");
reading needs ``<area>:read``, any other method ``<area>:write``. The
client's service user holds exactly the permissions of its scopes, so the
model permissions every request already checks agree with the scopes.
"""

from django.utils.translation import gettext_lazy as _

CATALOG_MODELS = ("brand", "category", "supplier", "productmodel", "product")

SCOPES: dict[str, str] = {
    "catalog:read": _("Read the catalog (products, brands, categories, suppliers, models)"),
    "catalog:write": _("Create, change and delete catalog records"),
    "movements:read": _("Read inflows, outflows and product ledgers"),
    "movements:write": _("Record inflows and outflows"),
    "metrics:read": _("Read the dashboard metrics, money figures included"),
    "purchasing:read": _("Read purchase orders, supplier products and reorder suggestions"),
    "purchasing:write": _("Create and send purchase orders, receive them, keep supplier products"),
}

# scope -> (app_label, codename) permissions of the client's service user
SCOPE_PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "catalog:read": tuple(("catalog", f"view_{model}") for model in CATALOG_MODELS),
    "catalog:write": tuple(
        ("catalog", f"{action}_{model}")
        for model in CATALOG_MODELS
        for action in ("add", "change", "delete")
    ),
    "movements:read": (
        ("movements", "view_inflow"),
        ("movements", "view_outflow"),
        # The ledger is read per product.
        ("catalog", "view_product"),
    ),
    "movements:write": (("movements", "add_inflow"), ("movements", "add_outflow")),
    "metrics:read": (
        ("catalog", "view_product"),
        ("movements", "view_outflow"),
        ("dashboard", "view_financials"),
    ),
    "purchasing:read": (
        ("purchasing", "view_purchaseorder"),
        ("purchasing", "view_supplierproduct"),
    ),
    "purchasing:write": (
        ("purchasing", "add_purchaseorder"),
        ("purchasing", "change_purchaseorder"),
        ("purchasing", "receive_purchaseorder"),
        ("purchasing", "add_supplierproduct"),
        ("purchasing", "change_supplierproduct"),
        ("purchasing", "delete_supplierproduct"),
    ),
}

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def required_scope(area: str, method: str) -> str:
    return f"{area}:{'read' if method in SAFE_METHODS else 'write'}"

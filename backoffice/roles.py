"""Roles as groups: Admin, Manager, Operator, Analyst.

ROLES is the one definition. The data migration creates the groups and
``post_migrate`` re-applies ROLES after every ``migrate``, so a permission
added by a later migration reaches the roles that should have it.
"""

# Actions grant each model's default permissions of an app (view_product...).
ALL = ("add", "change", "delete", "view")
VIEW = ("view",)
# A custom permission (a model's Meta.permissions) is granted by its codename,
# never through an action: "view" alone must not bring money figures along.
FINANCIALS = ("view_financials",)  # dashboard.Dashboard: money on the dashboard and API
RECEIVE = ("receive_purchaseorder",)  # purchasing.PurchaseOrder: goods in against an order

ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    # Runs the back office: catalog, ledger, users, schedules.
    "Admin": {
        "catalog": ALL,
        "movements": ALL,
        "purchasing": (*ALL, *RECEIVE),
        "dataio": ALL,
        "dashboard": FINANCIALS,
        "auth": ALL,
        "django_celery_beat": ALL,
        "django_celery_results": ALL,
    },
    # Keeps the catalog and the orders; reads the ledger, the jobs and the dashboard.
    "Manager": {
        "catalog": ALL,
        "movements": VIEW,
        "purchasing": ALL,
        "dataio": VIEW,
        "dashboard": FINANCIALS,
        "django_celery_beat": VIEW,
        "django_celery_results": VIEW,
    },
    # Records inflows and outflows and receives orders; reads the catalog to pick products.
    "Operator": {
        "catalog": VIEW,
        "movements": ("add", "view"),
        "purchasing": (*VIEW, *RECEIVE),
    },
    # Changes nothing; reads everything but the people (users and groups).
    "Analyst": {
        "catalog": VIEW,
        "movements": VIEW,
        "purchasing": VIEW,
        "dataio": VIEW,
        "dashboard": FINANCIALS,
        "django_celery_beat": VIEW,
        "django_celery_results": VIEW,
    },
}


def _granted(permission, grants: tuple[str, ...]) -> bool:
    codename = permission.codename
    action = codename.split("_", 1)[0]
    return codename in grants or (
        action in grants and codename == f"{action}_{permission.content_type.model}"
    )


def sync_roles(group_model, permission_model) -> None:
    """Make each role group hold exactly the permissions ROLES gives it."""
    for role, grants in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = [
            permission
            for permission in permission_model.objects.filter(
                content_type__app_label__in=grants.keys()
            ).select_related("content_type")
            if _granted(permission, grants[permission.content_type.app_label])
        ]
        group.permissions.set(permissions)


def sync_roles_after_migrate(sender, **kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    if sender.name != "backoffice":  # the last app: every permission exists by then
        return
    sync_roles(Group, Permission)

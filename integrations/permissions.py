"""A client's token reaches only the areas its scopes name (403 naming the missing one)."""

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from integrations.scopes import required_scope


class ScopePermission(BasePermission):
    """People's tokens pass (their roles decide); a client's token needs the view's scope.

    A view names its area in ``api_scope``, or its scopes per request in
    ``get_api_scopes(request)``; a view that names neither is closed to clients.
    """

    code = "missing_scope"

    def has_permission(self, request, view):
        token = request.auth
        scopes = token.get("scopes") if token is not None and hasattr(token, "get") else None
        if scopes is None:
            return True
        if hasattr(view, "get_api_scopes"):
            needed = view.get_api_scopes(request)
        elif getattr(view, "api_scope", None):
            needed = [required_scope(view.api_scope, request.method)]
        else:
            self.message = _("API clients may not use this endpoint.")
            return False
        missing = [scope for scope in needed if scope not in scopes]
        if not missing:
            return True
        self.message = _("This API client lacks the scope %(scope)s.") % {
            "scope": ", ".join(missing)
        }
        return False

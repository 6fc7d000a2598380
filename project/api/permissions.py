"""Who may do what: Django model permissions, the view permission included.

The roles (``backoffice.roles``) are groups holding these permissions, so the
admin and the API agree on who can do what.
"""

from django.http import Http404
from rest_framework.permissions import DjangoModelPermissions

VIEW = "%(app_label)s.view_%(model_name)s"


class ModelPermissions(DjangoModelPermissions):
    """Model permissions for every method, reads included.

    A view may add permissions per method in ``extra_permissions`` (a dict
    of method -> permission names), and may have no queryset at all (then
    only those apply). A user who may not read a model gets 404 on one of
    its objects, as if it did not exist, instead of a 403 that confirms it.
    """

    perms_map = {
        "GET": [VIEW],
        "HEAD": [VIEW],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def _model(self, view):
        from rest_framework.generics import GenericAPIView  # it imports this module

        queryset = getattr(view, "queryset", None)
        # The class attribute when get_queryset is DRF's own: cloning a
        # queryset per request only to read its model is wasted work.
        if queryset is not None and type(view).get_queryset is GenericAPIView.get_queryset:
            return queryset.model
        if queryset is None and not hasattr(view, "get_queryset"):
            return None
        return self._queryset(view).model

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        model = self._model(view)
        extra = getattr(view, "extra_permissions", {}).get(request.method, [])
        perms = [*self.get_required_permissions(request.method, model), *extra] if model else extra
        if user.has_perms(perms):
            return True
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        detail = model is not None and lookup in getattr(view, "kwargs", {})
        if detail and not user.has_perms(self.get_required_permissions("GET", model)):
            raise Http404
        return False

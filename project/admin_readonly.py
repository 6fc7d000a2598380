"""Admin pages of records nobody edits by hand (jobs, receipts): view only.

Those records are written by services (a receipt by receiving, a job by the
worker); the admin shows them and offers the actions that go through those
services, never the add, change or delete forms.
"""


class ViewOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

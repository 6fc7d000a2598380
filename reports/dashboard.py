"""The admin index: the dashboard (see the dashboard issue)."""


def dashboard_callback(request, context):
    return context

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _reinstall_feed_triggers(sender, using="default", **kwargs) -> None:
    # SQLite rebuilds a table to alter it, dropping its triggers: a later
    # migration of products or movements must not silently stop the feed.
    from django.db import connections

    from integrations import changefeed

    if sender.name == "integrations":
        connection = connections[using]
        if changefeed.TABLE in connection.introspection.table_names():
            changefeed.install_triggers(connection)


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        post_migrate.connect(_reinstall_feed_triggers, dispatch_uid="integrations-feed-triggers")

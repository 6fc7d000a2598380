from celery import shared_task


@shared_task(name="integrations.purge_change_feed")
def purge_change_feed() -> int:
    from integrations.feed import purge_older_than

    return purge_older_than()

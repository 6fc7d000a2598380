from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_roles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = []

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_task_notification")]

    operations = [
        migrations.AddField(
            model_name="tasknotification",
            name="queued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="queued at"),
        ),
        migrations.AddField(
            model_name="tasknotification",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last heartbeat"),
        ),
    ]

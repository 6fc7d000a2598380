"""The job record (TaskNotification), created here or adopted from the former reports app.

See project/app_split.py: on a database the reports app migrated, the table
and its rows stay, and the content type (with its permissions) moves here.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from project.app_split import create_table_unless_adopted, move_content_type


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        move_content_type("tasknotification", "dataio", "tasknotification"),
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='TaskNotification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('task_id', models.CharField(blank=True, db_index=True, max_length=255, verbose_name='task id')),
                ('task_type', models.CharField(choices=[('export', 'Export'), ('import_preview', 'Import check (preview)'), ('import', 'Import'), ('ledger_check', 'Ledger check')], max_length=32, verbose_name='task')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('processing', 'Processing'), ('completed', 'Completed'), ('failed', 'Failed')], default='pending', max_length=16, verbose_name='status')),
                ('model', models.CharField(blank=True, max_length=100, verbose_name='model')),
                ('format', models.CharField(blank=True, choices=[('csv', 'CSV'), ('xlsx', 'XLSX'), ('json', 'JSON')], max_length=8, verbose_name='format')),
                ('parameters', models.JSONField(blank=True, default=dict, verbose_name='parameters')),
                ('source_file', models.CharField(blank=True, max_length=255, verbose_name='uploaded file')),
                ('original_name', models.CharField(blank=True, max_length=255, verbose_name='original file name')),
                ('result_file', models.CharField(blank=True, max_length=255, verbose_name='result file')),
                ('error_file', models.CharField(blank=True, max_length=255, verbose_name='error report')),
                ('total_rows', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('processed_rows', models.PositiveIntegerField(default=0, verbose_name='processed rows')),
                ('new_rows', models.PositiveIntegerField(default=0, verbose_name='new')),
                ('updated_rows', models.PositiveIntegerField(default=0, verbose_name='updated')),
                ('unchanged_rows', models.PositiveIntegerField(default=0, verbose_name='unchanged')),
                ('invalid_rows', models.PositiveIntegerField(default=0, verbose_name='invalid')),
                ('progress', models.PositiveSmallIntegerField(default=0, verbose_name='progress %')),
                ('row_errors', models.JSONField(blank=True, default=list, verbose_name='row errors')),
                ('stock_impact', models.JSONField(blank=True, default=dict, verbose_name='stock impact')),
                ('error_message', models.TextField(blank=True, verbose_name='error')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('is_read', models.BooleanField(default=False, verbose_name='read')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                ('queued_at', models.DateTimeField(blank=True, null=True, verbose_name='queued at')),
                ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='last heartbeat')),
                ('completed_at', models.DateTimeField(blank=True, null=True, verbose_name='completed at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='task_notifications', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'notification',
                'verbose_name_plural': 'notifications',
                'db_table': 'reports_tasknotification',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['user', 'is_read'], name='reports_notif_user_read_idx'), models.Index(fields=['status', 'started_at'], name='reports_notif_status_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('progress__lte', 100)), name='reports_notif_progress_lte_100')],
            },
        )]),
        create_table_unless_adopted("dataio", "TaskNotification"),
    ]

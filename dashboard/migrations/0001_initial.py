"""The holder of view_financials, taken over from the former reports app (project/app_split.py)."""

from django.db import migrations, models

from project.app_split import move_content_type


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        move_content_type("dashboard", "dashboard", "dashboard"),
        migrations.CreateModel(
            name='Dashboard',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
            options={
                'verbose_name': 'dashboard',
                'verbose_name_plural': 'dashboards',
                'permissions': [('view_financials', 'Can see money figures (stock value, sales, profit)')],
                'managed': False,
                'default_permissions': (),
            },
        ),
    ]

"""Run an import the way the worker does, in the test's own transaction.

Upload through the admin page, run the worker's check (the preview), then
confirm through the admin and run the worker's import. Tasks are not queued
(the test transaction never commits), the job functions are called directly.
"""

import io

import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dataio import pipeline
from dataio.models import TaskNotification

FORMATS = {"csv": "0", "xlsx": "1", "json": "2"}
INTERNAL = "internal error"


def preview(client, url_name: str, content: bytes, *, fmt="csv", name=None) -> TaskNotification:
    response = client.post(
        reverse(url_name),
        {
            "format": FORMATS[fmt],
            "resource": "0",
            "import_file": SimpleUploadedFile(name or f"file.{fmt}", content),
        },
    )
    assert response.status_code == 302, response.content[-3000:]
    notification = TaskNotification.objects.latest("pk")
    pipeline.run_import_check(notification.pk)
    notification.refresh_from_db()
    assert INTERNAL not in notification.error_message, notification.error_message
    page = client.get(reverse("dataio:import_preview", args=[notification.pk]))
    assert page.status_code == 200
    assert "Traceback" not in page.content.decode()
    return notification


def confirm(client, checked: TaskNotification) -> TaskNotification:
    client.post(reverse("dataio:import_confirm", args=[checked.pk]))
    notification = TaskNotification.objects.latest("pk")
    assert notification.pk != checked.pk, "the confirm was refused"
    pipeline.run_import_apply(notification.pk)
    notification.refresh_from_db()
    return notification


def xlsx_bytes(rows: list[list]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = workbook.add_worksheet()
    for number, row in enumerate(rows):
        for column, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(number, column, value)
            else:
                sheet.write(number, column, value)
    workbook.close()
    return buffer.getvalue()

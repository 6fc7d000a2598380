"""One error body for every API error.

``{"code": "<machine code>", "detail": "<sentence for a person>"}``, plus
``"errors": {field: [messages]}`` when input was invalid, plus the facts of
the conflict when there are some (an oversell names ``product``,
``requested`` and ``available``).
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, IntegrityError, OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from project.transactions import conflict_message, is_conflict

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"

    def __init__(self, detail=None, code=None, extra: dict | None = None):
        super().__init__(detail, code)
        self.extra = extra or {}


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("The request cannot be processed.")
    default_code = "unprocessable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def body_too_large() -> PayloadTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return PayloadTooLarge(_("The request body is larger than %(limit)s bytes.") % {"limit": limit})


def _first_code(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None) or "error"


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):  # Django's own check, when it reads the body
        exc = body_too_large()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DataError):
        # A number the column cannot hold, e.g. stock beyond 2,147,483,647
        # after an inflow: refused, nothing written (the transaction rolled back).
        exc = Conflict(_("A value is out of the range that can be stored."), code="out_of_range")
    elif isinstance(exc, IntegrityError):
        # A unique or check constraint the serializer could not see coming
        # (usually a race between two writers): the client may retry.
        exc = Conflict(_("The change conflicts with existing data."), code="conflict")
    elif isinstance(exc, OperationalError) and is_conflict(exc):
        # PostgreSQL aborted the request's transaction to break a deadlock
        # with another writer (project.transactions): nothing was written.
        exc = Conflict(conflict_message(), code="concurrent_change")

    response = drf_exception_handler(exc, context)
    if response is None:
        if settings.DEBUG:
            return None  # Django's debug page, with the traceback
        # A bug: logged with its traceback (and sent to Sentry when set),
        # answered with the same JSON shape as every other error.
        logger.error("Unhandled API error", exc_info=exc)
        set_rollback()
        return Response(
            {"code": "server_error", "detail": _("Server error.")},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = error_body(exc, response.data)
    return response


def error_body(exc, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        return {"code": "invalid", "detail": _("Invalid input."), "errors": errors}
    detail = getattr(exc, "detail", None)
    # simplejwt's InvalidToken carries a dict: {"detail", "code", "messages"}.
    if isinstance(detail, dict):
        message = detail.get("detail", _("Error."))
        code = detail.get("code") or getattr(message, "code", None) or "error"
        body = {"code": str(code), "detail": str(message)}
    elif detail is not None:
        body = {"code": _first_code(detail), "detail": str(detail)}
    else:
        body = {"code": "error", "detail": str(data)}
    body.update(getattr(exc, "extra", {}))
    return body


def json_error(status_code: int, code: str, detail: str) -> Response:
    set_rollback()
    return Response({"code": code, "detail": detail}, status=status_code)

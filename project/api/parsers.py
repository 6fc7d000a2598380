"""The API's JSON parser: DRF's, with the two refusals it lacks.

DRF reads the whole body whatever its size, and Python's decoder raises
``RecursionError`` (not ``ValueError``) on JSON nested tens of thousands of
levels deep, which DRF lets through as a 500; ``token/`` is public, so anyone
could fill the error log that way. Here a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413 and one nested too deeply a 400,
both with the API's usual error body.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers
from rest_framework.utils import json

# The module, not the name: project.api.exceptions imports DRF's views, which
# load this parser from the settings while that module is still half-imported.
from project.api import exceptions as api_exceptions


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # Read one byte past the limit: a chunked body has no Content-Length.
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise api_exceptions.body_too_large()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = body.decode(encoding)
        except LookupError:  # "charset=rot13" and other non-text codecs
            raise exceptions.ParseError(
                _("Unsupported charset %(charset)s; send UTF-8.") % {"charset": encoding}
            ) from None
        except ValueError as exc:  # bytes that are not in that charset
            raise exceptions.ParseError(
                _("JSON parse error - %(error)s") % {"error": exc}
            ) from None
        try:
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:  # JSONDecodeError
            raise exceptions.ParseError(
                _("JSON parse error - %(error)s") % {"error": exc}
            ) from None
        except RecursionError:
            raise exceptions.ParseError(
                _("JSON parse error - the body is nested too deeply.")
            ) from None

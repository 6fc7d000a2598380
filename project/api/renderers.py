import json
from decimal import Decimal

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.renderers import BaseRenderer


def _default(value):
    # Money is a Decimal: sent as a string, as DRF does, so no precision is lost.
    if isinstance(value, Decimal):
        return str(value)
    # Lazy translation strings and other str-like objects.
    return str(value)


class ORJSONRenderer(BaseRenderer):
    """JSON through orjson: several times faster than the standard library on lists.

    Datetimes come out as RFC 3339 in UTC with a ``Z`` suffix, the same form
    ``project.api.fields.UTCDateTimeField`` gives serializers.
    """

    media_type = "application/json"
    format = "json"
    charset = None
    options = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        try:
            return orjson.dumps(data, default=_default, option=self.options)
        except TypeError:
            # orjson stops at integers beyond 64 bits; the standard library does not.
            return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).encode()

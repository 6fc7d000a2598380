from datetime import UTC

from django.db import models
from django.utils.text import capfirst
from rest_framework import serializers
from rest_framework.validators import UniqueValidator


class UTCDateTimeField(serializers.DateTimeField):
    """Datetimes in UTC (``...Z``), whatever the server's TIME_ZONE.

    The fast list paths hand database values to orjson, which writes UTC with
    a ``Z``; serializers use this field so that a list row and a detail agree.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(*args, **kwargs)


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
    }

    def get_fields(self):
        fields = super().get_fields()
        # DRF writes "product with this serial number already exists.";
        # the admin (Django) capitalises it. Say it the same way in both.
        for field in fields.values():
            for validator in getattr(field, "validators", ()):
                if isinstance(validator, UniqueValidator):
                    validator.message = capfirst(validator.message)
        return fields

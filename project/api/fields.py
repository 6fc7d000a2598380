from datetime import UTC
from decimal import Decimal

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


def _unsigned_zero(value):
    # Decimal keeps the sign of a zero: "-0.00" parses to Decimal("-0.00"),
    # passes min_value=0 and would be echoed back as "-0.00".
    if isinstance(value, Decimal) and value.is_zero():
        return value.copy_abs()
    return value


class MoneyField(serializers.DecimalField):
    """An amount of money: ``-0.00`` in or out is ``0.00``.

    PostgreSQL's numeric has no negative zero, so what is stored is 0.00
    whatever the entry path (admin form, import, API); this field keeps the
    API from echoing the sign of the request before it reaches the database.
    """

    def to_internal_value(self, data):
        return _unsigned_zero(super().to_internal_value(data))

    def to_representation(self, value):
        return super().to_representation(_unsigned_zero(value))


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UTCDateTimeField,
        # Every decimal of these models is an amount of money.
        models.DecimalField: MoneyField,
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

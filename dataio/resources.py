"""The import/export building blocks: widgets with the rules of a cell, and the base Resource.

Each domain app's Resources (``catalog.resources``, ``movements.resources``)
list their columns with these widgets; django-import-export uses them as
usual, and the set-based import and the streaming export here read the very
same fields and call the very same widgets, so the preview, the import and
the export agree.

Foreign keys are written by name, not id. Their widgets can resolve a whole
file's names in one query (``resolve_many``), which is what the fast import
path uses instead of one ``get()`` per row.
"""

from decimal import Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext as _
from import_export import resources, widgets

from dataio.imports import UpsertImport

_CENT = Decimal("0.01")
_TOO_LARGE = Decimal("10000000000")


def _refuse_structures(value) -> None:
    # A JSON file may hold an object or a list where a cell belongs; storing
    # its Python repr as text would be nonsense.
    if isinstance(value, dict):
        raise ValueError(_("Expected a single value, found a JSON object."))
    if isinstance(value, list):
        raise ValueError(_("Expected a single value, found a JSON list."))


def _refuse_nul(text: str) -> str:
    # PostgreSQL cannot store U+0000 in text; refused here, in the check that
    # the preview and the import share, instead of failing the write.
    if "\x00" in text:
        raise ValueError(_("Contains an invisible NUL character (U+0000); remove it."))
    return text


def as_text(value) -> str:
    """A cell as text: spreadsheets give numbers as floats (``123.0`` -> ``123``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _refuse_nul(value.strip())
    _refuse_structures(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value).strip()


class TextWidget(widgets.CharWidget):
    """Text with a length limit.

    Text that a spreadsheet could run as a formula is kept as text, as the
    admin and the API keep it; every export quotes it (see
    ``dataio.spreadsheet``).
    """

    def __init__(self, *, max_length: int | None = None, required: bool = False):
        super().__init__(coerce_to_string=True, allow_blank=True)
        self.max_length = max_length
        self.required = required

    def clean(self, value, row=None, **kwargs):
        text = value.strip() if type(value) is str else as_text(value)
        if not text:
            if self.required:
                raise ValueError(_("This column is required."))
            return ""
        if "\x00" in text:
            _refuse_nul(text)
        if "\r" in text:
            # One kind of line break, LF, as spreadsheets write it (browsers
            # send CR LF): the same text reads back the same from any source.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.max_length is not None and len(text) > self.max_length:
            raise ValueError(
                _("At most %(max)d characters (this one has %(length)d).")
                % {"max": self.max_length, "length": len(text)}
            )
        return text

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class MoneyWidget(widgets.DecimalWidget):
    """A price: at most 2 decimal places, 10 digits before the point, never negative."""

    def __init__(self, *, required: bool = False, default: Decimal | None = Decimal("0.00")):
        super().__init__(coerce_to_string=False)
        self.required = required
        self.default = default

    def clean(self, value, row=None, **kwargs):
        if type(value) is str:
            text = value.strip()
            if " " in text:
                text = text.replace(" ", "")
            if "," in text:
                # 1.234,56 (Brazilian) or 1,234.56 (English): the last mark is the decimal one.
                if "." in text and text.rfind(",") < text.rfind("."):
                    text = text.replace(",", "")
                else:
                    text = text.replace(".", "").replace(",", ".")
        elif isinstance(value, bool):
            raise ValueError(_("“%(value)s” is not a number.") % {"value": value})
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        elif isinstance(value, int | float):
            text = repr(value)
        else:
            text = as_text(value).replace(" ", "")
            if "," in text:
                # 1.234,56 (Brazilian) or 1,234.56 (English): the last mark is the decimal one.
                if "." in text and text.rfind(",") < text.rfind("."):
                    text = text.replace(",", "")
                else:
                    text = text.replace(".", "").replace(",", ".")
        if not text:
            if self.required:
                raise ValueError(_("This column is required."))
            return self.default
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not a number.") % {"value": text[:40]}) from None
        if not number.is_finite():
            raise ValueError(_("“%(value)s” is not a number.") % {"value": text[:40]})
        if number < 0:
            raise ValueError(_("Cannot be negative (%(value)s).") % {"value": text[:40]})
        # Before quantize: 1E+30 (as Excel writes it) or 1e999 would overflow
        # the decimal context instead of giving a message.
        if number >= _TOO_LARGE:
            raise ValueError(_("Too large (%(value)s).") % {"value": text[:40]})
        rounded = number.quantize(_CENT)
        if rounded != number:
            raise ValueError(_("At most 2 decimal places (%(value)s).") % {"value": text[:40]})
        # + 0 turns -0.00 into 0.00.
        return rounded + 0

    def render(self, value, obj=None, **kwargs):
        return value


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number not below ``minimum``."""

    def __init__(self, *, minimum: int = 0, required: bool = False, default: int | None = 0):
        super().__init__(coerce_to_string=False)
        self.minimum = minimum
        self.required = required
        self.default = default

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            raise ValueError(_("“%(value)s” is not a whole number.") % {"value": value})
        if isinstance(value, int):
            number = value
        elif isinstance(value, float):
            if not value.is_integer():
                raise ValueError(_("“%(value)s” is not a whole number.") % {"value": value})
            number = int(value)
        else:
            text = as_text(value)
            if not text:
                if self.required:
                    raise ValueError(_("This column is required."))
                return self.default
            try:
                number = int(text[:-2] if text.endswith(".0") else text)
            except ValueError:
                raise ValueError(
                    _("“%(value)s” is not a whole number.") % {"value": text[:40]}
                ) from None
        if number < self.minimum:
            raise ValueError(
                _("Must be at least %(min)d (got %(value)d).")
                % {"min": self.minimum, "value": number}
            )
        if number > 2_147_483_647:
            raise ValueError(_("Too large (%(value)d).") % {"value": number})
        return number

    def render(self, value, obj=None, **kwargs):
        return value


class FlagWidget(widgets.BooleanWidget):
    """Yes/no: 1/0, true/false, yes/no, sim/não; empty takes the default."""

    TRUE = frozenset({"1", "true", "t", "yes", "y", "sim", "s", "x", "verdadeiro"})
    FALSE = frozenset({"0", "false", "f", "no", "n", "não", "nao", "falso"})

    def __init__(self, *, default: bool = True):
        super().__init__(coerce_to_string=False)
        self.default = default

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = as_text(value).lower()
        if not text:
            return self.default
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(_("“%(value)s” is not yes/no (use 1 or 0).") % {"value": text[:40]})

    def render(self, value, obj=None, **kwargs):
        return value


class ChoiceWidget(widgets.Widget):
    """One of a model field's choices, by value or by label (any case)."""

    def __init__(self, choices: type[models.TextChoices], *, default: str):
        super().__init__(coerce_to_string=True)
        self.default = default
        self.lookup = {}
        for value, label in choices.choices:
            self.lookup[str(value).lower()] = value
            self.lookup[str(label).lower()] = value
        self.allowed = ", ".join(str(value) for value in choices.values)

    def clean(self, value, row=None, **kwargs):
        text = as_text(value).lower()
        if not text:
            return self.default
        try:
            return self.lookup[text]
        except KeyError:
            raise ValueError(
                _("“%(value)s” is not one of: %(allowed)s.")
                % {"value": text[:40], "allowed": self.allowed}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class NameForeignKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key written as the related row's unique name (or serial number)."""

    def __init__(self, model, field: str = "name", *, required: bool = True):
        super().__init__(model, field=field)
        self.required = required

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)

    def key(self, value, row=None):
        """The lookup key of a cell; None when empty."""
        text = as_text(value)
        if not text:
            if self.required:
                raise ValueError(_("This column is required."))
            return None
        return text

    def resolve_many(self, keys) -> dict:
        """{key: pk} for the keys that exist: one query for the whole file."""
        keys = list(keys)
        found = {}
        for start in range(0, len(keys), 20_000):
            chunk = keys[start : start + 20_000]
            found.update(
                self.model.objects.filter(**{f"{self.field}__in": chunk}).values_list(
                    self.field, "pk"
                )
            )
        return found

    def unknown_message(self, key) -> str:
        return _("Unknown %(model)s “%(key)s”.") % {"model": self.label, "key": key}

    def clean(self, value, row=None, **kwargs):
        key = self.key(value, row)
        if key is None:
            return None
        pk = self.resolve_many([key]).get(key)
        if pk is None:
            raise ValueError(self.unknown_message(key))
        return self.model.objects.get(pk=pk)

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return super().render(value)


class TransferResource(resources.ModelResource):
    """Base of the import/export Resources.

    ``Meta.import_id_fields`` is the natural key (never the database id), so a
    file exported here imports back elsewhere.
    """

    # How a file of this model is checked and written (dataio.imports):
    # insert or update by the natural key, unless a domain app says otherwise.
    importer = UpsertImport

    @classmethod
    def model_label(cls) -> str:
        opts = cls._meta.model._meta
        return f"{opts.app_label}.{opts.model_name}"

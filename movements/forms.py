"""Admin forms for recording movements.

They validate the shape of the input and hand it to the ledger service; the
service decides (stock, prices, supplier) and its refusals come back as form
errors on the field they concern, so the person sees what to fix and nothing
is written.
"""

from django import forms
from django.core.validators import MinValueValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminDecimalFieldWidget

from movements import services
from movements.models import Inflow, Outflow


class MovementAddForm(forms.ModelForm):
    # Set per request by the admin (see MovementAdmin.get_form).
    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model field allows 0 ("greater than or equal to 0"); a movement
        # needs at least one unit. One rule, one message, and the browser's
        # own check (min="1") agrees with it.
        if "quantity" not in self.fields:  # a recorded movement's read-only page
            return
        rule = services.quantity_rule()
        quantity = self.fields["quantity"]
        quantity.min_value = 1
        quantity.validators = [MinValueValidator(1, message=rule)]
        quantity.error_messages["invalid"] = rule
        quantity.widget.attrs["min"] = 1

    def record(self, data):
        raise NotImplementedError

    def _post_clean(self):
        # Instead of ModelForm's model validation of a bare instance, the
        # service validates and inserts. The admin runs the whole add view in
        # one transaction, so a later failure still rolls this insert back.
        if self.errors:
            return
        try:
            self.instance = self.record(self.cleaned_data)
        except services.LedgerError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)


class InflowAddForm(MovementAddForm):
    unit_cost = forms.DecimalField(
        label=capfirst(_("unit cost")),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        # Declared on the form, so the admin's themed widget must be named here.
        widget=UnfoldAdminDecimalFieldWidget,
        help_text=_("Leave empty to use the product's cost price."),
    )

    class Meta:
        model = Inflow
        fields = ("product", "quantity", "supplier", "unit_cost", "reason", "note")

    def record(self, data):
        return services.inflow_create(
            product=data["product"],
            quantity=data["quantity"],
            supplier=data.get("supplier"),
            unit_cost=data.get("unit_cost"),
            reason=data["reason"],
            note=data.get("note", ""),
            user=self.user,
        )


class OutflowAddForm(MovementAddForm):
    unit_price = forms.DecimalField(
        label=capfirst(_("unit price")),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text=_("Leave empty to use the product's sell price."),
    )

    class Meta:
        model = Outflow
        fields = ("product", "quantity", "unit_price", "reason", "note")

    def record(self, data):
        return services.outflow_create(
            product=data["product"],
            quantity=data["quantity"],
            unit_price=data.get("unit_price"),
            reason=data["reason"],
            note=data.get("note", ""),
            user=self.user,
        )

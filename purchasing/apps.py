from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = _("Purchasing")

    def ready(self):
        from movements import services as ledger
        from purchasing.services import receipt_reversal_refusal

        ledger.movement_owner_register(receipt_reversal_refusal)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from catalog import resources
        from dataio import registry

        # The import/export pipeline finds these by model label.
        registry.register(
            resources.BrandResource,
            resources.CategoryResource,
            resources.SupplierResource,
            resources.ProductModelResource,
            resources.ProductResource,
        )

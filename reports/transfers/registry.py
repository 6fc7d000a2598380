"""Which models import and export, with which Resource, and how they import."""

from dataclasses import dataclass

from catalog.resources import (
    BrandResource,
    CategoryResource,
    ProductModelResource,
    ProductResource,
    SupplierResource,
    TransferResource,
)
from movements.resources import InflowResource, OutflowResource


@dataclass(frozen=True)
class Transfer:
    resource: type[TransferResource]
    # "upsert": insert or update by Meta.import_id_fields; "inflow"/"outflow":
    # append movements through the ledger service.
    import_kind: str

    @property
    def model(self):
        return self.resource._meta.model


TRANSFERS: dict[str, Transfer] = {
    resource.model_label(): Transfer(resource, kind)
    for resource, kind in (
        (BrandResource, "upsert"),
        (CategoryResource, "upsert"),
        (SupplierResource, "upsert"),
        (ProductModelResource, "upsert"),
        (ProductResource, "upsert"),
        (InflowResource, "inflow"),
        (OutflowResource, "outflow"),
    )
}


def get(label: str) -> Transfer:
    return TRANSFERS[label]


def label_of(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"

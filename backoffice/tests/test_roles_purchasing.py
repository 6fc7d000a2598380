"""Each role's purchasing permissions are what docs/purchasing.md ("Who does what") says."""

import pytest

pytestmark = pytest.mark.django_db

CODENAMES = (
    "view_purchaseorder",
    "add_purchaseorder",
    "change_supplierproduct",
    "receive_purchaseorder",
)
# docs/purchasing.md: Manager keeps supplier products and orders, Admin also
# receives, Operator sees and receives, Analyst only sees.
MAY = {
    "Admin": set(CODENAMES),
    "Manager": {"view_purchaseorder", "add_purchaseorder", "change_supplierproduct"},
    "Operator": {"view_purchaseorder", "receive_purchaseorder"},
    "Analyst": {"view_purchaseorder"},
}


@pytest.mark.parametrize("role", sorted(MAY))
def test_a_role_has_the_purchasing_permissions_the_docs_give_it(role_user, role):
    user = role_user(role)
    granted = {codename for codename in CODENAMES if user.has_perm(f"purchasing.{codename}")}
    assert granted == MAY[role]

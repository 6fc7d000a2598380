"""The Users list says each person's role, in a query count that does not grow (issue 14)."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db
USERS = reverse("admin:auth_user_changelist")


def _users(django_user_model, count: int):
    for number in range(count):
        user = django_user_model.objects.create_user(f"clerk{number}", password="x", is_staff=True)
        user.groups.add(Group.objects.get(name="Operator" if number % 2 else "Manager"))


def test_the_users_list_shows_each_role(admin_client, django_user_model):
    _users(django_user_model, 2)
    html = admin_client.get(USERS).content.decode()
    roles = re.findall(r'<td class="field-roles[^"]*">([^<]*)</td>', html)
    assert sorted(roles) == ["Manager", "Operator", "Superuser"]


def test_the_users_list_query_count_does_not_grow(admin_client, django_user_model):
    _users(django_user_model, 2)
    admin_client.get(USERS)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(USERS)
    _users_more = [
        django_user_model.objects.create_user(f"more{n}", password="x") for n in range(20)
    ]
    for user in _users_more:
        user.groups.add(Group.objects.get(name="Analyst"))
    with CaptureQueriesContext(connection) as many:
        admin_client.get(USERS)
    assert len(many) == len(few)

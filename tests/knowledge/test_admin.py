"""Supervisors keep the category tree in admin; every change is in its history."""

import pytest
from django.urls import reverse

from knowledge.models import Category

pytestmark = pytest.mark.django_db


def test_a_category_edited_in_admin_keeps_its_history_with_who_and_why(client, supervisor):
    category = Category.objects.create(name="退款")
    client.force_login(supervisor)

    response = client.post(reverse("admin:knowledge_category_change", args=[category.pk]),
                           {"name": "退款政策", "position": 2})

    assert response.status_code == 302
    latest = category.history.latest()
    assert (latest.name, latest.history_user, latest.history_change_reason) == \
        ("退款政策", supervisor, "admin:edit")
    history_page = client.get(reverse("admin:knowledge_category_history", args=[category.pk]))
    assert history_page.status_code == 200
    assert "退款政策" in history_page.content.decode()


def test_categories_are_searchable_in_admin(client, supervisor):
    Category.objects.create(name="物流异常")
    Category.objects.create(name="发票")
    client.force_login(supervisor)

    page = client.get(reverse("admin:knowledge_category_changelist"), {"q": "物流"})

    assert page.status_code == 200
    assert list(page.context["cl"].result_list.values_list("name", flat=True)) == ["物流异常"]

"""The customer admin: edits of shop data record who made them and why."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_editing_shop_data_in_admin_records_who_and_why(client, supervisor):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(tier="normal")
    client.force_login(supervisor)

    client.post(reverse("admin:shop_customer_change", args=[customer.pk]), {
        "external_id": customer.external_id, "name": customer.name, "phone": customer.phone,
        "tier": "vip",
    })

    latest = customer.history.latest()
    assert latest.tier == "vip"
    assert (latest.history_user, latest.history_change_reason) == (supervisor, "admin:edit")

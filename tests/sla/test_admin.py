"""The SLA policy table imports and exports through the admin, keyed by priority and level."""

import pytest
import tablib

from sla.admin import SlaPolicyResource
from sla.models import SlaPolicy

pytestmark = pytest.mark.django_db


def test_sla_policies_are_keyed_by_priority_and_level():
    dataset = SlaPolicyResource().export()
    rows = [list(row) for row in dataset]
    minutes = dataset.headers.index("first_response_minutes")
    rows[0][minutes] = 45
    priority = rows[0][dataset.headers.index("priority")]
    level = rows[0][dataset.headers.index("complaint_level")]

    result = SlaPolicyResource().import_data(tablib.Dataset(*rows, headers=dataset.headers),
                                             dry_run=False)

    assert not result.has_errors()
    assert SlaPolicy.objects.count() == len(rows)
    policy = SlaPolicy.objects.get(priority=priority, complaint_level=level)
    assert policy.first_response_minutes == 45
    assert policy.history.latest().history_change_reason == "import"

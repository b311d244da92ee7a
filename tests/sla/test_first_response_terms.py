"""Seed 004: 2 h without a response triggers a reminder — for every ticket, P3 included."""

import pytest

from sla.models import SlaPolicy
from sla.services.calendar import default_terms, terms_for
from tickets.services.seeding import default_sla_policies

TWO_HOURS = 120


@pytest.mark.parametrize("priority", [2, 3])
def test_the_shipped_sla_table_answers_within_two_hours(priority):
    """Source: seed 004 (2小时内由专员跟进); P0/P1 answer sooner still."""
    rows = [row for row in default_sla_policies() if row["priority"] == priority]

    assert rows
    assert all(row["first_response_minutes"] <= TWO_HOURS for row in rows)


@pytest.mark.django_db
@pytest.mark.parametrize(("priority", "level"), [
    pytest.param(3, "none", id="P3"),
    pytest.param(3, "l1", id="P3, complaint L1"),
    pytest.param(2, "none", id="P2"),
])
def test_the_installed_policy_reminds_at_two_hours_at_the_latest(priority, level):
    """Source: seed 004; data migration sla 0002 moved P3 from 4 h to 2 h."""
    policy = SlaPolicy.objects.get(priority=priority, complaint_level=level)

    assert policy.first_response_minutes <= TWO_HOURS
    terms = terms_for(priority=priority, complaint_level=level)
    assert terms.first_response <= default_terms(level).first_response

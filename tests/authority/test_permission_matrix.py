"""The permission matrix: every operation × every role × every relation to the ticket."""

import pytest

from tests.authority.harness import run_row
from tests.authority.table import PENDING_FIXES, ROWS
from tests.authority.world import build_world


@pytest.fixture
def world(personas, team, escalation_teams, other_agent):
    return build_world(personas, team, escalation_teams, other_agent)


def _params():
    for row in ROWS:
        marks = ()
        if row.key in PENDING_FIXES:
            marks = pytest.mark.xfail(strict=True, reason=PENDING_FIXES[row.key])
        yield pytest.param(row, id=row.key, marks=marks)


@pytest.mark.django_db
@pytest.mark.parametrize("row", list(_params()))
def test_who_may_do_what(row, world, settings):
    settings.LANGUAGE_CODE = "en"

    mismatches = run_row(row, world)

    assert not mismatches, "\n".join(mismatches)

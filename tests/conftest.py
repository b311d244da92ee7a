"""Shared fixtures: named personas, one per role, as the demo data creates them."""

import pytest
from django.contrib.auth.models import Group

from cs_console.roles import Role
from tests.factories import UserFactory


def _persona(role: str, username: str, **extra):
    user = UserFactory(username=username, **extra)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def agent(db):
    return _persona(Role.AGENT, "agent_wang")


@pytest.fixture
def other_agent(db):
    return _persona(Role.AGENT, "agent_zhou")


@pytest.fixture
def senior_agent(db):
    return _persona(Role.SENIOR_AGENT, "senior_li")


@pytest.fixture
def complaint_specialist(db):
    return _persona(Role.COMPLAINT_SPECIALIST, "complaints_zhang")


@pytest.fixture
def supervisor(db):
    return _persona(Role.SUPERVISOR, "supervisor_liu", is_staff=True)


@pytest.fixture
def qa_inspector(db):
    return _persona(Role.QA, "qa_chen", is_staff=True)


@pytest.fixture
def risk_officer(db):
    return _persona(Role.RISK_LEGAL, "risk_zhao", is_staff=True)


@pytest.fixture
def personas(agent, senior_agent, complaint_specialist, supervisor, qa_inspector, risk_officer):
    """Return every role's persona keyed by role value."""
    return {
        Role.AGENT: agent,
        Role.SENIOR_AGENT: senior_agent,
        Role.COMPLAINT_SPECIALIST: complaint_specialist,
        Role.SUPERVISOR: supervisor,
        Role.QA: qa_inspector,
        Role.RISK_LEGAL: risk_officer,
    }

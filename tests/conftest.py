"""Shared fixtures: named personas, one per role, as the demo data creates them.

Tests mirror the apps (tests/<app>/); fixtures used by one app's tests live in that folder's
conftest.py, fixtures used across apps here."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from core.models.roles import Role
from tests.factories import TeamFactory, TicketFactory, UserFactory
from tickets.models import TicketState


def pytest_collection_modifyitems(config, items):
    """Leave PostgreSQL-only and Redis tests out where those services are missing."""
    from django.db import connection

    missing = {}
    if connection.vendor != "postgresql":
        missing["postgres"] = "needs PostgreSQL (set DATABASE_URL); CI runs these"
    if not _redis_answers():
        missing["redis"] = "needs Redis on 127.0.0.1:6379; CI starts it"
    for item in items:
        for marker, reason in missing.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def _redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply; the real hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Rates no test reaches by accident; the throttle tests lower the one they exercise.
GENEROUS_RATES = dict.fromkeys(("anon", "user", "search", "intake", "customer_search"),
                               "100000/minute")


@pytest.fixture(autouse=True)
def _throttles_start_empty_and_generous(monkeypatch):
    """Count every test's requests from zero, against rates no ordinary test reaches.

    DRF reads the rates once, into the throttle class, so they are replaced there.
    """
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", dict(GENEROUS_RATES))
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    """Keep evidence files written by tests out of the project's media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api():
    """Return an API client nobody is signed in to; tests authenticate it as they need."""
    return APIClient()


@pytest.fixture
def inline_tasks(settings):
    """Run queued tasks in the process at commit, as the worker would run them later."""
    settings.TASKS_RUN_INLINE = True


@pytest.fixture
def english_messages(settings):
    """Serve English messages (the default is Chinese), for tests that read error messages."""
    settings.LANGUAGE_CODE = "en"


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


@pytest.fixture
def team(agent, other_agent, senior_agent):
    """The after-sales team: two agents and a senior agent."""
    team = TeamFactory(code="after_sales", name="售后组")
    team.members.add(agent, other_agent, senior_agent)
    return team


@pytest.fixture
def escalation_teams(complaint_specialist, risk_officer):
    complaints = TeamFactory(code="complaints", name="投诉处理组")
    complaints.members.add(complaint_specialist)
    risk = TeamFactory(code="risk_legal", name="风控法务组")
    risk.members.add(risk_officer)
    return {"complaints": complaints, "risk_legal": risk, "vip_desk": TeamFactory(code="vip_desk")}


@pytest.fixture
def new_ticket(team):
    return TicketFactory(team=team)


@pytest.fixture
def make_ticket(team, agent):
    """Return a factory for tickets of the team in a given state, assigned to `agent`."""

    def make(state=TicketState.IN_PROGRESS, **fields):
        if state != TicketState.NEW:
            fields.setdefault("assignee", agent)
        return TicketFactory(team=team, state=state, **fields)

    return make

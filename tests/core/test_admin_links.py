"""Admin never links a role to a page that refuses it."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Success

pytestmark = pytest.mark.django_db

ADMIN_LINK = re.compile(r'href="(/admin/[^"#?]*)"')


@pytest.fixture
def schedule_with_a_run(db):
    started = timezone.now()
    run = Success.objects.create(id="a" * 32, name="metrics-rollup-run", func="reporting.tasks.x",
                                 started=started, stopped=started, success=True)
    return Schedule.objects.create(name="Metrics roll-up", func="reporting.tasks.x", task=run.id)


@pytest.mark.parametrize("role", ["qa_inspector", "supervisor"])
def test_the_schedule_list_links_a_last_run_only_for_those_who_may_open_it(
        client, schedule_with_a_run, role, request):
    client.force_login(request.getfixturevalue(role))

    page = client.get(reverse("admin:django_q_schedule_changelist")).content.decode()
    task_page = reverse("admin:django_q_success_change", args=["a" * 32])

    assert "metrics-rollup-run" in page   # the run is named
    assert task_page not in page          # but not linked: that page answers 403
    assert client.get(task_page).status_code == 403


def test_a_superuser_still_gets_the_link(client, schedule_with_a_run, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin_user)

    page = client.get(reverse("admin:django_q_schedule_changelist")).content.decode()

    assert reverse("admin:django_q_success_change", args=["a" * 32]) in page


@pytest.mark.parametrize("role", ["qa_inspector", "supervisor", "risk_officer"])
def test_no_admin_list_links_a_role_to_a_refused_page(client, schedule_with_a_run, make_ticket,
                                                      role, request):
    """Every list a role can open from the admin index: none of its links answers 403."""
    make_ticket()
    client.force_login(request.getfixturevalue(role))
    index = client.get(reverse("admin:index")).content.decode()
    lists = sorted({link for link in ADMIN_LINK.findall(index) if link.count("/") == 4})
    assert lists, "the role sees no admin list at all"

    refused = []
    for changelist in lists:
        page = client.get(changelist)
        assert page.status_code == 200, changelist
        for link in sorted(set(ADMIN_LINK.findall(page.content.decode()))):
            if "logout" in link or link.endswith("/delete/"):
                continue
            if client.get(link).status_code == 403:
                refused.append((changelist, link))

    assert refused == []

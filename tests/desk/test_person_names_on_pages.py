"""Chinese names read family name first on Chinese pages: top bar, queues, workspace."""

import pytest
from django.urls import reverse

from tickets.models import TicketState

pytestmark = pytest.mark.django_db


@pytest.fixture
def named_agent(agent):
    agent.first_name, agent.last_name = "小美", "王"
    agent.save(update_fields=["first_name", "last_name"])
    return agent


@pytest.mark.parametrize(("language", "name", "reversed_name"), [
    ("zh-hans", "王小美", "小美 王"),
    ("en", "小美 王", "王小美"),
])
def test_the_top_bar_queue_and_workspace_name_the_agent_in_the_language_order(
        client, named_agent, make_ticket, settings, language, name, reversed_name):
    settings.LANGUAGE_CODE = language
    ticket = make_ticket(TicketState.IN_PROGRESS)
    client.force_login(named_agent)

    queue = client.get(reverse("console-queue", args=["team"]),
                       HTTP_ACCEPT_LANGUAGE=language).content.decode()
    workspace = client.get(reverse("console-ticket", args=[ticket.number]),
                           HTTP_ACCEPT_LANGUAGE=language).content.decode()

    for page in (queue, workspace):
        assert f'data-testid="current-user">{name}<' in page
        assert reversed_name not in page
    assert f'data-testid="assignee">{name}<' in workspace
    assert f'<td class="text-nowrap small">{name}' in queue  # the queue row's assignee

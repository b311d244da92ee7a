"""The customer's pages carry the shop's name; the survey answer and the QA review are in the
ticket's audit trail for those who may read them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from supervision.models.qa import QaReview
from supervision.services import qa as qa_services
from supervision.services import surveys
from tickets import services
from tickets.models import TicketState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

ANSWER = {"csat": "2", "speed": "3", "attitude": "1", "expertise": "3", "nps": "4",
          "comment": "等太久了"}


@pytest.fixture
def closed(make_ticket, agent):
    ticket = make_ticket(TicketState.RESOLVED, resolved_at=timezone.now())
    services.ticket_transition(ticket=ticket, actor=agent, name="close")
    return ticket


@pytest.mark.parametrize(("setting", "shown"), [("小美家电旗舰店", "小美家电旗舰店"),
                                                ("", "Our shop")])
@pytest.mark.parametrize("answered", [False, True])
def test_the_survey_pages_carry_the_shops_name_not_the_consoles(client, closed, settings,
                                                                 setting, shown, answered):
    settings.SHOP_DISPLAY_NAME = setting
    url = reverse("survey", args=[closed.survey.token])
    if answered:
        client.post(url, ANSWER)

    page = client.get(url).content.decode()

    assert f'data-testid="shop-name">{shown}<' in page
    assert f"· {shown}</title>" in page
    assert "After-sales console" not in page
    assert 'href="/"' not in page  # no way into the console from the customer's page


@pytest.fixture
def reviewed(closed, qa_inspector):
    surveys.survey_answer(survey=closed.survey, csat=2, speed=3, attitude=1, expertise=3,
                          nps=4, comment="等太久了")
    review = QaReview.objects.get(ticket=closed)
    qa_services.qa_review_submit(review=review, actor=qa_inspector, findings="未致歉",
                                 attitude=2, accuracy=4, policy_compliance=5, archiving=4)
    return closed


def _trail(client, user, ticket, **filters):
    client.force_login(user)
    response = client.get(reverse("console-audit", args=[ticket.number]), filters)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", ["qa_inspector", "supervisor"])
def test_the_trail_shows_the_survey_answer_and_the_qa_review(client, reviewed, role, request,
                                                             django_assert_max_num_queries):
    user = request.getfixturevalue(role)

    # 37 queries today, with the log-in's: the survey and the reviews add at most three (the
    # survey, the reviews' history, the people they name), however many versions they have.
    with django_assert_max_num_queries(40):
        page = _trail(client, user, reviewed)

    assert 'data-reason="survey:sent"' in page
    assert 'data-reason="survey:answered"' in page
    assert "The customer answered the survey" in page
    assert "等太久了" in page
    assert 'data-reason="qa:low_rating"' in page
    assert 'data-reason="qa:complete"' in page
    assert "QA review completed" in page
    assert "未致歉" in page
    assert 'data-testid="audit-verified"' in page  # the chain check stays on the page


def test_the_review_names_its_reviewer_and_its_scores(reviewed, qa_inspector):
    from supervision.selectors.audit_trail import audit_trail, with_survey_and_qa

    trail = with_survey_and_qa(audit_trail(ticket=reviewed), viewer=qa_inspector,
                               ticket=reviewed)

    completed = next(e for e in trail if e["reason"] == "qa:complete")
    changes = {change["field"]: change["new"] for change in completed["changes"]}
    assert completed["actor_name"] == str(qa_inspector)
    assert changes["reviewer"] == str(qa_inspector)
    assert changes["attitude"] == "2"
    answered = next(e for e in trail if e["reason"] == "survey:answered")
    assert answered["actor_name"] == "Customer"
    assert {c["field"]: c["new"] for c in answered["changes"]}["csat"] == "2"
    assert [e["at"] for e in trail] == sorted(e["at"] for e in trail)
    assert trail.verification == {"ok": True}


def test_an_agent_sees_neither_survey_nor_qa_review(client, reviewed, agent):
    page = _trail(client, agent, reviewed)

    assert 'data-subject="survey"' not in page
    assert 'data-subject="qa_review"' not in page


def test_filtering_by_the_reviewer_keeps_only_their_review(client, reviewed, qa_inspector):
    page = _trail(client, qa_inspector, reviewed, actor=qa_inspector.pk)

    assert 'data-reason="qa:complete"' in page
    assert 'data-reason="survey:answered"' not in page

"""Satisfaction surveys: sent on closing, a public tokenised page, one answer per link."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.services.exceptions import Conflict
from notifications.models import OutboxMessage
from sla.services import sweeps
from supervision.models.qa import QaReview, QaSource, QaState
from supervision.models.survey import Survey
from supervision.services import surveys
from tickets import services
from tickets.models import TicketState

pytestmark = pytest.mark.django_db

ANSWER = {"csat": "4", "speed": "5", "attitude": "4", "expertise": "3", "nps": "9",
          "comment": "处理很快，谢谢"}


@pytest.fixture
def closed(make_ticket, agent):
    ticket = make_ticket(TicketState.RESOLVED, resolved_at=timezone.now())
    ticket.customer.phone = "13812345678"
    ticket.customer.save()
    services.ticket_transition(ticket=ticket, actor=agent, name="close")
    return ticket


def test_closing_a_ticket_sends_one_survey_invitation(closed):
    survey = Survey.objects.get(ticket=closed)
    invite = OutboxMessage.objects.get(template="survey.invite", ticket=closed)

    assert survey.token in invite.body
    assert "13812345678" not in invite.body
    assert survey.expires_at > timezone.now()


def test_an_automatically_closed_ticket_gets_its_survey_too(make_ticket, settings):
    settings.AUTO_CLOSE_RESOLVED_AFTER_DAYS = 3
    ticket = make_ticket(TicketState.RESOLVED, resolved_at=timezone.now() - timedelta(days=4))

    sweeps.close_resolved(now=timezone.now())

    assert Survey.objects.filter(ticket=ticket).exists()


def test_the_customer_answers_once_without_logging_in(client, closed):
    url = reverse("survey", args=[closed.survey.token])

    assert client.get(url).status_code == 200
    response = client.post(url, ANSWER)
    again = client.post(url, {**ANSWER, "csat": "1"})

    assert "Thank you" in response.content.decode() or "感谢" in response.content.decode()
    survey = Survey.objects.get(ticket=closed)
    assert (survey.csat, survey.speed, survey.attitude, survey.expertise, survey.nps) == \
        (4, 5, 4, 3, 9)
    assert survey.comment == "处理很快，谢谢"
    assert again.status_code == 200
    assert Survey.objects.get(ticket=closed).csat == 4


def test_forged_tokens_are_refused(client, closed):
    assert client.get(reverse("survey", args=["forged-token"])).status_code == 404


def test_expired_links_are_refused(client, closed):
    Survey.objects.filter(ticket=closed).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(reverse("survey", args=[closed.survey.token]), ANSWER)

    assert response.status_code == 410
    assert Survey.objects.get(ticket=closed).answered_at is None


@pytest.mark.parametrize(("field", "value"), [("csat", "6"), ("nps", "11"), ("speed", "")])
def test_out_of_range_scores_are_refused(client, closed, field, value):
    response = client.post(reverse("survey", args=[closed.survey.token]),
                           {**ANSWER, field: value})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert Survey.objects.get(ticket=closed).answered_at is None


def test_the_service_refuses_a_second_answer(closed):
    survey = Survey.objects.get(ticket=closed)
    scores = {"csat": 5, "speed": 5, "attitude": 5, "expertise": 5, "nps": 10}
    surveys.survey_answer(survey=survey, **scores)

    with pytest.raises(Conflict) as refused:
        surveys.survey_answer(survey=survey, **{**scores, "csat": 1})

    assert refused.value.code == "answered"
    survey.refresh_from_db()
    assert survey.csat == 5
    assert not QaReview.objects.filter(ticket=closed).exists()


def test_the_service_refuses_an_expired_link(closed):
    survey = Survey.objects.get(ticket=closed)
    Survey.objects.filter(pk=survey.pk).update(expires_at=timezone.now())

    with pytest.raises(Conflict) as refused:
        surveys.survey_answer(survey=survey, csat=1, speed=1, attitude=1, expertise=1, nps=0)

    assert refused.value.code == "expired"
    assert Survey.objects.get(pk=survey.pk).answered_at is None
    assert not QaReview.objects.exists()


@pytest.mark.parametrize("token", ["", "x", "A" * 32, "../admin/"])
def test_made_up_or_altered_tokens_find_no_survey(client, closed, token):
    real = closed.survey.token
    forged = token or real[:-1] + ("A" if real[-1] != "A" else "B")

    response = client.post(f"/survey/{forged}/", ANSWER)

    assert response.status_code == 404
    assert Survey.objects.get(ticket=closed).answered_at is None


def test_a_posted_answer_to_an_answered_survey_changes_nothing(client, closed):
    url = reverse("survey", args=[closed.survey.token])
    client.post(url, ANSWER)

    client.post(url, {**ANSWER, "csat": "1", "comment": "改一下"})

    survey = Survey.objects.get(ticket=closed)
    assert (survey.csat, survey.comment) == (4, "处理很快，谢谢")
    assert not QaReview.objects.filter(ticket=closed).exists()


@pytest.mark.parametrize(("csat", "reviewed"), [(1, True), (2, True), (3, False), (5, False)])
def test_every_rating_below_three_stars_queues_a_qa_review(client, closed, csat, reviewed):
    client.post(reverse("survey", args=[closed.survey.token]), {**ANSWER, "csat": str(csat)})

    reviews = QaReview.objects.filter(ticket=closed, source=QaSource.LOW_RATING)
    assert reviews.exists() is reviewed
    if reviewed:
        (review,) = reviews
        assert review.state == QaState.PENDING
        assert review.survey == closed.survey


def test_the_answer_and_its_qa_review_are_one_transaction(closed, monkeypatch):
    survey = Survey.objects.get(ticket=closed)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("supervision.services.surveys.qa_review_for_low_rating", broken)
    with pytest.raises(RuntimeError):
        surveys.survey_answer(survey=survey, csat=1, speed=1, attitude=1, expertise=1, nps=0)

    assert Survey.objects.get(pk=survey.pk).answered_at is None

"""QA reviews: the daily sample, complaints and low ratings; scoring; QA reads but never acts."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from supervision import tasks
from supervision.models.qa import QaReview, QaSource, QaState
from supervision.models.survey import Survey
from supervision.services import qa
from tests.factories import TicketFactory
from tickets import services
from tickets.models import ComplaintLevel, TicketState, TicketType

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
SCORES = {"attitude": 5, "accuracy": 4, "policy_compliance": 4, "archiving": 3}


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def closed_on_day(team, agent):
    """Twenty plain tickets and two complaints closed on DAY, one plain ticket the day after."""

    def closed(**fields):
        return TicketFactory(team=team, assignee=agent, state=TicketState.CLOSED,
                             closed_at=_local(DAY, 15), **fields)

    plain = [closed() for _ in range(20)]
    complaints = [closed(ticket_type=TicketType.COMPLAINT),
                  closed(complaint_level=ComplaintLevel.L2)]
    TicketFactory(team=team, state=TicketState.CLOSED, closed_at=_local(DAY + timedelta(1), 1))
    return plain, complaints


@pytest.fixture
def review(make_ticket):
    ticket = make_ticket(TicketState.CLOSED, closed_at=timezone.now())
    return QaReview.objects.create(ticket=ticket, source=QaSource.SAMPLE,
                                   created_at=timezone.now())


def test_the_daily_sample_draws_the_rate_of_plain_tickets_and_every_complaint(closed_on_day):
    plain, complaints = closed_on_day

    created = qa.qa_sample_day(day=DAY, rate=Decimal("0.10"))

    assert created == {"complaint": 2, "low_rating": 0, "sample": 2}
    sampled = set(QaReview.objects.filter(source=QaSource.SAMPLE).values_list("ticket", flat=True))
    assert len(sampled) == 2
    assert sampled <= {ticket.pk for ticket in plain}
    assert set(QaReview.objects.filter(source=QaSource.COMPLAINT)
               .values_list("ticket", flat=True)) == {ticket.pk for ticket in complaints}
    assert all(review.sampled_on == DAY for review in QaReview.objects.all())


def test_sampling_a_day_again_adds_nothing(closed_on_day):
    qa.qa_sample_day(day=DAY, rate=Decimal("0.25"))
    before = list(QaReview.objects.order_by("id").values_list("ticket", "source"))

    again = qa.qa_sample_day(day=DAY, rate=Decimal("0.25"))

    assert again == {"complaint": 0, "low_rating": 0, "sample": 0}
    assert list(QaReview.objects.order_by("id").values_list("ticket", "source")) == before


def test_the_rate_comes_from_settings(closed_on_day, settings):
    settings.QA_SAMPLE_PERCENT = 50

    qa.qa_sample_day(day=DAY)

    assert QaReview.objects.filter(source=QaSource.SAMPLE).count() == 10


def test_a_rate_outside_zero_to_one_is_refused(closed_on_day):
    with pytest.raises(ValidationError):
        qa.qa_sample_day(day=DAY, rate=Decimal("1.5"))
    assert not QaReview.objects.exists()


def test_the_sampling_picks_up_a_low_rating_that_has_no_review(make_ticket):
    ticket = make_ticket(TicketState.CLOSED, closed_at=_local(DAY, 9))
    Survey.objects.create(ticket=ticket, expires_at=_local(DAY, 9) + timedelta(days=7),
                          answered_at=_local(DAY, 10), csat=2, speed=2, attitude=2,
                          expertise=2, nps=3)

    created = qa.qa_sample_day(day=DAY, rate=Decimal(0))

    assert created["low_rating"] == 1
    assert QaReview.objects.get(ticket=ticket).source == QaSource.LOW_RATING


def test_the_task_samples_yesterday_and_is_scheduled_daily(make_ticket):
    from django_q.models import Schedule

    yesterday = timezone.localdate() - timedelta(days=1)
    ticket = make_ticket(TicketState.CLOSED, closed_at=_local(yesterday, 12),
                         complaint_level=ComplaintLevel.L1)

    tasks.qa_sample_task()

    assert QaReview.objects.get(ticket=ticket).source == QaSource.COMPLAINT
    schedule = Schedule.objects.get(name="QA sampling")
    assert (schedule.func, schedule.schedule_type) == ("supervision.tasks.qa_sample_task", "D")


def test_a_qa_inspector_completes_a_review_with_history(review, qa_inspector):
    done = qa.qa_review_submit(review=review, actor=qa_inspector, findings="  话术规范 ", **SCORES)

    assert done.state == QaState.COMPLETED
    assert (done.reviewer, done.findings, done.average_score) == (qa_inspector, "话术规范", 4)
    latest = done.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (qa_inspector, "qa:complete")


def test_only_the_reviewer_amends_a_completed_review(review, qa_inspector):
    from tests.conftest import _persona

    qa.qa_review_submit(review=review, actor=qa_inspector, **SCORES)
    colleague = _persona("qa", "qa_sun", is_staff=True)

    with pytest.raises(PermissionDenied):
        qa.qa_review_submit(review=review, actor=colleague, **{**SCORES, "attitude": 1})
    amended = qa.qa_review_submit(review=review, actor=qa_inspector, **{**SCORES, "attitude": 2})

    assert amended.attitude == 2
    assert amended.history.latest().history_change_reason == "qa:amend"


@pytest.mark.parametrize("role", ["agent", "senior_agent", "supervisor", "risk_legal"])
def test_only_qa_inspectors_score_reviews(review, personas, role):
    with pytest.raises(PermissionDenied):
        qa.qa_review_submit(review=review, actor=personas[role], **SCORES)
    assert QaReview.objects.get(pk=review.pk).state == QaState.PENDING


@pytest.mark.parametrize("bad", [{"attitude": 0}, {"accuracy": 6}, {"archiving": None}])
def test_scores_outside_one_to_five_change_nothing(review, qa_inspector, bad):
    with pytest.raises(ValidationError):
        qa.qa_review_submit(review=review, actor=qa_inspector, **{**SCORES, **bad})
    assert QaReview.objects.get(pk=review.pk).state == QaState.PENDING


# --- QA reads everything and changes nothing else ----------------------------------------
def test_qa_may_not_take_any_ticket_transition(make_ticket, qa_inspector):
    ticket = make_ticket(TicketState.IN_PROGRESS)

    with pytest.raises(PermissionDenied):
        services.ticket_transition(ticket=ticket, actor=qa_inspector, name="resolve",
                                   summary="已处理")
    with pytest.raises(PermissionDenied):
        services.ticket_update_details(ticket=ticket, actor=qa_inspector, subject="改")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS


def test_qa_reads_tickets_in_admin_but_cannot_change_them(client, qa_inspector, make_ticket):
    ticket = make_ticket(TicketState.IN_PROGRESS)
    client.force_login(qa_inspector)
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])

    page = client.get(url)
    posted = client.post(url, {"subject": "被质检改了"})
    transition = client.post(reverse("admin:tickets_ticket_transition", args=[ticket.pk]),
                             {"name": "resolve", "summary": "x"})

    assert page.status_code == 200
    assert 'name="name" value="resolve"' not in page.content.decode()
    assert posted.status_code == 403
    assert transition.status_code == 403
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.state) != ("被质检改了", TicketState.RESOLVED)


@pytest.mark.parametrize("model", ["routing_routingrule", "sla_slapolicy", "routing_agentprofile",
                                   "supervision_qareview", "supervision_survey",
                                   "notifications_outboxmessage"])
def test_qa_opens_every_admin_list_read_only(client, qa_inspector, model):
    client.force_login(qa_inspector)

    response = client.get(reverse(f"admin:{model}_changelist"))

    assert response.status_code == 200
    assert not qa_inspector.has_perm(f"tickets.add_{model}")


def test_qa_inspectors_score_on_the_review_page(client, qa_inspector, review):
    client.force_login(qa_inspector)
    url = reverse("qa-review", args=[review.pk])

    assert client.get(url).status_code == 200
    response = client.post(url, {**SCORES, "findings": "未说明运费"})

    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.state, review.reviewer, review.findings) == \
        (QaState.COMPLETED, qa_inspector, "未说明运费")


def test_supervisors_read_reviews_but_may_not_post_scores(client, supervisor, review):
    client.force_login(supervisor)
    url = reverse("qa-review", args=[review.pk])

    page = client.get(url)
    posted = client.post(url, SCORES)

    assert 'data-testid="read-only-scores"' in page.content.decode()
    assert posted.status_code == 403
    assert QaReview.objects.get(pk=review.pk).state == QaState.PENDING


def test_agents_do_not_see_the_qa_pages(client, agent, review):
    client.force_login(agent)

    assert client.get(reverse("qa-queue")).status_code == 403
    assert client.get(reverse("qa-review", args=[review.pk])).status_code == 403


def test_the_queue_page_takes_the_same_queries_for_many_reviews(
        client, qa_inspector, make_ticket, django_assert_max_num_queries):
    for _ in range(3):
        ticket = make_ticket(TicketState.CLOSED, closed_at=timezone.now())
        QaReview.objects.create(ticket=ticket, source=QaSource.SAMPLE, created_at=timezone.now())
    client.force_login(qa_inspector)
    url = reverse("qa-queue")
    client.get(url)

    with django_assert_max_num_queries(12) as few:
        first = client.get(url)
    for _ in range(10):
        ticket = make_ticket(TicketState.CLOSED, closed_at=timezone.now())
        QaReview.objects.create(ticket=ticket, source=QaSource.COMPLAINT,
                                created_at=timezone.now())
    with django_assert_max_num_queries(len(few.captured_queries)):
        second = client.get(url)

    assert first.content.decode().count("data-review=") == 3
    assert second.content.decode().count("data-review=") == 13


def test_the_review_page_shows_a_legal_hold(client, qa_inspector, review, risk_officer):
    from tickets.services import legal_holds

    legal_holds.legal_hold_place(ticket=review.ticket, actor=risk_officer, reason="律师函")
    client.force_login(qa_inspector)

    page = client.get(reverse("qa-review", args=[review.pk])).content.decode()

    assert 'data-testid="legal-hold"' in page


def test_qa_reads_the_audit_trail_of_any_ticket_filtered_by_user_and_day(
        client, qa_inspector, agent, supervisor, make_ticket, time_machine):
    ticket = make_ticket()
    services.ticket_change_priority(ticket=ticket, actor=agent, priority=1, reason="客户催促")
    time_machine.move_to(timezone.now() + timedelta(days=2), tick=False)
    services.ticket_change_priority(ticket=ticket, actor=supervisor, priority=0, reason="升级")
    review = QaReview.objects.create(ticket=ticket, source=QaSource.COMPLAINT,
                                     created_at=timezone.now())
    client.force_login(qa_inspector)
    page = client.get(reverse("qa-review", args=[review.pk])).content.decode()
    url = reverse("console-audit", args=[ticket.number])
    assert url in page  # the review links to the trail

    everyone = client.get(url).context["entries"]
    by_supervisor = client.get(url, {"actor": supervisor.pk}).context["entries"]
    today = timezone.localdate().isoformat()
    on_the_day = client.get(url, {"since": today, "until": today}).context["entries"]

    assert len(everyone) > len(by_supervisor) >= 1
    assert {entry["actor_id"] for entry in by_supervisor} == {supervisor.pk}
    assert on_the_day
    assert all(timezone.localdate(entry["at"]) == timezone.localdate() for entry in on_the_day)
    assert len(on_the_day) < len(everyone)


def test_qa_sees_no_action_in_the_ticket_workspace(client, qa_inspector, review):
    client.force_login(qa_inspector)

    response = client.get(reverse("console-ticket", args=[review.ticket.number]))

    assert response.status_code == 200
    assert response.context["transitions"] == []

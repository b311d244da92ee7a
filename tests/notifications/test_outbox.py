"""The outbox: notifications stored as sent, delivered once, retried with back-off, read."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import OutboxChannel, OutboxMessage, OutboxStatus
from notifications.services import delivery as notifications
from notifications.services.delivery import deliver, deliver_pending, notify
from notifications.views.context_processors import unread_notifications
from tests.concurrency import run_together
from tests.factories import TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.notifications.urls_for_outbox_tests")]

RECORDING = "tests.notifications.test_outbox.RecordingBackend"
FAILING = "tests.notifications.test_outbox.FailingBackend"
SLOW = "tests.notifications.test_outbox.SlowRecordingBackend"
KILLED = "tests.notifications.test_outbox.KilledAfterSendingBackend"


class RecordingBackend:
    """Send nothing; remember which rows were sent, in order, and the keys they carried."""

    # Shared on purpose: a new backend object is built for every delivery.
    sent: list[int] = []
    keys: list[str] = []

    def send(self, message):
        self.sent.append(message.pk)
        self.keys.append(message.idempotency_key)


class WorkerKilled(BaseException):
    """The worker dying mid-delivery: nothing after the provider's answer runs."""


class KilledAfterSendingBackend(RecordingBackend):
    """The provider accepts the message, then the worker dies before the row is marked sent."""

    def send(self, message):
        super().send(message)
        raise WorkerKilled


class SlowRecordingBackend(RecordingBackend):
    def send(self, message):
        time.sleep(0.3)
        super().send(message)


class FailingBackend:
    def send(self, message):
        raise ConnectionError("SMS gateway unreachable")


@pytest.fixture(autouse=True)
def _recording_backends(settings):
    RecordingBackend.sent.clear()
    RecordingBackend.keys.clear()
    settings.OUTBOX_BACKENDS = dict.fromkeys(OutboxChannel.values, RECORDING)


def remind(ticket, user, **extra):
    return notify(template="sla.first_response_reminder", channel=OutboxChannel.INTERNAL,
                  ticket=ticket, user=user, **extra)


def fresh(user):
    # A new object per request, so no permission or role cache carries over.
    return get_user_model().objects.get(pk=user.pk)


# --- Rendering and storing -------------------------------------------------------------------
def test_notify_stores_the_rendered_text_as_a_pending_row(make_ticket):
    ticket = make_ticket()

    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=ticket)

    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.subject == f"Progress on your ticket {ticket.number}"
    assert message.body == (f"Your ticket {ticket.number} is being handled. "
                            "We will keep you updated until it is closed.")
    assert message.recipient_customer == ticket.customer
    assert message.address == ticket.customer.phone
    assert message.context["number"] == ticket.number
    assert message.attempts == 0
    assert message.sent_at is None


def test_the_text_is_rendered_in_the_site_language_not_the_requests(settings, monkeypatch,
                                                                     make_ticket):
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    # A message the Chinese catalogue already translates, so the language shows in the text.
    text = gettext_lazy("No ticket %(number)s that you may read.")
    template = notifications.NotificationTemplate(
        subject=text, body=text, channels=frozenset({OutboxChannel.APP}))
    monkeypatch.setitem(notifications.TEMPLATES, "test.language", template)
    settings.LANGUAGE_CODE = "zh-hans"
    ticket = make_ticket()

    with translation.override("en"):
        message = notify(template="test.language", channel=OutboxChannel.APP, ticket=ticket)

    assert message.body == f"没有您可查看的工单 {ticket.number}。"
    assert message.address == ticket.customer.external_id


def test_a_dedupe_key_queues_a_notification_only_once(make_ticket, agent):
    ticket = make_ticket()
    key = f"sla.first_response_reminder:{ticket.pk}"

    first = remind(ticket, agent, dedupe_key=key)
    second = remind(ticket, agent, dedupe_key=key)

    assert first is not None
    assert second is None
    assert OutboxMessage.objects.filter(dedupe_key=key).count() == 1
    # The duplicate was refused inside a savepoint: the surrounding transaction still works.
    assert remind(ticket, agent, dedupe_key=f"{key}:again") is not None


def test_notifications_without_a_key_are_never_deduplicated(make_ticket, agent):
    ticket = make_ticket()

    remind(ticket, agent)
    remind(ticket, agent)

    assert OutboxMessage.objects.filter(ticket=ticket).count() == 2


def test_an_unknown_template_is_refused(make_ticket):
    with pytest.raises(ValueError, match="Unknown notification template 'nope'"):
        notify(template="nope", channel=OutboxChannel.SMS, ticket=make_ticket())
    assert not OutboxMessage.objects.exists()


def test_a_missing_placeholder_is_refused(make_ticket):
    with pytest.raises(ValueError, match="needs the placeholder 'link'"):
        notify(template="survey.invite", channel=OutboxChannel.SMS, ticket=make_ticket())
    assert not OutboxMessage.objects.exists()


def test_render_refuses_a_missing_placeholder_without_a_database():
    with pytest.raises(ValueError, match="'number'"):
        notifications.render(template="customer.progress_update", context={})


def test_a_template_goes_only_by_its_channels(make_ticket, agent):
    with pytest.raises(ValueError, match="cannot go by 'sms'"):
        notify(template="sla.first_response_reminder", channel=OutboxChannel.SMS,
               ticket=make_ticket(), user=agent)


def test_an_internal_notification_needs_a_user(make_ticket):
    with pytest.raises(ValueError, match="recipient user"):
        notify(template="sla.first_response_reminder", channel=OutboxChannel.INTERNAL,
               ticket=make_ticket())


def test_customer_texts_never_contain_the_full_phone_number(make_ticket):
    ticket = make_ticket()
    phone = ticket.customer.phone
    link = f"https://survey.example.com/s?tel={phone}&alt=13912345678"

    message = notify(template="survey.invite", channel=OutboxChannel.SMS, ticket=ticket,
                     context={"link": link})

    message.refresh_from_db()
    stored = message.subject + message.body + str(message.context)
    assert phone not in stored
    assert "13912345678" not in stored
    assert f"{phone[:3]}****{phone[-4:]}" in message.body
    assert "139****5678" in message.body
    assert message.address == phone  # where it goes; shown masked wherever staff look


# --- Delivery --------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_delivery_runs_after_commit_and_marks_the_row_sent(settings, make_ticket):
    settings.TASKS_RUN_INLINE = True
    ticket = make_ticket()

    with transaction.atomic():
        message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                         ticket=ticket)
        assert RecordingBackend.sent == []  # nothing leaves before the row is committed

    message.refresh_from_db()
    assert RecordingBackend.sent == [message.pk]
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None


def test_a_second_delivery_of_the_same_row_sends_nothing(make_ticket):
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=make_ticket())

    assert deliver(message.pk) == "sent"
    assert deliver(message.pk) == "skipped"
    assert deliver_pending() == {}
    assert RecordingBackend.sent == [message.pk]


def test_a_cancelled_message_is_never_sent(make_ticket):
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=make_ticket())
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.CANCELLED)

    assert deliver(message.pk) == "skipped"
    assert RecordingBackend.sent == []


def test_a_failing_backend_is_retried_with_back_off_then_given_up(settings, make_ticket,
                                                                   time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: FAILING}
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=make_ticket())
    created = message.created_at

    assert deliver(message.pk) == "retry"
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert message.last_error == "ConnectionError: SMS gateway unreachable"
    assert message.next_attempt_at == created + timedelta(minutes=2)

    # Retry n waits until 2^n minutes after creation: 2, 4, 8, 16; the fifth failure gives up.
    for minutes, outcome in ((2, "retry"), (4, "retry"), (8, "retry"), (16, "failed")):
        time_machine.move_to(created + timedelta(minutes=minutes, seconds=-1), tick=False)
        assert deliver_pending() == {}
        assert deliver(message.pk) == "not_due"  # not early, even when asked directly
        time_machine.shift(timedelta(seconds=1))
        assert deliver_pending() == {outcome: 1}

    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == notifications.MAX_ATTEMPTS
    time_machine.shift(timedelta(days=1))
    assert deliver_pending() == {}


def test_a_retry_that_succeeds_marks_the_row_sent(settings, make_ticket, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: FAILING}
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=make_ticket())
    deliver(message.pk)

    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: RECORDING}
    time_machine.shift(timedelta(minutes=2))

    assert deliver_pending() == {"sent": 1}
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1
    assert RecordingBackend.sent == [message.pk]


def test_the_sweep_delivers_the_oldest_due_rows_first_up_to_its_limit(make_ticket, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    ticket = make_ticket()
    rows = []
    for _ in range(3):
        rows.append(notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                           ticket=ticket))
        time_machine.shift(timedelta(seconds=10))

    assert deliver_pending(limit=2) == {"sent": 2}
    assert RecordingBackend.sent == [rows[0].pk, rows[1].pk]


# --- Idempotency keys: delivery is at least once, the provider is told what is a repeat ------
def test_the_backend_gets_the_dedupe_key_or_the_row_id_as_the_idempotency_key(make_ticket):
    ticket = make_ticket()
    keyed = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                   ticket=ticket, dedupe_key=f"update:{ticket.pk}:202603020900")
    unkeyed = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=ticket)

    assert deliver_pending() == {"sent": 2}

    assert RecordingBackend.keys == [f"update:{ticket.pk}:202603020900", f"outbox:{unkeyed.pk}"]
    assert RecordingBackend.sent == [keyed.pk, unkeyed.pk]


def test_a_delivery_cut_short_by_a_dying_worker_is_sent_again_with_the_same_key(
    settings, make_ticket
):
    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: KILLED}
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=make_ticket())
    with pytest.raises(WorkerKilled):
        deliver(message.pk)
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING  # the provider has it; the row does not know

    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: RECORDING}
    assert deliver(message.pk) == "sent"

    # At least once: sent twice, but both times as one message to the provider.
    assert RecordingBackend.sent == [message.pk, message.pk]
    assert RecordingBackend.keys == [f"outbox:{message.pk}"] * 2


def test_a_failed_attempt_and_its_retry_carry_the_same_key(settings, make_ticket, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: KILLED}
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=make_ticket(), dedupe_key="return-reminder:7")
    with pytest.raises(WorkerKilled):
        deliver(message.pk)
    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: FAILING}
    assert deliver(message.pk) == "retry"
    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: RECORDING}
    time_machine.shift(timedelta(minutes=2))

    assert deliver_pending() == {"sent": 1}
    assert RecordingBackend.keys == ["return-reminder:7", "return-reminder:7"]


def test_a_sweep_with_nothing_due_costs_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert deliver_pending() == {}


@pytest.mark.parametrize("channel", [OutboxChannel.SMS, OutboxChannel.APP])
def test_the_logging_backend_writes_to_the_outbox_log_with_the_phone_masked(
    settings, make_ticket, caplog, channel
):
    settings.OUTBOX_BACKENDS = {}  # the defaults
    ticket = make_ticket()
    message = notify(template="customer.progress_update", channel=channel, ticket=ticket,
                     address=ticket.customer.phone)

    with caplog.at_level("INFO", logger="cs_console.outbox"):
        assert deliver(message.pk) == "sent"

    (record,) = [r for r in caplog.records if r.name == "cs_console.outbox"]
    assert ticket.number in record.getMessage()
    assert f"(key outbox:{message.pk})" in record.getMessage()
    assert ticket.customer.masked_phone in record.getMessage()
    assert ticket.customer.phone not in record.getMessage()


def test_the_email_backend_sends_through_django_mail(settings, make_ticket):
    settings.OUTBOX_BACKENDS = {}
    ticket = make_ticket()
    message = notify(template="customer.progress_update", channel=OutboxChannel.EMAIL,
                     ticket=ticket, address="kehu@example.com")

    assert deliver(message.pk) == "sent"

    (email,) = mail.outbox
    assert email.to == ["kehu@example.com"]
    assert email.subject == message.subject
    assert email.body == message.body


def test_the_email_backend_passes_the_key_on_as_a_header_and_a_stable_message_id(
    settings, make_ticket
):
    settings.OUTBOX_BACKENDS = {}
    settings.PUBLIC_BASE_URL = "https://cs.example.com"
    message = notify(template="customer.progress_update", channel=OutboxChannel.EMAIL,
                     ticket=make_ticket(), address="kehu@example.com", dedupe_key="survey:42")

    notifications.EmailBackend().send(message)
    notifications.EmailBackend().send(message)  # a repeat after a crash

    first, repeat = (email.message() for email in mail.outbox)
    assert first["Idempotency-Key"] == repeat["Idempotency-Key"] == "survey:42"
    assert first["Message-ID"] == repeat["Message-ID"]
    assert first["Message-ID"].endswith("@cs.example.com>")
    assert first["Message-ID"] != notifications.email_message_id("survey:43")


def test_the_internal_backend_marks_a_console_notification_sent(settings, make_ticket, agent):
    settings.OUTBOX_BACKENDS = {}
    message = remind(make_ticket(), agent)

    assert deliver(message.pk) == "sent"
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.read_at is None


# --- The notifications page ------------------------------------------------------------------
def test_anonymous_users_are_sent_to_log_in(client):
    for response in (client.get(reverse("notification-list")),
                     client.post(reverse("notification-read-all"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_page_shows_only_my_notifications_unread_first(client, agent, other_agent,
                                                            make_ticket):
    ticket = make_ticket()
    read = remind(ticket, agent)
    read.read_at = read.created_at
    read.save(update_fields=["read_at"])
    unread = remind(ticket, agent)
    theirs = remind(ticket, other_agent)
    client.force_login(agent)

    response = client.get(reverse("notification-list"))

    assert response.status_code == 200
    shown = [n.pk for n in response.context["page"].object_list]
    assert shown == [unread.pk, read.pk]
    assert theirs.pk not in shown
    assert response.context["unread_count"] == 1
    assert ticket.number in response.content.decode()


def test_the_page_costs_the_same_queries_for_5_and_50_notifications(client, agent):
    def add(count):
        for _ in range(count):
            remind(TicketFactory(), agent)

    def count_queries():
        client.force_login(fresh(agent))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("notification-list"))
        assert response.status_code == 200
        return len(queries)

    add(5)
    small = count_queries()
    add(45)
    large = count_queries()

    assert small == large


def test_marking_one_notification_read(client, agent, make_ticket):
    message = remind(make_ticket(), agent)
    client.force_login(agent)

    response = client.post(reverse("notification-read", args=[message.pk]), {"page": "2"})

    assert response.status_code == 302
    assert response["Location"] == reverse("notification-list") + "?page=2"
    message.refresh_from_db()
    assert message.read_at is not None


def test_someone_elses_notification_cannot_be_marked_read(client, agent, other_agent,
                                                          make_ticket):
    theirs = remind(make_ticket(), other_agent)
    client.force_login(agent)

    response = client.post(reverse("notification-read", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_all_read_touches_only_mine(client, agent, other_agent, make_ticket):
    ticket = make_ticket()
    mine = [remind(ticket, agent) for _ in range(3)]
    theirs = remind(ticket, other_agent)
    client.force_login(agent)

    response = client.post(reverse("notification-read-all"), {"page": "../../evil"})

    assert response["Location"] == reverse("notification-list")
    assert all(m.read_at for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in mine]))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_a_post_with_a_csrf_token(agent, make_ticket):
    message = remind(make_ticket(), agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    assert client.get(reverse("notification-read", args=[message.pk])).status_code == 405
    assert client.post(reverse("notification-read", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.read_at is None


# --- The navigation count --------------------------------------------------------------------
def test_the_unread_count_is_one_query_for_a_signed_in_user(agent, make_ticket,
                                                            django_assert_num_queries):
    ticket = make_ticket()
    for _ in range(3):
        remind(ticket, agent)
    request = RequestFactory().get("/")
    request.user = fresh(agent)

    context = unread_notifications(request)

    with django_assert_num_queries(1):
        assert context["unread_notifications"] == 3
        assert str(context["unread_notifications"]) == "3"


def test_the_unread_count_costs_anonymous_users_nothing(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    with django_assert_num_queries(0):
        assert unread_notifications(request) == {"unread_notifications": 0}


def test_the_unread_count_reaches_the_templates(client, settings, agent, make_ticket):
    engine = {**settings.TEMPLATES[0]}
    engine["OPTIONS"] = {
        **engine["OPTIONS"],
        "context_processors": [*engine["OPTIONS"]["context_processors"],
                               "notifications.views.context_processors.unread_notifications"],
    }
    settings.TEMPLATES = [engine]
    remind(make_ticket(), agent)
    client.force_login(agent)

    response = client.get(reverse("notification-list"))

    assert response.context["unread_notifications"] == 1


# --- Admin -----------------------------------------------------------------------------------
def test_the_outbox_admin_is_read_only_and_masks_phones(admin_client, make_ticket):
    ticket = make_ticket()
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=ticket)

    listing = admin_client.get(reverse("admin:notifications_outboxmessage_changelist"),
                               {"q": ticket.number})
    detail = admin_client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))

    assert listing.status_code == 200
    assert detail.status_code == 200
    for page in (listing.content.decode(), detail.content.decode()):
        assert ticket.customer.phone not in page
        assert ticket.customer.masked_phone in page
    assert message.body in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client.get(reverse("admin:notifications_outboxmessage_add")).status_code == 403
    assert admin_client.post(
        reverse("admin:notifications_outboxmessage_delete", args=[message.pk])
    ).status_code == 403
    assert OutboxMessage.objects.filter(pk=message.pk).exists()


# --- Races on PostgreSQL ---------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_queue_one_notification(make_ticket, agent):
    ticket = make_ticket()

    def sweep(barrier):
        with transaction.atomic():
            barrier.wait()
            message = remind(ticket, agent, dedupe_key="race")
            time.sleep(0.3)  # hold the transaction open so the other insert waits on it
        return message

    results = run_together(sweep, sweep)

    assert sorted(type(r).__name__ for r in results) == ["NoneType", "OutboxMessage"], results
    assert OutboxMessage.objects.filter(dedupe_key="race").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_send_one_message(settings, make_ticket):
    settings.OUTBOX_BACKENDS = {OutboxChannel.SMS: SLOW}
    message = notify(template="customer.progress_update", channel=OutboxChannel.SMS,
                     ticket=make_ticket())

    def delivery(barrier):
        barrier.wait()
        return deliver(message.pk)

    results = run_together(delivery, delivery)

    assert sorted(results) == ["sent", "skipped"], results
    assert RecordingBackend.sent == [message.pk]

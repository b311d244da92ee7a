"""Customers' phone numbers: masked on every page, export and endpoint; revealed one at a
time, with a reason, by the roles that call customers back; every reveal logged."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models.roles import Role
from core.services.audit import save_with_history
from supervision.models.privacy import AppendOnlyError, ContactReveal
from supervision.services import privacy
from tests.factories import CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MASKED = "138****5678"
OLD_PHONE = "13987654321"
OLD_MASKED = "139****4321"

REVEALERS = {Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR,
             Role.RISK_LEGAL}
LOG_READERS = {Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL}
STAFF = {Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL}


@pytest.fixture
def customer():
    """A customer whose number changed once, so history pages have an "old → new" diff."""
    customer = CustomerFactory(name="吴佳怡", phone=OLD_PHONE)
    customer.phone = PHONE
    save_with_history(customer, actor=None, reason="intake")
    return customer


@pytest.fixture
def ticket(customer):
    # No team yet: every role that reads tickets may open it.
    order = OrderFactory(customer=customer)
    return TicketFactory(customer=customer, order=order)


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_masked(content: bytes | str):
    text = content.decode() if isinstance(content, bytes) else content
    assert PHONE not in text
    assert OLD_PHONE not in text
    assert MASKED in text


def reveal_url(ticket):
    return reverse("ticket-reveal-contact", args=[ticket.number])


# --- who may reveal --------------------------------------------------------------------------

@pytest.mark.parametrize("role", list(Role))
def test_who_may_reveal_a_customers_number(personas, role, ticket, customer):
    user = personas[role]

    response = api(user).post(reveal_url(ticket), {"reason": "回电确认退货地址"}, format="json")

    if role in REVEALERS:
        assert response.status_code == 200, response.content
        assert response.json()["phone"] == PHONE
        assert response["Cache-Control"] == "no-store"
        reveal = ContactReveal.objects.get()
        assert (reveal.revealed_by, reveal.customer, reveal.ticket, reveal.reason) == (
            user, customer, ticket, "回电确认退货地址")
    else:
        assert response.status_code == 403
        assert PHONE not in response.content.decode()
        assert not ContactReveal.objects.exists()


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 201])
def test_a_reveal_needs_a_reason(personas, role, ticket, reason):
    body = {} if reason is None else {"reason": reason}

    response = api(personas[role]).post(reveal_url(ticket), body, format="json")

    # Without the permission the answer is 403 whatever the reason; with it, 400.
    assert response.status_code == (400 if role in REVEALERS else 403)
    assert PHONE not in response.content.decode()
    assert not ContactReveal.objects.exists()


def test_a_reveal_names_only_a_ticket_of_that_customer(agent, ticket):
    other = CustomerFactory()

    with pytest.raises(ValidationError):
        privacy.customer_contact_reveal(actor=agent, customer=other, reason="回电", ticket=ticket)


def test_a_reveal_for_a_ticket_the_user_may_not_read_is_refused(agent, customer, team):
    from tests.factories import TeamFactory

    hidden = TicketFactory(customer=customer, team=TeamFactory(code="elsewhere"))

    with pytest.raises(PermissionDenied):
        privacy.customer_contact_reveal(actor=agent, customer=customer, reason="回电",
                                        ticket=hidden)
    assert not ContactReveal.objects.exists()


def test_a_reveal_of_a_ticket_hidden_from_the_caller_is_not_found(agent, customer, team):
    from tests.factories import TeamFactory

    hidden = TicketFactory(customer=customer, team=TeamFactory(code="elsewhere"))

    response = api(agent).post(reveal_url(hidden), {"reason": "回电"}, format="json")

    assert response.status_code == 404
    assert not ContactReveal.objects.exists()


# --- the log ----------------------------------------------------------------------------------

def test_the_reveal_log_is_append_only(agent, customer):
    reveal = privacy.customer_contact_reveal(actor=agent, customer=customer,
                                             reason="回电").reveal

    reveal.reason = "改过"
    with pytest.raises(AppendOnlyError):
        reveal.save()
    with pytest.raises(AppendOnlyError):
        reveal.delete()
    with pytest.raises(AppendOnlyError):
        ContactReveal.objects.update(reason="改过")
    with pytest.raises(AppendOnlyError):
        ContactReveal.objects.all().delete()
    assert ContactReveal.objects.get().reason == "回电"


def test_nobody_may_add_change_or_delete_reveal_rows():
    codenames = set(Permission.objects.filter(content_type__model="contactreveal")
                    .values_list("codename", flat=True))

    assert codenames == {"view_contactreveal"}


@pytest.mark.parametrize("role", list(Role))
def test_who_reads_the_reveal_log(personas, role, client, agent, customer, ticket):
    privacy.customer_contact_reveal(actor=agent, customer=customer, reason="回电确认地址",
                                    ticket=ticket)
    client.force_login(personas[role])

    response = client.get(reverse("admin:supervision_contactreveal_changelist"),
                          {"revealed_by__id__exact": agent.pk})

    if role in LOG_READERS:
        assert response.status_code == 200
        page = response.content.decode()
        assert "回电确认地址" in page
        assert ticket.number in page
        assert PHONE not in page
        assert personas[role].has_perm("supervision.view_contactreveal")
    else:
        assert response.status_code in (302, 403)  # agents do not open admin
        assert not personas[role].has_perm("supervision.view_contactreveal")


def test_the_reveal_log_filters_by_customer_and_date(client, qa_inspector, agent, customer):
    privacy.customer_contact_reveal(actor=agent, customer=customer, reason="回电一")
    privacy.customer_contact_reveal(actor=agent, customer=CustomerFactory(), reason="回电二")
    client.force_login(qa_inspector)

    page = client.get(reverse("admin:supervision_contactreveal_changelist"),
                      {"q": customer.external_id}).content.decode()

    assert "回电一" in page
    assert "回电二" not in page
    this_year = client.get(reverse("admin:supervision_contactreveal_changelist"),
                           {"revealed_at__year": timezone.localdate().year}).content.decode()
    assert "回电一" in this_year
    assert "回电二" in this_year
    last_year = client.get(reverse("admin:supervision_contactreveal_changelist"),
                           {"revealed_at__year": timezone.localdate().year - 1}).content.decode()
    assert "回电一" not in last_year


def test_the_customer_page_links_to_that_customers_reveals(client, qa_inspector, agent,
                                                           customer):
    privacy.customer_contact_reveal(actor=agent, customer=customer, reason="回电一")
    privacy.customer_contact_reveal(actor=agent, customer=CustomerFactory(), reason="回电二")
    client.force_login(qa_inspector)
    change = client.get(reverse("admin:shop_customer_change", args=[customer.pk]))
    link = f"{reverse('admin:supervision_contactreveal_changelist')}?customer__id__exact={customer.pk}"
    assert link in change.content.decode()

    page = client.get(link).content.decode()

    assert "回电一" in page
    assert "回电二" not in page


def test_the_reveal_log_is_read_only_in_admin(client, supervisor, agent, customer):
    reveal = privacy.customer_contact_reveal(actor=agent, customer=customer, reason="回电").reveal
    client.force_login(supervisor)

    assert client.get(reverse("admin:supervision_contactreveal_add")).status_code == 403
    assert client.post(reverse("admin:supervision_contactreveal_delete", args=[reveal.pk])
                       ).status_code == 403
    client.post(reverse("admin:supervision_contactreveal_change", args=[reveal.pk]),
                {"reason": "改过"})
    assert ContactReveal.objects.get().reason == "回电"


# --- masked everywhere, for every role ---------------------------------------------------------

@pytest.mark.parametrize("role", list(Role))
def test_the_api_shows_the_number_masked(personas, role, ticket):
    client = api(personas[role])

    assert_masked(client.get(reverse("ticket-list")).content)
    assert_masked(client.get(reverse("ticket-detail", args=[ticket.number])).content)
    history = client.get(reverse("ticket-history", args=[ticket.number])).content.decode()
    assert PHONE not in history
    assert OLD_PHONE not in history


@pytest.mark.parametrize("role", sorted(REVEALERS))
def test_the_console_shows_the_number_masked(personas, role, client, ticket):
    client.force_login(personas[role])

    workspace = client.get(reverse("console-ticket", args=[ticket.number]))
    assert_masked(workspace.content)
    assert 'data-testid="reveal-contact"' in workspace.content.decode()
    audit = client.get(reverse("console-audit", args=[ticket.number])).content.decode()
    assert PHONE not in audit
    assert OLD_PHONE not in audit
    assert_masked(client.get(reverse("console-customer-search"), {"q": "吴佳"}).content)
    assert_masked(client.get(reverse("console-customer-search"), {"q": "5678"}).content)


@pytest.mark.parametrize("role", sorted(STAFF))
def test_admin_customer_pages_show_the_number_masked(personas, role, client, customer, ticket):
    client.force_login(personas[role])
    old_version = customer.history.earliest()

    assert_masked(client.get(reverse("admin:shop_customer_changelist")).content)
    assert_masked(client.get(reverse("admin:shop_customer_change", args=[customer.pk])).content)
    history = client.get(reverse("admin:shop_customer_history", args=[customer.pk]))
    assert_masked(history.content)
    assert OLD_MASKED in history.content.decode()  # the diff is there, masked on both sides
    version = client.get(reverse("admin:shop_customer_simple_history",
                                 args=[customer.pk, old_version.history_id]))
    assert version.status_code == 200
    assert PHONE not in version.content.decode()
    assert OLD_PHONE not in version.content.decode()
    assert OLD_MASKED in version.content.decode()


@pytest.mark.parametrize("role", sorted(STAFF))
def test_admin_order_and_ticket_pages_hide_the_number(personas, role, client, ticket):
    client.force_login(personas[role])

    for url in (reverse("admin:shop_order_changelist"),
                reverse("admin:shop_order_change", args=[ticket.order_id]),
                reverse("admin:shop_order_history", args=[ticket.order_id]),
                reverse("admin:tickets_ticket_change", args=[ticket.pk]),
                reverse("admin:tickets_ticket_changelist")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert PHONE not in response.content.decode(), url


@pytest.mark.parametrize("role", sorted(STAFF & {Role.SUPERVISOR, Role.QA}))
def test_the_outbox_admin_shows_recipients_masked(personas, role, client, ticket, customer):
    from notifications.services import delivery as notifications

    notifications.notify(template="customer.progress_update", channel="sms", ticket=ticket,
                         customer=customer, address=customer.phone)
    client.force_login(personas[role])

    assert_masked(client.get(reverse("admin:notifications_outboxmessage_changelist")).content)


# --- editing the number in admin ---------------------------------------------------------------

def _change_form(customer, **extra):
    return {"external_id": customer.external_id, "name": customer.name, "tier": customer.tier,
            "new_phone": "", **extra}


def test_editing_a_customer_in_admin_keeps_the_number_when_left_blank(client, supervisor,
                                                                      customer):
    client.force_login(supervisor)
    url = reverse("admin:shop_customer_change", args=[customer.pk])

    page = client.get(url).content.decode()
    assert 'name="new_phone"' in page
    assert 'name="phone"' not in page
    response = client.post(url, _change_form(customer, name="吴佳怡（改）"))

    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("吴佳怡（改）", PHONE)
    assert customer.history.latest().history_user == supervisor


def test_a_new_number_typed_in_admin_replaces_the_old_one(client, supervisor, customer):
    client.force_login(supervisor)
    url = reverse("admin:shop_customer_change", args=[customer.pk])

    client.post(url, _change_form(customer, new_phone="13700001111"))

    customer.refresh_from_db()
    assert customer.phone == "13700001111"
    page = client.get(url).content.decode()
    assert "13700001111" not in page
    assert "137****1111" in page
    history = client.get(reverse("admin:shop_customer_history", args=[customer.pk]))
    assert "13700001111" not in history.content.decode()
    assert PHONE not in history.content.decode()


# --- revealing in admin and in the console ------------------------------------------------------

def test_a_supervisor_reveals_a_number_in_admin_with_a_reason(client, supervisor, customer, ticket):
    client.force_login(supervisor)
    change = client.get(reverse("admin:shop_customer_change", args=[customer.pk]))
    url = reverse("admin:shop_customer_reveal", args=[customer.pk])
    assert url in change.content.decode()

    assert_masked(client.get(url).content)
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400
    assert PHONE not in refused.content.decode()
    assert not ContactReveal.objects.exists()

    shown = client.post(url, {"reason": "客户投诉升级，需回电", "ticket": ticket.number})

    assert shown.status_code == 200
    assert PHONE in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    reveal = ContactReveal.objects.get()
    assert (reveal.revealed_by, reveal.ticket, reveal.reason) == (supervisor, ticket,
                                                                  "客户投诉升级，需回电")


def test_qa_may_not_reveal_in_admin(client, qa_inspector, customer):
    client.force_login(qa_inspector)

    change = client.get(reverse("admin:shop_customer_change", args=[customer.pk]))
    url = reverse("admin:shop_customer_reveal", args=[customer.pk])
    assert url not in change.content.decode()
    assert client.post(url, {"reason": "看看"}).status_code == 403
    assert not ContactReveal.objects.exists()


def test_an_agent_reveals_the_number_in_the_workspace(client, agent, ticket, customer):
    client.force_login(agent)
    url = reverse("console-reveal-contact", args=[ticket.number])

    response = client.post(url, {"reason": "回电确认收货地址"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'data-testid="revealed-phone"' in response.content.decode()
    assert PHONE in response.content.decode()
    reveal = ContactReveal.objects.get()
    assert (reveal.revealed_by, reveal.customer, reveal.ticket) == (agent, customer, ticket)
    # The workspace itself still shows the number masked.
    assert_masked(client.get(reverse("console-ticket", args=[ticket.number])).content)


def test_a_reveal_without_a_reason_is_refused_in_the_console(client, agent, ticket):
    client.force_login(agent)
    url = reverse("console-reveal-contact", args=[ticket.number])

    plain = client.post(url, {"reason": ""})
    htmx = client.post(url, {"reason": " "}, HTTP_HX_REQUEST="true")

    assert plain.status_code == 400
    assert_masked(plain.content)
    assert_masked(htmx.content)
    assert "logged" in htmx.content.decode()
    assert not ContactReveal.objects.exists()


def test_qa_has_no_reveal_in_the_console(client, qa_inspector, ticket):
    client.force_login(qa_inspector)

    response = client.post(reverse("console-reveal-contact", args=[ticket.number]),
                           {"reason": "看看"})

    assert response.status_code == 403
    assert not ContactReveal.objects.exists()


@pytest.mark.parametrize("role", list(Role))
def test_the_tickets_audit_page_lists_its_reveals_to_log_readers(personas, role, client, agent,
                                                                  ticket, customer):
    privacy.customer_contact_reveal(actor=agent, customer=customer, reason="回电确认地址",
                                    ticket=ticket)
    client.force_login(personas[role])

    page = client.get(reverse("console-audit", args=[ticket.number])).content.decode()

    assert PHONE not in page
    assert ('data-subject="contact_reveal"' in page) == (role in LOG_READERS)
    assert ("回电确认地址" in page) == (role in LOG_READERS)


def test_script_placeholders_never_carry_the_number(agent, ticket):
    from knowledge.models.placeholders import PLACEHOLDERS
    from knowledge.services import script_context_for_ticket

    values = script_context_for_ticket(ticket=ticket, agent=agent)

    assert not any(PHONE in str(value) for value in values.values())
    assert not any("phone" in name for name in PLACEHOLDERS)


def test_a_customer_added_in_admin_gets_the_typed_number(admin_client):
    # Customers come from the shop; only an administrator adds one by hand.
    response = admin_client.post(reverse("admin:shop_customer_add"), {
        "external_id": "TB900", "name": "新顾客", "tier": "normal", "new_phone": PHONE})

    assert response.status_code == 302, response.content.decode()[:2000]
    from shop.models import Customer
    assert Customer.objects.get(external_id="TB900").phone == PHONE

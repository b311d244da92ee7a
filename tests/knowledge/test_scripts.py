from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from knowledge import selectors, services
from knowledge.models import ScriptTemplate, ScriptUsage
from tests.factories import CustomerFactory, OrderFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _create(actor, **fields):
    values = {"title": "退款说明", "scenario": "refund", "language": "zh-hans",
              "body": "{customer_name}您好，订单{order_number}的退款将在{deadline}前原路退回。"}
    values.update(fields)
    return services.script_template_create(actor=actor, **values)


def test_qa_creates_a_script_with_known_placeholders(qa_inspector):
    template = _create(qa_inspector, tags=["退款"])

    assert template.history.first().history_user == qa_inspector
    assert [t.name for t in template.tags.all()] == ["退款"]


@pytest.mark.parametrize("body", [
    "您好{customer}",
    "{customer_name.__class__}",
    "{{ settings.SECRET_KEY }}",
    "{% load static %}",
    "您好{customer_name",
    "订单 order_number}",
])
def test_unknown_placeholders_and_stray_braces_are_refused(qa_inspector, body):
    with pytest.raises(ValidationError) as error:
        _create(qa_inspector, body=body)

    assert "body" in error.value.message_dict
    assert not ScriptTemplate.objects.exists()


def test_the_admin_form_checks_placeholders_too(qa_inspector):
    template = ScriptTemplate(title="x", scenario="greeting", body="您好{nickname}")

    with pytest.raises(ValidationError):
        template.full_clean()


def test_agents_may_not_write_scripts(agent):
    with pytest.raises(PermissionDenied):
        _create(agent)


def test_rendering_fills_placeholders_and_evaluates_nothing(make_script):
    template = make_script(body="{customer_name}您好，订单{order_number}，{unknown}")

    text = services.script_render(template=template, context={
        "customer_name": "<b>{order_number}</b>",
        "order_number": "SO-1",
        "unknown": "x",
    })

    # Values go in as given (plain text, escaped by whoever puts it in HTML) and are not
    # themselves searched for placeholders; names outside the known set stay untouched.
    assert text == "<b>{order_number}</b>您好，订单SO-1，{unknown}"


def test_rendering_with_a_user_counts_the_use(agent, other_agent, make_script):
    template = make_script()

    services.script_render(template=template, context={}, user=agent)
    services.script_render(template=template, context={}, user=agent)
    services.script_render(template=template, context={}, user=other_agent)
    services.script_render(template=template, context={})

    template.refresh_from_db()
    assert template.usage_count == 3
    assert ScriptUsage.objects.get(user=agent, template=template).count == 2
    # Counting a use writes no version of the template.
    assert template.history.count() == 1


def test_the_list_puts_favourites_first_then_the_most_used(agent, make_script):
    rarely = make_script(title="结束语", scenario="closing", body="感谢您的耐心，祝您生活愉快！")
    often = make_script(title="致歉", scenario="apology", body="非常抱歉给您带来不便。")
    favourite = make_script(title="问候")
    inactive = make_script(title="旧问候", is_active=False)
    ScriptTemplate.objects.filter(pk=often.pk).update(usage_count=10)
    services.script_favourite_set(template=favourite, user=agent, favourite=True)

    templates = list(selectors.script_template_list(user=agent))

    assert templates == [favourite, often, rarely]
    assert templates[0].is_favourite
    assert not templates[1].is_favourite
    assert inactive not in templates


def test_the_list_filters_by_scenario_channel_language_and_words(agent, make_script):
    chat = make_script(title="在线问候", channel="online_chat")
    anywhere = make_script(title="通用问候")
    make_script(title="电话问候", channel="phone")
    english = make_script(title="Greeting", language="en", body="Hello, how can I help?",
                          channel="email")

    assert set(selectors.script_template_list(user=agent, channel="online_chat")) == {chat,
                                                                                      anywhere}
    assert list(selectors.script_template_list(user=agent, language="en")) == [english]
    assert list(selectors.script_template_list(user=agent, q="Hello")) == [english]
    assert not selectors.script_template_list(user=agent, scenario="refund").exists()


def test_the_list_takes_a_fixed_number_of_queries(agent, make_script,
                                                  django_assert_num_queries):
    for n in range(5):
        make_script(title=f"问候{n}")
    agent.has_perm("knowledge.view_scripttemplate")  # permissions cached, as in a request

    with django_assert_num_queries(2):
        templates = list(selectors.script_template_list(user=agent))
        assert all(t.tags.all() is not None for t in templates)


def test_the_context_of_a_ticket_names_customer_order_deadline_and_agent(agent):
    customer = CustomerFactory(name="李女士")
    order = OrderFactory(customer=customer, number="SO20260101001")
    due = timezone.make_aware(timezone.datetime(2026, 3, 2, 15, 30))
    ticket = TicketFactory(customer=customer, order=order, first_response_due_at=due,
                           next_update_due_at=due + timedelta(hours=6),
                           resolution_due_at=due + timedelta(days=2))

    with translation.override("en"):
        context = services.script_context_for_ticket(ticket=ticket, agent=agent)

    assert context["customer_name"] == "李女士"
    assert context["order_number"] == "SO20260101001"
    assert context["agent_name"] == str(agent)
    assert context["deadline"] == "03/02/2026 3:30 p.m."
    assert set(context) >= {"customer_name", "order_number", "deadline", "agent_name"}


@pytest.mark.parametrize(("script_language", "console_language", "filled"), [
    ("zh-hans", "zh-hans", "客服王小美随时为您服务。"),
    ("zh-hans", "en", "客服王小美随时为您服务。"),  # the customer reads Chinese
    ("en", "zh-hans", "客服小美 王随时为您服务。"),
])
def test_the_agent_name_is_filled_in_the_order_of_the_script_language(
        agent, make_script, script_language, console_language, filled):
    agent.first_name, agent.last_name = "小美", "王"
    template = make_script(body="客服{agent_name}随时为您服务。", language=script_language)

    with translation.override(console_language):
        context = services.script_context_for_agent(agent=agent)
        text = services.script_render(template=template, context=context)

    assert text == filled

"""Tags written in English read in Chinese on Chinese pages, where they carry a label."""

import pytest
from django.urls import reverse
from django.utils import translation

from core.models.labels import pick_label
from knowledge.models import Tag as KnowledgeTag
from tickets.models import Tag


@pytest.mark.parametrize(("name", "label_zh", "language", "shown"), [
    ("refund", "退款", "zh-hans", "退款"),
    ("refund", "退款", "en", "refund"),
    ("refund", "", "zh-hans", "refund"),
    ("加急", "", "zh-hans", "加急"),
])
def test_a_label_is_picked_by_the_language(name, label_zh, language, shown):
    assert pick_label(name, label_zh, language) == shown


@pytest.mark.parametrize("model", [Tag, KnowledgeTag])
def test_a_tag_shows_its_label_on_chinese_pages(model):
    tag = model(name="apology", label_zh="致歉")

    with translation.override("zh-hans"):
        assert str(tag) == "致歉"
    with translation.override("en"):
        assert str(tag) == "apology"


@pytest.mark.django_db
def test_the_queue_and_the_workspace_show_a_tags_label(client, agent, make_ticket, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    ticket = make_ticket()
    ticket.tags.add(Tag.objects.create(name="refund", label_zh="退款"))
    client.force_login(agent)

    queue = client.get(reverse("console-queue", args=["mine"]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    workspace = client.get(reverse("console-ticket", args=[ticket.number]),
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    filtered = client.get(reverse("console-queue", args=["mine"]), {"tag": "refund"},
                          HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert '<option value="refund">退款</option>' in queue.content.decode()
    assert '<span class="badge text-bg-light border">退款</span>' in queue.content.decode()
    assert '<span class="badge text-bg-light border">退款</span>' in workspace.content.decode()
    assert ticket.number in filtered.content.decode()  # the filter still goes by the name

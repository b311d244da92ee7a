"""Tags written in English read in Chinese on Chinese pages, where they carry a label."""

import pytest
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

"""Articles that read well: tables as tables, Chinese without stray spaces, a language filter."""

import importlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from knowledge import selectors, services
from knowledge.views.rendering import render_markdown

pytestmark = pytest.mark.django_db

TABLE = "| 退货原因 | 运费承担 |\n|---|---|\n| 商品质量问题 | 商家 |\n"


@pytest.mark.parametrize("markdown_text", [
    TABLE,                                   # on its own
    "运费由谁承担：\n" + TABLE,              # straight under a line of text, as people type it
    "运费由谁承担：\n\n" + TABLE,            # after a blank line
    "- 七天无理由\n\n" + TABLE,              # after a list
])
def test_a_markdown_table_renders_as_a_table(markdown_text):
    html = render_markdown(markdown_text)

    for tag in ("<table>", "<thead>", "<th>退货原因</th>", "<tbody>", "<td>商家</td>"):
        assert tag in html  # the sanitiser keeps every table tag
    assert "| 退货原因" not in html


def test_a_table_inside_a_code_block_stays_code():
    html = render_markdown("说明：\n```\n| a | b |\n|---|---|\n```\n")

    assert "<table>" not in html
    assert "| a | b |" in html


@pytest.mark.parametrize(("markdown_text", "expected"), [
    ("协调快递公司赔偿，\n电子产品按维修成本折价。", "协调快递公司赔偿，电子产品按维修成本折价。"),
    ("签收后\n七天内", "签收后七天内"),
    ("**七天内**\n可申请", "<strong>七天内</strong>可申请"),    # across inline markup
    ("七天 **无理由** 退货", "七天<strong>无理由</strong>退货"),
    ("可以退货。\nReturns are free.", "可以退货。\nReturns are free."),  # English keeps its space
    ("Returns\nare free", "Returns\nare free"),
    ("签收后 7 天内", "签收后 7 天内"),      # a space beside a digit is a writer's choice
])
def test_no_stray_space_between_chinese_characters(markdown_text, expected):
    assert expected in render_markdown(markdown_text)


def test_code_blocks_keep_their_line_breaks():
    html = render_markdown("```\n第一行\n第二行\n```")

    assert "第一行\n第二行" in html


@pytest.fixture
def articles_in_three_languages(make_article):
    make_article(title="退款到账时间", body="退款一般原路退回。", language="zh-hans")
    make_article(title="退款到賬時間", body="退款一般原路退回。", language="zh-hant")
    make_article(title="When does my refund arrive", body="退款 refund goes back", language="en")


@pytest.mark.parametrize(("language", "titles"), [
    ("zh-hans", {"退款到账时间"}),
    ("zh-hant", {"退款到賬時間"}),
    ("en", {"When does my refund arrive"}),
    (None, {"退款到账时间", "退款到賬時間", "When does my refund arrive"}),
])
@pytest.mark.parametrize("q", ["退款", ""])
def test_search_filters_by_language(agent, articles_in_three_languages, language, titles, q):
    result = selectors.article_search(user=agent, q=q, language=language)

    assert {article.title for article in result.articles} == titles


def test_the_search_page_offers_the_language_filter(client, agent, articles_in_three_languages,
                                                    django_assert_max_num_queries):
    client.force_login(agent)

    with django_assert_max_num_queries(12):
        page = client.get(reverse("knowledge:search"),
                          {"q": "退款", "language": "zh-hant"}).content.decode()

    assert 'name="language"' in page
    assert '<option value="zh-hant" selected>' in page
    assert "退款到賬時間" in page
    assert "退款到账时间" not in page


def test_the_api_filters_by_language_and_refuses_an_unknown_one(agent,
                                                               articles_in_three_languages):
    client = APIClient()
    client.force_authenticate(agent)
    url = "/api/v1/knowledge/search/"

    found = client.get(url, {"language": "en"}).json()
    refused = client.get(url, {"language": "fr"})

    assert [hit["title"] for hit in found["results"]] == ["When does my refund arrive"]
    assert refused.status_code == 400


def test_the_editor_records_the_language_and_its_change(client, agent):
    client.force_login(agent)

    client.post(reverse("knowledge:article-new"), {
        "title": "Refund times", "article_type": "faq", "language": "en", "body": "Soon."})
    article = services.Article.objects.get(title="Refund times")
    services.article_update(article=article, actor=agent, title=article.title, body="Soon.",
                            article_type="faq", category=None, language="zh-hant")

    article.refresh_from_db()
    assert article.language == "zh-hant"
    assert article.version == 2
    latest = selectors.article_history(article=article)[0]
    assert "language" in latest.changed_fields


def test_an_unknown_language_is_refused(agent):
    with pytest.raises(services.ValidationError):
        services.article_create(actor=agent, title="x", body="y", language="fr")


@pytest.mark.parametrize(("text", "language"), [
    ("退款一般原路退回，请留意账户变动。", "zh-hans"),
    ("退貨退款流程（繁體）用戶在訂單頁提交退貨申請", "zh-hant"),
    ("When does my refund arrive? Within 48 hours.", "en"),
    ("退款 refund 说明", "zh-hans"),
])
def test_the_migration_guesses_the_language_of_existing_articles(text, language):
    migration = importlib.import_module("knowledge.migrations.0004_article_language")

    assert migration.guess_language(text) == language

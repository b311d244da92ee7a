import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleState, ScriptUsage
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_the_search_page_shows_highlighted_hits_and_filters(client, agent, make_article,
                                                           refund_category):
    make_article(title="退款到账", body="退款一般1-3个工作日到账。", category=refund_category)
    client.force_login(agent)

    page = client.get(reverse("knowledge:search"), {"q": "退款"}).content.decode()

    assert "退款到账" in page
    assert "<mark>退款</mark>" in page
    assert "售后政策" in page  # the category tree in the filter
    assert 'data-nav="knowledge"' in page


def test_the_search_page_takes_a_fixed_number_of_queries(client, agent, make_article,
                                                        django_assert_max_num_queries):
    for n in range(15):
        make_article(title=f"退款问题{n}", body="退款规则说明。")
    client.force_login(agent)
    client.get(reverse("knowledge:search"), {"q": "退款"})

    with django_assert_max_num_queries(12):
        response = client.get(reverse("knowledge:search"), {"q": "退款"})
    assert response.status_code == 200


def test_a_query_of_only_exclusions_explains_itself(client, agent, make_article):
    client.force_login(agent)

    page = client.get(reverse("knowledge:search"), {"q": "-退款"}).content.decode()

    assert 'id="empty-query"' in page
    assert 'id="search-results"' not in page


def test_the_article_page_renders_sanitised_markdown(client, agent, make_article):
    article = make_article(body="**注意** <script>alert(1)</script><img src=x onerror=alert(1)>")
    client.force_login(agent)

    page = client.get(article.get_absolute_url()).content.decode()

    assert "<strong>注意</strong>" in page
    assert "alert(1)" not in page


def test_an_agent_writes_an_article_and_sends_it_for_review(client, agent, refund_category):
    client.force_login(agent)

    response = client.post(reverse("knowledge:article-new"), {
        "title": "退款多久到账", "article_type": "faq", "category": refund_category.pk,
        "tags": "退款，到账", "body": "原路退回，1-3天。", "then": "submit"})

    article = Article.objects.get()
    assert response.status_code == 302
    assert article.state == ArticleState.IN_REVIEW
    assert sorted(t.name for t in article.tags.all()) == ["到账", "退款"]


def test_the_editor_shows_errors_and_saves_nothing(client, agent):
    client.force_login(agent)

    response = client.post(reverse("knowledge:article-new"), {"title": "", "article_type": "faq",
                                                               "body": ""})

    assert response.status_code == 200
    assert not Article.objects.exists()


def test_the_preview_renders_and_sanitises(client, agent):
    client.force_login(agent)

    response = client.post(reverse("knowledge:preview"), {"body": "# 标题\n<script>x</script>"})

    assert response.content.decode().strip() == "<h1>标题</h1>"


def test_an_agent_sees_no_publish_button_and_cannot_post_one(client, agent, make_article):
    article = make_article(state=ArticleState.IN_REVIEW)
    client.force_login(agent)

    page = client.get(article.get_absolute_url()).content.decode()
    client.post(reverse("knowledge:transition", args=[article.pk, "publish"]))

    assert 'data-testid="publish-article"' not in page
    article.refresh_from_db()
    assert article.state == ArticleState.IN_REVIEW


def test_the_review_queue_is_for_reviewers(client, agent, qa_inspector, make_article,
                                           django_assert_max_num_queries):
    article = make_article(title="待审核", state=ArticleState.IN_REVIEW)
    client.force_login(agent)
    assert client.get(reverse("knowledge:review-queue")).status_code == 403

    client.force_login(qa_inspector)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("knowledge:review-queue")).content.decode()
    assert "待审核" in page
    client.post(reverse("knowledge:transition", args=[article.pk, "publish"]),
                {"next": "queue", "note": "ok"})
    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED


def test_the_history_page_shows_diffs_and_reviewers_roll_back(client, qa_inspector,
                                                              make_article):
    from knowledge import services

    article = make_article(body="旧的说法")
    services.article_update(article=article, actor=qa_inspector, title=article.title,
                            body="新的说法", article_type="faq", category=None)
    client.force_login(qa_inspector)

    page = client.get(reverse("knowledge:history", args=[article.pk])).content.decode()
    assert "kb-diff-del" in page
    assert "旧的说法" in page
    first = article.history.order_by("history_id").first()
    client.post(reverse("knowledge:rollback", args=[article.pk]),
                {"history_id": first.history_id})

    article.refresh_from_db()
    assert article.body == "旧的说法"


def test_the_script_library_fills_scripts_for_a_ticket_and_escapes_them(
        client, agent, team, make_script, django_assert_max_num_queries):
    make_script(title="问候", body="{customer_name}您好，这里是{shop_name}客服，请问有什么可以帮您？")
    ticket = TicketFactory(team=team, customer=CustomerFactory(name="<b>李</b>"))
    client.force_login(agent)
    client.get(reverse("knowledge:scripts"))

    with django_assert_max_num_queries(12):
        page = client.get(reverse("knowledge:scripts"), {"ticket": ticket.number}).content.decode()

    assert "&lt;b&gt;李&lt;/b&gt;您好" in page
    assert "<b>李</b>" not in page


def test_using_a_script_counts_and_returns_the_text(client, agent, make_script):
    template = make_script(body="您好，{agent_name}为您服务。")
    client.force_login(agent)

    response = client.post(reverse("knowledge:script-use", args=[template.pk]))

    assert response.json() == {"text": f"您好，{agent}为您服务。"}
    assert ScriptUsage.objects.get(user=agent).count == 1


def test_favouriting_from_the_library(client, agent, make_script):
    template = make_script()
    client.force_login(agent)

    client.post(reverse("knowledge:script-favourite", args=[template.pk]),
                {"favourite": "1", "next": "https://evil.example/"})

    assert template.favourites.filter(user=agent).exists()


def test_navigation_shows_review_only_to_reviewers(client, agent, qa_inspector):
    client.force_login(agent)
    page = client.get(reverse("home")).content.decode()
    assert 'data-nav="knowledge_scripts"' in page
    assert 'data-nav="knowledge_review"' not in page

    client.force_login(qa_inspector)
    assert 'data-nav="knowledge_review"' in client.get(reverse("home")).content.decode()


def test_article_and_history_pages_take_a_fixed_number_of_queries(
        client, qa_inspector, make_article, django_assert_max_num_queries):
    from knowledge import services
    from knowledge.models import Tag

    article = make_article()
    article.tags.add(Tag.objects.create(name="退货"), Tag.objects.create(name="运费"))
    client.force_login(qa_inspector)
    client.get(article.get_absolute_url())
    counts = {}
    for edits in (1, 4):
        while article.version < edits:
            services.article_update(article=article, actor=qa_inspector, title=article.title,
                                    body=f"{article.body}\n第{article.version}次修改",
                                    article_type="faq", category=None)
            article.refresh_from_db()
        with django_assert_max_num_queries(10) as article_page:
            assert client.get(article.get_absolute_url()).status_code == 200
        with django_assert_max_num_queries(10) as history_page:
            assert client.get(reverse("knowledge:history", args=[article.pk])).status_code == 200
        counts[edits] = (len(article_page.captured_queries), len(history_page.captured_queries))

    assert counts[1] == counts[4]


def test_the_suggestions_panel_for_a_ticket(client, agent, team, make_article):
    make_article(title="耳机左耳无声", body="耳机左耳没有声音时先重新配对。")
    ticket = TicketFactory(team=team, subject="耳机左耳没有声音")
    client.force_login(agent)

    page = client.get(reverse("knowledge:suggestions", args=[ticket.number])).content.decode()

    assert "耳机左耳无声" in page
    assert "<mark>" in page
    assert client.get(reverse("knowledge:suggestions", args=["NOPE"])).status_code == 404


def test_an_author_adds_a_video_link_but_not_a_script_url(client, agent, make_article):
    article = make_article(state=ArticleState.DRAFT)
    client.force_login(agent)
    url = reverse("knowledge:media-add", args=[article.pk])

    client.post(url, {"kind": "video", "url": "https://v.example.com/a.mp4", "caption": "教程"})
    client.post(url, {"kind": "image", "url": "javascript:alert(1)"})

    assert [m.url for m in article.media.all()] == ["https://v.example.com/a.mp4"]
    assert "https://v.example.com/a.mp4" in client.get(article.get_absolute_url()).content.decode()

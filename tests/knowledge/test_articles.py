import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.services.exceptions import Conflict
from knowledge import selectors, services
from knowledge.models import ArticleState
from knowledge.views.rendering import render_markdown

pytestmark = pytest.mark.django_db


def test_an_agent_drafts_and_submits_and_qa_publishes(agent, qa_inspector):
    article = services.article_create(actor=agent, title="七天无理由退货", body="签收后7天内可申请。",
                                      tags=["退货", "七天无理由"])
    assert article.state == ArticleState.DRAFT
    assert sorted(t.name for t in article.tags.all()) == ["七天无理由", "退货"]

    services.article_submit(article=article, actor=agent)
    article = services.article_publish(article=article, actor=qa_inspector, note="核对无误")

    article.refresh_from_db()
    assert article.state == ArticleState.PUBLISHED
    assert article.reviewed_by == qa_inspector
    assert article.last_reviewed_at is not None
    entry = article.history.first()
    assert entry.history_user == qa_inspector
    assert entry.history_change_reason == "publish: 核对无误"
    assert entry.state == ArticleState.PUBLISHED


def test_an_agent_cannot_publish_not_even_their_own_article(agent):
    article = services.article_create(actor=agent, title="换货流程", body="先申请，再寄回。")
    services.article_submit(article=article, actor=agent)

    with pytest.raises(PermissionDenied):
        services.article_publish(article=article, actor=agent)

    article.refresh_from_db()
    assert article.state == ArticleState.IN_REVIEW


def test_a_supervisor_may_publish_and_archive(agent, supervisor, make_article):
    article = make_article(state=ArticleState.IN_REVIEW)

    services.article_publish(article=article, actor=supervisor)
    services.article_archive(article=article, actor=supervisor)

    article.refresh_from_db()
    assert article.state == ArticleState.ARCHIVED


def test_an_agent_cannot_archive_or_reject(agent, make_article):
    published = make_article()
    in_review = make_article(state=ArticleState.IN_REVIEW)

    with pytest.raises(PermissionDenied):
        services.article_archive(article=published, actor=agent)
    with pytest.raises(PermissionDenied):
        services.article_reject(article=in_review, actor=agent, note="不行")


def test_a_rejection_needs_a_note_and_returns_the_draft(qa_inspector, make_article):
    article = make_article(state=ArticleState.IN_REVIEW)

    with pytest.raises(ValidationError):
        services.article_reject(article=article, actor=qa_inspector, note="  ")
    services.article_reject(article=article, actor=qa_inspector, note="请补充运费说明")

    article.refresh_from_db()
    assert article.state == ArticleState.DRAFT
    assert article.review_note == "请补充运费说明"


def test_publishing_a_draft_is_a_conflict(qa_inspector, make_article):
    article = make_article(state=ArticleState.DRAFT)

    with pytest.raises(Conflict):
        services.article_publish(article=article, actor=qa_inspector)


def test_only_the_author_edits_a_draft_and_nobody_but_reviewers_a_published_one(
        agent, other_agent, qa_inspector, make_article):
    draft = make_article(state=ArticleState.DRAFT)
    published = make_article()

    with pytest.raises(PermissionDenied):
        services.article_update(article=draft, actor=other_agent, title="x", body="y",
                                article_type="faq", category=None)
    with pytest.raises(PermissionDenied):
        services.article_update(article=published, actor=agent, title="x", body="y",
                                article_type="faq", category=None)
    services.article_update(article=published, actor=qa_inspector, title="新标题", body="新正文",
                            article_type="faq", category=None)
    published.refresh_from_db()
    assert (published.title, published.version) == ("新标题", 2)


def test_bad_input_changes_nothing(agent, make_article):
    article = make_article(state=ArticleState.DRAFT)

    with pytest.raises(ValidationError) as error:
        services.article_update(article=article, actor=agent, title="", body="",
                                article_type="poem", category=None)

    assert set(error.value.message_dict) == {"title", "body", "article_type"}
    article.refresh_from_db()
    assert article.version == 1
    assert article.history.count() == 1


def test_every_edit_is_a_version_with_a_diff_and_can_be_rolled_back(agent, qa_inspector,
                                                                     make_article):
    article = make_article(body="第一行\n运费由买家承担。")
    services.article_update(article=article, actor=qa_inspector, title=article.title,
                            body="第一行\n运费由卖家承担。", article_type="faq", category=None)

    entries = selectors.article_history(article=article)
    assert ("del", "运费由买家承担。") in entries[0].diff
    assert ("add", "运费由卖家承担。") in entries[0].diff
    assert entries[0].changed_fields == ["body"]

    first = entries[-1].record
    article = services.article_rollback(article=article, actor=qa_inspector,
                                        history_id=first.history_id)

    article.refresh_from_db()
    assert article.body == "第一行\n运费由买家承担。"
    assert article.version == 3
    assert article.history.first().history_change_reason == "rollback:v1"


def test_an_agent_cannot_roll_back(agent, make_article):
    article = make_article()

    with pytest.raises(PermissionDenied):
        services.article_rollback(article=article, actor=agent,
                                  history_id=article.history.first().history_id)


def test_an_article_not_reviewed_for_too_long_is_stale(settings, make_article, qa_inspector):
    settings.KNOWLEDGE_STALE_AFTER_DAYS = 30
    article = make_article(last_reviewed_at=timezone.now() - timezone.timedelta(days=31))
    fresh = make_article(title="新", last_reviewed_at=timezone.now())

    assert article.is_stale
    assert not fresh.is_stale
    queue = selectors.article_review_queue(user=qa_inspector)
    assert queue["stale"] == [article]

    services.article_confirm_reviewed(article=article, actor=qa_inspector)
    article.refresh_from_db()
    assert not article.is_stale


def test_agents_read_published_articles_and_their_own_drafts_only(agent, other_agent,
                                                                   make_article):
    published = make_article()
    mine = make_article(state=ArticleState.DRAFT)
    theirs = make_article(state=ArticleState.DRAFT, author=other_agent)

    visible = set(selectors.article_visible_to(agent))

    assert visible == {published, mine}
    assert theirs not in visible


def test_media_links_must_be_web_addresses(agent, make_article):
    article = make_article(state=ArticleState.DRAFT)

    services.article_media_add(article=article, actor=agent, kind="video",
                               url="https://video.example.com/return-howto.mp4", caption="退货教程")
    with pytest.raises(ValidationError):
        services.article_media_add(article=article, actor=agent, kind="image",
                                   url="javascript:alert(1)")

    assert article.media.count() == 1


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload="alert(1)"></svg>',
    '<div style="background:url(javascript:alert(1))" onclick="x()">d</div>',
    "![x](javascript:alert(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>',
])
def test_markdown_is_rendered_without_scripts_handlers_or_javascript_urls(payload):
    html = render_markdown(f"# 标题\n\n正文 {payload}\n")

    lowered = html.lower()
    assert "<script" not in lowered
    assert "javascript:" not in lowered
    assert "onerror" not in lowered
    assert "onload" not in lowered
    assert "onclick" not in lowered
    assert "<iframe" not in lowered
    assert "<svg" not in lowered
    assert "data:text" not in lowered
    assert "<h1>标题</h1>" in html


def test_markdown_keeps_ordinary_formatting():
    html = render_markdown("**加急** 见 [规则](https://help.example.com/rule)\n\n| a | b |\n|---|---|\n| 1 | 2 |")

    assert "<strong>加急</strong>" in html
    assert 'href="https://help.example.com/rule"' in html
    assert "<table>" in html


def test_an_article_keeps_its_token_columns_current(make_article):
    article = make_article(title="以舊換新", body="活動")

    assert article.search_title == "以旧 旧换 换新"

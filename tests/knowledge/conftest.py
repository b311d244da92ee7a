"""Knowledge-base fixtures: articles in a given state, written by the agent persona."""

import pytest

from knowledge.models import Article, ArticleState, ArticleType, Category, ScriptTemplate


@pytest.fixture
def make_article(agent):
    """Return a factory for articles; state=... starts elsewhere than draft."""

    def make(title="退货运费怎么算", body="七天无理由退货的运费由买家承担。",
             state=ArticleState.PUBLISHED, author=None, **fields):
        fields.setdefault("article_type", ArticleType.FAQ)
        return Article.objects.create(title=title, body=body, state=state,
                                      author=author or agent, **fields)

    return make


@pytest.fixture
def refund_category(db):
    policies = Category.objects.create(name="售后政策")
    return Category.objects.create(name="退款", parent=policies)


@pytest.fixture
def make_script(db):
    def make(title="问候", body="您好，这里是{shop_name}客服，请问有什么可以帮您？", **fields):
        fields.setdefault("scenario", "greeting")
        return ScriptTemplate.objects.create(title=title, body=body, **fields)

    return make

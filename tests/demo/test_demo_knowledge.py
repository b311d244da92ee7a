from io import StringIO

import pytest
from django.core.management import call_command

from knowledge import selectors
from knowledge.models import Article, ArticleState, Category, ScriptScenario, ScriptTemplate

pytestmark = pytest.mark.django_db


def _counts():
    return (Article.objects.count(), ScriptTemplate.objects.count(), Category.objects.count())


def test_seed_demo_loads_the_knowledge_base_once():
    call_command("seed_demo", stdout=StringIO())
    first = _counts()

    call_command("seed_demo", stdout=StringIO())

    assert _counts() == first
    assert Article.objects.filter(state=ArticleState.IN_REVIEW).count() == 1
    published = Article.objects.filter(state=ArticleState.PUBLISHED)
    assert published.count() >= 10
    assert all(a.history.filter(history_change_reason__startswith="publish").exists()
               for a in published)


def test_the_demo_scripts_cover_every_scenario_in_both_languages_in_the_sources_words():
    call_command("seed_demo", stdout=StringIO())

    for language in ("zh-hans", "en"):
        scenarios = set(ScriptTemplate.objects.filter(language=language)
                        .values_list("scenario", flat=True))
        assert scenarios == set(ScriptScenario.values)
    bodies = " ".join(ScriptTemplate.objects.values_list("body", flat=True))
    assert "您好，这里是{shop_name}客服，请问有什么可以帮您？" in bodies
    assert "优先加急处理" in bodies
    assert "绝对保证" not in bodies
    for template in ScriptTemplate.objects.all():
        template.full_clean()  # every placeholder is a known one


def test_the_demo_base_answers_a_traditional_query(agent):
    call_command("seed_demo", stdout=StringIO())

    titles = [a.title for a in selectors.article_search(user=agent, q="退貨 運費").articles]

    assert "运费由谁承担" in titles
    assert "七天无理由退货" in titles


def test_the_demo_articles_name_their_language():
    call_command("seed_demo", stdout=StringIO())

    languages = dict(Article.objects.values_list("title", "language"))
    assert languages["退貨退款流程（繁體）"] == "zh-hant"
    assert languages["When does my refund arrive?"] == "en"
    assert languages["运费由谁承担"] == "zh-hans"


@pytest.mark.parametrize(("language", "promises", "condition"), [
    ("zh-hans", ("到账", "个工作日", "退回"), "审核通过后"),
    ("en", ("arrive", "working days", "goes back"), "Once it is approved"),
])
def test_the_demo_refund_scripts_promise_nothing_before_the_decision(language, promises,
                                                                      condition):
    call_command("seed_demo", stdout=StringIO())

    scripts = ScriptTemplate.objects.filter(language=language, scenario="refund")
    assert scripts
    for template in scripts:
        # The money and its timing are spoken of only once the refund is approved.
        assert condition in template.body
        decided_from = template.body.index(condition)
        for promise in promises:
            if promise in template.body:
                assert template.body.index(promise) > decided_from, (template.title, promise)

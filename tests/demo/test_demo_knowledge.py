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
